"""The account's settings: which e-mails, and in which language."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.catalogue import lazy_gettext as _l
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


class EnableTwoFactorForm(FlaskForm):
    code = StringField(
        _l("Code shown by the app"),
        validators=[InputRequired(), Length(max=16)],
        description=_l("6 digits; a new code comes every 30 seconds."),
    )
    submit = SubmitField(_l("Turn on two-factor sign-in"))


def _proof() -> PasswordField:
    return PasswordField(
        _l("A code from your app, or your password"),
        validators=[InputRequired(), Length(max=1024)],
    )


class RenewRecoveryCodesForm(FlaskForm):
    proof = _proof()
    submit = SubmitField(_l("Make new recovery codes"))


class TurnOffTwoFactorForm(FlaskForm):
    proof = _proof()
    submit = SubmitField(_l("Turn off two-factor sign-in"))
