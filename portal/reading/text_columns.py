"""Totals OCR read as two columns: the labels one under the other ("Total HT", "TVA 20 %",
"Total TTC"), and further on their amounts, one a line; so are a VAT table's rates, bases and
taxes. Tesseract splits a box of totals so when a wide gap separates labels from amounts.

A run of labels takes the first later run of as many amounts that adds up (Total HT + VAT =
Total TTC, VAT = Total HT * rate); a run of rates takes the two runs around it in which every
rate's tax is its base * rate. Runs that only blank lines separate are also tried joined.
What this pairs is marked `from_columns`, and `portal.reading.text` then asks for Total HT,
the VAT and Total TTC all present and adding up before it proposes any amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from itertools import combinations

from portal.reading.text_totals import (
    PrintedTotals,
    Row,
    add_tax_line,
    fits,
    fitting,
    only_amounts,
    row_of,
)

# Labels that may head a column of their own; not "Montant HT", the items' column head too.
_COLUMN_LABEL = re.compile(
    r"^(total|sous[- ]?total|subtotal|net a payer|reste a payer|amount due|balance due)"
)
_NEAR = 40  # lines: how far a column of amounts may stand from its labels
Run = tuple[int, ...]  # the indexes of a run's lines


def pair_columns(lines: list[str], totals: PrintedTotals) -> None:
    """Adds to `totals` what labels and amounts on different lines say; never overrides what a
    line said whole, except a VAT line's lone amount found to be its base."""
    rows = [row_of(line) for line in lines]
    labels = _runs(lines, rows, _column_label)
    amounts = _runs(lines, rows, lambda line, row: bool(row.values) and only_amounts(line))
    rated = _runs(lines, rows, lambda _line, row: row.rate is not None and len(row.values) == 1)
    used: set[int] = set()
    for run in sorted(labels, key=lambda run: (-len(run), run[0])):
        if used.intersection(run):
            continue
        if all(rows[index].kind == "tax_line" for index in run):
            _pair_rates(rows, run, amounts, used, totals)
        else:
            _pair_labels(rows, run, amounts, used, totals)
    for run in rated:
        if not used.intersection(run):
            _complete_rates(rows, run, amounts, used, totals)


def _column_label(_line: str, row: Row) -> bool:
    return row.label_only and (row.kind == "tax_line" or _COLUMN_LABEL.match(row.label) is not None)


def _runs(lines: list[str], rows: list[Row], belongs: Callable[[str, Row], bool]) -> list[Run]:
    """Runs of consecutive lines `belongs` accepts, and the runs only blank lines separate
    joined, in the order of their first line."""
    segments: list[list[int]] = [[]]
    for index, (line, row) in enumerate(zip(lines, rows, strict=True)):
        if belongs(line, row):
            segments[-1].append(index)
        elif segments[-1]:
            segments.append([])
    segments = [segment for segment in segments if segment]
    runs = []
    for first in range(len(segments)):
        joined = list(segments[first])
        runs.append(tuple(joined))
        for segment, previous in zip(segments[first + 1 :], segments[first:], strict=False):
            if any(lines[between] for between in range(previous[-1] + 1, segment[0])):
                break
            joined += segment
            runs.append(tuple(joined))
    return runs


def _near(run: Run, amounts: list[Run], used: set[int], *, after: bool) -> list[Run]:
    """The unused runs of as many amounts within _NEAR lines (only those after, if `after`),
    nearest first."""
    found = [
        other
        for other in amounts
        if len(other) == len(run)
        and not used.intersection(other)
        and (other[0] > run[-1] if after else True)
        and abs(other[0] - run[0]) <= _NEAR
    ]
    return sorted(found, key=lambda other: abs(other[0] - run[0]))


def _pair_labels(
    rows: list[Row], run: Run, amounts: list[Run], used: set[int], totals: PrintedTotals
) -> None:
    for other in _near(run, amounts, used, after=True):
        pairs = [
            (rows[label], rows[amount].values[0]) for label, amount in zip(run, other, strict=True)
        ]
        if not _consistent(pairs):
            continue
        used.update(run + other)
        totals.from_columns = True
        for row, value in pairs:
            if row.kind == "tax_line":
                add_tax_line(totals, row.rate, (None, value), quiet=True)  # type: ignore[arg-type]
            elif getattr(totals, row.kind) is None:  # type: ignore[arg-type]
                setattr(totals, row.kind, value)  # type: ignore[arg-type]
        rated = tuple(index for index in run if rows[index].kind == "tax_line")
        if len(rated) > 1:
            _find_bases(rows, rated, amounts, used, totals)
        return


def _find_bases(
    rows: list[Row], rated: Run, amounts: list[Run], used: set[int], totals: PrintedTotals
) -> None:
    """The bases of VAT lines whose taxes columns gave: the nearest run of as many amounts in
    which each is the base of its rate's tax."""
    taxes = {rate: tax for rate, _base, tax in totals.taxes}
    rates = [rows[index].rate for index in rated]
    for other in _near(rated, amounts, used, after=False):
        bases = [rows[index].values[0] for index in other]
        if all(fits(rate, base, taxes[rate]) for rate, base in zip(rates, bases, strict=True)):  # type: ignore[arg-type,index]
            used.update(other)
            found = dict(zip(rates, bases, strict=True))
            totals.taxes = [(rate, found.get(rate, base), tax) for rate, base, tax in totals.taxes]
            return


def _consistent(pairs: list[tuple[Row, Decimal]]) -> bool:
    """Whether labels paired with amounts hold together as far as they can be checked."""
    found = {row.kind: value for row, value in pairs if row.kind != "tax_line"}
    rated = [(row.rate, value) for row, value in pairs if row.kind == "tax_line"]
    tax = found.get("tax", sum(value for _rate, value in rated) if rated else None)
    net, gross, due = found.get("net"), found.get("gross"), found.get("due")
    if None not in (net, tax, gross) and net + tax != gross:  # type: ignore[operator]
        return False
    if net is not None and len(rated) == 1 and not fits(rated[0][0], net, rated[0][1]):  # type: ignore[arg-type]
        return False
    return due is None or gross is None or due <= gross


def _pair_rates(
    rows: list[Row], run: Run, amounts: list[Run], used: set[int], totals: PrintedTotals
) -> None:
    rates = [rows[index].rate for index in run]
    for first, second in combinations(_near(run, amounts, used, after=False), 2):
        columns = zip(
            (rows[index].values[0] for index in first),
            (rows[index].values[0] for index in second),
            strict=True,
        )
        pairs = [fitting(rate, *values) for rate, values in zip(rates, columns, strict=True)]  # type: ignore[arg-type]
        if all(pairs):
            used.update(first + second)
            totals.from_columns = True
            for rate, pair in zip(rates, pairs, strict=True):
                add_tax_line(totals, rate, pair, quiet=True)  # type: ignore[arg-type]
            return


def _complete_rates(
    rows: list[Row], run: Run, amounts: list[Run], used: set[int], totals: PrintedTotals
) -> None:
    """VAT lines with one amount each, and a run of as many amounts nearby: when each pair fits
    tax = base * rate and the bases add up to Total HT, the lines' bases and taxes are those
    (a lone amount is taken for the tax otherwise, wrongly in a table whose VAT column OCR
    set apart)."""
    if totals.net is None:
        return
    rates = [rows[index].rate for index in run]
    for other in _near(run, amounts, used, after=False):
        columns = zip(
            (rows[index].values[0] for index in run),
            (rows[index].values[0] for index in other),
            strict=True,
        )
        pairs = [fitting(rate, *values) for rate, values in zip(rates, columns, strict=True)]  # type: ignore[arg-type]
        if all(pairs) and sum(pair[0] for pair in pairs) == totals.net:  # type: ignore[index]
            used.update(run + other)
            totals.from_columns = True
            by_rate = dict(zip(rates, pairs, strict=True))
            totals.taxes = [
                (rate, *by_rate[rate]) if rate in by_rate else (rate, base, tax)  # type: ignore[misc]
                for rate, base, tax in totals.taxes
            ]
            return
