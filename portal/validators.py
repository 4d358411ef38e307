"""Form validators shared by several features."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError


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
