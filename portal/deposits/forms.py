"""The deposit form and its entry lines."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import request
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from flask_wtf.i18n import translations as wtforms_translations
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
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
    Totals,
    balance,
    effective_rate,
    entries_payload,
    entries_size,
    line_problems,
)
from portal.accounting.identifiers import normalize_naf, normalize_siren, siren_valid
from portal.accounting.paste import PasteIssue, parse_paste
from portal.deposits.files import InspectedFile, InvalidInvoiceFile, inspect_upload
from portal.i18n import paris_today
from portal.models import InvoiceKind
from portal.oneconnect import spec
from portal.validators import EmailAddress

_LINE_KEY = re.compile(r"lines-(\d+)-")


def posted_line_indices() -> list[int]:
    """The line indices the request posted, in order (gaps where lines were removed)."""
    return sorted({int(match.group(1)) for key in request.form if (match := _LINE_KEY.match(key))})


def _whole(pattern: re.Pattern[str]) -> str:
    # WTForms' Regexp only anchors at the start (re.match): the whole value must match.
    return rf"(?:{pattern.pattern})\Z"


MAX_LINES = 500
_REFERENCE_RULE = _l("Use up to 64 letters, digits, “_”, “-” or “:” (no spaces or accents).")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AmountField(StringField):
    """Text typed the French or English way; `.amount` holds the exact Decimal once validated.

    Once read, the amount is shown back with two decimals in the habit it was typed in.
    """

    amount: Decimal = Decimal("0.00")
    _read: bool = False

    def pre_validate(self, form: Form) -> None:
        self._read = False
        try:
            self.amount = parse_amount(self.data)
        except AmountError as error:
            raise ValidationError(
                _l("Type an amount such as 1 234,56 or 1234.56 (two decimals at most).")
            ) from error
        if self.amount < 0:
            raise ValidationError(_l("Amounts are positive: put it on the other side instead."))
        self._read = True

    def _value(self) -> str:
        if self._read and self.data:
            return format_amount(self.amount, amount_style(self.data) or _locale_style())
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


def _locale_style() -> str:
    return "fr" if str(get_locale() or "en").startswith("fr") else "en"


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _siren_text(value: Any) -> Any:
    return normalize_siren(value) if isinstance(value, str) else value


class Siren:
    """Nine digits whose last is the check digit (Luhn), as INSEE issues them."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not siren_valid(field.data):
            raise ValidationError(
                _l("A SIREN is 9 digits whose last one checks the others; check for a typo.")
            )


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


class PortalForm(Form):
    """A sub-form (no CSRF of its own) whose WTForms messages speak the page's language, as
    FlaskForm's do ("Date invalide." rather than "Not a valid date value.")."""

    class Meta:
        def get_translations(self, form: Form) -> Any:
            return wtforms_translations


class EntryLineForm(PortalForm):
    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the entry date."))])
    journal = StringField(
        _l("Journal"),
        validators=[InputRequired(message=_l("Enter a journal code, e.g. ACH.")), Length(max=20)],
        filters=[_strip],
    )
    account = StringField(
        _l("Account"),
        validators=[InputRequired(message=_l("Enter an account, e.g. 60100000.")), Length(max=40)],
        filters=[_strip],
    )
    debit = AmountField(_l("Debit"), filters=[_strip])
    credit = AmountField(_l("Credit"), filters=[_strip])
    reference = StringField(
        _l("Reference"),
        validators=[InputRequired(message=_l("Enter the line reference.")), Length(max=100)],
        filters=[_strip],
    )
    label = StringField(_l("Label"), validators=[Optional(), Length(max=200)], filters=[_strip])
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
        filters=[_strip],
        description=_l("The journal's name, e.g. Achats (journalLabel)."),
    )
    third_party = StringField(
        _l("Third party"),
        validators=[Optional(), Length(max=40)],
        filters=[_strip],
        description=_l("Supplier or customer code or account (thirdParty)."),
    )
    third_party_siren = StringField(
        _l("Third party SIREN"),
        validators=[Optional(), Siren()],
        filters=[_strip, _siren_text],
    )
    third_party_label = StringField(
        _l("Third party name"),
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
    )
    document_reference = StringField(
        _l("Document number"),
        validators=[Optional(), Length(max=100)],
        filters=[_strip],
        description=_l("The invoice or document number of this line (documentReference)."),
    )
    currency = StringField(
        _l("Currency"),
        default=EUR,
        validators=[
            Optional(),
            Regexp(_whole(CURRENCY_PATTERN), message=_l("Use a three-letter code such as EUR.")),
        ],
        filters=[_upper],
        description=_l("ISO code: EUR, USD, GBP…"),
    )
    currency_rate = RateField(
        _l("Exchange rate"),
        filters=[_strip],
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
        style = amount_style(self.debit.data) or amount_style(self.credit.data) or _locale_style()
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
LINE_FIELDS = (
    "date",
    "journal",
    "account",
    "debit",
    "credit",
    "reference",
    "label",
    "due_date",
    "journal_label",
    "third_party",
    "third_party_siren",
    "third_party_label",
    "document_reference",
    "currency",
    "currency_rate",
)


_PHONE = re.compile(r"\+?[\d\s().\-]{6,30}")


class CounterpartyForm(PortalForm):
    """The API's `organization` part: who the invoice is from (purchase) or for (sale)."""

    name = StringField(_l("Company name"), validators=[Length(max=200)], filters=[_strip])
    siren = StringField(
        _l("SIREN"), validators=[Optional(), Siren()], filters=[_strip, _siren_text]
    )
    legal_form = StringField(
        _l("Legal form"),
        validators=[Optional(), Length(max=100)],
        filters=[_strip],
        description=_l("SARL, SAS, EI…"),
    )
    naf = StringField(
        _l("NAF code"),
        validators=[Optional()],
        filters=[_strip],
        description=_l("The activity code, e.g. 62.01Z."),
    )
    street = StringField(_l("Street"), validators=[Optional(), Length(max=200)], filters=[_strip])
    postal_code = StringField(
        _l("Postal code"), validators=[Optional(), Length(max=20)], filters=[_strip]
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)], filters=[_strip])
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)], filters=[_strip])
    phone_number = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Regexp(_whole(_PHONE), message=_l("Type a phone number such as +33 1 23 45 67 89.")),
        ],
        filters=[_strip],
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[Optional(), Length(max=254), EmailAddress()],
        filters=[_strip],
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

    net = StringField(_l("Net amount"), filters=[_strip], description=_l("Before VAT."))
    rate = SelectField(_l("VAT rate"), choices=_VAT_CHOICES, default="20")
    booked_on = StringField(_l("Booked on"), filters=[_strip])
    journal = StringField(_l("Daybook code"), filters=[_strip])
    main_account = StringField(_l("Expense or revenue"), filters=[_strip])
    vat_account = StringField(_l("VAT ledger"), filters=[_strip])
    party_account = StringField(_l("Supplier or customer"), filters=[_strip])
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


class DepositForm(FlaskForm):
    kind = SelectField(
        _l("Invoice type"),
        choices=[
            SelectChoice(InvoiceKind.PURCHASE.value, _l("Purchase")),
            SelectChoice(InvoiceKind.SALES.value, _l("Sales")),
        ],
        default=InvoiceKind.PURCHASE.value,
    )
    invoice_file = FileField(
        _l("Invoice file"),
        validators=[FileRequired(message=_l("Choose the invoice file to send."))],
        description=_l("PDF, JPEG, PNG or BMP, at most 5 MB."),
    )
    user_email = EmailField(
        _l("User email"),
        validators=[
            Optional(),
            Length(max=254),
            EmailAddress(),
        ],
        filters=[_strip],
        description=_l("Who the accounting firm should ask about this invoice."),
    )
    comment = TextAreaField(
        _l("Comment"),
        validators=[Optional(), Length(max=2000)],
        description=_l("A note for your accounting firm (optional)."),
    )
    external_reference = StringField(
        _l("External reference"),
        validators=[
            Optional(),
            Length(max=spec.EXTERNAL_REFERENCE_MAX, message=_REFERENCE_RULE),
        ],
        filters=[_strip],
        description=_l(
            "Your own reference, e.g. your invoice number. Leave it blank and the portal makes one."
        ),
    )
    # Made when the form is first shown: a second click on Send carries the same reference,
    # so the same invoice cannot become two deposits.
    generated_reference = HiddenField()
    lines = FieldList(FormField(EntryLineForm), min_entries=0, max_entries=MAX_LINES)
    add_line = SubmitField(_l("Add line"))
    counterparty = FormField(CounterpartyForm, label=_l("Counterparty"))
    confirm_unbalanced = BooleanField(_l("Send although debits and credits differ"))
    submit = SubmitField(_l("Send"))

    inspected: InspectedFile | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The helpers are drawn with the form but never sent: only their own buttons read them.
        posted = kwargs["formdata"] if "formdata" in kwargs else self._posted()
        self.vat_helper = VatHelperForm(posted, prefix="vat")
        self.vat_helper.fill_defaults(self.invoice_kind)
        self.paste = PasteForm(posted, prefix="paste")

    def _posted(self) -> Any:
        return request.form if self.is_submitted() else None

    @property
    def invoice_kind(self) -> str:
        return self.kind.data if self.kind.data in vat.DEFAULT_ACCOUNTS else vat.PURCHASE

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if len(posted_line_indices()) > MAX_LINES:
            # FieldList keeps only max_entries lines: refuse rather than send fewer than typed.
            self.form_errors.append(
                str(
                    _l(
                        "A deposit holds at most %(count)s lines: split the entries.",
                        count=MAX_LINES,
                    )
                )
            )
            return False
        if self.lines.errors or not self.lines.entries:
            return valid
        lines = self.entry_lines()
        if entries_size(entries_payload(lines)) > spec.MAX_ENTRIES_BYTES:
            self.form_errors.append(
                str(_l("The entries are larger than OneConnect accepts (5 MB): send fewer lines."))
            )
            return False
        totals = balance(lines)
        if not totals.balanced and not self.confirm_unbalanced.data:
            difference = format_amount(abs(totals.difference), self.editor_totals().style)
            self.confirm_unbalanced.errors = [
                *self.confirm_unbalanced.errors,
                str(
                    _l(
                        "Debits and credits differ by %(difference)s. Correct the lines, or tick "
                        "this box to send them as they are.",
                        difference=difference,
                    )
                ),
            ]
            valid = False
        return valid

    def counterparty_payload(self) -> dict[str, Any] | None:
        """The API's `organization` part, or None when no counterparty was given."""
        return self.counterparty.form.payload()

    def preview(self) -> Preview:
        """What Send would deliver, read from copies so that the page's own errors stay put."""
        lines: list[EntryLine] = []
        invalid: list[int] = []
        for position, values in enumerate(self.line_values(), start=1):
            copy = EntryLineForm(_prefixed("line-", values), prefix="line-")
            if copy.validate():
                lines.append(copy.to_line())
            else:
                invalid.append(position)
        payload = entries_payload(lines)
        party = CounterpartyForm(
            _prefixed("party-", raw_values(self.counterparty.form)), prefix="party-"
        )
        organization = party.payload() if party.validate() else None
        return Preview(
            entries=None if payload is None else _pretty_json(payload),
            entries_size=entries_size(payload),
            organization=None if organization is None else _pretty_json(organization),
            invalid_lines=invalid,
        )

    def editor_totals(self) -> EditorTotals:
        return editor_totals([entry.form for entry in self.lines])

    def line_values(self) -> list[dict[str, str]]:
        """Every line as typed, in order."""
        return [raw_line_values(entry.form) for entry in self.lines]

    def set_lines(self, rows: list[dict[str, str]]) -> None:
        """Replace the lines by these texts, as if posted that way (indices 0 to n-1)."""
        if len(rows) > MAX_LINES:
            rows = rows[:MAX_LINES]
            self.form_errors.append(str(_l("The editor holds at most 500 lines.")))
        formdata: MultiDict[str, str] = MultiDict()
        for index, values in enumerate(rows):
            for name in LINE_FIELDS:
                formdata.add(f"{self.lines.name}-{index}-{name}", values.get(name, ""))
        self.lines.process(formdata)

    def edit_lines(self) -> bool:
        """Apply the editor button that posted the form (browsers without script); True if any."""
        if not self.is_submitted():
            return False
        rows = self.line_values()
        first_new = len(rows)
        if self.add_line.data:
            rows.append(blank_line_values())
        elif (index := self._pressed("remove")) is not None:
            del rows[index]
        elif (index := self._pressed("duplicate")) is not None:
            rows.insert(index + 1, dict(rows[index]))
            first_new = index + 1
        elif self.vat_helper.generate.data:
            booked = self.book_invoice()
            rows.extend(booked or [])
        elif self.paste.add.data:
            pasted, self.paste_issues = paste_rows(self.paste.rows.data or "")
            rows.extend(pasted)
        else:
            return False
        self.set_lines(rows)
        if self.paste.add.data:
            for entry in self.lines.entries[first_new:]:
                entry.validate(self)
        return True

    paste_issues: list[str] = []

    def book_invoice(self) -> list[dict[str, str]] | None:
        """The VAT helper's lines as editor texts, or None with its errors set."""
        reference = self.external_reference.data or self.generated_reference.data or ""
        lines = self.vat_helper.book(
            self.invoice_kind, reference, label=self.counterparty.form.name.data or ""
        )
        if lines is None:
            return None
        style = amount_style(self.vat_helper.net.data) or _locale_style()
        return [entry_line_values(line, style) for line in lines]

    def _pressed(self, button: str) -> int | None:
        for position, entry in enumerate(self.lines):
            if entry.form[button].data:
                return position
        return None

    def validate_generated_reference(self, field: HiddenField) -> None:
        if field.data and not spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(field.data):
            raise ValidationError(_REFERENCE_RULE)

    def validate_external_reference(self, field: StringField) -> None:
        if field.data and not spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(field.data):
            raise ValidationError(_REFERENCE_RULE)

    def validate_invoice_file(self, field: FileField) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", None):
            return
        try:
            self.inspected = inspect_upload(upload.stream, upload.filename)
        except InvalidInvoiceFile as error:
            raise ValidationError(str(error)) from error

    def entry_lines(self) -> list[EntryLine]:
        return [entry.form.to_line() for entry in self.lines]

    def removed_line_index(self) -> int | None:
        """Which line's Remove button submitted the form (when the browser runs no script)."""
        return self._pressed("remove")


def blank_line_values() -> dict[str, str]:
    return {name: "" for name in LINE_FIELDS} | {"currency": EUR}


def raw_line_values(line: EntryLineForm) -> dict[str, str]:
    """A line's fields as the user typed them."""
    values = raw_values(line)
    return {name: values[name] for name in LINE_FIELDS}


def raw_values(form: Form) -> dict[str, str]:
    """Every field of `form` as typed (or as set), by short name; buttons left out."""
    values = {}
    for field in form:
        if isinstance(field, SubmitField):
            continue
        values[field.short_name] = field.raw_data[0] if field.raw_data else field._value()
    return values


def _prefixed(prefix: str, values: dict[str, str]) -> MultiDict[str, str]:
    return MultiDict({f"{prefix}{name}": value for name, value in values.items()})


def _pretty_json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False)


@dataclass(frozen=True)
class Preview:
    """The `entries` and `organization` parts as Send would deliver them (indented)."""

    entries: str | None
    entries_size: int
    organization: str | None
    invalid_lines: list[int]
    entries_limit: int = spec.MAX_ENTRIES_BYTES


def entry_line_values(line: EntryLine, style: str) -> dict[str, str]:
    """An EntryLine as the editor shows it, amounts in the user's habit (blank for 0)."""

    def amount(value: Decimal) -> str:
        return format_amount(value, style) if value else ""

    return {
        "date": line.date.isoformat(),
        "journal": line.journal,
        "account": line.account,
        "debit": amount(line.debit),
        "credit": amount(line.credit),
        "reference": line.reference,
        "label": line.label,
        "due_date": line.due_date.isoformat() if line.due_date else "",
        "journal_label": line.journal_label,
        "third_party": line.third_party,
        "third_party_siren": line.third_party_siren,
        "third_party_label": line.third_party_label,
        "document_reference": line.document_reference,
        "currency": line.currency,
        "currency_rate": "" if line.currency == EUR else str(line.currency_rate),
    }


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


@dataclass(frozen=True)
class EditorTotals:
    """Totals of the lines as they stand while typed; unreadable amounts are left out."""

    totals: Totals
    count: int
    unreadable: list[int]  # positions (from 1) of lines whose amounts cannot be read yet
    style: str

    def show(self, amount: Decimal) -> str:
        return format_amount(amount, self.style)


def editor_totals(lines: list[EntryLineForm]) -> EditorTotals:
    debit = credit = Decimal("0.00")
    unreadable: list[int] = []
    style = None
    for position, line in enumerate(lines, start=1):
        debit_text, credit_text = line.debit.data or "", line.credit.data or ""
        style = style or amount_style(debit_text) or amount_style(credit_text)
        try:
            amounts = (parse_amount(debit_text), parse_amount(credit_text))
            rate = effective_rate(line.line_currency, parse_rate(line.currency_rate.data))
        except AmountError:
            unreadable.append(position)
            continue
        debit += to_eur(amounts[0], rate)
        credit += to_eur(amounts[1], rate)
    return EditorTotals(Totals(debit, credit), len(lines), unreadable, style or _locale_style())
