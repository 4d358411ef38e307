"""Sign-in and registration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from portal.catalogue import lazy_gettext as _l
from portal.passwords import MIN_PASSWORD_LENGTH
from portal.validators import EmailAddress, NotCommonPassword


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])
    submit = SubmitField(_l("Log in"))


def _new_password(label: object, hint_field: str | None = None) -> PasswordField:
    """A password being chosen: long enough, and not among the first an attacker tries (the
    form's `hint_field`, its e-mail, counting as guessed)."""
    return PasswordField(
        label,
        validators=[
            InputRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l(
                    "Choose a password of at least %(min)d characters.", min=MIN_PASSWORD_LENGTH
                ),
            ),
            NotCommonPassword(hint_field=hint_field),
        ],
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
    )


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            InputRequired(),
            Length(max=254),
            EmailAddress(),
        ],
    )
    password = _new_password(_l("Password"), hint_field="email")
    submit = SubmitField(_l("Create account"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254), EmailAddress()])
    submit = SubmitField(_l("Send link"))


class ResetPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    submit = SubmitField(_l("Change password"))


class SecondStepForm(FlaskForm):
    """The second step of signing in: an authenticator code, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=64)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Verify"))


class EmptyForm(FlaskForm):
    """A button with no fields still carries the CSRF token."""

    submit = SubmitField()
