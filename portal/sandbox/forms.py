"""The console's forms; each one POSTs with a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.oneconnect import spec


class CreateIntegrationForm(FlaskForm):
    name = StringField("Organization name", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Create integration")


class RevokeIntegrationForm(FlaskForm):
    submit = SubmitField("Revoke")


class BusinessErrorForm(FlaskForm):
    code = SelectField(
        "Business error on next import",
        choices=[
            SelectChoice(code, f"{code} ({spec.REVOCATION_REASONS[code]})")
            for code in spec.REVOKING_ERROR_CODES
        ],
        validators=[DataRequired()],
    )
    submit = SubmitField("Set error")


class DecisionForm(FlaskForm):
    reason = StringField("Refusal reason", validators=[Optional(), Length(max=500)])
    accept = SubmitField("Accept")
    refuse = SubmitField("Refuse")


class RotateKeyForm(FlaskForm):
    submit = SubmitField("Rotate signing key")
