"""The deposit form: the invoice, who to ask, the counterparty and the entry lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
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
from wtforms.validators import Length, Optional

from portal.accounting import vat
from portal.accounting.amounts import amount_style, format_amount
from portal.accounting.entries import EntryLine, balance, entries_payload, entries_size
from portal.catalogue import lazy_gettext as _l
from portal.config import MAX_FILES
from portal.deposits.fields import REFERENCE_RULE, locale_style, strip
from portal.deposits.lines import (
    LINE_FIELDS,
    MAX_LINES,
    EditorTotals,
    blank_line_values,
    editor_totals,
    entry_line_values,
    line_indices,
    raw_line_values,
    raw_values,
)
from portal.deposits.subforms import (
    CounterpartyForm,
    EntryLineForm,
    PasteForm,
    VatHelperForm,
    paste_rows,
)
from portal.models import InvoiceKind
from portal.oneconnect import spec
from portal.validators import EmailAddress


def posted_line_indices() -> list[int]:
    """The line indices this request posted, in order (gaps where lines were removed)."""
    return line_indices(request.form)


class DepositForm(FlaskForm):
    kind = SelectField(
        _l("Invoice type"),
        choices=[
            SelectChoice(InvoiceKind.PURCHASE.value, _l("Purchase")),
            SelectChoice(InvoiceKind.SALES.value, _l("Sales")),
        ],
        default=InvoiceKind.PURCHASE.value,
    )
    # Files are staged as drafts as soon as they are chosen (or, without script, when the form
    # is posted); the form then names them by their tokens (`draft`), so an error keeps them.
    invoice_file = MultipleFileField(
        _l("Invoice file"),
        description=_l(
            "PDF, JPEG, PNG or BMP, at most 5 MB each; up to %(count)s files at once.",
            count=MAX_FILES,
        ),
    )
    photo_pages = MultipleFileField(
        _l("Take a photo"),
        description=_l("Photograph each page: the pages of one invoice become one PDF."),
    )
    # A refused deposit being corrected: its file is used unless another one is chosen.
    correction_of = HiddenField()
    user_email = EmailField(
        _l("User email"),
        validators=[
            Optional(),
            Length(max=254),
            EmailAddress(),
        ],
        filters=[strip],
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
            Length(max=spec.EXTERNAL_REFERENCE_MAX, message=REFERENCE_RULE),
        ],
        filters=[strip],
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

    def holds_invoice_details(self) -> bool:
        """Whether anything typed belongs to one invoice only (reference, counterparty, lines)."""
        return bool(
            self.external_reference.data or self.lines.entries or self.counterparty.form.name.data
        )

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
        style = amount_style(self.vat_helper.net.data) or locale_style()
        return [entry_line_values(line, style) for line in lines]

    def _pressed(self, button: str) -> int | None:
        for position, entry in enumerate(self.lines):
            if entry.form[button].data:
                return position
        return None

    def validate_generated_reference(self, field: HiddenField) -> None:
        if field.data and not spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(field.data):
            raise ValidationError(REFERENCE_RULE)

    def validate_external_reference(self, field: StringField) -> None:
        if field.data and not spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(field.data):
            raise ValidationError(REFERENCE_RULE)

    def entry_lines(self) -> list[EntryLine]:
        return [entry.form.to_line() for entry in self.lines]

    def removed_line_index(self) -> int | None:
        """Which line's Remove button submitted the form (when the browser runs no script)."""
        return self._pressed("remove")


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


@dataclass(frozen=True)
class ErrorLink:
    """One field's error in the summary at the top of the form, linking to the field."""

    target: str
    label: str
    message: str


def error_links(form: DepositForm) -> list[ErrorLink]:
    """Every field error of the form, lines and counterparty included, in the page's order."""
    links: list[ErrorLink] = []
    for field in form:
        if isinstance(field, FieldList):
            for position, entry in enumerate(field, start=1):
                caption = str(_l("Line %(number)s", number=position))
                links.extend(_sub_form_links(entry.form, caption))
        elif isinstance(field, FormField):
            links.extend(_sub_form_links(field.form, str(field.label.text)))
        elif field.errors and field.type != "HiddenField":
            links.append(
                ErrorLink(field.id, str(field.label.text), " ".join(map(str, field.errors)))
            )
        elif field.errors:
            links.append(ErrorLink("", "", " ".join(map(str, field.errors))))
    return links


def _sub_form_links(sub_form: Form, caption: str) -> list[ErrorLink]:
    links = [
        ErrorLink(field.id, f"{caption} · {field.label.text}", " ".join(map(str, field.errors)))
        for field in sub_form
        if field.errors
    ]
    first = next(iter(sub_form)).id
    links.extend(ErrorLink(first, caption, str(message)) for message in sub_form.form_errors)
    return links
