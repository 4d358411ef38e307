"""The deposit form and its entry lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
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
from wtforms.validators import InputRequired, Length, Optional

from portal.accounting.amounts import AmountError, parse_amount
from portal.accounting.entries import EntryLine
from portal.deposits.files import InspectedFile, InvalidInvoiceFile, inspect_upload
from portal.models import InvoiceKind
from portal.oneconnect import spec
from portal.validators import EmailAddress

MAX_LINES = 500
_REFERENCE_RULE = _l("Use up to 64 letters, digits, “_”, “-” or “:” (no spaces or accents).")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AmountField(StringField):
    """Text typed the French or English way; `.amount` holds the exact Decimal once validated."""

    amount: Decimal = Decimal("0.00")

    def pre_validate(self, form: Form) -> None:
        try:
            self.amount = parse_amount(self.data)
        except AmountError as error:
            raise ValidationError(
                _l("Type an amount such as 1 234,56 or 1234.56 (two decimals at most).")
            ) from error
        if self.amount < 0:
            raise ValidationError(_l("Amounts are positive: put it on the other side instead."))


class EntryLineForm(Form):
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
    remove = SubmitField(_l("Remove"))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.debit.errors and not self.credit.errors:
            sides = [amount for amount in (self.debit.amount, self.credit.amount) if amount != 0]
            if len(sides) != 1:
                self.form_errors.append(
                    str(_l("Put the amount either in Debit or in Credit, and 0 on the other side."))
                )
                valid = False
        return valid

    def to_line(self) -> EntryLine:
        return EntryLine(
            date=self.date.data,
            journal=self.journal.data,
            account=self.account.data,
            debit=self.debit.amount,
            credit=self.credit.amount,
            reference=self.reference.data,
            label=self.label.data or "",
        )


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
    submit = SubmitField(_l("Send"))

    inspected: InspectedFile | None = None

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
        for position, entry in enumerate(self.lines):
            if entry.form.remove.data:
                return position
        return None
