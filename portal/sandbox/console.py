"""The sandbox console: integrations, documents and their decisions, deliveries, signing keys.

The console speaks French or English (the portal's language cookie, else the browser's); what
the simulated OneConnect sends its clients (codes, reasons, payloads) stays as OneConnect writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from markupsafe import Markup, escape

from portal.catalogue import gettext as _
from portal.catalogue import lazy_gettext as _l
from portal.catalogue import ngettext, pgettext
from portal.i18n import LanguageForm, switch_answer
from portal.oneconnect import spec
from portal.sandbox.api import API_PREFIX, sandbox
from portal.sandbox.faults import CONSOLE_FAULTS, Fault, Hang, LoseAnswer, ResetConnection
from portal.sandbox.forms import (
    BusinessErrorForm,
    ClearFaultsForm,
    CreateIntegrationForm,
    DecisionForm,
    FaultForm,
    RevokeIntegrationForm,
    RotateKeyForm,
)
from portal.sandbox.mailbox import Mailbox, ReceivedMail
from portal.sandbox.models import DocumentState, IntegrationState
from portal.sandbox.state import CONSOLE_REVOCATION_REASON, NOT_SENT_OUTCOME

bp = Blueprint("console", __name__)

RECENT = 50

_INTEGRATION_STATES = {
    IntegrationState.ACTIVE: _l("active"),
    IntegrationState.REVOKED: _l("revoked"),
}
_FAILED_OUTCOME = re.compile(r"failed: (?P<error>.+)")


@dataclass(frozen=True)
class CreatedIntegration:
    name: str
    integration_id: str
    secret: str


@bp.get("/")
def index() -> ResponseReturnValue:
    return _page(CreateIntegrationForm())


@bp.post("/integrations")
def create_integration() -> ResponseReturnValue:
    form = CreateIntegrationForm()
    if not form.validate_on_submit():
        return _page(form), 422
    name = (form.name.data or "").strip()
    integration_id, secret = sandbox().create_integration(name)
    # Rendered in this answer only: the secret is neither stored in the session nor shown again.
    created = CreatedIntegration(name, integration_id, secret)
    return _page(CreateIntegrationForm(formdata=None), created=created)


@bp.post("/integrations/<integration_id>/revoke")
def revoke_integration(integration_id: str) -> ResponseReturnValue:
    if RevokeIntegrationForm().validate_on_submit():
        try:
            # The reason is OneConnect's wording, sent to the portal: never translated.
            sandbox().revoke_integration(integration_id, CONSOLE_REVOCATION_REASON)
        except LookupError:
            abort(404)
        flash(_("Integration revoked; a Revocation event was sent."))
    return redirect(url_for(".index"))


@bp.post("/integrations/<integration_id>/business-error")
def set_business_error(integration_id: str) -> ResponseReturnValue:
    form = BusinessErrorForm()
    if form.validate_on_submit():
        try:
            sandbox().set_business_error(integration_id, form.code.data)
        except LookupError:
            abort(404)
        flash(_("The next import of this integration will answer %(code)s.", code=form.code.data))
    return redirect(url_for(".index"))


@bp.post("/documents/<document_id>/decision")
def decide(document_id: str) -> ResponseReturnValue:
    form = DecisionForm()
    if form.validate_on_submit() and (form.accept.data or form.refuse.data):
        accepted = bool(form.accept.data)
        try:
            sandbox().decide(document_id, accepted, None if accepted else form.reason.data)
        except LookupError:
            abort(404)
        if accepted:
            flash(_("Document accepted; a DocumentStatus event was sent."))
        else:
            flash(_("Document refused; a DocumentStatus event was sent."))
    return redirect(url_for(".index"))


@bp.post("/signing-keys/rotate")
def rotate_signing_key() -> ResponseReturnValue:
    if RotateKeyForm().validate_on_submit():
        kid = sandbox().rotate_signing_key()
        flash(_("Webhooks are now signed with key %(kid)s.", kid=kid))
    return redirect(url_for(".index"))


@bp.post("/faults")
def schedule_fault() -> ResponseReturnValue:
    form = FaultForm()
    if form.validate_on_submit():
        seconds = float(form.seconds.data) if form.seconds.data is not None else 5.0
        sandbox().faults.schedule(form.kind.data, count=form.count.data, seconds=seconds)
        flash(
            ngettext(
                "Fault scheduled for %(num)d call: %(fault)s.",
                "Fault scheduled for %(num)d calls: %(fault)s.",
                form.count.data,
                fault=CONSOLE_FAULTS[form.kind.data],
            )
        )
    else:
        problems = [
            _("The form has expired: reload the page.") if name == "csrf_token" else message
            for name, messages in form.errors.items()
            for message in messages
        ]
        flash(_("The fault was not scheduled: %(problems)s", problems=" ".join(problems)))
    return redirect(url_for(".index", _anchor="faults"))


@bp.post("/faults/clear")
def clear_faults() -> ResponseReturnValue:
    if ClearFaultsForm().validate_on_submit():
        sandbox().faults.clear()
        flash(_("Every scheduled fault was cleared."))
    return redirect(url_for(".index", _anchor="faults"))


def _mailbox() -> Mailbox:
    mailbox = current_app.extensions.get("mailbox")
    if mailbox is None:  # the portal sends through PORTAL_SMTP_URL: nothing lands here
        abort(404)
    return mailbox


def _received(number: int) -> ReceivedMail:
    return _mailbox().get(number) or abort(404)


@bp.get("/mailbox/")
def mailbox() -> ResponseReturnValue:
    box = _mailbox()
    return render_template("sandbox/mailbox.html", mailbox=box, messages=box.messages())


@bp.get("/mailbox/<int:number>")
def mail(number: int) -> ResponseReturnValue:
    return render_template("sandbox/mail.html", mail=_received(number))


# The e-mail's own HTML, in the console's sandboxed frame: no script, no request anywhere, the
# inline styles e-mails carry; its links open in a new tab, as a mail client opens them.
MAIL_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)


@bp.get("/mailbox/<int:number>/html")
def mail_html(number: int) -> Response:
    html = _received(number).html
    html = re.sub(r"(<head[^>]*>)", r'\1<base target="_blank">', html, count=1, flags=re.I)
    response = make_response(html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = MAIL_HTML_POLICY
    return response


_URL = re.compile(r"https?://[^\s<>\"']+")


def _linkify(text: str) -> Markup:
    """Plain text with its web addresses made links (the text part of an e-mail)."""
    pieces: list[str] = []
    position = 0
    for found in _URL.finditer(text):
        url = found.group(0).rstrip(".,;:)")
        pieces.append(str(escape(text[position : found.start()])))
        pieces.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        position = found.start() + len(url)
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Remember the language chosen in the portal's cookie (path "/", so the portal speaks it
    too), then go back to the page the switch was pressed on. Works without JavaScript."""
    form = LanguageForm()
    return switch_answer(form, form.validate_on_submit(), url_for(".index"))


@bp.app_context_processor
def _console_helpers() -> dict[str, object]:
    return {
        "language_form": LanguageForm(formdata=None),
        "switch_return_path": _switch_return_path,
        "integration_state": _integration_state,
        "document_state": _document_state,
        "delivery_outcome": _delivery_outcome,
        "linkify": _linkify,
        "has_mailbox": current_app.extensions.get("mailbox") is not None,
    }


def _switch_return_path() -> str:
    """This page (with the sandbox's mount point); for an answer to a POST, the console."""
    if request.method == "GET":
        return request.script_root + request.full_path.rstrip("?")
    return url_for(".index")


def _integration_state(state: IntegrationState) -> str:
    return str(_INTEGRATION_STATES.get(state, state.value))


def _document_state(state: DocumentState) -> str:
    # A document (masculine in French): its own context, apart from the portal's deposits.
    if state == DocumentState.RECEIVED:
        return pgettext("sandbox document", "received")
    if state == DocumentState.ACCEPTED:
        return pgettext("sandbox document", "accepted")
    if state == DocumentState.REFUSED:
        return pgettext("sandbox document", "refused")
    return state.value


def _delivery_outcome(outcome: str | None) -> str:
    """A delivery's last outcome as the console says it; "HTTP 503" needs no translation."""
    if outcome is None:
        return ""
    if outcome == NOT_SENT_OUTCOME:
        return _("not sent: no webhook URL is configured")
    failed = _FAILED_OUTCOME.fullmatch(outcome)
    if failed:
        return _("failed: %(error)s", error=failed.group("error"))
    return outcome


def _describe_fault(fault: Fault) -> str:
    if isinstance(fault, Hang):
        return _("hang %(seconds)s s", seconds=format_decimal(fault.seconds, "#,##0.###"))
    if isinstance(fault, LoseAnswer):
        return _("lose the answer")
    if isinstance(fault, ResetConnection):
        return _("reset the connection")
    return _("answer %(status)s", status=fault.status)


def _page(create_form: CreateIntegrationForm, *, created: CreatedIntegration | None = None) -> str:
    state = sandbox()
    return render_template(
        "sandbox/index.html",
        state=state,
        urls={
            _("Token URL"): url_for("public.token", _external=True),
            _("API base"): request.url_root.rstrip("/") + API_PREFIX,
            _("JWKS URL"): url_for("public.jwks", _external=True),
        },
        integrations=state.integrations(),
        documents=state.documents(limit=RECENT),
        deliveries=state.deliveries(limit=RECENT),
        signing_keys=state.signing_keys(),
        created=created,
        create_form=create_form,
        revoke_form=RevokeIntegrationForm(formdata=None),
        error_form=BusinessErrorForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
        rotate_form=RotateKeyForm(formdata=None),
        fault_form=FaultForm(formdata=None),
        clear_faults_form=ClearFaultsForm(formdata=None),
        pending_faults=[
            (target.value, remaining, _describe_fault(answer))
            for target, remaining, answer in state.faults.waiting()
        ],
        reasons=spec.REVOCATION_REASONS,
    )
