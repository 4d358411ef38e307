"""The entries editor's htmx requests: field checks, totals, duplicate, VAT helper, paste,
preview and counterparty suggestions. Each answers a fragment of the deposit page; without
script the same buttons post the whole form to `create` (see DepositForm.edit_lines)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from portal import policy
from portal.accounting.amounts import CENT
from portal.accounting.entries import Totals, payload_totals
from portal.catalogue import gettext as _
from portal.deposits import counterparties
from portal.deposits.forms import DepositForm, posted_line_indices
from portal.deposits.lines import LINE_FIELDS, MAX_LINES
from portal.deposits.subforms import CounterpartyForm, EntryLineForm, paste_rows
from portal.models import Organization
from portal.web import render

_LINE_FIELD = re.compile(r"lines-(\d+)-([a-z_]+)")
_DUPLICATE_KEY = re.compile(r"lines-(\d+)-duplicate")
_COUNTERPARTY_PREFIX = "counterparty-"
_COUNTERPARTY_FIELDS = tuple(CounterpartyForm().data)
# Fields whose change can make or mend a rule across the line (one side, rate).
_CROSS_FIELDS = ("debit", "credit", "currency", "currency_rate")


@dataclass(frozen=True)
class LineSlot:
    """One line at a given index, drawn by _entry_line.html like an entry of the FieldList."""

    form: EntryLineForm
    id: str


def line_slot(index: int, formdata: Any, *, validate: bool = False) -> LineSlot:
    prefix = f"lines-{index}-"
    form = EntryLineForm(formdata, prefix=prefix)
    if validate:
        form.validate()
    return LineSlot(form, f"lines-{index}")


def _as_posted(index: int, values: dict[str, str]) -> MultiDict[str, str]:
    return MultiDict({f"lines-{index}-{name}": values.get(name, "") for name in LINE_FIELDS})


def _too_many_lines() -> Response:
    response = Response(
        render_template(
            "deposits/_editor_alert.html",
            message=_("The editor holds at most %(count)s lines.", count=MAX_LINES),
        ),
        status=422,
    )
    response.headers["HX-Retarget"] = "#alerts"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _new_slots(rows: list[dict[str, str]], *, validate: bool = False) -> list[LineSlot] | None:
    """Lines to insert, indexed after every index the page holds (it may have gaps); None
    when the editor would hold too many."""
    indices = posted_line_indices()
    if len(indices) + len(rows) > MAX_LINES:
        return None
    start = max(indices, default=-1) + 1
    return [
        line_slot(start + offset, _as_posted(start + offset, row), validate=validate)
        for offset, row in enumerate(rows)
    ]


def _lines_response(
    organization: Organization, slots: list[LineSlot] | None, *, position: int, oob: str = ""
) -> Response:
    if slots is None:
        return _too_many_lines()
    body = render_template(
        "deposits/_entry_lines.html",
        slots=slots,
        first_position=position,
        organization=organization,
        oob=Markup(oob),
    )
    response = Response(body)
    response.vary.add("HX-Request")
    return response


def check_field(organization_id: int) -> ResponseReturnValue:
    """One field checked when the user leaves it, by the validators Send applies."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    name = request.args.get("field", "")
    line = _LINE_FIELD.fullmatch(name)
    if line is not None and line.group(2) in LINE_FIELDS:
        slot = line_slot(int(line.group(1)), request.args, validate=True)
        return render(
            "deposits/_field_check.html",
            slot=slot,
            field=slot.form[line.group(2)],
            cross=line.group(2) in _CROSS_FIELDS,
            organization=organization,
        )
    short_name = name.removeprefix(_COUNTERPARTY_PREFIX)
    if name.startswith(_COUNTERPARTY_PREFIX) and short_name in _COUNTERPARTY_FIELDS:
        party = CounterpartyForm(request.args, prefix=_COUNTERPARTY_PREFIX)
        party.validate()
        return render(
            "deposits/_field_check.html",
            slot=None,
            field=party[short_name],
            organization=organization,
        )
    abort(404)


def duplicate_line(organization_id: int) -> ResponseReturnValue:
    """A copy of the line whose Duplicate button was pressed, to insert right after it."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    pressed = next(
        (int(match.group(1)) for key in request.form if (match := _DUPLICATE_KEY.fullmatch(key))),
        None,
    )
    if pressed is None:
        abort(400)
    values = {name: request.form.get(f"lines-{pressed}-{name}", "") for name in LINE_FIELDS}
    indices = posted_line_indices()
    position = indices.index(pressed) + 2 if pressed in indices else len(indices) + 1
    return _lines_response(organization, _new_slots([values]), position=position)


def line_totals(organization_id: int) -> ResponseReturnValue:
    """Debit and credit totals as the user types; reveals the unbalanced confirmation."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    return render(
        "deposits/new.html",
        block="entry_totals",
        form=DepositForm(),
        organization=organization,
        oob=True,
    )


def vat_defaults(organization_id: int) -> ResponseReturnValue:
    """The VAT helper again when the invoice type changes: accounts and journal follow it."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    return render(
        "deposits/new.html", block="vat_helper", form=DepositForm(), organization=organization
    )


def book_invoice_lines(organization_id: int) -> ResponseReturnValue:
    """The balanced lines of the invoice described in the VAT helper, appended to the editor."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    form = DepositForm()
    rows = form.book_invoice()
    helper = render_block("deposits/new.html", "vat_helper", form=form, organization=organization)
    if rows is None:
        return _retargeted(helper, "#vat-helper-body")
    return _lines_response(
        organization,
        _new_slots(rows),
        position=len(posted_line_indices()) + 1,
        oob=out_of_band("vat-helper-body", helper),
    )


def paste_lines(organization_id: int) -> ResponseReturnValue:
    """Rows pasted from a spreadsheet become lines, each checked and showing its errors."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    form = DepositForm()
    rows, form.paste_issues = paste_rows(form.paste.rows.data or "")
    if form.paste_issues or not rows:
        panel = render_block(
            "deposits/new.html", "paste_panel", form=form, organization=organization
        )
        return _retargeted(panel, "#paste-panel")
    form.paste.rows.data = ""
    slots = _new_slots(rows, validate=True)
    panel = render_block(
        "deposits/new.html",
        "paste_panel",
        form=form,
        organization=organization,
        pasted_count=len(rows),
        pasted_with_errors=any(slot.form.errors for slot in slots or []),
    )
    return _lines_response(
        organization,
        slots,
        position=len(posted_line_indices()) + 1,
        oob=out_of_band("paste-panel", panel),
    )


def out_of_band(target_id: str, body: str) -> str:
    """`body` to replace the inside of `#target_id` beside the main answer (hx-swap-oob)."""
    return render_template("deposits/_out_of_band.html", target_id=target_id, body=Markup(body))


def _retargeted(body: str, target: str) -> tuple[Response, int]:
    """A form with errors shown in place of the helper that posted it (not in the lines)."""
    response = Response(body)
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = "innerHTML"
    response.vary.add("HX-Request")
    return response, 422


def preview(organization_id: int) -> ResponseReturnValue:
    """The `entries` and `organization` JSON that Send would deliver now."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    return render(
        "deposits/new.html", block="payload_preview", form=DepositForm(), organization=organization
    )


def counterparty_suggestions(organization_id: int) -> ResponseReturnValue:
    """Counterparties used before whose name holds what the user typed."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    typed = request.args.get(f"{_COUNTERPARTY_PREFIX}name", "")
    return render(
        "deposits/_counterparty_suggestions.html",
        counterparties=counterparties.suggestions(organization, typed),
        organization=organization,
    )


def counterparty_fill(organization_id: int, counterparty_id: int) -> ResponseReturnValue:
    """The counterparty fields filled from one used before."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    party = counterparties.counterparty_of(organization, counterparty_id) or abort(404)
    form = DepositForm(formdata=None, data={"counterparty": counterparties.form_data(party)})
    return render(
        "deposits/_counterparty.html",
        form=form,
        organization=organization,
        counterparty_autofocus=True,
    )


def entries_totals(entries: dict[str, Any] | None) -> Totals:
    """Totals of an `entries` JSON as it was sent (for the deposit's page)."""
    return payload_totals(entries)


def exact_amount(value: float | int | None) -> Decimal:
    """A JSON amount read back as the exact decimal that was sent."""
    return Decimal(repr(value or 0)).quantize(CENT)


_ROUTES: tuple[tuple[str, str, Callable[..., ResponseReturnValue]], ...] = (
    ("GET", "/organizations/<int:organization_id>/deposits/check", check_field),
    ("POST", "/organizations/<int:organization_id>/deposits/lines/duplicate", duplicate_line),
    ("POST", "/organizations/<int:organization_id>/deposits/lines/totals", line_totals),
    ("POST", "/organizations/<int:organization_id>/deposits/vat-defaults", vat_defaults),
    ("POST", "/organizations/<int:organization_id>/deposits/lines/vat", book_invoice_lines),
    ("POST", "/organizations/<int:organization_id>/deposits/lines/paste", paste_lines),
    ("POST", "/organizations/<int:organization_id>/deposits/preview", preview),
    (
        "GET",
        "/organizations/<int:organization_id>/deposits/counterparties",
        counterparty_suggestions,
    ),
    (
        "GET",
        "/organizations/<int:organization_id>/deposits/counterparties/<int:counterparty_id>",
        counterparty_fill,
    ),
)


def register_editor(bp: Blueprint) -> None:
    """The editor's routes and template helpers, on the deposits blueprint (same endpoints)."""
    for method, rule, view in _ROUTES:
        bp.add_url_rule(rule, view.__name__, login_required(view), methods=[method])
    bp.add_app_template_global(entries_totals, "entries_totals")
    bp.add_app_template_global(exact_amount, "exact_amount")
