"""Upload first, in a real browser: several files, a drop, progress, a kept file, photos joined
into one PDF, correct and send again, the receipt and the history's search."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pypdf
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.deposits.storage import FileStore
from portal.extensions import db
from portal.models import Deposit
from tests.browser.conftest import LivePortal, open_form_sections
from tests.browser.test_journey import connect, create_integration_in_console, register
from tests.support import invoices


def deposit_page(page: Page, name: str = "Boulangerie Martin") -> str:
    integration_id, secret = create_integration_in_console(page, name)
    register(page)
    connect(page, name, integration_id, secret)
    page.get_by_role("link", name="Deposit an invoice").click()
    page.wait_for_load_state("load")  # the page's scripts (deferred) handle drops from then on
    return integration_id


def invoice_files(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for number in range(1, count + 1):
        path = tmp_path / f"facture-{number}.pdf"
        path.write_bytes(invoices.pdf(text=f"Facture {number}"))
        paths.append(path)
    return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def received(live_portal: LivePortal, integration_id: str) -> dict[str, str]:
    return {doc.filename: doc.sha256 for doc in live_portal.sandbox.documents(integration_id)}


def wait_for_documents(page: Page, live_portal: LivePortal, integration_id: str, count: int):
    for _ in range(100):
        if len(live_portal.sandbox.documents(integration_id)) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{count} documents never reached the sandbox")


def test_three_files_at_once_become_three_deposits_byte_for_byte(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    files = invoice_files(tmp_path, 3)
    page.get_by_label("Invoice file").set_input_files([str(path) for path in files])
    expect(page.locator("li.draft-ready")).to_have_count(3)
    # Details that belong to one invoice are set aside for several files.
    expect(page.locator("#single-invoice")).to_be_hidden()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Import history")).to_be_visible()
    expect(page.get_by_text("3 invoices received")).to_be_visible()
    for path in files:
        expect(page.get_by_role("row", name=re.compile(path.name))).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 3)
    assert received(live_portal, integration_id) == {path.name: sha256(path) for path in files}
    with live_portal.app.app_context():
        references = db.session.scalars(select(Deposit.external_reference)).all()
    assert len(set(references)) == 3


def test_files_dropped_on_the_page_are_deposited(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    contents = {f"depot-{n}.pdf": invoices.pdf(text=f"Drop {n}") for n in (1, 2)}
    page.evaluate(
        """(files) => {
          const transfer = new DataTransfer();
          for (const [name, bytes] of Object.entries(files)) {
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "application/pdf"}));
          }
          const target = document.querySelector("h1");
          for (const type of ["dragenter", "dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
          }
        }""",
        {name: list(data) for name, data in contents.items()},
    )
    expect(page.locator("li.draft-ready")).to_have_count(2)
    assert page.get_by_label("Invoice file").evaluate("input => input.files.length") == 2
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("2 invoices received")).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 2)
    assert received(live_portal, integration_id) == {
        name: hashlib.sha256(data).hexdigest() for name, data in contents.items()
    }


def test_a_slow_upload_shows_its_progress_and_send_waits_for_it(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    big = tmp_path / "grosse-facture.pdf"
    big.write_bytes(invoices.pdf(padding=1_500_000))
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    page.get_by_label("Invoice file").set_input_files(str(big))
    progress = page.locator("li.draft-uploading progress")
    expect(progress).to_be_visible()
    page.get_by_role("button", name="Send").click()  # held back until the file is up
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(page.get_by_role("heading", name="grosse-facture.pdf")).to_be_visible(timeout=30_000)
    wait_for_documents(page, live_portal, integration_id, 1)
    assert received(live_portal, integration_id) == {big.name: sha256(big)}


def test_after_a_form_error_the_file_is_kept_and_send_works_without_choosing_it(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    (invoice,) = invoice_files(tmp_path, 1)
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    expect(page.locator("li.draft-ready")).to_have_count(1)
    page.get_by_label("User email").fill("not an address")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#error-summary")).to_contain_text("User email")
    expect(page.locator("li.draft-ready")).to_contain_text(invoice.name)
    assert page.get_by_label("Invoice file").evaluate("input => input.files.length") == 0
    page.get_by_label("User email").fill("anne@boulangerie.test")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name=invoice.name)).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 1)
    assert received(live_portal, integration_id) == {invoice.name: sha256(invoice)}


def test_two_photos_are_joined_into_one_pdf(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    photo = page.get_by_label("Take a photo")
    assert photo.get_attribute("accept") == "image/*"
    assert photo.get_attribute("capture") == "environment"
    first, second = tmp_path / "page-1.jpg", tmp_path / "page-2.jpg"
    first.write_bytes(invoices.jpeg(color="white"))
    second.write_bytes(invoices.jpeg(color="lightgrey"))
    photo.set_input_files(str(first))
    expect(page.get_by_text("1 page photographed.")).to_be_visible()
    page.get_by_label("Add a page").set_input_files(str(second))
    expect(page.get_by_text("2 pages photographed")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="photos.pdf")).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 1)
    with live_portal.app.app_context():
        deposit = db.session.scalars(select(Deposit)).one()
        stored = FileStore(live_portal.app.config["STORAGE_DIR"]).path_for(deposit.storage_key)
        content = stored.read_bytes()
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 2
    assert first.read_bytes() in content and second.read_bytes() in content  # lossless
    assert received(live_portal, integration_id) == {
        "photos.pdf": hashlib.sha256(content).hexdigest()
    }


def test_a_refused_invoice_is_corrected_and_sent_again_with_its_file(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    (invoice,) = invoice_files(tmp_path, 1)
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    open_form_sections(page)
    page.get_by_label("Comment").fill("refuse: the VAT number is missing")
    page.get_by_label("External reference").fill("FA-900")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("link", name="Correct and send again")).to_be_visible(timeout=15_000)

    page.get_by_role("link", name="Correct and send again").click()
    expect(page.locator("li.draft, .alert-info")).to_contain_text([invoice.name])
    expect(page.get_by_label("Comment")).to_have_value("refuse: the VAT number is missing")
    open_form_sections(page)
    expect(page.get_by_label("External reference")).to_have_value("")
    page.get_by_label("Comment").fill("TVA ajoutée")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("This deposit corrects a refused one")).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 2)
    documents = live_portal.sandbox.documents(integration_id)
    assert {doc.sha256 for doc in documents} == {sha256(invoice)}
    newest, _refused = documents
    assert newest.external_reference not in (None, "FA-900")
    assert newest.comment == "TVA ajoutée"

    page.get_by_role("link", name=re.compile(invoice.name)).first.click()
    expect(page.get_by_text("Corrected and sent again")).to_be_visible()


def test_the_receipt_names_the_document_and_the_file(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    integration_id = deposit_page(page)
    (invoice,) = invoice_files(tmp_path, 1)
    page.get_by_label("Invoice file").set_input_files(str(invoice))
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name=invoice.name)).to_be_visible()
    wait_for_documents(page, live_portal, integration_id, 1)
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download receipt").click()
    text = pypdf.PdfReader(download.value.path()).pages[0].extract_text()
    (document,) = live_portal.sandbox.documents(integration_id)
    assert document.document_id in text
    assert sha256(invoice) in text
    assert document.external_reference in text
    assert invoice.name in text


def test_the_history_finds_deposits_by_name_reference_and_counterparty(
    page: Page, live_portal: LivePortal, tmp_path: Path
) -> None:
    deposit_page(page)
    files = invoice_files(tmp_path, 2)
    page.get_by_label("Invoice file").set_input_files([str(path) for path in files])
    expect(page.locator("li.draft-ready")).to_have_count(2)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("row", name=re.compile("facture-2.pdf"))).to_be_visible()
    page.get_by_label("Search").fill("facture-2")
    expect(page.get_by_role("row", name=re.compile("facture-1.pdf"))).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile("facture-2.pdf"))).to_be_visible()
    assert "q=facture-2" in page.url
    page.get_by_label("Search").fill("nothing like this")
    expect(page.get_by_text("No deposit matches")).to_be_visible()
