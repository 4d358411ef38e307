"""The deposit form's own fields and validators: amounts and rates typed the French or English
way, SIRENs, and sub-forms that speak the page's language."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import Field, Form, StringField, ValidationError

from portal.accounting.amounts import (
    AmountError,
    ForeignCurrency,
    amount_style,
    euro_marked,
    format_amount,
    parse_amount,
    parse_rate,
)
from portal.accounting.entries import EUR
from portal.accounting.identifiers import normalize_siren, siren_valid
from portal.catalogue import lazy_gettext as _l


def whole(pattern: re.Pattern[str]) -> str:
    # WTForms' Regexp only anchors at the start (re.match): the whole value must match.
    return rf"(?:{pattern.pattern})\Z"


REFERENCE_RULE = _l("Use up to 64 letters, digits, “_”, “-” or “:” (no spaces or accents).")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AmountField(StringField):
    """Text typed the French or English way; `.amount` holds the exact Decimal once validated.

    A euro sign or `EUR` beside the number is allowed, unless the form's line is in another
    currency (`form.line_currency`). Once read, the amount is shown back with two decimals in
    the habit it was typed in, without its euro sign.
    """

    amount: Decimal = Decimal("0.00")
    _read: bool = False

    def pre_validate(self, form: Form) -> None:
        self._read = False
        try:
            self.amount = parse_amount(self.data)
        except ForeignCurrency as error:
            raise ValidationError(
                _l(
                    "Type the amount without “%(currency)s”: the line's currency goes in the "
                    "Currency field.",
                    currency=error.currency,
                )
            ) from error
        except AmountError as error:
            raise ValidationError(
                _l("Type an amount such as 1 234,56 or 1234.56 (two decimals at most).")
            ) from error
        currency = getattr(form, "line_currency", EUR)
        if currency != EUR and euro_marked(self.data):
            raise ValidationError(
                _l(
                    "This line is in %(currency)s: type the amount without the euro sign, or "
                    "change the currency to EUR.",
                    currency=currency,
                )
            )
        if self.amount < 0:
            raise ValidationError(_l("Amounts are positive: put it on the other side instead."))
        self._read = True

    def _value(self) -> str:
        if self._read and self.data:
            return format_amount(self.amount, amount_style(self.data) or locale_style())
        return super()._value()


class RateField(StringField):
    """An exchange rate (euros for one unit of the line's currency); `.rate` once validated."""

    rate: Decimal | None = None

    def pre_validate(self, form: Form) -> None:
        try:
            self.rate = parse_rate(self.data)
        except AmountError as error:
            raise ValidationError(
                _l("Type a positive rate such as 0,9215 or 0.9215 (six decimals at most).")
            ) from error


def locale_style() -> str:
    return "fr" if str(get_locale() or "en").startswith("fr") else "en"


def upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def siren_text(value: Any) -> Any:
    return normalize_siren(value) if isinstance(value, str) else value


class Siren:
    """Nine digits whose last is the check digit (Luhn), as INSEE issues them."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not siren_valid(field.data):
            raise ValidationError(
                _l("A SIREN is 9 digits whose last one checks the others; check for a typo.")
            )


class PortalForm(Form):
    """A sub-form (no CSRF of its own) whose WTForms messages speak the page's language, as
    FlaskForm's do ("Date invalide." rather than "Not a valid date value.")."""

    class Meta:
        def get_translations(self, form: Form) -> Any:
            return wtforms_translations
