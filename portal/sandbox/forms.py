"""The console's forms; each one POSTs with a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.catalogue import lazy_gettext as _l
from portal.oneconnect import spec
from portal.sandbox.faults import CONSOLE_FAULTS


class CreateIntegrationForm(FlaskForm):
    name = StringField(
        _l("Organization name"),
        validators=[
            DataRequired(message=_l("Enter the organization's name.")),
            Length(max=200, message=_l("At most %(max)d characters.")),
        ],
    )
    submit = SubmitField(_l("Create integration"))


class RevokeIntegrationForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))


class BusinessErrorForm(FlaskForm):
    code = SelectField(
        _l("Business error on next import"),
        # OneConnect's codes and reasons, as its API writes them: never translated.
        choices=[
            SelectChoice(code, f"{code} ({spec.REVOCATION_REASONS[code]})")
            for code in spec.REVOKING_ERROR_CODES
        ],
        validators=[DataRequired(message=_l("Choose an error."))],
    )
    submit = SubmitField(_l("Set error"))


class DecisionForm(FlaskForm):
    reason = StringField(
        _l("Refusal reason"),
        validators=[Optional(), Length(max=500, message=_l("At most %(max)d characters."))],
    )
    accept = SubmitField(_l("Accept"))
    refuse = SubmitField(_l("Refuse"))


class RotateKeyForm(FlaskForm):
    submit = SubmitField(_l("Rotate signing key"))


class FaultForm(FlaskForm):
    kind = SelectField(
        _l("Misbehaviour"),
        choices=[SelectChoice(kind, label) for kind, label in CONSOLE_FAULTS.items()],
        validators=[DataRequired(message=_l("Choose a misbehaviour."))],
    )
    count = IntegerField(
        _l("For the next N calls"),
        default=1,
        validators=[NumberRange(1, 100, message=_l("Between %(min)s and %(max)s calls."))],
    )
    seconds = DecimalField(
        _l("Seconds (hang)"),
        default=5,
        places=1,
        validators=[
            Optional(),
            NumberRange(0, 120, message=_l("Between %(min)s and %(max)s seconds.")),
        ],
    )
    submit = SubmitField(_l("Schedule fault"))


class ClearFaultsForm(FlaskForm):
    submit = SubmitField(_l("Clear faults"))
