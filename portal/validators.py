"""Form validators shared by several features."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms import Field, Form, ValidationError

from portal.catalogue import lazy_gettext as _l
from portal.passwords import is_common


class EmailAddress:
    """A syntactically valid e-mail address; no DNS lookup, and test domains (.test) allowed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        try:
            validate_email(field.data, check_deliverability=False, test_environment=True)
        except EmailNotValidError as error:
            raise ValidationError(
                self.message or _l("Enter an e-mail address such as name@company.fr.")
            ) from error


class NotCommonPassword:
    """Refuses a password found among the first guesses an attacker tries; `hint_field` names
    the form's e-mail field, whose words count as guessed too."""

    def __init__(self, hint_field: str | None = None) -> None:
        self.hint_field = hint_field

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        hints = (
            [getattr(getattr(form, self.hint_field, None), "data", None) or ""]
            if self.hint_field
            else []
        )
        hints += getattr(form, "password_hints", [])
        if is_common(field.data, hints):
            raise ValidationError(COMMON_PASSWORD)


COMMON_PASSWORD = _l(
    "This password is among the first an attacker would try. Choose another: a few words in a "
    "row are easy to remember and hard to guess."
)
