"""The text a deposit is found by: folded in Python, so SQLite and PostgreSQL search alike.

SQLite's lower() folds ASCII only and PostgreSQL's follows its collation: folding here, once
when a deposit is written and once for the words typed, leaves the database a plain
substring comparison (`LIKE '%word%'`) that gives the same rows on both.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

MAX_WORDS = 8


# French ligatures Unicode does not decompose: « Œuvre » is found by "oeuvre".
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """Case and accents folded away: « Électricité » is found by "electricite" and "ÉLEC"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_text(parts: Iterable[str | None]) -> str:
    """The folded parts that are present, separated by one space."""
    return " ".join(fold(part) for part in parts if part)


def typed_words(typed: str) -> list[str]:
    """The first words of a search, folded, as the database compares them."""
    return fold(typed).split()[:MAX_WORDS]
