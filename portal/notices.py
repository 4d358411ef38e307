"""Messages stored as a code and its parameters, worded in the reader's language when read.

The sender that records a failed attempt at 3 a.m. does not know who will read it: it stores
`Notice("deposit.waiting", {"cause": …})`, and the page that shows it at 9 words it in French
or English. Upstream text (a rejection reason, a problem's detail) is a parameter, kept as given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.types import Text, TypeDecorator

from portal.catalogue import gettext
from portal.catalogue import lazy_gettext as _l
from portal.i18n import format_when
from portal.oneconnect import errors as upstream
from portal.oneconnect import spec

# Code → sentence. Parameters named `…_at` hold ISO 8601 times; a parameter that is itself a
# notice (a dict with a `code`) is worded first; others are shown as they are.
_SENTENCES: dict[str, Any] = {
    # Verbatim text: the firm's own words, or a message stored before notices existed.
    "text": "%(text)s",
    "deposit.refused_by_oneconnect": _l("OneConnect refused the deposit: %(cause)s"),
    "deposit.credentials_refused": _l(
        "OneConnect did not accept this organization's credentials. Reconnect the organization "
        "with its current Integration ID and secret, then retry."
    ),
    "deposit.integration_unknown": _l(
        "OneConnect does not know this organization's integration any more."
    ),
    "deposit.file_unreadable": _l(
        "The portal could not read the stored invoice file; deposit it again."
    ),
    "deposit.unexpected_answer": _l("OneConnect gave an unexpected answer: %(cause)s"),
    "deposit.internal_error": _l(
        "The portal met an error of its own while sending this invoice. An administrator can "
        "find it in the portal's log under the reference %(reference)s; once it is put right, "
        "use Retry."
    ),
    "deposit.secret_unreadable": _l(
        "The portal can no longer read this organization's integration secret (the key that "
        "encrypted it was removed). An administrator must restore the key, or the organization "
        "must be connected again; then use Retry."
    ),
    # The cause is a sentence of its own ("OneConnect is unavailable for now (HTTP 503)."):
    # set in brackets, it would nest them.
    "deposit.waiting": _l("%(cause)s The portal will send the invoice again automatically."),
    "deposit.expired": _l(
        "OneConnect could not be reached for 24 hours. Last error: %(cause)s Use Retry to send "
        "the invoice again."
    ),
    "deposit.expired_unknown": _l(
        "OneConnect could not be reached for 24 hours. Use Retry to send it again."
    ),
    "deposit.recognised": _l(
        "An earlier attempt had reached OneConnect; its document was recognised."
    ),
    "deposit.duplicate": _l(
        "OneConnect already has a document with the reference %(reference)s (document "
        "%(document)s, deposited on %(deposited_at)s). Nothing was sent again."
    ),
    "deposit.duplicate_undated": _l(
        "OneConnect already has a document with the reference %(reference)s (document "
        "%(document)s). Nothing was sent again."
    ),
    "organization.revoked": _l(
        "This organization's OneConnect integration was revoked (%(reason)s). Reconnect it "
        "with a new Integration ID and secret from your accountant's invitation."
    ),
    # E-mails: why one waits or failed; the cause is what the mail server said (or did not).
    "mail.waiting": _l("%(cause)s The portal tries again automatically."),
    "mail.refused": _l("%(cause)s The e-mail will not be sent again."),
    "mail.expired": _l(
        "The mail server did not take the e-mail for 24 hours. Last answer: %(cause)s"
    ),
    "mail.expired_unknown": _l("The mail server did not take the e-mail for 24 hours."),
    "mail.invalid_address": _l("%(address)s is not an address an e-mail can be sent to."),
    "mail.unwritable": _l("The portal could not write this e-mail (its log says why)."),
    "mail.recipient": _l("The mail server refused the recipient (%(code)s %(reply)s)."),
    "mail.data": _l("The mail server refused the message (%(code)s %(reply)s)."),
    "mail.sender": _l(
        "The mail server refused the sender address PORTAL_MAIL_FROM (%(code)s %(reply)s)."
    ),
    "mail.credentials": _l(
        "The mail server refused the portal's credentials (%(code)s %(reply)s)."
    ),
    "mail.unsupported": _l(
        "The mail server does not offer what PORTAL_SMTP_URL asks for (%(reply)s)."
    ),
    "mail.answer": _l("The mail server answered %(code)s (%(reply)s)."),
    "mail.timeout": _l("The mail server did not answer in time."),
    "mail.tls": _l("The secure connection to the mail server failed (%(reply)s)."),
    "mail.unreachable": _l("The mail server could not be reached (%(reply)s)."),
    "webhook.verified": _l("verified (key %(kid)s)"),
    "webhook.verified_no_kid": _l("verified"),
    "webhook.unknown_state": _l("unknown documentState %(state)s"),
    "webhook.stale": _l("a later event already made the deposit %(deposit_status)s"),
    "webhook.unknown_integration": _l("no organization has this integration"),
    "upstream.unexpected": _l("OneConnect gave an answer the portal did not expect."),
    "upstream.redirect": _l(
        "OneConnect answered with a redirection (HTTP %(status)s); it was not followed."
    ),
    "upstream.unavailable": _l("OneConnect is unavailable for now (HTTP %(status)s)."),
    "upstream.unreachable": _l("OneConnect could not be reached."),
    "upstream.unreadable_answer": _l(
        "OneConnect gave an answer the portal cannot read (HTTP %(status)s)."
    ),
    "upstream.request_refused": _l("OneConnect refused the request (HTTP %(status)s): %(detail)s"),
    "upstream.request_failed": _l("The portal could not send its request to OneConnect."),
    "upstream.validation": _l("OneConnect refused the file: %(detail)s"),
    "upstream.revoked": _l(
        "The connection to the accounting firm was closed by OneConnect (%(reason)s). Ask the "
        "accounting firm for a new invitation."
    ),
    "upstream.duplicate": _l("This external reference was already used for another invoice."),
    "upstream.credentials_refused": _l(
        "OneConnect refused the credentials. Check the integration secret, or the portal's "
        "partner credentials."
    ),
    "upstream.partner_credentials_refused": _l(
        "OneConnect refused the portal's partner credentials (client id, secret or scope)."
    ),
    "upstream.secret_malformed": _l(
        "The integration secret contains spaces or characters OneConnect never issues. Copy it "
        "again from OneConnect."
    ),
    "upstream.integration_unknown": _l(
        "OneConnect does not know this integration. Check the integration ID."
    ),
    "upstream.no_document_id": _l("OneConnect accepted the invoice but gave no documentId."),
    "upstream.storage_unavailable": _l("The portal's file store could not be reached."),
    "upstream.out_of_time": _l(
        "OneConnect did not answer within the time allowed for this attempt."
    ),
    "upstream.token_unreachable": _l("OneConnect's sign-in service could not be reached."),
    "upstream.token_request_failed": _l("The portal could not ask OneConnect for access."),
    "upstream.token_unavailable": _l(
        "OneConnect's sign-in service is unavailable for now (HTTP %(status)s)."
    ),
    "upstream.token_unexpected": _l(
        "OneConnect's sign-in service gave an unexpected answer (HTTP %(status)s)."
    ),
    "upstream.token_unusable": _l(
        "OneConnect's sign-in service gave a token the portal cannot use."
    ),
}

# Reasons the portal gives when it revokes, kept in English like OneConnect's own and worded for
# each reader when shown.
ADMIN_REVOCATION_REASON = "Revoked by an administrator"
_MEMBER_REVOCATION_PREFIX = "Disconnected by "


def member_revocation_reason(email: str) -> str:
    return f"{_MEMBER_REVOCATION_PREFIX}{email}"


# OneConnect's revocation reasons are codes of its own; shown in the reader's words.
_REASONS: dict[str, Any] = {
    ADMIN_REVOCATION_REASON.lower(): _l("by an administrator"),
    "revoked by the accounting firm": _l("by the accounting firm"),
    spec.REVOCATION_REASONS[spec.SMB_CLOSED].lower(): _l("the company was closed"),
    spec.REVOCATION_REASONS[spec.SMB_NOTFOUND].lower(): _l("the company was not found"),
    spec.REVOCATION_REASONS[spec.CPA_CLOSED].lower(): _l("the accounting firm closed the file"),
    spec.USER_REVOCATION_REASON.lower(): _l("by the user"),
    "revoked": _l("no reason given"),
}


@dataclass(frozen=True)
class Notice:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return word(self)

    def __html__(self) -> Markup:
        return escape(str(self))

    def as_data(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_data(cls, data: object) -> Notice:
        if isinstance(data, Mapping) and isinstance(data.get("code"), str):
            params = data.get("params")
            return cls(data["code"], params if isinstance(params, Mapping) else {})
        return cls("text", {"text": str(data)})


def text(value: str) -> Notice:
    """Words that are not ours to translate (the accounting firm's, OneConnect's)."""
    return Notice("text", {"text": value})


def of_error(error: upstream.OneConnectError) -> Notice:
    """What went wrong upstream, as a notice (its `str()` is the English log line)."""
    return Notice(f"upstream.{error.code}", _plain(error.params))


def describe(error: upstream.OneConnectError) -> str:
    """The error in the reader's language, now."""
    return str(of_error(error))


def reason_words(reason: str | None) -> str:
    """A revocation reason: OneConnect's known reasons in the reader's words, others as given."""
    if not reason:
        return gettext("no reason given")
    known = _REASONS.get(reason.strip().lower())
    if known is not None:
        return str(known)
    if reason.startswith(_MEMBER_REVOCATION_PREFIX):
        return gettext("disconnected by %(email)s", email=reason[len(_MEMBER_REVOCATION_PREFIX) :])
    return reason


def word(notice: Notice) -> str:
    sentence = _SENTENCES.get(notice.code)
    if sentence is None:  # a code from a newer release, read by an older one
        return str(notice.params.get("text") or notice.code)
    values = _Words({name: _word_value(name, value) for name, value in notice.params.items()})
    return str(sentence) % values


class _Words(dict[str, str]):
    # A parameter missing from an old row reads as "unknown" rather than failing the page.
    def __missing__(self, key: str) -> str:
        return gettext("unknown")


def _word_value(name: str, value: Any) -> str:
    if isinstance(value, Mapping) and "code" in value:
        return word(Notice.from_data(value))
    if value is None:
        return gettext("unknown")
    if name.endswith("_at") and isinstance(value, str):
        try:
            return format_when(datetime.fromisoformat(value))
        except ValueError:
            return value
    if name == "reason":
        return reason_words(str(value))
    if name == "deposit_status":
        from portal.models.deposits import DepositStatus  # the models store notices

        try:
            return DepositStatus(value).label
        except ValueError:
            return str(value)
    return str(value)


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """Only what JSON keeps (a retry delay or a problem document is not worth storing)."""
    return {
        name: value
        for name, value in params.items()
        if isinstance(value, str | int | float | bool) or value is None
    }


class NoticeText(TypeDecorator[Notice]):
    """A notice in a text column, as JSON. Plain text written before notices existed reads as
    verbatim text, so no stored message is lost."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Notice | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        notice = value if isinstance(value, Notice) else text(str(value))
        return json.dumps(notice.as_data(), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Any) -> Notice | None:
        if value is None:
            return None
        try:
            data = json.loads(value)
        except ValueError:
            return text(value)
        return Notice.from_data(data)
