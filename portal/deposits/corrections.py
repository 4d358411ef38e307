"""Correct and send again: a refused deposit's details, file and lines as a new deposit form."""

from __future__ import annotations

from typing import Any

from portal.accounting.entries import payload_lines
from portal.deposits.counterparties import payload_form_data
from portal.deposits.fields import locale_style
from portal.deposits.forms import DepositForm
from portal.deposits.lines import entry_line_values
from portal.models import Deposit


def form_data(refused: Deposit) -> dict[str, Any]:
    """The form's fields as the refused deposit had them; its reference is left for a new one."""
    return {
        "kind": refused.kind.value,
        "user_email": refused.user_email or "",
        "comment": refused.comment or "",
        "counterparty": payload_form_data(refused.counterparty),
    }


def renew_line_references(form: DepositForm, refused: Deposit, reference: str) -> None:
    """The refused deposit's lines in the editor; those that carried the reference the portal
    made for it carry the new one (a reference the user typed, an invoice number, stays)."""
    style = locale_style()
    rows = []
    for line in payload_lines(refused.entries):
        values = entry_line_values(line, style)
        if (
            refused.external_reference_generated
            and values["reference"] == refused.external_reference
        ):
            values["reference"] = reference
        rows.append(values)
    form.set_lines(rows)
