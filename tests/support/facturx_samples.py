"""Factur-X invoices of every profile, made by the tests: a CII XML written here, checked
against the profile's XSD and embedded in a PDF by the factur-x library.

The XML is written element by element in the order the XSDs ask for, so a sample that stops
validating fails loudly here rather than in the reader's tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import facturx
from lxml import etree

from tests.support import invoices

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

GUIDELINES = {
    "minimum": "urn:factur-x.eu:1p0:minimum",
    "basicwl": "urn:factur-x.eu:1p0:basicwl",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "en16931": "urn:cen.eu:en16931:2017",
    "extended": "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
}
PROFILES = tuple(GUIDELINES)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Company:
    name: str
    siren: str
    vat_number: str
    street: str = "12 rue de la République"
    postal_code: str = "69002"
    city: str = "Lyon"
    legal_form: str = "SAS au capital de 10 000 €"


SELLER = Company("Fournil Équipement SAS", "732829320", "FR44732829320")
BUYER = Company(
    "Boulangerie Martin",
    "552081317",
    "FR03552081317",
    street="1 rue du Four",
    postal_code="75006",
    city="Paris",
    legal_form="SARL",
)


@dataclass(frozen=True)
class Sample:
    """What the invoice says, to compare the reader's answer with."""

    profile: str
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    taxes: tuple[tuple[Decimal, Decimal, Decimal], ...]  # (rate, base, tax)
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    credit_note: bool
    seller: Company
    buyer: Company
    tax_in_euros: Decimal | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _tax(base: Decimal, rate: Decimal) -> Decimal:
    return (base * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def sample(
    profile: str = "en16931",
    *,
    bases: dict[str, str] | None = None,
    currency: str = "EUR",
    credit_note: bool = False,
    number: str = "FA-2026-0042",
    issue_date: date = date(2026, 11, 28),
    due_date: date | None = date(2026, 12, 28),
    euro_rate: str | None = None,
    seller: Company = SELLER,
    buyer: Company = BUYER,
) -> Sample:
    """An invoice's facts: `bases` maps VAT rates to net amounts; `euro_rate` (EUR per unit of
    `currency`) states the VAT in euros too, as a foreign-currency invoice must."""
    chosen = {Decimal(rate): Decimal(base) for rate, base in (bases or {"20": "1041.67"}).items()}
    taxes = tuple((rate, base, _tax(base, rate)) for rate, base in chosen.items())
    net = sum((base for _, base, _ in taxes), Decimal("0.00"))
    tax = sum((amount for _, _, amount in taxes), Decimal("0.00"))
    in_euros = (tax * Decimal(euro_rate)).quantize(CENT) if euro_rate else None
    return Sample(
        profile=profile,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        taxes=taxes,
        total_net=net,
        total_tax=tax,
        total_gross=net + tax,
        credit_note=credit_note,
        seller=seller,
        buyer=buyer,
        tax_in_euros=in_euros,
    )


def _element(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    prefix, name = tag.split(":")
    child = etree.SubElement(parent, f"{{{NAMESPACES[prefix]}}}{name}", attributes)
    if text is not None:
        child.text = text
    return child


def _date(parent: etree._Element, tag: str, day: date) -> None:
    _element(_element(parent, tag), "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _party(
    parent: etree._Element, tag: str, company: Company, profile: str, *, seller: bool
) -> None:
    party = _element(parent, tag)
    _element(party, "ram:Name", company.name)
    if seller and profile in ("en16931", "extended"):
        _element(party, "ram:Description", company.legal_form)
    legal = _element(party, "ram:SpecifiedLegalOrganization")
    _element(legal, "ram:ID", company.siren, schemeID="0002")
    if seller or profile != "minimum":
        address = _element(party, "ram:PostalTradeAddress")
        if profile != "minimum":
            _element(address, "ram:PostcodeCode", company.postal_code)
            _element(address, "ram:LineOne", company.street)
            _element(address, "ram:CityName", company.city)
        _element(address, "ram:CountryID", "FR")
    if seller or profile != "minimum":
        registration = _element(party, "ram:SpecifiedTaxRegistration")
        _element(registration, "ram:ID", company.vat_number, schemeID="VA")


def _line_items(transaction: etree._Element, facts: Sample) -> None:
    for number, (rate, base, _) in enumerate(facts.taxes, start=1):
        item = _element(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _element(_element(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
        _element(
            _element(item, "ram:SpecifiedTradeProduct"),
            "ram:Name",
            f"Fourniture au taux de {rate} %",
        )
        agreement = _element(item, "ram:SpecifiedLineTradeAgreement")
        _element(
            _element(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", str(base)
        )
        _element(
            _element(item, "ram:SpecifiedLineTradeDelivery"),
            "ram:BilledQuantity",
            "1",
            unitCode="C62",
        )
        settlement = _element(item, "ram:SpecifiedLineTradeSettlement")
        tax = _element(settlement, "ram:ApplicableTradeTax")
        _element(tax, "ram:TypeCode", "VAT")
        _element(tax, "ram:CategoryCode", "S" if rate else "Z")
        _element(tax, "ram:RateApplicablePercent", str(rate))
        summation = _element(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _element(summation, "ram:LineTotalAmount", str(base))


def cii_xml(facts: Sample) -> bytes:
    """The invoice's CII XML for its profile."""
    profile = facts.profile
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    context = _element(root, "rsm:ExchangedDocumentContext")
    _element(
        _element(context, "ram:GuidelineSpecifiedDocumentContextParameter"),
        "ram:ID",
        GUIDELINES[profile],
    )
    document = _element(root, "rsm:ExchangedDocument")
    _element(document, "ram:ID", facts.number)
    _element(document, "ram:TypeCode", "381" if facts.credit_note else "380")
    _date(document, "ram:IssueDateTime", facts.issue_date)
    transaction = _element(root, "rsm:SupplyChainTradeTransaction")
    if profile in ("basic", "en16931", "extended"):
        _line_items(transaction, facts)
    agreement = _element(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", facts.seller, profile, seller=True)
    _party(agreement, "ram:BuyerTradeParty", facts.buyer, profile, seller=False)
    _element(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _element(transaction, "ram:ApplicableHeaderTradeSettlement")
    if facts.tax_in_euros is not None:
        _element(settlement, "ram:TaxCurrencyCode", "EUR")
    _element(settlement, "ram:InvoiceCurrencyCode", facts.currency)
    if profile != "minimum":
        for rate, base, amount in facts.taxes:
            tax = _element(settlement, "ram:ApplicableTradeTax")
            _element(tax, "ram:CalculatedAmount", str(amount))
            _element(tax, "ram:TypeCode", "VAT")
            _element(tax, "ram:BasisAmount", str(base))
            _element(tax, "ram:CategoryCode", "S" if rate else "Z")
            _element(tax, "ram:RateApplicablePercent", str(rate))
        if facts.due_date:
            terms = _element(settlement, "ram:SpecifiedTradePaymentTerms")
            _date(terms, "ram:DueDateDateTime", facts.due_date)
    totals = _element(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    if profile != "minimum":
        _element(totals, "ram:LineTotalAmount", str(facts.total_net))
    _element(totals, "ram:TaxBasisTotalAmount", str(facts.total_net))
    _element(totals, "ram:TaxTotalAmount", str(facts.total_tax), currencyID=facts.currency)
    if facts.tax_in_euros is not None:
        _element(totals, "ram:TaxTotalAmount", str(facts.tax_in_euros), currencyID="EUR")
    _element(totals, "ram:GrandTotalAmount", str(facts.total_gross))
    _element(totals, "ram:DuePayableAmount", str(facts.total_gross))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    facturx.xml_check_xsd(xml, flavor="factur-x", level=profile)
    return xml


def facturx_pdf(facts: Sample | None = None, *, xml: bytes | None = None) -> bytes:
    """A PDF invoice carrying the sample's XML (or the XML given, unchecked)."""
    facts = facts or sample()
    body = xml if xml is not None else cii_xml(facts)
    visible = invoices.pdf(text=f"Facture {facts.number}")
    return facturx.generate_from_binary(visible, body, check_xsd=xml is None, flavor="factur-x")
