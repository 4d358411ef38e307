import hashlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import flask_babel
import pytest
from flask import Flask
from pypdf import PdfReader

from portal.deposits import receipt
from portal.models import Deposit, DepositStatus
from tests import factories

ORGANIZATION = "Bœuf & Crème «\u00a0Léa\u00a0»"
DIGEST = hashlib.sha256(b"facture 2026-042").hexdigest()
RECEIVED = datetime(2026, 3, 9, 13, 45, tzinfo=UTC)  # 14:45 in Paris (winter time)
SENT = datetime(2026, 3, 9, 13, 50, tzinfo=UTC)


@pytest.fixture
def sent_deposit(app: Flask) -> Deposit:
    organization = factories.organization(name=ORGANIZATION)
    return factories.deposit(
        organization,
        status=DepositStatus.SENT,
        file_name="facture-été-2026.pdf",
        file_size=123456,
        sha256=DIGEST,
        external_reference="FA-2026-042",
        document_id="3f1c9a52-7b0e-4d1a-9c55-2e8d6a4b1f07",
        user_email="lea@boeuf-creme.test",
        created_at=RECEIVED,
        sent_at=SENT,
    )


def receipt_text(app: Flask, deposit: Deposit, **request: object) -> tuple[str, PdfReader]:
    with app.test_request_context(**request):
        flask_babel.refresh()
        data = receipt.receipt_pdf(deposit)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text(), reader


def test_the_english_receipt_names_the_deposit(app: Flask, sent_deposit: Deposit) -> None:
    text, reader = receipt_text(app, sent_deposit)

    assert "Deposit receipt" in text
    assert ORGANIZATION.replace("\u00a0", " ") in text  # pypdf reads U+00A0 back as a space
    assert "facture-été-2026.pdf" in text
    assert "123,456 bytes" in text
    assert DIGEST in text  # whole, on one line
    assert "FA-2026-042" in text
    assert "3f1c9a52-7b0e-4d1a-9c55-2e8d6a4b1f07" in text
    assert "Mar 9, 2026, 2:45 PM" in text
    assert "Mar 9, 2026, 2:50 PM" in text
    assert "lea@boeuf-creme.test" in text
    assert "Issued on" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Deposit receipt: facture-été-2026.pdf"
    assert reader.metadata.creator == "OneConnect portal"


def test_the_french_receipt_speaks_french(app: Flask, sent_deposit: Deposit) -> None:
    text, reader = receipt_text(app, sent_deposit, headers={"Accept-Language": "fr"})

    for label in (
        "Reçu de dépôt",
        "Organisation",
        "Fichier",
        "Taille",
        "Type de facture",
        "Référence externe",
        "Identifiant du document",
        "Statut",
        "Reçue par le portail",
        "Envoyée à OneConnect",
        "Décision",
        "Déposée par",
    ):
        assert label in text
    assert "123\u202f456 octets" in text
    assert DIGEST in text
    assert "FA-2026-042" in text
    assert "3f1c9a52-7b0e-4d1a-9c55-2e8d6a4b1f07" in text
    assert "09/03/2026 14:45" in text
    assert "09/03/2026 14:50" in text
    assert "pas encore" in text  # not decided
    assert re.search(r"Émis le \d{2}/\d{2}/\d{4} \d{2}:\d{2}", text)
    assert reader.metadata is not None
    assert reader.metadata.title == "Reçu de dépôt\u00a0: facture-été-2026.pdf"


def test_a_deposit_not_sent_yet_says_so(app: Flask) -> None:
    queued = factories.deposit(
        factories.organization(),
        status=DepositStatus.QUEUED,
        document_id=None,
        sha256=DIGEST,
    )

    text, _ = receipt_text(app, queued)

    assert "not assigned yet" in text
    assert text.count("not yet") == 2  # sent, decided
    assert queued.external_reference in text
    assert queued.file_name in text
    assert DIGEST in text


def test_long_names_wrap_on_the_one_page_but_the_digest_never_does(app: Flask) -> None:
    long_name = "releve-" + "x" * 240 + ".pdf"
    deposit = factories.deposit(
        factories.organization(name="Société " * 24),
        file_name=long_name,
        sha256=DIGEST,
        user_email="comptabilite." + "a" * 60 + "@example.test",
    )

    text, _ = receipt_text(app, deposit)

    assert DIGEST in text
    assert long_name in text.replace("\n", "")
    assert "Issued on" in text


def test_a_missing_font_says_how_to_install_it(
    app: Flask, sent_deposit: Deposit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receipt, "MONO_FONT", tmp_path / "DejaVuSansMono.ttf")

    with app.test_request_context(), pytest.raises(RuntimeError, match="run make"):
        receipt.receipt_pdf(sent_deposit)
