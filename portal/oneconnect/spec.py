"""Facts of the OneConnect API, and the assumptions we made where its public pages are silent.

Both the portal's client and the embedded sandbox read this module, so a rule changes in one place.
Every assumption is marked ASSUMED and explained.
"""

from __future__ import annotations

import re
from typing import Final

# --- Production endpoints -------------------------------------------------------------------
PRODUCTION_TOKEN_URL: Final = "https://auth.shine.co/oauth2/token"
PRODUCTION_API_BASE: Final = "https://api.oneconnect.shine.co/v1"
PRODUCTION_JWKS_URL: Final = "https://api.oneconnect.shine.co/.well-known/jwks.json"

# --- Paths below the API base ---------------------------------------------------------------
IMPORT_PATHS: Final = {
    "purchase": "/integrations/{integration_id}/purchase-invoices",
    "sales": "/integrations/{integration_id}/sales-invoices",
}
STATUS_PATH: Final = "/integrations/{integration_id}"
REVOKE_PATH: Final = "/integrations/{integration_id}/revoke"

# --- Headers ---------------------------------------------------------------------------------
API_KEY_HEADER: Final = "x-oneconnect-api-key"

# --- Token lifecycle -------------------------------------------------------------------------
TOKEN_RENEWAL_FRACTION: Final = 0.8  # renew once 80 % of expires_in has elapsed (docs' advice)

# --- Import limits ---------------------------------------------------------------------------
# "5 MB" read as 5,000,000 bytes, the stricter of the two readings (CONTRACT.md).
MAX_FILE_BYTES: Final = 5_000_000
MAX_ENTRIES_BYTES: Final = 5_000_000
ALLOWED_EXTENSIONS: Final = (".pdf", ".jpg", ".jpeg", ".png", ".bmp")
# Media types the upstream accepts, keyed by the extensions that may name them.
MEDIA_TYPES: Final = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/bmp": (".bmp",),
}

EXTERNAL_REFERENCE_MAX: Final = 64
EXTERNAL_REFERENCE_PATTERN: Final = re.compile(r"[A-Za-z0-9_\-:]{1,64}")

INVOICE_KINDS: Final = ("purchase", "sales")

# --- Entries (data.lines) ------------------------------------------------------------------------
LINE_REQUIRED_FIELDS: Final = ("date", "debit", "credit", "journal", "account", "reference")
LINE_OPTIONAL_FIELDS: Final = (
    "dueDate",
    "journalLabel",
    "thirdParty",
    "thirdPartySiren",
    "thirdPartyLabel",
    "label",
    "documentReference",
)
AMOUNT_FIELDS: Final = ("amount", "currency", "currencyAmount", "currencyRate")
ORGANIZATION_FIELDS: Final = (
    "name",
    "siren",
    "legalForm",
    "naf",
    "address",
    "phoneNumber",
    "contactEmail",
)
# ASSUMED: `address` is an object with these keys; a plain string is tolerated as well.
ADDRESS_FIELDS: Final = ("street", "postalCode", "city", "country")

# --- Error codes -------------------------------------------------------------------------------
VALIDATION_ERROR: Final = "VALIDATION_ERROR"
SMB_CLOSED: Final = "SMB_CLOSED"
SMB_NOTFOUND: Final = "SMB_NOTFOUND"
CPA_CLOSED: Final = "CPA_CLOSED"
DUPLICATE_EXTERNAL_REFERENCE: Final = "DUPLICATE_EXTERNAL_REFERENCE"
REVOKING_ERROR_CODES: Final = (SMB_CLOSED, SMB_NOTFOUND, CPA_CLOSED)

# After a revocation every call answers 401 "with the revocation reason"; the docs name these.
REVOCATION_REASONS: Final = {
    SMB_CLOSED: "SMB Closed",
    SMB_NOTFOUND: "SMB not Found",
    CPA_CLOSED: "CPA Closed",
}
# ASSUMED: the 401 after a revocation is a problem document carrying the reason in a
# `revocationReason` member (the sandbox sends it there and in `detail`). The client also
# recognises any of REVOCATION_REASONS, or the word "revoked", anywhere in the body, so a
# differently shaped upstream answer is still read as a revocation.
REVOCATION_REASON_MEMBER: Final = "revocationReason"
# A revocation asked by the user from the partner software (PUT …/revoke). ASSUMED wording.
USER_REVOCATION_REASON: Final = "Revoked by user"

# ASSUMED: the 409 problem document carries `documentId` and `depositDate` (ISO 8601) as
# top-level members.
DUPLICATE_DOCUMENT_MEMBER: Final = "documentId"
DUPLICATE_DATE_MEMBER: Final = "depositDate"

# ASSUMED: GET /integrations/{id} answers 200 with {"integrationId", "status", ...} where status
# is "active" or "revoked" (with `revocationReason`), or 401 once revoked. Both are handled.
STATUS_ACTIVE: Final = "active"
STATUS_REVOKED: Final = "revoked"

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"

# --- Webhooks (CloudEvents 1.0) --------------------------------------------------------------
CLOUDEVENTS_CONTENT_TYPE: Final = "application/cloudevents+json"
EVENT_DOCUMENT_STATUS: Final = "DocumentStatus"
EVENT_REVOCATION: Final = "Revocation"
DOCUMENT_ACCEPTED: Final = "Accepted"
DOCUMENT_REFUSED: Final = "Refused"
# ASSUMED field names (the docs say only "begins with rejection…" and "a reason").
REJECTION_REASON_MEMBER: Final = "rejectionReason"
REVOCATION_EVENT_REASON_MEMBER: Final = "reason"

# ASSUMED signature scheme: `Authorization: Bearer <JWS compact>`; protected header has `kid`
# and `alg` in SIGNING_ALGORITHMS; claims `iat` (integer seconds) and `request_body_sha256`
# (hex SHA-256 of the raw body, compared case-insensitively).
SIGNING_ALGORITHMS: Final = ("RS256", "ES256")
SIGNATURE_MAX_AGE_SECONDS: Final = 300
BODY_HASH_CLAIM: Final = "request_body_sha256"
