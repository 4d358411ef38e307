"""The French catalogue is complete: an English string added without its French breaks the build."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FRENCH = ROOT / "portal" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\w*\}")


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def french() -> Catalog:
    return _read(FRENCH)


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return msgid, message.context


def _translations(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def test_every_message_has_its_french_and_none_is_fuzzy(french: Catalog) -> None:
    untranslated = [_key(m) for m in _messages(french) if not all(_translations(m))]
    fuzzy = [_key(m) for m in _messages(french) if m.fuzzy]
    assert untranslated == [], "messages without French"
    assert fuzzy == [], "fuzzy messages: check and confirm their French"


def test_french_keeps_every_placeholder(french: Catalog) -> None:
    broken = []
    for message in _messages(french):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for translation in _translations(message):
            if set(PLACEHOLDER.findall(translation)) - wanted or (
                wanted - set(PLACEHOLDER.findall(translation)) - {"count"}
            ):
                broken.append(_key(message))
    assert broken == []


def test_french_uses_french_typography(french: Catalog) -> None:
    # A no-break space (plain or narrow) before : ; ? ! and inside « », never an ordinary one.
    loose = re.compile(r"[^\s\u00a0\u202f][:;?!](?:\s|$)| [:;?!](?:\s|$)|« | »")
    offending = [
        translation
        for message in _messages(french)
        for translation in _translations(message)
        if loose.search(re.sub(r"https?://\S+|%\(\w+\)[sd]", "", translation))
    ]
    assert offending == []


def test_extracting_again_finds_nothing_the_catalogue_lacks(tmp_path: Path) -> None:
    """`make pot` over today's code: every string marked for translation is in the catalogue."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        ["make", "--no-print-directory", "-s", "pot", f"POT={pot}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    extracted = {_key(message) for message in _messages(_read(pot))}
    catalogued = {_key(message) for message in _messages(_read(FRENCH))}
    assert sorted(extracted - catalogued, key=str) == [], "run `make messages` and translate"
