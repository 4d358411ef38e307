"""The Factur-X (ZUGFeRD 2) XML a PDF carries, read exactly and safely.

The attachment is taken out with pikepdf, bounded in size before and after decompression, and
parsed with no DTD, no entity and no network; the factur-x library then names its profile and
validates it against that profile's XSD. Only a valid XML is read: an invalid one is reported
(InvoiceDataError) and nothing is taken from it. A PDF without such an attachment is not an
error: `read_facturx` answers None and the PDF's text is read instead.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import facturx
import pikepdf
from lxml import etree

from portal.reading.result import XML, Party, Reading, TaxLine

log = logging.getLogger(__name__)

# The names the standards give the attachment (Factur-X, ZUGFeRD 2.x, XRechnung in CII).
XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
MAX_XML_BYTES = 2_000_000
MAX_ATTACHMENTS = 50
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS = {
    "rsm": CII,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
PROFILE_NAMES = {
    "minimum": "MINIMUM",
    "basicwl": "BASIC WL",
    "basic": "BASIC",
    "en16931": "EN 16931",
    "extended": "EXTENDED",
}
# UNTDID 1001 codes of documents that credit rather than charge.
CREDIT_NOTE_CODES = {"381", "261", "262", "296", "308", "396", "420", "458", "532"}
_LEGAL_FORM = re.compile(
    r"\b(SASU|SAS|SARL|EURL|SA|SCI|SNC|SCOP|SELARL|SELAS|EIRL|EI)\b", re.IGNORECASE
)
_DATE_FORMATS = {"102": "%Y%m%d", "610": "%Y%m", "616": "%Y%W"}


class InvoiceDataError(ValueError):
    """The PDF carries an invoice XML that cannot be trusted; `code` names why:
    too_large, hostile (a DTD or entities), malformed, not_cii, unknown_profile, invalid."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def read_facturx(content: bytes) -> Reading | None:
    """The invoice's facts from its Factur-X XML; None when the PDF carries none."""
    xml = embedded_xml(content)
    if xml is None:
        return None
    root = _parse(xml)
    profile = _profile(root)
    try:
        facturx.xml_check_xsd(root, flavor="factur-x", level=profile)
    except Exception as error:  # the library raises bare Exceptions with the XSD's message
        raise InvoiceDataError("invalid", _first_line(str(error))) from error
    return _reading(root, profile)


def embedded_xml(content: bytes) -> bytes | None:
    """The bytes of the invoice XML attached to the PDF, if it has one."""
    try:
        with pikepdf.open(io.BytesIO(content)) as pdf:
            for count, (name, spec) in enumerate(pdf.attachments.items()):
                if count >= MAX_ATTACHMENTS:
                    break
                if name.lower() in XML_NAMES:
                    return _bounded_bytes(spec.obj)
    except pikepdf.PdfError as error:
        log.info("no invoice XML read: the PDF cannot be opened (%s)", error)
    return None


def _bounded_bytes(filespec: pikepdf.Object) -> bytes:
    """The attached file's bytes, refusing more than MAX_XML_BYTES whatever its compression
    (a small deflated stream can expand a thousandfold)."""
    stream = filespec.EF.get("/UF") or filespec.EF.F
    raw = stream.read_raw_bytes()
    filters = stream.get("/Filter")
    names = (
        [str(item) for item in filters]
        if isinstance(filters, pikepdf.Array)
        else [str(filters)]
        if filters
        else []
    )
    if len(raw) > MAX_XML_BYTES:
        raise InvoiceDataError("too_large")
    if not names:
        return raw
    if names != ["/FlateDecode"] or stream.get("/DecodeParms") is not None:
        raise InvoiceDataError("malformed", f"unsupported filters {names}")
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(raw, MAX_XML_BYTES + 1)
    except zlib.error as error:
        raise InvoiceDataError("malformed", str(error)) from error
    if len(data) > MAX_XML_BYTES or inflater.unconsumed_tail:
        raise InvoiceDataError("too_large")
    return data


def _parse(xml: bytes) -> etree._Element:
    head = xml[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in xml.lower():
        raise InvoiceDataError("hostile")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise InvoiceDataError("malformed", _first_line(str(error))) from error
    if root.getroottree().docinfo.internalDTD is not None:
        raise InvoiceDataError("hostile")
    if root.tag != f"{{{CII}}}CrossIndustryInvoice":
        raise InvoiceDataError("not_cii", str(root.tag)[:200])
    return root


def _profile(root: etree._Element) -> str:
    try:
        level = facturx.get_level(root, flavor="factur-x")
    except Exception as error:
        raise InvoiceDataError("unknown_profile", _first_line(str(error))) from error
    if level not in PROFILE_NAMES:
        raise InvoiceDataError("unknown_profile", level)
    return str(level)


def _reading(root: etree._Element, profile: str) -> Reading:
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    totals = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    currency = _text(root, f"{settlement}/ram:InvoiceCurrencyCode") or "EUR"
    tax_total = _amount(root, f"{totals}/ram:TaxTotalAmount[@currencyID='{currency}']") or _amount(
        root, f"{totals}/ram:TaxTotalAmount[not(@currencyID)]"
    )
    tax_in_euros = _amount(root, f"{totals}/ram:TaxTotalAmount[@currencyID='EUR']")
    return Reading(
        source=XML,
        profile=PROFILE_NAMES[profile],
        number=_text(root, "rsm:ExchangedDocument/ram:ID"),
        issue_date=_date(root, "rsm:ExchangedDocument/ram:IssueDateTime"),
        due_date=_date(root, f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime"),
        currency=currency,
        exchange_rate=_euro_rate(currency, tax_total, tax_in_euros),
        credit_note=_text(root, "rsm:ExchangedDocument/ram:TypeCode") in CREDIT_NOTE_CODES,
        seller=_party(root, "ram:SellerTradeParty"),
        buyer=_party(root, "ram:BuyerTradeParty"),
        taxes=tuple(_taxes(root, settlement)),
        total_net=_amount(root, f"{totals}/ram:TaxBasisTotalAmount"),
        total_tax=tax_total,
        total_gross=_amount(root, f"{totals}/ram:GrandTotalAmount"),
        amount_due=_amount(root, f"{totals}/ram:DuePayableAmount"),
    )


def _euro_rate(currency: str, tax: Decimal | None, in_euros: Decimal | None) -> Decimal | None:
    """EUR per unit of the invoice's currency, from its VAT stated in both (BT-110, BT-111):
    the only exchange rate a CII invoice carries."""
    if currency == "EUR":
        return Decimal("1")
    if tax and in_euros:
        return (in_euros / tax).quantize(Decimal("0.000001"))
    return None


def _party(root: etree._Element, tag: str) -> Party:
    base = f"rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/{tag}"
    address = f"{base}/ram:PostalTradeAddress"
    vat_number = _text(root, f"{base}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']")
    description = _text(root, f"{base}/ram:Description") or ""
    form = _LEGAL_FORM.search(description)
    street = " ".join(
        filter(None, (_text(root, f"{address}/ram:Line{n}") for n in ("One", "Two", "Three")))
    )
    return Party(
        name=_text(root, f"{base}/ram:Name"),
        siren=_siren(root, base, vat_number),
        vat_number=vat_number,
        legal_form=form.group(1).upper() if form else None,
        street=street or None,
        postal_code=_text(root, f"{address}/ram:PostcodeCode"),
        city=_text(root, f"{address}/ram:CityName"),
        country=_text(root, f"{address}/ram:CountryID"),
    )


def _siren(root: etree._Element, base: str, vat_number: str | None) -> str | None:
    """The party's SIREN: its legal registration as SIREN (ICD 0002) or SIRET (0009, whose first
    nine digits are the SIREN), else one written without a scheme, else the one a French VAT
    number carries."""
    legal = f"{base}/ram:SpecifiedLegalOrganization/ram:ID"
    for path in (
        f"{legal}[@schemeID='0002']",
        f"{legal}[@schemeID='0009']",
        f"{legal}[not(@schemeID)]",
    ):
        found = (_text(root, path) or "").replace(" ", "")
        if len(found) in (9, 14) and found.isdigit():
            return found[:9]
    if vat_number and re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", vat_number.replace(" ", "")):
        return vat_number.replace(" ", "")[-9:]
    return None


def _taxes(root: etree._Element, settlement: str) -> list[TaxLine]:
    found = []
    for node in root.xpath(f"{settlement}/ram:ApplicableTradeTax", namespaces=NS):
        rate = _amount(node, "ram:RateApplicablePercent")
        base = _amount(node, "ram:BasisAmount")
        tax = _amount(node, "ram:CalculatedAmount")
        if base is not None and tax is not None:
            found.append(TaxLine(rate=rate or Decimal("0"), base=base, tax=tax))
    return found


def _text(node: etree._Element, path: str) -> str | None:
    found = node.xpath(f"{path}/text()", namespaces=NS)
    value = str(found[0]).strip() if found else ""
    return value[:500] or None


def _amount(node: etree._Element, path: str) -> Decimal | None:
    text = _text(node, path)
    if text is None:
        return None
    try:
        return Decimal(text).normalize() if "E" in text.upper() else Decimal(text)
    except InvalidOperation:
        return None


def _date(node: etree._Element, path: str) -> date | None:
    found = node.xpath(f"{path}/udt:DateTimeString", namespaces=NS)
    if not found or not found[0].text:
        return None
    pattern = _DATE_FORMATS.get(found[0].get("format", "102"), "%Y%m%d")
    try:
        return datetime.strptime(found[0].text.strip(), pattern).date()
    except ValueError:
        return None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0][:300] if message.strip() else ""
