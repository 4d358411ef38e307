"""Connecting an organization through its OneConnect integration."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField, ValidationError
from wtforms.validators import InputRequired, Length


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
