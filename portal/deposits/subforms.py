"""The parts of the deposit form: an entry line, the counterparty, the VAT helper and the paste."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from wtforms import (
    DateField,
    EmailField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from portal.accounting import vat
from portal.accounting.amounts import (
    AmountError,
    amount_style,
    format_amount,
    parse_amount,
    parse_rate,
    to_eur,
)
from portal.accounting.entries import (
    CURRENCY_PATTERN,
    EUR,
    EntryLine,
    LineProblem,
    effective_rate,
    line_problems,
)
from portal.accounting.identifiers import normalize_naf
from portal.accounting.paste import PasteIssue, parse_paste
from portal.catalogue import lazy_gettext as _l
from portal.catalogue import lazy_pgettext
from portal.deposits.fields import (
    AmountField,
    PortalForm,
    RateField,
    Siren,
    locale_style,
    siren_text,
    strip,
    upper,
    whole,
)
from portal.deposits.lines import LINE_FIELDS, blank_line_values
from portal.i18n import paris_today
from portal.validators import EmailAddress

_LINE_PROBLEMS = {
    LineProblem.BOTH_SIDES: _l(
        "Put the amount either in Debit or in Credit, and 0 on the other side."
    ),
    LineProblem.NO_SIDE: _l(
        "Put the amount either in Debit or in Credit, and 0 on the other side."
    ),
    LineProblem.EUR_RATE_NOT_ONE: _l(
        "A line in EUR has exchange rate 1: leave the rate blank or change the currency."
    ),
    LineProblem.RATE_MISSING: _l(
        "Give the exchange rate of this currency: how many euros one unit is worth."
    ),
    LineProblem.CONVERTED_TOO_LARGE: _l("Converted to euros, this amount is too large."),
}


def line_problem_message(problem: LineProblem) -> str:
    return str(_LINE_PROBLEMS[problem])


class EntryLineForm(PortalForm):
    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the entry date."))])
    journal = StringField(
        _l("Journal"),
        validators=[InputRequired(message=_l("Enter a journal code, e.g. ACH.")), Length(max=20)],
        filters=[strip],
    )
    account = StringField(
        _l("Account"),
        validators=[InputRequired(message=_l("Enter an account, e.g. 60100000.")), Length(max=40)],
        filters=[strip],
    )
    debit = AmountField(_l("Debit"), filters=[strip])
    credit = AmountField(_l("Credit"), filters=[strip])
    reference = StringField(
        _l("Reference"),
        validators=[InputRequired(message=_l("Enter the line reference.")), Length(max=100)],
        filters=[strip],
    )
    label = StringField(_l("Label"), validators=[Optional(), Length(max=200)], filters=[strip])
    # Optional members of the API. Their labels avoid the words of the labels above, so that
    # "Date", "Journal", "Label"… each name exactly one field of a line.
    due_date = DateField(
        _l("Due on"),
        validators=[Optional()],
        description=_l("Payment due date (dueDate)."),
    )
    journal_label = StringField(
        _l("Daybook name"),
        validators=[Optional(), Length(max=100)],
        filters=[strip],
        description=_l("The journal's name, e.g. Achats (journalLabel)."),
    )
    third_party = StringField(
        _l("Third party"),
        validators=[Optional(), Length(max=40)],
        filters=[strip],
        description=_l("Supplier or customer code or account (thirdParty)."),
    )
    third_party_siren = StringField(
        _l("Third party SIREN"),
        validators=[Optional(), Siren()],
        filters=[strip, siren_text],
    )
    third_party_label = StringField(
        _l("Third party name"),
        validators=[Optional(), Length(max=200)],
        filters=[strip],
    )
    document_reference = StringField(
        _l("Document number"),
        validators=[Optional(), Length(max=100)],
        filters=[strip],
        description=_l("The invoice or document number of this line (documentReference)."),
    )
    currency = StringField(
        _l("Currency"),
        default=EUR,
        validators=[
            Optional(),
            Regexp(whole(CURRENCY_PATTERN), message=_l("Use a three-letter code such as EUR.")),
        ],
        filters=[upper],
        description=_l("ISO code: EUR, USD, GBP…"),
    )
    currency_rate = RateField(
        _l("Exchange rate"),
        filters=[strip],
        description=_l("Euros for one unit of the currency; blank for EUR."),
    )
    duplicate = SubmitField(lazy_pgettext("entry line", "Duplicate"))
    remove = SubmitField(_l("Remove"))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for problem in self.line_problems():
            message = line_problem_message(problem)
            if message not in self.form_errors:
                self.form_errors.append(message)
            valid = False
        return valid

    def line_problems(self) -> list[LineProblem]:
        """The rules across fields, once the fields they read are valid (after validate)."""
        if self.debit.errors or self.credit.errors or self.currency.errors:
            return []
        if self.currency_rate.errors:
            return []
        return line_problems(
            self.debit.amount, self.credit.amount, self.line_currency, self.currency_rate.rate
        )

    @property
    def line_currency(self) -> str:
        return self.currency.data or EUR

    def uses_more_fields(self) -> bool:
        """Whether the tucked-away fields hold anything (then the editor shows them open)."""
        for name in LINE_FIELDS[LINE_FIELDS.index("due_date") :]:
            field = self[name]
            if field.errors:
                return True
            typed = field.raw_data[0] if field.raw_data else field._value()
            if typed and not (name == "currency" and typed == EUR):
                return True
        return False

    def euro_equivalent(self) -> str | None:
        """`100.00 USD = 92.15 EUR` for a line in another currency, once it can be read."""
        currency = self.line_currency
        if currency == EUR:
            return None
        try:
            amount = parse_amount(self.debit.data) or parse_amount(self.credit.data)
            rate = parse_rate(self.currency_rate.data)
        except AmountError:
            return None
        if rate is None or not amount:
            return None
        style = amount_style(self.debit.data) or amount_style(self.credit.data) or locale_style()
        return (
            f"{format_amount(amount, style)} {currency} = "
            f"{format_amount(to_eur(amount, rate), style)} EUR"
        )

    def to_line(self) -> EntryLine:
        currency = self.line_currency
        return EntryLine(
            date=self.date.data,
            journal=self.journal.data,
            account=self.account.data,
            debit=self.debit.amount,
            credit=self.credit.amount,
            reference=self.reference.data,
            label=self.label.data or "",
            due_date=self.due_date.data,
            journal_label=self.journal_label.data or "",
            third_party=self.third_party.data or "",
            third_party_siren=self.third_party_siren.data or "",
            third_party_label=self.third_party_label.data or "",
            document_reference=self.document_reference.data or "",
            currency=currency,
            currency_rate=effective_rate(currency, self.currency_rate.rate),
        )


# The fields of a line as posted (without its buttons), in the order the editor shows them.

_PHONE = re.compile(r"\+?[\d\s().\-]{6,30}")


class CounterpartyForm(PortalForm):
    """The API's `organization` part: who the invoice is from (purchase) or for (sale)."""

    name = StringField(_l("Company name"), validators=[Length(max=200)], filters=[strip])
    siren = StringField(_l("SIREN"), validators=[Optional(), Siren()], filters=[strip, siren_text])
    legal_form = StringField(
        _l("Legal form"),
        validators=[Optional(), Length(max=100)],
        filters=[strip],
        description=_l("SARL, SAS, EI…"),
    )
    naf = StringField(
        _l("NAF code"),
        validators=[Optional()],
        filters=[strip],
        description=_l("The activity code, e.g. 62.01Z."),
    )
    street = StringField(_l("Street"), validators=[Optional(), Length(max=200)], filters=[strip])
    postal_code = StringField(
        _l("Postal code"), validators=[Optional(), Length(max=20)], filters=[strip]
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)], filters=[strip])
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)], filters=[strip])
    phone_number = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Regexp(whole(_PHONE), message=_l("Type a phone number such as +33 1 23 45 67 89.")),
        ],
        filters=[strip],
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[Optional(), Length(max=254), EmailAddress()],
        filters=[strip],
    )

    def validate_naf(self, field: StringField) -> None:
        if field.data:
            code = normalize_naf(field.data)
            if code is None:
                raise ValidationError(_l("A NAF code is four digits and a letter, e.g. 62.01Z."))
            field.data = code

    def validate_name(self, field: StringField) -> None:
        if not field.data and any(self.values().values()):
            raise ValidationError(_l("Give the counterparty's name, or clear its other fields."))

    def values(self) -> dict[str, str]:
        """The filled fields other than the name, by field name."""
        return {
            name: field.data
            for name, field in self._fields.items()
            if name != "name" and isinstance(field.data, str) and field.data
        }

    def payload(self) -> dict[str, Any] | None:
        """The `organization` JSON: filled members only; None when nothing is filled."""
        if not self.name.data:
            return None
        result: dict[str, Any] = {"name": self.name.data}
        members = {
            "siren": self.siren.data,
            "legalForm": self.legal_form.data,
            "naf": self.naf.data,
            "phoneNumber": self.phone_number.data,
            "contactEmail": self.contact_email.data,
        }
        result.update({key: value for key, value in members.items() if value})
        address = {
            "street": self.street.data,
            "postalCode": self.postal_code.data,
            "city": self.city.data,
            "country": self.country.data,
        }
        address = {key: value for key, value in address.items() if value}
        if address:
            result["address"] = address
        return result


_VAT_CHOICES = [
    SelectChoice("20", _l("20 %")),
    SelectChoice("10", _l("10 %")),
    SelectChoice("5.5", _l("5.5 %")),
    SelectChoice("2.1", _l("2.1 %")),
    SelectChoice("0", _l("0 %")),
]


class VatHelperForm(PortalForm):
    """Book an invoice in one step. Not part of what is sent: only its button reads it."""

    net = StringField(_l("Net amount"), filters=[strip], description=_l("Before VAT."))
    rate = SelectField(_l("VAT rate"), choices=_VAT_CHOICES, default="20")
    booked_on = StringField(_l("Booked on"), filters=[strip])
    journal = StringField(_l("Daybook code"), filters=[strip])
    main_account = StringField(_l("Expense or revenue"), filters=[strip])
    vat_account = StringField(_l("VAT ledger"), filters=[strip])
    party_account = StringField(_l("Supplier or customer"), filters=[strip])
    generate = SubmitField(_l("Generate the lines"))

    def fill_defaults(self, kind: str) -> None:
        """Accounts and journal left blank, or still on the other kind's defaults, follow `kind`."""
        for name, attribute in (
            ("main_account", "main"),
            ("vat_account", "vat"),
            ("party_account", "party"),
        ):
            field = self[name]
            others = {getattr(accounts, attribute) for accounts in vat.DEFAULT_ACCOUNTS.values()}
            if not field.data or field.data in others:
                field.data = getattr(vat.DEFAULT_ACCOUNTS[kind], attribute)
        if not self.journal.data or self.journal.data in vat.DEFAULT_JOURNALS.values():
            self.journal.data = vat.DEFAULT_JOURNALS[kind]
        if not self.booked_on.data:
            self.booked_on.data = paris_today().isoformat()

    def book(self, kind: str, reference: str, label: str = "") -> list[EntryLine] | None:
        """The lines, or None with the errors set on the fields."""
        try:
            net = parse_amount(self.net.data)
        except AmountError:
            net = None
        if net is None or net <= 0:
            self.net.errors = [_l("Type the net amount, e.g. 1 000,00 or 1000.00.")]
        try:
            entry_date = date.fromisoformat(self.booked_on.data or "")
        except ValueError:
            entry_date = None
            self.booked_on.errors = [_l("Choose the date to book the invoice on.")]
        for field in (self.journal, self.main_account, self.vat_account, self.party_account):
            if not field.data:
                field.errors = [_l("Fill this in (a default is offered).")]
        if net is None or net <= 0 or entry_date is None or any(field.errors for field in self):
            return None
        if self.rate.data not in {choice.value for choice in _VAT_CHOICES}:
            self.rate.errors = [_l("Choose one of the French VAT rates.")]
            return None
        try:
            return vat.book_invoice(
                kind,
                net,
                Decimal(self.rate.data),
                entry_date=entry_date,
                reference=reference,
                accounts=vat.BookingAccounts(
                    main=self.main_account.data,
                    vat=self.vat_account.data,
                    party=self.party_account.data,
                ),
                journal=self.journal.data,
                label=label,
            )
        except vat.BookingError:
            self.net.errors = [_l("This amount cannot be booked; check it.")]
            return None


class PasteForm(PortalForm):
    """Rows copied from a spreadsheet, added to the editor by their button."""

    rows = TextAreaField(
        _l("Rows copied from a spreadsheet"),
        description=_l(
            "Copy the cells with their header row (Date, Journal, Account, Debit, Credit, "
            "Reference, Label… in English or French), separated by tabs or semicolons."
        ),
    )
    add = SubmitField(_l("Add pasted rows"))


def paste_rows(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Pasted spreadsheet rows as editor texts, and what could not be read, in words."""
    pasted = parse_paste(text)
    rows = [blank_line_values() | row.values for row in pasted.rows]
    for row in rows:
        row["currency"] = row.get("currency") or EUR
    return rows, [paste_issue_message(issue) for issue in pasted.issues]


_COLUMN_LABELS = {name: EntryLineForm.__dict__[name].args[0] for name in LINE_FIELDS}


def paste_issue_message(issue: PasteIssue) -> str:
    if issue.kind == "unknown_column":
        return str(_l("Unknown column “%(name)s”: rename it or leave it out.", name=issue.detail))
    if issue.kind == "missing_columns":
        names = ", ".join(str(_COLUMN_LABELS[name]) for name in issue.detail.split(", ") if name)
        return str(_l("The header row must name these columns too: %(names)s.", names=names))
    if issue.kind == "too_many_rows":
        return str(_l("Paste at most %(count)s rows at a time.", count=issue.detail))
    return str(_l("Paste the rows with their header row (Date, Journal, Account…)."))
