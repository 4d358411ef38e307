"""The Factur-X reader and the booking it proposes, on invoices of every profile made here."""

from __future__ import annotations

import io
import zlib
from decimal import Decimal

import pikepdf
import pytest

from portal.accounting.entries import balance
from portal.reading import booking
from portal.reading.facturx import MAX_XML_BYTES, InvoiceDataError, read_facturx
from portal.reading.result import XML, Reading
from tests.support import facturx_samples as samples
from tests.support import invoices

TWO_RATES = {"20": "1041.67", "5.5": "250.00"}


@pytest.mark.parametrize("profile", samples.PROFILES)
def test_every_profile_is_read_exactly(profile: str) -> None:
    facts = samples.sample(profile, bases=TWO_RATES)
    reading = read_facturx(samples.facturx_pdf(facts))
    assert reading is not None and reading.source == XML
    assert reading.profile == {"basicwl": "BASIC WL", "en16931": "EN 16931"}.get(
        profile, profile.upper()
    )
    assert reading.number == "FA-2026-0042"
    assert reading.issue_date == facts.issue_date
    assert (reading.total_net, reading.total_tax, reading.total_gross) == (
        facts.total_net,
        facts.total_tax,
        facts.total_gross,
    )
    assert reading.seller.name == "Fournil Équipement SAS" and reading.seller.siren == "732829320"
    assert reading.seller.vat_number == "FR44732829320"
    assert reading.buyer.siren == "552081317"
    if profile == "minimum":  # no breakdown, no due date, no address in this profile
        assert reading.taxes == () and reading.due_date is None
    else:
        assert {(tax.rate, tax.base, tax.tax) for tax in reading.taxes} == set(facts.taxes)
        assert reading.due_date == facts.due_date and reading.buyer.city == "Paris"


@pytest.mark.parametrize("profile", samples.PROFILES)
@pytest.mark.parametrize("kind", ["purchase", "sales"])
def test_each_profile_books_balanced_lines(profile: str, kind: str) -> None:
    facts = samples.sample(profile, bases=TWO_RATES)
    lines = booking.invoice_lines(read_facturx(samples.facturx_pdf(facts)), kind)
    totals = balance(lines)
    assert totals.balanced and totals.debit == facts.total_gross
    accounts = [line.account for line in lines]
    if kind == "purchase":
        assert accounts[-1] == "401" and all(line.credit == 0 for line in lines[:-1])
    else:
        assert accounts[0] == "411" and all(line.debit == 0 for line in lines[1:])
    if profile != "minimum":  # one expense (or revenue) and one VAT line per rate
        vat = "44566" if kind == "purchase" else "44571"
        assert sorted(line.debit + line.credit for line in lines if line.account == vat) == sorted(
            tax for _, _, tax in facts.taxes
        )
    counter = next(line for line in lines if line.account in ("401", "411"))
    party = facts.seller if kind == "purchase" else facts.buyer
    assert counter.third_party_siren == party.siren and counter.reference == "FA-2026-0042"


def test_a_credit_note_books_the_lines_the_other_way() -> None:
    facts = samples.sample(credit_note=True)
    reading = read_facturx(samples.facturx_pdf(facts))
    assert reading.credit_note
    lines = booking.invoice_lines(reading, "purchase")
    supplier = next(line for line in lines if line.account == "401")
    assert supplier.debit == facts.total_gross and supplier.credit == 0
    assert balance(lines).balanced


def test_a_foreign_currency_invoice_keeps_its_currency_and_the_rate_it_states() -> None:
    facts = samples.sample(currency="USD", bases={"20": "1000.00"}, euro_rate="0.92")
    reading = read_facturx(samples.facturx_pdf(facts))
    assert reading.currency == "USD" and reading.exchange_rate == Decimal("0.92")
    lines = booking.invoice_lines(reading, "purchase")
    assert {line.currency for line in lines} == {"USD"}
    assert {line.currency_rate for line in lines} == {Decimal("0.92")}
    assert balance(lines).balanced


def test_a_pdf_without_invoice_data_is_not_an_error() -> None:
    assert read_facturx(invoices.pdf()) is None
    assert read_facturx(b"not a pdf at all") is None


def _replace_xml(pdf: bytes, xml: bytes, *, compress: bool = False) -> bytes:
    """The PDF with its factur-x.xml attachment's bytes replaced, as a forger would."""
    document = pikepdf.open(io.BytesIO(pdf))
    stream = document.attachments["factur-x.xml"].obj.EF.F
    if compress:
        stream.write(zlib.compress(xml, 9), filter=pikepdf.Name.FlateDecode)
    else:
        stream.write(xml)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


GOOD = samples.facturx_pdf(samples.sample())
GOOD_XML = samples.cii_xml(samples.sample())


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
            "hostile",
        ),
        (b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>', "hostile"),
        (
            GOOD_XML.replace(
                b"<?xml version='1.0' encoding='UTF-8'?>",
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
            ),
            "hostile",
        ),
        (
            b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'><unclosed>",
            "malformed",
        ),
        (GOOD_XML.replace(b"CrossIndustryInvoice:100", b"CrossIndustryInvoice:999"), "not_cii"),
        (GOOD_XML.replace(b"urn:cen.eu:en16931:2017", b"urn:example:unknown"), "unknown_profile"),
        (
            GOOD_XML.replace(
                b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:TypeCode>380</ram:TypeCode><ram:Bogus/>"
            ),
            "invalid",
        ),
    ],
    ids=[
        "entity-expansion",
        "external-dtd",
        "external-entity",
        "malformed",
        "wrong-namespace",
        "unknown-profile",
        "xsd",
    ],
)
def test_a_hostile_or_broken_xml_is_refused_and_nothing_is_read(xml: bytes, code: str) -> None:
    with pytest.raises(InvoiceDataError) as refused:
        read_facturx(_replace_xml(GOOD, xml))
    assert refused.value.code == code


def test_a_huge_attachment_is_refused_before_and_after_decompression() -> None:
    bomb = b"<x>" + b" " * (MAX_XML_BYTES * 3) + b"</x>"
    with pytest.raises(InvoiceDataError) as refused:
        read_facturx(_replace_xml(GOOD, bomb, compress=True))  # a few kB that inflate to 6 MB
    assert refused.value.code == "too_large"
    with pytest.raises(InvoiceDataError):
        read_facturx(_replace_xml(GOOD, bomb))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"total_gross": None}, "no_total"),
        ({"issue_date": None}, "no_date"),
        ({"total_gross": Decimal("1.00")}, "totals_differ"),
    ],
)
def test_figures_that_do_not_add_up_book_nothing(change: dict[str, object], code: str) -> None:
    reading = read_facturx(GOOD)
    broken = Reading.from_data(
        {**reading.to_data(), **{k: (str(v) if v is not None else None) for k, v in change.items()}}
    )
    with pytest.raises(booking.NotBookable) as refused:
        booking.invoice_lines(broken, "purchase")
    assert refused.value.code == code


def test_a_reading_survives_its_json() -> None:
    reading = read_facturx(samples.facturx_pdf(samples.sample(bases=TWO_RATES)))
    assert Reading.from_data(reading.to_data()) == reading


def _pdf_with(xml: bytes) -> bytes:
    facts = samples.sample()
    return samples.facturx_pdf(facts, xml=xml)


def test_the_siren_is_read_from_a_siret_or_from_the_vat_number() -> None:
    siret = GOOD_XML.replace(
        b'<ram:ID schemeID="0002">732829320</ram:ID>',
        b'<ram:ID schemeID="0009">73282932000074</ram:ID>',
    )
    assert read_facturx(_pdf_with(siret)).seller.siren == "732829320"
    without = GOOD_XML.replace(b'<ram:ID schemeID="0002">732829320</ram:ID>', b"", 1)
    assert read_facturx(_pdf_with(without)).seller.siren == "732829320"  # from FR44732829320
