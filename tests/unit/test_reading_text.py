"""Reading an invoice from its text: the PDF's own text, identifiers with their check digits,
numbers, dates, totals kept only when they add up, and the seller told from the buyer."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from fpdf import FPDF

from portal.reading.result import OCR, TEXT, Reading, TaxLine
from portal.reading.text import PdfTextError, has_text, pdf_text, read_text
from tests.support import invoice_corpus

SELLER = "552100554"  # valid SIRENs (Luhn); their VAT keys are 96 and 44
BUYER = "732829320"
SELLER_SIRET = "55210055400013"
HEADER = "Menuiserie Dubois SARL\n12 rue de la Paix\n75011 Paris\nFacture n° FA-2026-0042\n"


def read(text: str) -> Reading:
    reading = read_text(text, TEXT)
    assert reading is not None
    return reading


def amounts(reading: Reading) -> tuple[Decimal | None, ...]:
    return (reading.total_net, reading.total_tax, reading.total_gross, reading.amount_due)


@pytest.mark.parametrize("layout", invoice_corpus.LAYOUTS, ids=lambda layout: layout.__name__)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corpus_invoices_are_read_whole(layout, seed):
    content, expected = layout(seed)
    facts = invoice_corpus.facts_of(read_text(pdf_text(content), TEXT))
    assert {key: facts[key] for key in expected} == expected


@pytest.mark.parametrize("layout", invoice_corpus.LAYOUTS, ids=lambda layout: layout.__name__)
def test_reading_round_trips_through_its_data(layout):
    reading = read(pdf_text(layout(3)[0]))
    data = json.loads(json.dumps(reading.to_data()))
    assert Reading.from_data(data) == reading


def test_pdf_text_reads_only_the_first_pages():
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for number in range(1, 4):
        pdf.add_page()
        pdf.cell(text=f"Page {number} of the invoice")
    text = pdf_text(bytes(pdf.output()), max_pages=2)
    assert "Page 1" in text and "Page 2" in text and "Page 3" not in text


def test_pdf_text_refuses_what_is_not_a_pdf():
    with pytest.raises(PdfTextError):
        pdf_text(b"%PDF-1.7 nothing else")


def test_a_scan_has_no_text_worth_reading():
    assert not has_text(" \n 3 \n")
    assert has_text(pdf_text(invoice_corpus.classic_invoice()[0]))


@pytest.mark.parametrize("text", ["", "Bonjour,\nMerci pour votre visite.", "Page 1/2"])
def test_nothing_useful_reads_as_none(text):
    assert read_text(text, OCR) is None


@pytest.mark.parametrize(
    "line",
    [
        f"SIREN : {SELLER[:3]} {SELLER[3:6]} {SELLER[6:]}",
        f"SIREN {SELLER}",
        f"SIRET : {SELLER[:3]} {SELLER[3:6]} {SELLER[6:]} {SELLER_SIRET[9:]}",
        f"SIRET {SELLER_SIRET}",
        f"RCS Paris {SELLER[:3]} {SELLER[3:6]} {SELLER[6:]}",
        f"RCS Paris B {SELLER}",
        f"N° TVA intracommunautaire : FR 96 {SELLER}",
        f"TVA FR96{SELLER}",
    ],
)
def test_siren_is_read_however_written(line):
    assert read(HEADER + line).seller.siren == SELLER


@pytest.mark.parametrize(
    "line",
    [
        f"SIREN : {invoice_corpus.wrong_check_digit(SELLER)}",
        f"SIRET : {invoice_corpus.wrong_check_digit(SELLER_SIRET)}",
        f"TVA intracommunautaire : FR 97 {SELLER}",  # wrong key
        f"Commande {SELLER}",  # no label says it is a company number
    ],
)
def test_a_number_whose_check_fails_is_not_proposed(line):
    seller = read(HEADER + line).seller
    assert seller.siren is None and seller.vat_number is None


def test_vat_number_is_given_with_its_siren():
    seller = read(HEADER + f"TVA intracommunautaire : FR 96 {SELLER[:3]} {SELLER[3:]}").seller
    assert (seller.siren, seller.vat_number) == (SELLER, f"FR96{SELLER}")


def test_buyer_block_identifiers_are_the_buyers():
    reading = read(
        HEADER + "Facturé à :\nDupont SAS\n4 avenue Foch\n69003 Lyon\n"
        f"SIREN : {BUYER}\nDésignation Montant\n"
        f"Menuiserie Dubois SARL au capital de 8 000 € - SIRET {SELLER_SIRET}"
    )
    assert (reading.seller.siren, reading.buyer.siren) == (SELLER, BUYER)
    assert reading.buyer.name == "Dupont SAS"
    assert (reading.buyer.postal_code, reading.buyer.city) == ("69003", "Lyon")


def test_a_vat_number_named_the_clients_is_the_buyers():
    reading = read(HEADER + f"N° TVA client : FR44{BUYER}\nSIRET {SELLER_SIRET}")
    assert reading.buyer.vat_number == f"FR44{BUYER}"
    assert reading.seller.siren == SELLER and reading.seller.vat_number is None


def test_an_unplaced_siren_is_the_sellers():
    reading = read(f"Facture n° 12\nSIREN {BUYER}")
    assert (reading.seller.siren, reading.buyer.siren) == (BUYER, None)


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("Facture n° FA-2026-0042", "FA-2026-0042"),
        ("Facture N° : FA-2026-0042", "FA-2026-0042"),
        ("N° de facture : 2026-118", "2026-118"),
        ("Numéro de facture 2026/118", "2026/118"),
        ("Invoice number: INV-77", "INV-77"),
        ("Invoice no. INV-77", "INV-77"),
        ("Facture FA0042", "FA0042"),
        ("Facture simplifiée n° T-1183", "T-1183"),
        ("Avoir n° AV-2026-007", "AV-2026-007"),
        ("FACTURE\nN° 2026-118", "2026-118"),
    ],
)
def test_invoice_number(line, number):
    assert read(line + "\nDate : 28/11/2026").number == number


def test_number_of_the_invoice_a_credit_note_cancels_is_not_taken():
    reading = read("AVOIR\nAvoir sur la facture n° FA-2026-0042 du 02/11/2026\nDate : 28/11/2026")
    assert reading.number is None and reading.credit_note
    assert reading.issue_date == date(2026, 11, 28)


def test_date_alone_is_not_a_number():
    assert read("Facture du 28/11/2026").number is None


@pytest.mark.parametrize(
    ("text", "issue", "due"),
    [
        ("Date : 28/11/2026", date(2026, 11, 28), None),
        ("Date de facture : 28.11.2026", date(2026, 11, 28), None),
        ("Émise le 28 novembre 2026", date(2026, 11, 28), None),
        ("EMISE LE 1er décembre 2026", date(2026, 12, 1), None),
        ("Fait à Paris, le 28.11.2026", date(2026, 11, 28), None),
        ("Facture n° 12 du 28/11/26", date(2026, 11, 28), None),
        ("Invoice date: November 28, 2026", date(2026, 11, 28), None),
        ("Échéance : 28/12/2026", None, date(2026, 12, 28)),
        ("Date d\u2019échéance : 28-12-2026", None, date(2026, 12, 28)),
        ("À payer avant le 28 déc. 2026", None, date(2026, 12, 28)),
        ("Due date: 2026-12-28", None, date(2026, 12, 28)),
        ("Date : 28/11/2026 Échéance : 28/12/2026", date(2026, 11, 28), date(2026, 12, 28)),
        (
            "Date de facture Date d'échéance\n28/11/2026 28/12/2026",
            date(2026, 11, 28),
            date(2026, 12, 28),
        ),
        ("Date de facture\n\n28/11/2026", date(2026, 11, 28), None),
        ("Date de livraison : 20/11/2026", None, None),
        ("Date : 31/02/2026", None, None),
    ],
)
def test_dates(text, issue, due):
    reading = read_text("Facture n° 12\n" + text, TEXT)
    assert (reading.issue_date, reading.due_date) == (issue, due)


TOTALS = "Total HT 1 000,00 €\nTVA 20 % 200,00 €\nTotal TTC 1 200,00 €\nNet à payer 1 200,00 €"


def test_labelled_totals_that_add_up_are_proposed():
    reading = read(HEADER + TOTALS)
    assert amounts(reading) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
        Decimal("1200.00"),
    )
    assert reading.taxes == (TaxLine(Decimal("20"), Decimal("1000.00"), Decimal("200.00")),)
    assert reading.currency == "EUR"


@pytest.mark.parametrize(
    "written",
    [
        "1 234,56 €",
        "1\u00a0234,56\u00a0€",
        "1\u202f234,56 €",
        "1.234,56",
        "1234,56 EUR",
        "€1,234.56",
    ],
)
def test_amounts_however_grouped(written):
    assert read(f"{HEADER}Total TTC {written}").total_gross == Decimal("1234.56")


@pytest.mark.parametrize(
    "totals",
    [
        "Total HT 1 000,00 €\nTVA 20 % 200,00 €\nTotal TTC 1 210,00 €",  # HT + TVA ≠ TTC
        "Total HT 1 000,00 €\nTVA 20 % 1 000,00 € 150,00 €\nTotal TTC 1 150,00 €",  # ≠ base * 20 %
        "Total HT 1 000,00\nTVA 20 % 200,00\nTotal TVA 210,00\nTotal TTC 1 210,00",  # lines ≠ total
        "Total HT 1 000,00\nTotal TTC 1 200,00\nNet à payer 1 300,00",  # due above TTC
        "Total HT 1 000,00\nTotal HT 1 100,00",  # one label, two amounts
        "Total HT 300,00\nTVA 5,5 % 5,50\nTVA 20 % 40,00\nTotal TTC 345,50",  # bases unknown
    ],
)
def test_totals_that_do_not_add_up_propose_no_amount(totals):
    reading = read(HEADER + totals)
    assert amounts(reading) == (None, None, None, None) and reading.taxes == ()
    assert reading.number == "FA-2026-0042"


def test_amount_due_is_total_ttc_unless_part_is_paid():
    unpaid = read(HEADER + TOTALS.replace("Net à payer 1 200,00", "Net à payer 900,00"))
    assert amounts(unpaid) == (None, None, None, None)
    paid = read(
        HEADER
        + TOTALS.replace("Net à payer 1 200,00", "Acompte versé 300,00 €\nReste à payer 900,00")
    )
    assert amounts(paid) == (Decimal("1000.00"), Decimal("200.00"), Decimal("1200.00"),
                             Decimal("900.00"))  # fmt: skip


def test_a_lone_amount_is_proposed_from_a_pdf_but_not_from_ocr():
    """OCR misreads digits: from a photo, only amounts a check ties to another are proposed."""
    assert read_text(f"{HEADER}Total TTC 1 200,00 €", TEXT).total_gross == Decimal("1200.00")
    assert read_text(f"{HEADER}Total TTC 1 200,00 €", OCR).total_gross is None


def test_ocr_keeps_the_amounts_that_check_and_leaves_the_others():
    reading = read_text(
        f"{HEADER}Total HT 1 000,00 €\nTVA 20 % 200,00 €\nTotal TTC 1 2OO,OO €", OCR
    )
    assert amounts(reading) == (Decimal("1000.00"), Decimal("200.00"), None, None)


def test_two_rates_with_their_bases():
    reading = read(
        HEADER + "TVA 5,5 % 200,00 11,00\nTVA (20%) 100,00 20,00\n"
        "Total HT 300,00\nTotal TVA 31,00\nTotal TTC 331,00"
    )
    assert reading.taxes == (
        TaxLine(Decimal("5.5"), Decimal("200.00"), Decimal("11.00")),
        TaxLine(Decimal("20"), Decimal("100.00"), Decimal("20.00")),
    )
    assert amounts(reading) == (Decimal("300.00"), Decimal("31.00"), Decimal("331.00"), None)


def test_vat_table_rows_start_with_their_rate():
    reading = read(
        HEADER + "Taux Base HT Montant TVA\n5,50 % 200,00 11,00\n20,00 % 100,00 20,00\n"
        "Total HT 300,00\nTotal TTC 331,00"
    )
    assert [line.rate for line in reading.taxes] == [Decimal("5.5"), Decimal("20")]
    assert reading.total_tax == Decimal("31.00")


def test_totals_read_as_two_columns_are_paired_when_they_add_up():
    reading = read(HEADER + "Total HT\nTVA 20 %\nTotal TTC\n\n1 000,00 €\n200,00 €\n1 200,00 €")
    assert amounts(reading) == (Decimal("1000.00"), Decimal("200.00"), Decimal("1200.00"), None)


@pytest.mark.parametrize(
    "columns",
    [
        "Total HT\nTVA 20 %\nTotal TTC\n\n1 000,00 €\n200,00 €\n1 300,00 €",
        "Total HT\nTotal TTC\n\n1 000,00 €\n1 200,00 €",  # nothing to check them against
        "Montant HT\n1 000,00 €",  # a column head, maybe the items'
    ],
)
def test_columns_that_cannot_be_checked_give_no_amount(columns):
    assert amounts(read(HEADER + columns)) == (None, None, None, None)


def test_credit_note_amounts_are_given_positive():
    reading = read(
        "AVOIR\nAvoir n° AV-7\nTotal HT -100,00 €\nTVA 20 % -20,00 €\nTotal TTC -120,00 €"
    )
    assert reading.credit_note
    assert amounts(reading) == (Decimal("100.00"), Decimal("20.00"), Decimal("120.00"), None)
    assert reading.taxes == (TaxLine(Decimal("20"), Decimal("100.00"), Decimal("20.00")),)


def test_vat_exempt_sole_trader():
    reading = read(
        "Jean Martin EI\nFacture n° 7\nTotal 500,00 €\nTVA non applicable, art. 293 B du CGI"
    )
    assert (reading.total_gross, reading.total_tax, reading.taxes) == (
        Decimal("500.00"),
        Decimal("0.00"),
        (),
    )
    assert reading.seller.legal_form == "EI"


def test_total_alone_is_total_ttc_unless_it_is_the_items_sum():
    items_sum = read(HEADER + "Total 1 000,00\nTotal HT 1 000,00\nTVA 20 % 200,00")
    assert amounts(items_sum) == (Decimal("1000.00"), Decimal("200.00"), None, None)
    english = read(HEADER + "Subtotal 1,000.00\nVAT 20% 200.00\nTotal 1,200.00")
    assert english.total_gross == Decimal("1200.00")


def test_dates_and_rates_are_not_amounts():
    reading = read(f"{HEADER}Net à payer avant le 28.12.2026 : 1 200,00 €\nTVA 5,50 %")
    assert reading.amount_due == Decimal("1200.00") and reading.total_tax is None


def test_english_layout():
    reading = read(
        "INVOICE\nInvoice number: INV-77\nSubtotal €1,000.00\nVAT 20% €200.00\n"
        "Total €1,200.00\nAmount due €1,200.00"
    )
    assert amounts(reading) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
        Decimal("1200.00"),
    )


def test_seller_name_legal_form_and_address_from_the_header():
    seller = read(HEADER + f"SIRET {SELLER_SIRET}").seller
    assert (seller.name, seller.legal_form) == ("Menuiserie Dubois SARL", "SARL")
    assert (seller.street, seller.postal_code, seller.city) == (
        "12 rue de la Paix",
        "75011",
        "Paris",
    )


def test_seller_name_from_the_legal_mentions_when_the_header_has_none():
    reading = read(
        "FACTURE\nFacture n° 12\nDate : 28/11/2026\n"
        f"Atelier Roux S.A.S. au capital de 1 000 € - RCS Lyon {SELLER}"
    )
    assert (reading.seller.name, reading.seller.legal_form) == ("Atelier Roux S.A.S.", "SAS")


def test_header_blocks_joined_side_by_side_by_ocr():
    reading = read(
        "Boulangerie Martin EURL FACTURE\n56 quai des Chartrons Facture N° : FA-9\n"
        "44000 Nantes Date : 21.08.2026"
    )
    seller = reading.seller
    assert (seller.name, seller.street, seller.postal_code, seller.city) == (
        "Boulangerie Martin EURL",
        "56 quai des Chartrons",
        "44000",
        "Nantes",
    )
    assert (reading.number, reading.issue_date) == ("FA-9", date(2026, 8, 21))


@pytest.mark.parametrize(
    ("line", "form"),
    [
        ("Dupont S.A.R.L.", "SARL"),
        ("Dupont SASU", "SASU"),
        ("SCI Les Tilleuls", "SCI"),
        ("Marie Durand, auto-entrepreneur", "auto-entrepreneur"),
        ("Dupont SA", "SA"),
    ],
)
def test_legal_forms(line, form):
    assert read(f"{line}\nFacture n° 12").seller.legal_form == form
