"""The admin console's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.catalogue import lazy_gettext as _l
from portal.models import MailStatus, Role
from portal.passwords import MIN_PASSWORD_LENGTH
from portal.validators import EmailAddress, NotCommonPassword


def _role_choices() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in Role]


class CreateUserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254), EmailAddress()])
    role = SelectField(_l("Role"), choices=_role_choices)
    password = PasswordField(
        _l("Password"),
        validators=[
            Optional(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l(
                    "Choose a password of at least %(min)d characters.", min=MIN_PASSWORD_LENGTH
                ),
            ),
            NotCommonPassword(hint_field="email"),
        ],
        description=_l("Leave empty to have one generated and shown once."),
    )
    submit = SubmitField(_l("Create user"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices)
    submit = SubmitField(_l("Change role"))


class ConfirmForm(FlaskForm):
    """A real confirmation: the box must be ticked, a script's confirm() is not enough."""

    confirm = BooleanField(
        _l("I confirm"), validators=[DataRequired(_l("Tick the box to confirm."))]
    )
    submit = SubmitField(_l("Confirm"))


class SecretForm(FlaskForm):
    integration_secret = PasswordField(
        _l("New integration secret"),
        validators=[InputRequired(), Length(max=500)],
        description=_l("Checked with OneConnect before it replaces the stored one."),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    submit = SubmitField(_l("Replace secret"))


class AssignForm(FlaskForm):
    staff_id = SelectField(_l("Staff member"), coerce=int, choices=[])
    organization_id = SelectField(_l("Organization"), coerce=int, choices=[])
    submit = SubmitField(_l("Assign"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    actor = StringField(_l("Who (e-mail)"), validators=[Optional(), Length(max=254)])
    submit = SubmitField(_l("Filter"))


def _mail_status_choices() -> list[SelectChoice]:
    return [
        SelectChoice("", _l("Every e-mail")),
        *(SelectChoice(status.value, status.label) for status in MailStatus),
    ]


class MailFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=_mail_status_choices, validate_choice=False)
    submit = SubmitField(_l("Filter"))
