"""Rows copied from a spreadsheet (tab- or semicolon-separated, a header row first) → entry lines."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portal.accounting.amounts import AmountError, parse_amount, parse_rate
from portal.accounting.entries import CURRENCY_PATTERN, EUR, EntryLine, line_problems

MAX_ROWS = 500
REQUIRED_COLUMNS = ("date", "journal", "account", "reference")

# Header names people use, in English, French or the API's own words, once simplified
# (lower case, no accents, letters and digits only) → the line field they name.
_COLUMN_NAMES = {
    "date": ("date", "dateecriture", "datedecriture", "entrydate"),
    "journal": ("journal", "codejournal", "journalcode", "jnl"),
    "account": ("account", "compte", "comptegeneral", "generalaccount", "accountnumber"),
    "debit": ("debit",),
    "credit": ("credit",),
    "reference": ("reference", "ref", "piece", "numerodepiece", "referencepiece"),
    "label": ("label", "libelle", "description", "libelleecriture"),
    "due_date": ("duedate", "dueon", "echeance", "dateecheance", "datedecheance"),
    "journal_label": ("journallabel", "journalname", "daybookname", "libellejournal"),
    "third_party": ("thirdparty", "tiers", "comptetiers", "auxiliaire"),
    "third_party_siren": ("thirdpartysiren", "sirentiers", "siren", "sirendutiers"),
    "third_party_label": ("thirdpartylabel", "thirdpartyname", "libelletiers", "nomdutiers"),
    "document_reference": (
        "documentreference",
        "documentnumber",
        "referencedocument",
        "numerodocument",
        "numerofacture",
        "invoicenumber",
    ),
    "currency": ("currency", "devise", "monnaie"),
    "currency_rate": ("currencyrate", "rate", "exchangerate", "taux", "tauxdechange", "cours"),
}
_BY_NAME = {alias: column for column, aliases in _COLUMN_NAMES.items() for alias in aliases}
_DATE_FORMATS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})"),
)


@dataclass(frozen=True)
class PasteIssue:
    """What went wrong: `kind` is a code the portal words, `column` a line field when relevant."""

    kind: str  # unknown_column, missing_columns, no_rows, too_many_rows, cells, date, amount,
    # rate, currency, missing, or a LineProblem value
    row: int | None = None  # 1 for the first row under the header
    column: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class PastedRow:
    number: int
    values: dict[str, str]  # line field → text, dates made ISO (YYYY-MM-DD)
    line: EntryLine | None
    issues: list[PasteIssue] = field(default_factory=list)


@dataclass(frozen=True)
class Pasted:
    rows: list[PastedRow]
    issues: list[PasteIssue]  # about the paste as a whole (header, size)

    @property
    def lines(self) -> list[EntryLine]:
        return [row.line for row in self.rows if row.line is not None]

    @property
    def row_issues(self) -> list[PasteIssue]:
        return [issue for row in self.rows for issue in row.issues]


def column_for(header: str) -> str | None:
    simplified = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return _BY_NAME.get(re.sub(r"[^a-z0-9]", "", simplified.lower()))


def parse_date(text: str) -> date | None:
    """`2026-03-09`, `09/03/2026`, `9.3.2026` or `09/03/26` (day first, the French way)."""
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(text.strip())
        if match:
            year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
            try:
                return date(year, int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def parse_paste(text: str) -> Pasted:
    """Read the header and every non-blank row; a row's issues never stop the others."""
    raw_lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if not raw_lines:
        return Pasted([], [PasteIssue("no_rows")])
    delimiter = "\t" if "\t" in raw_lines[0] else ";"
    table = list(csv.reader(raw_lines, delimiter=delimiter))
    header, body = table[0], table[1:]
    columns = [column_for(name) for name in header]
    issues = [
        PasteIssue("unknown_column", detail=name.strip())
        for name, column in zip(header, columns, strict=True)
        if column is None and name.strip()
    ]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if "debit" not in columns and "credit" not in columns:
        missing.append("debit")
    if missing:
        issues.append(PasteIssue("missing_columns", detail=", ".join(missing)))
    if not body:
        issues.append(PasteIssue("no_rows"))
    if len(body) > MAX_ROWS:
        issues.append(PasteIssue("too_many_rows", detail=str(MAX_ROWS)))
    if issues:
        return Pasted([], issues)
    rows = [_read_row(number, columns, cells) for number, cells in enumerate(body, start=1)]
    return Pasted(rows, [])


def _read_row(number: int, columns: list[str | None], cells: list[str]) -> PastedRow:
    issues: list[PasteIssue] = []
    if len(cells) > len(columns):
        issues.append(PasteIssue("cells", number, detail=str(len(cells))))
    values = {
        column: cell.strip()
        for column, cell in zip(columns, cells, strict=False)
        if column is not None
    }
    for column in ("date", "due_date"):
        if values.get(column):
            parsed = parse_date(values[column])
            if parsed is None:
                issues.append(PasteIssue("date", number, column, values[column]))
            else:
                values[column] = parsed.isoformat()
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            issues.append(PasteIssue("missing", number, column))
    amounts: dict[str, Decimal] = {}
    for column in ("debit", "credit"):
        try:
            amounts[column] = parse_amount(values.get(column))
        except AmountError:
            issues.append(PasteIssue("amount", number, column, values.get(column, "")))
        else:
            if amounts[column] < 0:
                issues.append(PasteIssue("amount", number, column, values.get(column, "")))
    currency = (values.get("currency") or EUR).upper()
    values["currency"] = currency
    if not CURRENCY_PATTERN.fullmatch(currency):
        issues.append(PasteIssue("currency", number, "currency", currency))
    try:
        rate = parse_rate(values.get("currency_rate"))
    except AmountError:
        rate = None
        issues.append(PasteIssue("rate", number, "currency_rate", values["currency_rate"]))
    if len(amounts) == 2 and not issues:
        issues.extend(
            PasteIssue(problem.value, number)
            for problem in line_problems(amounts["debit"], amounts["credit"], currency, rate)
        )
    line = None if issues else _line(values, amounts, currency, rate)
    return PastedRow(number, values, line, issues)


def _line(
    values: dict[str, str], amounts: dict[str, Decimal], currency: str, rate: Decimal | None
) -> EntryLine:
    due = values.get("due_date")
    return EntryLine(
        date=date.fromisoformat(values["date"]),
        journal=values["journal"],
        account=values["account"],
        debit=amounts["debit"],
        credit=amounts["credit"],
        reference=values["reference"],
        label=values.get("label", ""),
        due_date=date.fromisoformat(due) if due else None,
        journal_label=values.get("journal_label", ""),
        third_party=values.get("third_party", ""),
        third_party_siren=values.get("third_party_siren", ""),
        third_party_label=values.get("third_party_label", ""),
        document_reference=values.get("document_reference", ""),
        currency=currency,
        currency_rate=rate if rate is not None and currency != EUR else Decimal(1),
    )
