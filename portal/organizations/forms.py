"""Connecting an organization through its OneConnect integration."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length

from portal.catalogue import lazy_gettext as _l
from portal.validators import EmailAddress


class ConnectForm(FlaskForm):
    name = StringField(
        _l("Organization name"),
        validators=[InputRequired(), Length(max=200)],
        description=_l("As your colleagues and your accountant know it."),
    )
    integration_id = StringField(
        _l("Integration ID"),
        validators=[InputRequired(), Length(max=64)],
        description=_l("The identifier shown on the OneConnect setup page, e.g. 3f2b…-…"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    # A password field: the browser never shows the secret, and we never render it back.
    integration_secret = PasswordField(
        _l("Integration secret"),
        validators=[InputRequired(), Length(max=500)],
        description=_l("Shown once on the OneConnect setup page. It is stored encrypted."),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    submit = SubmitField(_l("Connect"))

    def validate_integration_id(self, field: StringField) -> None:
        try:
            uuid.UUID(field.data)
        except (ValueError, TypeError) as error:
            raise ValidationError(
                _l("An Integration ID looks like 8-4-4-4-12 hexadecimal characters; copy it again.")
            ) from error


class SwitchForm(FlaskForm):
    """The organization a member works for right now, among theirs."""

    organization_id = SelectField(_l("Current organization"), coerce=int, choices=[])
    submit = SubmitField(_l("Switch"))


class AddMemberForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[InputRequired(), Length(max=254), EmailAddress()],
        description=_l("Your colleague's account e-mail; they create their account first."),
    )
    submit = SubmitField(_l("Add member"))


class DisconnectForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand that deposits will stop until a new integration is connected"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Disconnect"))
