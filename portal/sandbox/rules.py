"""The import rules of OneConnect's documentation, checked on a received multipart request."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import filetype
from werkzeug.datastructures import FileStorage, MultiDict

from portal.oneconnect import spec
from portal.sandbox.refusals import invalid

_NUMERIC_AMOUNT_FIELDS = tuple(name for name in spec.AMOUNT_FIELDS if name != "currency")
_DATE_FIELDS = ("date", "dueDate")


@dataclass(frozen=True)
class ImportRequest:
    """The parts of an import that passed every rule."""

    filename: str
    part_filename: str | None
    media_type: str | None
    detected_media_type: str
    size: int
    sha256: str
    user_email: str | None
    comment: str | None
    external_reference: str | None
    entries_json: str | None
    organization_json: str | None


def read_import(form: MultiDict[str, str], files: MultiDict[str, FileStorage]) -> ImportRequest:
    """Check the parts of an import request; raises a VALIDATION_ERROR Refusal naming the fault."""
    upload = files.get("file")
    if upload is None:
        raise invalid("file: the part is missing (send the invoice as a file part)")
    filename = form.get("filename")
    if not filename:
        raise invalid("filename: the part is missing")
    check_filename(filename)
    content = upload.stream.read(spec.MAX_FILE_BYTES + 1)
    detected = check_file_content(content)
    reference = form.get("externalReference")
    if reference is not None:
        check_external_reference(reference)
    entries = _json_part(form, files, "entries")
    if entries is not None:
        check_entries(entries)
    organization = _json_part(form, files, "organization")
    if organization is not None:
        check_organization(organization)
    return ImportRequest(
        filename=filename,
        part_filename=upload.filename,
        media_type=upload.mimetype or None,
        detected_media_type=detected,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        user_email=form.get("userEmail"),
        comment=form.get("comment"),
        external_reference=reference,
        entries_json=entries,
        organization_json=organization,
    )


def check_filename(filename: str) -> None:
    """The declared name must end in one of the allowed extensions, in any case."""
    if not filename.lower().endswith(spec.ALLOWED_EXTENSIONS):
        allowed = ", ".join(spec.ALLOWED_EXTENSIONS)
        raise invalid(f"filename: {filename!r} does not end in one of {allowed}")


def check_file_content(content: bytes) -> str:
    """The file must be non-empty, within the size limit and a PDF/JPEG/PNG/BMP by magic bytes."""
    if not content:
        raise invalid("file: the file is empty")
    if len(content) > spec.MAX_FILE_BYTES:
        raise invalid(f"file: larger than {spec.MAX_FILE_BYTES} bytes")
    kind = filetype.guess(content)
    if kind is None or kind.mime not in spec.MEDIA_TYPES:
        found = f" (it looks like {kind.mime})" if kind else ""
        raise invalid(f"file: the content is not a PDF, JPEG, PNG or BMP file{found}")
    return str(kind.mime)


def check_external_reference(reference: str) -> None:
    """Characters a-z A-Z 0-9 _ - : only, 1 to EXTERNAL_REFERENCE_MAX of them."""
    if not spec.EXTERNAL_REFERENCE_PATTERN.fullmatch(reference):
        raise invalid(
            "externalReference: use 1 to "
            f"{spec.EXTERNAL_REFERENCE_MAX} characters among a-z, A-Z, 0-9, _, - and :"
        )


def check_entries(text: str) -> None:
    """The entries JSON: size, shape {"data": {"lines": [...]}} and every line's fields."""
    if len(text.encode("utf-8")) > spec.MAX_ENTRIES_BYTES:
        raise invalid(f"entries: larger than {spec.MAX_ENTRIES_BYTES} bytes")
    document = _parse_json("entries", text)
    data = document.get("data") if isinstance(document, dict) else None
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise invalid('entries: the root must be {"data": {"lines": [...]}}')
    if not lines:
        raise invalid("entries: data.lines is empty")
    for number, line in enumerate(lines, start=1):
        _check_line(number, line)


def check_organization(text: str) -> None:
    """The organization JSON: an object whose known members have the documented types."""
    organization = _parse_json("organization", text)
    if not isinstance(organization, dict):
        raise invalid("organization: must be a JSON object")
    for name in spec.ORGANIZATION_FIELDS:
        value = organization.get(name)
        if value is None:
            continue
        if name == "address":
            _check_address(value)
        elif not isinstance(value, str):
            raise invalid(f"organization: {name} must be a string")


def _check_address(address: object) -> None:
    # ASSUMED shape (spec.ADDRESS_FIELDS); a plain string is tolerated too.
    if isinstance(address, str):
        return
    if not isinstance(address, dict):
        raise invalid("organization: address must be an object or a string")
    for name in spec.ADDRESS_FIELDS:
        value = address.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid(f"organization: address.{name} must be a string")


def _check_line(number: int, line: object) -> None:
    where = f"entries: line {number}"
    if not isinstance(line, dict):
        raise invalid(f"{where}: must be an object")
    for name in spec.LINE_REQUIRED_FIELDS:
        if name not in line or line[name] is None:
            raise invalid(f"{where}: {name} is missing")
    for side in ("debit", "credit"):
        _check_side(where, side, line[side])
    for name in (*spec.LINE_REQUIRED_FIELDS, *spec.LINE_OPTIONAL_FIELDS):
        if name in ("debit", "credit") or line.get(name) is None:
            continue
        if not isinstance(line[name], str):
            raise invalid(f"{where}: {name} must be a string")
        if name in _DATE_FIELDS and not _is_iso_date(line[name]):
            raise invalid(f"{where}: {name} is not an ISO 8601 date")


def _check_side(where: str, side: str, amounts: object) -> None:
    if not isinstance(amounts, dict):
        raise invalid(f"{where}: {side} must be an object")
    for name in spec.AMOUNT_FIELDS:
        if name not in amounts or amounts[name] is None:
            raise invalid(f"{where}: {side} is missing {name}")
    for name in _NUMERIC_AMOUNT_FIELDS:
        value = amounts[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"{where}: {side}.{name} must be a number")
    if not isinstance(amounts["currency"], str):
        raise invalid(f"{where}: {side}.currency must be a string")


def _json_part(
    form: MultiDict[str, str], files: MultiDict[str, FileStorage], name: str
) -> str | None:
    if name in files:
        # The docs: "serialize this field as a JSON string (not a nested multipart object)".
        raise invalid(f"{name}: send it as a JSON string part, not as a file")
    return form.get(name)


def _parse_json(name: str, text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise invalid(
            f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except ValueError as exc:
        raise invalid(f"{name}: not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise invalid(f"{name}: nested too deeply") from exc


def _refuse_constant(constant: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON itself does not have.
    raise ValueError(f"{constant} is not a JSON number")


def _is_iso_date(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
