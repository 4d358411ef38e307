"""The deposit page asks what its one staged invoice says (htmx, after the upload): the answer
fills the form's blank fields, each marked as read from the invoice, and says what was read.
A photo is read by OCR in the background: the answer then asks again in a moment."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from portal import policy
from portal.catalogue import lazy_gettext as _l
from portal.deposits import drafts as draft_store
from portal.deposits import reading
from portal.deposits.editor import out_of_band
from portal.deposits.fields import locale_style
from portal.deposits.forms import DepositForm
from portal.deposits.lines import LINE_FIELDS, line_indices
from portal.deposits.storage import file_store
from portal.models import Draft, Organization

_SOURCES = {
    "xml": _l("Read from the invoice's Factur-X data"),
    "text": _l("Read from the invoice's text"),
    "ocr": _l("Read from the photo of the invoice"),
}
_XML_ERRORS = {
    "too_large": _l("The invoice data attached to this PDF is too large to be read."),
    "hostile": _l(
        "The invoice data attached to this PDF declares entities or a DTD, which an invoice "
        "never needs: it was not read."
    ),
    "malformed": _l("The invoice data attached to this PDF is damaged: it was not read."),
    "not_cii": _l("The XML attached to this PDF is not a Factur-X invoice: it was not read."),
    "unknown_profile": _l("The invoice data attached to this PDF names no known Factur-X profile."),
    "invalid": _l(
        "The invoice data attached to this PDF breaks the Factur-X rules of its profile: "
        "nothing was filled from it."
    ),
    "ocr": _l("The photo could not be read: fill in what you want to send."),
}
_BOOKING_PROBLEMS = {
    "no_total": _l("The invoice states no total: add the entry lines yourself."),
    "no_date": _l("The invoice states no date: add the entry lines yourself."),
    "totals_differ": _l(
        "The invoice's totals do not add up (net + VAT ≠ total): add the entry lines yourself."
    ),
    "breakdown_differs": _l(
        "The invoice's VAT breakdown does not match its total: add the entry lines yourself."
    ),
}


def reading_source_label(source: str) -> str:
    return str(_SOURCES.get(source, _SOURCES["text"]))


def reading_error_text(code: str | None) -> str:
    return str(_XML_ERRORS.get(code or "", _XML_ERRORS["malformed"]))


def booking_problem_text(code: str) -> str:
    return str(_BOOKING_PROBLEMS.get(code, _BOOKING_PROBLEMS["no_total"]))


def _the_one_draft(organization: Organization) -> Draft | None:
    """The form's single staged invoice; None for several files or pages still apart."""
    tokens = request.form.getlist("draft")
    if len(tokens) != 1 or request.form.getlist("photo_draft"):
        return None
    found = draft_store.drafts_named(organization, current_user, tokens)
    return found[0] if found and not found[0].used else None


def _lines_are_blank(formdata: MultiDict[str, str]) -> bool:
    for index in line_indices(formdata.keys()):
        for name in LINE_FIELDS:
            value = (formdata.get(f"lines-{index}-{name}") or "").strip()
            if value and not (name == "currency" and value == "EUR"):
                return False
    return True


def _filled(proposal: reading.Proposal) -> tuple[DepositForm, list[str]]:
    """The posted form with the proposal in its blank fields, and the parts it filled."""
    formdata = MultiDict(request.form)
    parts: list[str] = []
    for name, value in proposal.counterparty.items():
        key = f"counterparty-{name}"
        if not (formdata.get(key) or "").strip():
            formdata[key] = value
            parts.append(key)
    if proposal.reference and not (formdata.get("external_reference") or "").strip():
        formdata["external_reference"] = proposal.reference
        parts.append("external_reference")
    if proposal.lines and _lines_are_blank(formdata):
        for key in [key for key in formdata if key.startswith("lines-")]:
            del formdata[key]
        for index, row in enumerate(proposal.lines):
            for name, value in row.items():
                formdata[f"lines-{index}-{name}"] = value
        parts.append("lines")
    form = DepositForm(formdata=formdata)
    for key in parts:
        if key.startswith("counterparty-"):
            form.counterparty.form[key.removeprefix("counterparty-")].read_from = proposal.source
        elif key == "external_reference":
            form.external_reference.read_from = proposal.source
        else:
            for entry in form.lines:
                entry.form.read_from = proposal.source
    return form, parts


def read_invoice(organization_id: int) -> ResponseReturnValue:
    """The reading panel, and the filled parts of the form beside it (hx-swap-oob)."""
    organization = policy.organization_to_deposit_for(current_user, organization_id)
    draft = _the_one_draft(organization)
    if draft is None:
        return Response("", status=200)
    reading.read_quickly(draft, file_store())
    facts = reading.facts_of(draft)
    if draft.reading_state != reading.DONE or facts is None:
        return render_template(
            "deposits/_reading.html", draft=draft, organization=organization, reading=reading
        )
    form = DepositForm()
    proposal = reading.propose(facts, form.invoice_kind, organization, locale_style())
    reading.remember_proposal(draft, proposal)
    form, parts = _filled(proposal)
    extra = []
    if any(part.startswith("counterparty-") for part in parts):
        body = render_template("deposits/_counterparty.html", form=form, organization=organization)
        extra.append(out_of_band("counterparty-body", body))
    if "external_reference" in parts:
        body = render_block("deposits/new.html", "reference_field", form=form)
        extra.append(out_of_band("reference-body", body))
    if "lines" in parts:
        body = render_template(
            "deposits/_entry_lines.html",
            slots=form.lines,
            first_position=1,
            organization=organization,
            oob="",
        )
        extra.append(out_of_band("entry-lines", body))
    panel = render_template(
        "deposits/_reading.html",
        draft=draft,
        organization=organization,
        reading=reading,
        facts=facts,
        proposal=proposal,
        parts=parts,
    )
    response = Response(panel + "".join(extra))
    if "lines" in parts:
        response.headers["HX-Trigger-After-Settle"] = "portal:lines-changed"
    return response


def register_reading(bp: Blueprint) -> None:
    for helper in (reading_source_label, reading_error_text, booking_problem_text):
        bp.add_app_template_global(helper, helper.__name__)
    bp.add_app_template_global(reading.compared, "reading_comparison")
    bp.add_url_rule(
        "/organizations/<int:organization_id>/drafts/reading",
        "read_invoice",
        login_required(read_invoice),
        methods=["POST"],
    )
