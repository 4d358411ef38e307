"""The labelled facts of an invoice's text: its number, its dates, whether it is a credit note."""

from __future__ import annotations

import re
from datetime import date

from portal.reading.text_values import dates_in, fold

# A line that names another document (the invoice a credit note cancels, an order, a quote):
# its number and date are not this invoice's.
_OTHER_DOCUMENT = re.compile(
    r"\b(sur (la )?facture|suivant facture|reference|ref\b|annule|remplace|relati(f|ve)"
    r"|bon de (commande|livraison)|devis|commande|order|quote)"
)
_TOKEN = r"([a-z0-9][a-z0-9\-/_.]*[a-z0-9]|\d)"
_NO = r"(?:number|numero\b|num\b\.?|n\s?[°o*º'.]|nr\.?|#)"
_NUMBER_PATTERNS = (
    # "Facture n° FA-1", "Avoir N° : AV-3", "Invoice number: INV-7", "Facture simplifiée n° 8"
    re.compile(
        rf"\b(?:facture|avoir|invoice|credit note)(?: simplifiee| d'avoir)?\s*{_NO}\s*"
        rf"(?:de (?:la )?facture\s*)?[:.]?\s*{_TOKEN}"
    ),
    # "N° de facture : 2026-118", "Numéro d'avoir 12"
    re.compile(
        rf"\b{_NO}\s*(?:de |d')?(?:la )?(?:facture|l'avoir|avoir|invoice)\s*[:.]?\s*{_TOKEN}"
    ),
    # "Facture FA0042" (a title with its number, no "n°")
    re.compile(rf"^(?:facture|avoir|invoice)(?: simplifiee)?\s*:?\s*{_TOKEN}"),
)
# "N° 2026-118" on the line after a "FACTURE" title.
_BARE_NUMBER = re.compile(rf"^{_NO}\s*[:.]?\s*{_TOKEN}")
_TITLE = re.compile(r"^(facture|avoir|invoice|credit note|facture d'avoir)\s*:?$")
_CREDIT_NOTE = re.compile(r"^(avoir\b|facture d'avoir|credit note\b)")

_DUE_LABEL = re.compile(
    r"(echeance|a payer avant|payable (avant|le|au)|a regler (avant|le)|date limite"
    r"|paiement (avant|le)|due date|payment due|due on|due by|pay before)"
)
_ISSUE_LABEL = re.compile(
    r"(date d'emission|date de (la )?factur(e|ation)|date de l'avoir|emise? le|invoice date"
    r"|date of issue|issue date|issued on|\bfacture (.* )?du\s*:?\s*$|\bdate\b|(^|, )le\s*$)"
)
_DUE_DATE_WORDS = re.compile(
    r"\bdate (d'|de l')?(echeance|limite)|\b(due|payment) date|" + _DUE_LABEL.pattern
)
# Dates of something else than the invoice (delivery, order, service period).
_OTHER_DATE = re.compile(r"(livraison|commande|delivery|order|periode|period|du .* au|from)")


def number_in(lines: list[str]) -> str | None:
    """The invoice's number, as printed (its case kept)."""
    folded = [fold(line) for line in lines]
    for pattern in _NUMBER_PATTERNS:
        for line, text in zip(lines, folded, strict=True):
            if _OTHER_DOCUMENT.search(text):
                continue
            for match in pattern.finditer(text):
                if _plausible_number(match[1]):
                    return line[match.start(1) : match.end(1)]
    for index, text in enumerate(folded[:-1]):
        match = _BARE_NUMBER.match(folded[index + 1]) if _TITLE.match(text) else None
        if match and _plausible_number(match[1]):
            return lines[index + 1][match.start(1) : match.end(1)]
    return None


def _plausible_number(token: str) -> bool:
    return any(ch.isdigit() for ch in token) and len(token) <= 35 and not dates_in(token)


def is_credit_note(lines: list[str]) -> bool:
    return any(_CREDIT_NOTE.match(fold(line)) for line in lines)


def dates_of(lines: list[str]) -> tuple[date | None, date | None]:
    """(issue date, due date): each the first date its label introduces, on its line, or on
    the next line under a line of labels (each label taking the date below it, in order)."""
    issue = due = None
    for index, line in enumerate(lines):
        text = fold(line)
        if _OTHER_DOCUMENT.search(text):
            continue
        found = dates_in(line)
        labelled = []
        last = 0
        for item in found:
            labelled.append((_date_kinds(text[last : item.start])[-1:], item.value))
            last = item.end
        following = next((other for other in lines[index + 1 :] if other), "")
        if not found and following:
            kinds = _date_kinds(text)
            below = dates_in(following)
            if kinds and len(below) >= len(kinds) and below[0].start <= 2:
                labelled.extend(
                    ([kind], item.value) for kind, item in zip(kinds, below, strict=False)
                )
        for kinds, value in labelled:
            if kinds == ["due"]:
                due = due or value
            elif kinds == ["issue"]:
                issue = issue or value
    return issue, due


def _date_kinds(label: str) -> list[str]:
    """The date labels of `label` in reading order: "due", "issue"."""
    kinds = [(match.start(), "due") for match in _DUE_LABEL.finditer(label)]
    # "Date d'échéance" is one due label, not an issue label and a due one.
    rest = _DUE_DATE_WORDS.sub(lambda match: " " * len(match[0]), label)
    if not _OTHER_DATE.search(rest):
        kinds += [(match.start(), "issue") for match in _ISSUE_LABEL.finditer(rest)]
    return [kind for _start, kind in sorted(kinds)]
