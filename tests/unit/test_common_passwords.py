"""The common-password check beside the 10-character minimum (zxcvbn)."""

from __future__ import annotations

import pytest

from portal.passwords import is_common


@pytest.mark.parametrize(
    "password",
    ["password123", "azertyuiop", "soleil123456", "1234567890", "qwertyuiop1", "motdepasse1"],
)
def test_the_first_passwords_an_attacker_tries_are_common(password: str) -> None:
    assert is_common(password)


@pytest.mark.parametrize(
    "password", ["correct horse battery", "a brand new passphrase", "fournil-lundi-craie-42"]
)
def test_a_few_words_in_a_row_are_not(password: str) -> None:
    assert not is_common(password)


def test_the_users_own_address_counts_as_guessed() -> None:
    assert not is_common("boulangerie2026")
    assert is_common("boulangerie2026", ["sophie.lefebvre@boulangerie.fr"])
    assert is_common("sophielefebvre", ["sophie.lefebvre@boulangerie.fr"])


def test_a_long_passphrase_is_scored_by_its_start() -> None:
    assert not is_common("correct horse battery " * 40)  # quick, and still fine
