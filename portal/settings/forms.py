"""The account's settings: which e-mails, and in which language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from portal.i18n import LANGUAGE_NAMES


class SettingsForm(FlaskForm):
    notify_refusals = BooleanField(_l("E-mail me when an invoice is refused"))
    notify_failures = BooleanField(
        _l("E-mail me when an invoice cannot be delivered"),
        description=_l("After a day of attempts, or when OneConnect refuses the file."),
    )
    notify_revocations = BooleanField(_l("E-mail me when an organization's integration is revoked"))
    weekly_digest = BooleanField(
        _l("Send me a weekly summary"),
        description=_l("Every Monday morning: the past week's deposits, refusals and failures."),
    )
    locale = SelectField(
        _l("Language of pages and e-mails"),
        choices=[
            SelectChoice("", _l("The browser's language")),
            *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()),
        ],
    )
    submit = SubmitField(_l("Save"))

    NOTIFICATIONS = ("notify_refusals", "notify_failures", "notify_revocations", "weekly_digest")
