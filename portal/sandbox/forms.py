"""The console's forms; each one POSTs with a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.oneconnect import spec
from portal.sandbox.faults import CONSOLE_FAULTS


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


class FaultForm(FlaskForm):
    kind = SelectField(
        "Misbehaviour",
        choices=[SelectChoice(kind, label) for kind, label in CONSOLE_FAULTS.items()],
        validators=[DataRequired()],
    )
    count = IntegerField("For the next N calls", default=1, validators=[NumberRange(1, 100)])
    seconds = DecimalField(
        "Seconds (hang)", default=5, places=1, validators=[Optional(), NumberRange(0, 120)]
    )
    submit = SubmitField("Schedule fault")


class ClearFaultsForm(FlaskForm):
    submit = SubmitField("Clear faults")
