"""French invoices drawn on the fly as text PDFs, with the facts they state, and photos of them.

Each layout takes a seed (the values vary with it) and returns (pdf_bytes, expected), where
`expected` holds the true facts under flat keys ("number", "seller.siren", "total_net"…), the
same keys `facts_of` gives a Reading. An amount the reader must not propose is None.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdfium2
from fpdf import FPDF
from PIL import Image, ImageFilter

from portal.accounting.amounts import CENT
from portal.accounting.identifiers import luhn_valid
from portal.accounting.vat import vat_amount
from portal.reading.result import Reading, TaxLine

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "fonts"
_SANS = "DejaVuSans"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DASH = "\u2013"  # the en dash invoices set between legal mentions
APOSTROPHE = "\u2019"
TIMES = "\u00d7"
_NAMES = (
    "Menuiserie Dubois",
    "Boulangerie Martin",
    "Garage des Lilas",
    "Atelier Lefèvre",
    "Imprimerie du Centre",
    "Transports Girard",
    "Jardins de Provence",
    "Électricité Roussel",
    "Plomberie Bernard",
    "Librairie des Quais",
    "Traiteur Lambert",
    "Studio Perrin",
)
_FORMS = ("SARL", "SAS", "SASU", "EURL", "SA")
_STREETS = (
    "12 rue de la Paix",
    "4 bis avenue Jean Jaurès",
    "27 boulevard Voltaire",
    "3 place de l'Église",
    "118 route de Lyon",
    "9 impasse des Tilleuls",
    "56 quai des Chartrons",
)
_CITIES = (
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("33000", "Bordeaux"),
    ("44000", "Nantes"),
    ("31000", "Toulouse"),
    ("59800", "Lille"),
    ("67000", "Strasbourg"),
    ("35000", "Rennes"),
    ("21000", "Dijon"),
)
_ITEMS = (
    "Pose de parquet chêne",
    "Plinthes MDF",
    "Déplacement",
    "Main-d'œuvre",
    "Vernis mat",
    "Étude et devis",
    "Fournitures diverses",
    "Location de matériel",
    "Maintenance annuelle",
)
_FOOD = ("Pain de campagne", "Confiture abricot", "Huile d'olive", "Café moulu", "Chocolat noir")
# The ways French invoices word their labels.
_ISSUE_LABELS = ("Date", "Date de facture", f"Date d{APOSTROPHE}émission", "Facture du")
_NET_LABELS = ("Total HT", "Montant HT", "Sous-total HT", "Total H.T.")
_GROSS_LABELS = ("Total TTC", "Montant TTC", "Total T.T.C.")
_DUE_LABELS = ("Net à payer", "Reste à payer", "Montant à payer")
# How the thousands of an amount are grouped: narrow no-break, no-break, plain space, dot, none.
_GROUPINGS = ("\u202f", "\u00a0", " ", ".", "")


@dataclass(frozen=True)
class Company:
    name: str
    legal_form: str
    street: str
    postal_code: str
    city: str
    siren: str
    nic: str

    @property
    def siret(self) -> str:
        return self.siren + self.nic

    @property
    def vat_number(self) -> str:
        return vat_number(self.siren)


def siren(rng: random.Random) -> str:
    """A random SIREN whose ninth digit is its Luhn check digit."""
    body = str(rng.randrange(10**7, 10**8))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def wrong_check_digit(number: str) -> str:
    """The same SIREN (or SIRET) with its last digit changed, so its Luhn check fails."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def vat_number(siren_: str) -> str:
    return f"FR{(12 + 3 * (int(siren_) % 97)) % 97:02d}{siren_}"


def grouped(siren_: str) -> str:
    return f"{siren_[:3]} {siren_[3:6]} {siren_[6:9]}"


def company(rng: random.Random, other: Company | None = None) -> Company:
    """A company with a valid SIREN and SIRET, named otherwise than `other`."""
    number = siren(rng)
    nic = next(
        nic
        for nic in (f"{rng.randrange(1, 999):03d}{d:02d}" for d in range(100))
        if luhn_valid(number + nic)
    )
    postal_code, city = rng.choice(_CITIES)
    name = rng.choice([name for name in _NAMES if other is None or name != other.name])
    return Company(name, rng.choice(_FORMS), rng.choice(_STREETS), postal_code, city, number, nic)


def money(value: Decimal, rng: random.Random, *, euro: bool = True) -> str:
    """`value` printed the French way, grouped and marked one of the ways invoices do."""
    whole, cents = f"{abs(value):.2f}".split(".")
    grouping = rng.choice(_GROUPINGS)
    digits = f"{int(whole):,}".replace(",", grouping)
    sign = "-" if value < 0 else ""
    mark = rng.choice((" €", "\u00a0€", " EUR", "€")) if euro else ""
    return f"{sign}{digits},{cents}{mark}"


def english_money(value: Decimal) -> str:
    return f"€{value:,.2f}"


def percent(rate: Decimal) -> str:
    return f"{rate.normalize():f}".replace(".", ",")


def french_date(day: date, rng: random.Random) -> str:
    return rng.choice(
        (
            f"{day:%d/%m/%Y}",
            f"{day:%d.%m.%Y}",
            f"{day.day} {MONTHS[day.month - 1]} {day.year}",
            f"{day:%d-%m-%Y}",
        )
    )


def invoice_number(rng: random.Random, prefix: str = "FA") -> str:
    n = rng.randrange(1, 9999)
    year = rng.choice((2025, 2026))
    return rng.choice(
        (
            f"{prefix}-{year}-{n:04d}",
            f"{year}-{n:03d}",
            f"{prefix}{year}{n:05d}",
            f"{prefix}{n:04d}",
        )
    )


@dataclass
class Lines:
    """Invoice lines and their totals at one or several VAT rates."""

    rows: list[tuple[str, int, Decimal, Decimal, Decimal]]  # label, qty, unit, amount, rate
    taxes: tuple[TaxLine, ...]

    @property
    def net(self) -> Decimal:
        return sum((row[3] for row in self.rows), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.taxes), Decimal("0.00"))


def lines(rng: random.Random, rates: tuple[Decimal, ...], labels: tuple[str, ...]) -> Lines:
    rows = []
    for rate in rates:
        for label in rng.sample(labels, rng.randint(1, 3)):
            quantity = rng.randint(1, 12)
            unit = Decimal(rng.randrange(150, 90000)) / 100
            rows.append((label, quantity, unit, (unit * quantity).quantize(CENT), rate))
    taxes = []
    for rate in rates:
        base = sum((row[3] for row in rows if row[4] == rate), Decimal("0.00"))
        taxes.append(TaxLine(rate, base, vat_amount(base, rate)))
    return Lines(rows, tuple(taxes))


class Sheet(FPDF):
    """An A4 page (or a till roll) with DejaVu fonts and one call per piece of text."""

    def __init__(self, format_: str | tuple[float, float] = "A4") -> None:
        super().__init__(unit="mm", format=format_)
        self.set_auto_page_break(auto=False)
        self.add_font(_SANS, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(_SANS, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.add_page()

    def put(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 10,
        bold: bool = False,
        width: float = 0,
        align: str = "L",
    ) -> None:
        self.set_font(_SANS, "B" if bold else "", size)
        self.set_xy(x, y)
        self.cell(width or self.get_string_width(text) + 1, size * 0.5, text, align=align)

    def small_print(self, y: float, text: str) -> None:
        """A line of the small print centred at the foot of an A4 page."""
        self.put(15, y, text, size=8, width=180, align="C")

    def finish(self) -> bytes:
        try:
            return bytes(self.output())
        finally:
            for font in self.fonts.values():  # fontTools keeps the files open otherwise
                if close := getattr(font, "close", None):
                    close()


def _seller_header(sheet: Sheet, seller: Company, x: float = 15) -> str:
    name = f"{seller.name} {seller.legal_form}"
    sheet.put(x, 15, name, size=14, bold=True)
    sheet.put(x, 23, seller.street)
    sheet.put(x, 29, f"{seller.postal_code} {seller.city}")
    sheet.put(x, 35, "Tél. 01 43 55 12 34")
    return name


def _buyer_block(sheet: Sheet, buyer: Company, label: str, y: float, siren_: bool) -> None:
    sheet.put(115, y, label, bold=True)
    sheet.put(115, y + 6, f"{buyer.name} {buyer.legal_form}")
    sheet.put(115, y + 12, buyer.street)
    sheet.put(115, y + 18, f"{buyer.postal_code} {buyer.city}")
    if siren_:
        sheet.put(115, y + 24, f"SIREN : {grouped(buyer.siren)}")


def _items_table(sheet: Sheet, lines_: Lines, rng: random.Random, y: float) -> float:
    heads = (
        ("Désignation", 15, 85, "L"),
        ("Qté", 100, 15, "R"),
        ("Prix unitaire HT", 115, 35, "R"),
    )
    for text, x, width, align in (*heads, ("Montant HT", 150, 45, "R")):
        sheet.put(x, y, text, bold=True, width=width, align=align)
    for label, quantity, unit, amount, _rate in lines_.rows:
        y += 7
        sheet.put(15, y, label, width=85)
        sheet.put(100, y, str(quantity), width=15, align="R")
        sheet.put(115, y, money(unit, rng, euro=False), width=35, align="R")
        sheet.put(150, y, money(amount, rng), width=45, align="R")
    return y + 14


def _totals(sheet: Sheet, rows: list[tuple[str, str]], y: float) -> float:
    for label, value in rows:
        sheet.put(120, y, label, bold=label.startswith(("Net", "Total TTC")), width=40)
        sheet.put(160, y, value, width=35, align="R")
        y += 7
    return y


def _footer(sheet: Sheet, seller: Company, capital: int) -> None:
    name = f"{seller.name} {seller.legal_form}"
    sheet.small_print(
        272, f"{name} au capital de {capital} € {DASH} RCS {seller.city} {grouped(seller.siren)}"
    )
    siret = f"{grouped(seller.siren)} {seller.nic}"
    vat = seller.vat_number
    sheet.small_print(
        277, f"SIRET {siret} {DASH} TVA intracommunautaire : {vat[:2]} {vat[2:4]} {vat[4:]}"
    )


_CONDITIONS = (
    "Paiement par virement à 30 jours. Pénalités de retard : 3 fois le taux d'intérêt légal.",
    "Indemnité forfaitaire pour frais de recouvrement : 40,00 €. Pas d'escompte.",
    f"IBAN FR76 3000 6000 0112 3456 7890 189 {DASH} BIC AGRIFRPP",
)


def _classic(seed: int, *, off_by: Decimal = Decimal(0)) -> tuple[bytes, dict[str, Any]]:
    rng = random.Random(seed)
    seller = company(rng)
    buyer = company(rng, seller)
    number = invoice_number(rng)
    issued = date(2026, 1, 5) + timedelta(days=rng.randrange(330))
    due = issued + timedelta(days=30)
    rate = rng.choice((Decimal("20"), Decimal("10")))
    lines_ = lines(rng, (rate,), _ITEMS)
    net, tax = lines_.net, lines_.tax
    gross = net + tax + off_by
    buyer_siren = rng.random() < 0.6
    sheet = Sheet()
    name = _seller_header(sheet, seller)
    sheet.put(130, 15, "FACTURE", size=18, bold=True)
    sheet.put(130, 25, rng.choice(("Facture n° ", "Facture N° : ", "N° de facture : ")) + number)
    sheet.put(130, 31, f"{rng.choice(_ISSUE_LABELS)} : {french_date(issued, rng)}")
    sheet.put(
        130,
        37,
        f"{rng.choice(('Échéance', f'Date d{APOSTROPHE}échéance'))} : {french_date(due, rng)}",
    )
    _buyer_block(
        sheet,
        buyer,
        rng.choice(("Facturé à :", "Client :", "Adresse de facturation")),
        55,
        buyer_siren,
    )
    y = _items_table(sheet, lines_, rng, 95)
    _totals(
        sheet,
        [
            (rng.choice(_NET_LABELS), money(net, rng)),
            (rng.choice((f"TVA {percent(rate)} %", f"TVA ({percent(rate)}%)")), money(tax, rng)),
            (rng.choice(_GROSS_LABELS), money(gross, rng)),
            (rng.choice(_DUE_LABELS), money(gross, rng)),
        ],
        y,
    )
    for n, text in enumerate(_CONDITIONS):
        sheet.put(15, 235 + 5 * n, text, size=8)
    _footer(sheet, seller, rng.choice((1000, 8000, 50000)))
    expected = _facts(
        number,
        issued,
        due,
        seller,
        name,
        lines_,
        buyer=buyer,
        amount_due=True,
        buyer_siren=buyer_siren,
        amounts=not off_by,
    )
    return sheet.finish(), expected


def classic_invoice(seed: int = 0) -> tuple[bytes, dict[str, Any]]:
    """Seller block top left, title and dates top right, buyer block, items, totals box, and
    the legal mentions (capital, RCS, SIRET, VAT number) in the footer."""
    return _classic(seed)


def inconsistent_invoice(seed: int = 0) -> tuple[bytes, dict[str, Any]]:
    """The classic layout whose Total TTC is not Total HT + TVA: no amount may be proposed."""
    return _classic(seed, off_by=Decimal("10.00"))


def ticket_invoice(seed: int = 0) -> tuple[bytes, dict[str, Any]]:
    """A till receipt worded as a simplified invoice: one narrow column, no buyer, no due date."""
    rng = random.Random(seed)
    seller = company(rng)
    number = invoice_number(rng, prefix="T")
    issued = date(2026, 1, 5) + timedelta(days=rng.randrange(330))
    rate = rng.choice((Decimal("10"), Decimal("20"), Decimal("5.5")))
    lines_ = lines(rng, (rate,), _FOOD)
    net, tax = lines_.net, lines_.tax
    sheet = Sheet((80, 200))
    name = f"{seller.name} {seller.legal_form}"
    sheet.set_margins(4, 4, 4)
    center = {"width": 72, "align": "C"}
    sheet.put(4, 6, name, size=10, bold=True, **center)
    sheet.put(4, 12, seller.street, size=8, **center)
    sheet.put(4, 16, f"{seller.postal_code} {seller.city}", size=8, **center)
    sheet.put(4, 20, f"SIRET {seller.siret}", size=8, **center)
    sheet.put(4, 24, f"N° TVA {seller.vat_number}", size=8, **center)
    sheet.put(4, 32, f"Facture {number}", size=9, bold=True, **center)
    sheet.put(4, 37, f"le {issued:%d.%m.%Y} à 14:32", size=8, **center)
    y = 45.0
    for label, quantity, _unit, amount, _rate in lines_.rows:
        sheet.put(4, y, f"{quantity} x {label}", size=8)
        sheet.put(46, y, money(amount, rng, euro=False), size=8, width=30, align="R")
        y += 5
    y += 3
    for label, value in (
        ("Total HT", net),
        (f"TVA {percent(rate)}%", tax),
        ("Total TTC", net + tax),
    ):
        sheet.put(4, y, label, size=9, bold=label == "Total TTC")
        sheet.put(46, y, money(value, rng), size=9, width=30, align="R")
        y += 5
    sheet.put(4, y + 3, f"CB {money(net + tax, rng, euro=False)}", size=8)
    sheet.put(4, y + 10, "Merci de votre visite", size=8, **center)
    expected = _facts(number, issued, None, seller, name, lines_)
    return sheet.finish(), expected


def multi_rate_invoice(seed: int = 0) -> tuple[bytes, dict[str, Any]]:
    """Two rates (5,5 % and 20 %) with a VAT table, dates in words, the seller on the right and
    the buyer's own VAT number in its block."""
    rng = random.Random(seed)
    seller = company(rng)
    buyer = company(rng, seller)
    number = invoice_number(rng)
    issued = date(2026, 1, 5) + timedelta(days=rng.randrange(330))
    due = issued + timedelta(days=rng.choice((15, 30, 45)))
    lines_ = lines(rng, (Decimal("5.5"), Decimal("20")), _FOOD + _ITEMS[:3])
    net, tax = lines_.net, lines_.tax
    sheet = Sheet()
    name = f"{seller.legal_form} {seller.name}"
    sheet.put(115, 15, name, size=13, bold=True)
    sheet.put(115, 22, seller.street)
    sheet.put(115, 28, f"{seller.postal_code} {seller.city}")
    sheet.put(15, 15, f"N° de facture : {number}", size=12, bold=True)
    sheet.put(15, 23, f"Émise le {issued.day} {MONTHS[issued.month - 1]} {issued.year}")
    sheet.put(15, 29, f"À payer avant le {due.day} {MONTHS[due.month - 1]} {due.year}")
    sheet.put(15, 45, "Client :", bold=True)
    sheet.put(15, 51, f"{buyer.name} {buyer.legal_form}")
    sheet.put(15, 57, buyer.street)
    sheet.put(15, 63, f"{buyer.postal_code} {buyer.city}")
    sheet.put(15, 69, f"N° TVA client : {buyer.vat_number}")
    y = _items_table(sheet, lines_, rng, 85)
    for text, x in (("Taux", 100), ("Base HT", 130), ("Montant TVA", 165)):
        sheet.put(x, y, text, bold=True, width=30, align="R")
    for line in lines_.taxes:
        y += 6
        sheet.put(100, y, f"TVA {percent(line.rate)} %", width=30, align="R")
        sheet.put(130, y, money(line.base, rng), width=30, align="R")
        sheet.put(165, y, money(line.tax, rng), width=30, align="R")
    _totals(
        sheet,
        [
            ("Total HT", money(net, rng)),
            ("Total TVA", money(tax, rng)),
            ("Total TTC", money(net + tax, rng)),
        ],
        y + 12,
    )
    sheet.small_print(
        272,
        f"{name} au capital de 50 000 € · RCS {seller.city} {grouped(seller.siren)}"
        f" · SIRET {seller.siret}",
    )
    sheet.small_print(277, f"TVA : {seller.vat_number}")
    expected = _facts(
        number, issued, due, seller, name, lines_, buyer=buyer, buyer_siren=True, buyer_vat=True
    )
    return sheet.finish(), expected


def credit_note(seed: int = 0) -> tuple[bytes, dict[str, Any]]:
    """An "Avoir" with negative amounts, naming the invoice it cancels (a number not to take)."""
    rng = random.Random(seed)
    seller = company(rng)
    buyer = company(rng, seller)
    number = invoice_number(rng, prefix="AV")
    issued = date(2026, 1, 5) + timedelta(days=rng.randrange(330))
    lines_ = lines(rng, (Decimal("20"),), _ITEMS)
    net, tax = lines_.net, lines_.tax
    sheet = Sheet()
    name = _seller_header(sheet, seller)
    sheet.put(130, 15, "AVOIR", size=18, bold=True)
    sheet.put(130, 25, f"Avoir n° {number}")
    sheet.put(130, 31, f"Date : {french_date(issued, rng)}")
    cancelled = issued - timedelta(days=rng.randrange(5, 40))
    cancels = f"FA-2026-{rng.randrange(1, 999):04d} du {cancelled:%d/%m/%Y}"
    sheet.put(15, 45, f"Avoir sur la facture n° {cancels}")
    _buyer_block(sheet, buyer, "Client :", 55, False)
    y = _items_table(sheet, lines_, rng, 95)
    _totals(
        sheet,
        [
            ("Total HT", money(-net, rng)),
            ("TVA 20 %", money(-tax, rng)),
            ("Total TTC", money(-(net + tax), rng)),
        ],
        y,
    )
    _footer(sheet, seller, 20000)
    expected = _facts(number, issued, None, seller, name, lines_, buyer=buyer, credit_note=True)
    return sheet.finish(), expected


def english_invoice(seed: int = 0) -> tuple[bytes, dict[str, Any]]:
    """A French company invoicing in English: "Invoice number", "Subtotal", "VAT 20%", "Total"."""
    rng = random.Random(seed)
    seller = company(rng)
    buyer = company(rng, seller)
    number = f"INV-{rng.randrange(10, 9999)}"
    issued = date(2026, 1, 5) + timedelta(days=rng.randrange(330))
    due = issued + timedelta(days=30)
    lines_ = lines(rng, (Decimal("20"),), _ITEMS)
    net, tax = lines_.net, lines_.tax
    sheet = Sheet()
    name = _seller_header(sheet, seller)
    sheet.put(130, 15, "INVOICE", size=18, bold=True)
    sheet.put(130, 25, f"Invoice number: {number}")
    sheet.put(
        130, 31, f"Invoice date: {ENGLISH_MONTHS[issued.month - 1]} {issued.day}, {issued.year}"
    )
    sheet.put(130, 37, f"Due date: {due:%Y-%m-%d}")
    _buyer_block(sheet, buyer, "Bill to:", 55, False)
    y = 95.0
    for label, quantity, _unit, amount, _rate in lines_.rows:
        sheet.put(15, y, f"{label} {TIMES} {quantity}", width=120)
        sheet.put(150, y, english_money(amount), width=45, align="R")
        y += 7
    _totals(
        sheet,
        [
            ("Subtotal", english_money(net)),
            ("VAT 20%", english_money(tax)),
            ("Total", english_money(net + tax)),
            ("Amount due", english_money(net + tax)),
        ],
        y + 10,
    )
    sheet.small_print(
        272,
        f"{name} {DASH} Registered in {seller.city}, SIREN {grouped(seller.siren)}"
        f" {DASH} VAT number {seller.vat_number}",
    )
    expected = _facts(number, issued, due, seller, name, lines_, buyer=buyer, amount_due=True)
    return sheet.finish(), expected


def _facts(
    number: str,
    issued: date,
    due: date | None,
    seller: Company,
    seller_name: str,
    lines_: Lines,
    *,
    buyer: Company | None = None,
    buyer_siren: bool = False,
    buyer_vat: bool = False,
    credit_note: bool = False,
    amount_due: bool = False,
    amounts: bool = True,
) -> dict[str, Any]:
    """A layout's `expected`: what it prints, the buyer's identifiers only if it prints them,
    and no amount at all when they do not add up (`amounts=False`)."""
    gross = lines_.net + lines_.tax
    return {
        "number": number,
        "issue_date": issued,
        "due_date": due,
        "credit_note": credit_note,
        "seller.siren": seller.siren,
        "seller.vat_number": seller.vat_number,
        "seller.name": seller_name,
        "seller.legal_form": seller.legal_form,
        "seller.street": seller.street,
        "seller.postal_code": seller.postal_code,
        "seller.city": seller.city,
        "buyer.siren": buyer.siren if buyer and buyer_siren else None,
        "buyer.vat_number": buyer.vat_number if buyer and buyer_vat else None,
        "buyer.name": f"{buyer.name} {buyer.legal_form}" if buyer else None,
        "total_net": lines_.net if amounts else None,
        "total_tax": lines_.tax if amounts else None,
        "total_gross": gross if amounts else None,
        "amount_due": gross if amounts and amount_due else None,
        "taxes": lines_.taxes if amounts else (),
    }


LAYOUTS: tuple[Callable[[int], tuple[bytes, dict[str, Any]]], ...] = (
    classic_invoice,
    ticket_invoice,
    multi_rate_invoice,
    credit_note,
    inconsistent_invoice,
    english_invoice,
)


def facts_of(reading: Reading | None) -> dict[str, Any]:
    """A Reading under the flat keys of the corpus's `expected` (None gives all None)."""
    reading = reading or Reading(source="none")
    facts: dict[str, Any] = {
        name: getattr(reading, name)
        for name in (
            "number",
            "issue_date",
            "due_date",
            "credit_note",
            "total_net",
            "total_tax",
            "total_gross",
            "amount_due",
            "taxes",
        )
    }
    for role in ("seller", "buyer"):
        party = getattr(reading, role)
        for name in ("siren", "vat_number", "name", "legal_form", "street", "postal_code", "city"):
            facts[f"{role}.{name}"] = getattr(party, name)
    return facts


def photo_of(
    pdf_bytes: bytes,
    *,
    rotate: int = 0,
    dpi: int = 150,
    jpeg_quality: int = 75,
    skew_degrees: float = 0,
) -> bytes:
    """A phone photo of the first page: paper a little grey on a dark table, slightly blurred
    and skewed, turned by `rotate` degrees clockwise, as JPEG."""
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        bitmap = page.render(scale=dpi / 72)
        image = bitmap.to_pil().convert("RGB")
        bitmap.close()
        page.close()
    finally:
        document.close()
    paper = Image.new("RGB", image.size, (236, 232, 224))
    image = Image.blend(image, paper, 0.12).filter(ImageFilter.GaussianBlur(0.6))
    margin = image.width // 20
    table = Image.new("RGB", (image.width + 2 * margin, image.height + 2 * margin), (70, 62, 55))
    table.paste(image, (margin, margin))
    if skew_degrees:
        table = table.rotate(
            skew_degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(70, 62, 55)
        )
    turns = {
        0: None,
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if turns[rotate] is not None:
        table = table.transpose(turns[rotate])
    buffer = io.BytesIO()
    table.save(buffer, format="JPEG", quality=jpeg_quality)
    return buffer.getvalue()
