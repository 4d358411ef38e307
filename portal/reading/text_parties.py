"""The seller and the buyer an invoice's text names: identifiers, name, legal form, address.

Which company a SIREN or VAT number belongs to: the buyer's when it stands in the buyer's
block (after "Client", "Facturé à", "Adresse de facturation", "Bill to"…) or on a line that
names the client ("N° TVA client"); the seller's otherwise. The seller is the default because
the legal mentions (capital, RCS, SIRET, VAT number) an invoice must carry are the issuer's,
and most invoices deposited here are purchase invoices whose buyer is the depositor itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from portal.reading.result import Party
from portal.reading.text_values import CompanyNumber, company_numbers_in, fold, vat_numbers_in

_BUYER_LABEL = re.compile(
    r"^(client|facture a|factures a|adresse de facturation|adresse de livraison|livre a"
    r"|destinataire|acheteur|bill(ed)? to|invoice to|sold to|ship to|customer)\b\s*:?\s*(?P<rest>.*)$"
)
_NOT_A_BLOCK = re.compile(r"^(n\s?°|no\b|numero|code|ref|\d)")
_BUYER_WORDS = re.compile(r"\b(client|acheteur|customer|buyer|destinataire)\b")
_SELLER_WORDS = re.compile(
    r"\b(rcs|r\.c\.s|capital|emetteur|fournisseur|vendeur|seller|supplier)\b"
)
# Where a block of the buyer ends: a table, the totals, the invoice's own labels.
_BLOCK_END = re.compile(
    r"^(designation|description|libelle|article|reference|ref\b|qte|quantite|prestation|total"
    r"|montant|facture|invoice|avoir|date|echeance|n\s?° de facture|conditions|emetteur)"
)
_ID_LABEL = re.compile(
    r"\b(siren|siret|rcs|r\.c\.s|rm|immatricul\w*|registration|registered|company (no|number)"
    r"|identification)\b"
)
_ID_LINE = re.compile(r"\b(siren|siret|tva|vat|t\.v\.a)\b")
_LEGAL_FORM = re.compile(
    r"(?<![\w.])(S\.?A\.?S\.?U|S\.?A\.?R\.?L|S\.?E\.?L\.?A\.?R\.?L|S\.?E\.?L\.?A\.?S|S\.?A\.?S"
    r"|E\.?U\.?R\.?L|E\.?I\.?R\.?L|S\.?C\.?I|S\.?N\.?C|E\.?I|S\.?A)\.?(?!\w)"
)
_SOLE_TRADER = re.compile(r"auto[- ]?entrepreneur|micro[- ]?entrepr|entrepreneur individuel")
# Where a company's name stops on a line of legal mentions.
_NAME_END = re.compile(
    r"\s+(au capital|capital|[-\u2013\u2014·|•]\s|siret|siren|rcs|r\.c\.s|tva|n° tva)"
    r"|,|\s[-\u2013\u2014·|•]$",
    re.IGNORECASE,
)
_NOT_A_NAME = re.compile(
    r"^(facture|avoir|invoice|devis|ticket|date|tel|tél|fax|e-?mail|mail|www|http|page"
    r"|client|total|merci|iban|bic|siret|siren|rcs|tva|vat|adresse)\b|^n\s?°|@|www\.|https?:",
    re.IGNORECASE,
)
_POSTAL_LINE = re.compile(
    r"(?:^|(?P<before>.*?)[\s,]+)(?P<code>(?:0[1-9]|[1-8]\d|9[0-8])\d{3})\s+"
    r"(?P<city>[^\W\d_][^\W\d_'\u2019\- ]*(?:['\u2019\- ]+[^\W\d_]+)*?)"
    r"(?:\s+cedex(?:\s*\d+)?)?(?:\s*[,\-\u2013]?\s*france)?\s*$",
    re.IGNORECASE,
)
_STREET = re.compile(
    r"^\d+\s?(bis|ter)?\b|\b(rue|avenue|av|boulevard|bd|place|chemin|route|impasse|allee|quai"
    r"|cours|square|voie|zone|za|zi|zac|lieu[- ]dit|parc|residence|bp|rond[- ]point|faubourg"
    r"|passage|hameau|esplanade|promenade|villa|cite)\b"
)
# Another block's label inside a line: OCR joins the blocks side by side of a header into one
# line ("Boulangerie Martin SARL FACTURE", "44000 Nantes Date : 21.08.2026").
_OTHER_BLOCK = re.compile(
    r"\s((facture|avoir|invoice|date|echeance|due date|client|bill to|total)\b|n\s?°)"
)
_HEADER_LINES = 12
_BLOCK_LINES = 6


@dataclass(frozen=True)
class _Numbered:
    """A company number read on a line, and whose it seems to be."""

    number: CompanyNumber
    buyer: bool
    legal_mention: bool


def parties_in(lines: list[str]) -> tuple[Party, Party]:
    """(seller, buyer) as the lines name them; fields not found are None."""
    buyer_zone = _buyer_zone(lines)
    numbers = _company_numbers(lines, buyer_zone)
    seller_siren, seller_vat = _identifiers([n for n in numbers if not n.buyer])
    buyer_siren, buyer_vat = _identifiers([n for n in numbers if n.buyer])
    if seller_vat and buyer_siren == seller_vat[4:] and buyer_vat is None:
        buyer_vat, seller_vat = seller_vat, None
    seller_lines = [index for index in range(len(lines)) if index not in buyer_zone]
    seller = _party(
        lines, seller_lines, _seller_name(lines, seller_lines), seller_siren, seller_vat
    )
    buyer_lines = sorted(buyer_zone)
    buyer = _party(lines, buyer_lines[1:], _buyer_name(lines, buyer_lines), buyer_siren, buyer_vat)
    return seller, buyer


def _buyer_zone(lines: list[str]) -> set[int]:
    """Indexes of the lines of the buyer's block: its label line and the few lines after it
    (blank lines skipped: OCR writes them between any two lines set a little apart)."""
    zone: set[int] = set()
    for index, line in enumerate(lines):
        match = _BUYER_LABEL.match(fold(line))
        if match is None or _NOT_A_BLOCK.match(match["rest"]):
            continue
        zone.add(index)
        seen_city = False
        for following in _block_after(lines, index):
            text = fold(lines[following])
            if _BLOCK_END.match(text) or _SELLER_WORDS.search(text):
                break
            if seen_city and not _ID_LINE.search(text):
                break
            zone.add(following)
            seen_city = seen_city or _POSTAL_LINE.search(lines[following]) is not None
    return zone


def _block_after(lines: list[str], index: int, within: set[int] | None = None) -> list[int]:
    """The next _BLOCK_LINES non-blank lines after `index`, stopping at one not `within`."""
    found: list[int] = []
    for following in range(index + 1, len(lines)):
        if len(found) == _BLOCK_LINES or (within is not None and following not in within):
            break
        if lines[following]:
            found.append(following)
    return found


def _company_numbers(lines: list[str], buyer_zone: set[int]) -> list[_Numbered]:
    found = []
    for index, line in enumerate(lines):
        text = fold(line)
        buyer = index in buyer_zone or _BUYER_WORDS.search(text) is not None
        legal = _SELLER_WORDS.search(text) is not None or "siret" in text
        for number in vat_numbers_in(line):
            found.append(_Numbered(number, buyer, legal))
        labels = [match.end() for match in _ID_LABEL.finditer(text)]
        for number in company_numbers_in(line):
            if any(end <= number.start for end in labels):
                found.append(_Numbered(number, buyer, legal))
    return found


def _identifiers(numbers: list[_Numbered]) -> tuple[str | None, str | None]:
    """(SIREN, VAT number) of one party: the SIREN its VAT number holds when there is one,
    else the one the legal mentions give, else the one printed most often."""
    vats = [n.number for n in numbers if n.number.vat_number]
    if vats:
        return vats[0].siren, vats[0].vat_number
    if not numbers:
        return None, None
    counts = Counter(n.number.siren for n in numbers)
    legal = [n.number.siren for n in numbers if n.legal_mention]
    return (legal[0] if legal else counts.most_common(1)[0][0]), None


def _seller_name(lines: list[str], indexes: list[int]) -> int | None:
    """The index of the line naming the seller: the first header line with a legal form, else
    the first line of legal mentions with one, else the first line that reads as a name."""
    header = indexes[:_HEADER_LINES]
    for index in header + indexes[_HEADER_LINES:]:
        if legal_form(lines[index]) and _name(lines[index]):
            return index
    for index in header[:5]:
        if _name(lines[index]):
            return index
    return None


def _buyer_name(lines: list[str], zone: list[int]) -> int | None:
    if not zone:
        return None
    match = _BUYER_LABEL.match(fold(lines[zone[0]]))
    if match and match["rest"] and _name(lines[zone[0]][match.start("rest") :]):
        return zone[0]
    return next((index for index in zone[1:] if _name(lines[index])), None)


def _party(
    lines: list[str], block: list[int], name_at: int | None, siren: str | None, vat: str | None
) -> Party:
    name = None
    if name_at is not None:
        line = lines[name_at]
        match = _BUYER_LABEL.match(fold(line))
        name = _name(line[match.start("rest") :] if match and match["rest"] else line)
    street, postal_code, city = _address(lines, block, name_at)
    return Party(
        name=name,
        siren=siren,
        vat_number=vat,
        legal_form=_legal_form_near(lines, block, name_at),
        street=street,
        postal_code=postal_code,
        city=city,
    )


def _address(
    lines: list[str], block: list[int], name_at: int | None
) -> tuple[str | None, str | None, str | None]:
    """(street, postal code, city) from the first line of the block under the name (or the
    name's own line) that ends with a postal code and a city; the street is the line above."""
    if name_at is None:
        if not block:
            return None, None, None
        name_at = block[0] - 1
        candidates = [name_at + 1, *_block_after(lines, name_at + 1, set(block))]
    else:
        candidates = [name_at, *_block_after(lines, name_at, set(block))]
    for position, index in enumerate(candidates):
        match = _POSTAL_LINE.search(own_part(lines[index]))
        if match is None:
            continue
        street = match["before"]
        if not street and position > 0 and candidates[position - 1] != name_at:
            street = own_part(lines[candidates[position - 1]])
        street = street.strip(" ,-\u2013") if street and _STREET.search(fold(street)) else None
        return street, match["code"], match["city"]
    return None, None, None


def _legal_form_near(lines: list[str], block: list[int], name_at: int | None) -> str | None:
    """The legal form on the name's line, else on the lines around it, else in the legal
    mentions ("SARL au capital de…"), for a name printed without it."""
    if name_at is None:
        return None
    around = [index for index in (name_at - 1, name_at + 1) if index in block]
    mentions = [index for index in block if _SELLER_WORDS.search(fold(lines[index]))]
    for index in [name_at, *around, *mentions]:
        if found := legal_form(lines[index]):
            return found
    return None


def legal_form(text: str) -> str | None:
    """The company's legal form as usually written (`SARL`, `SAS`, `EI`…), if the text has one."""
    if match := _LEGAL_FORM.search(text):
        return match[1].replace(".", "")
    if _SOLE_TRADER.search(fold(text)):
        return "EI" if "individuel" in fold(text) else "auto-entrepreneur"
    return None


def own_part(line: str) -> str:
    """The line up to the label of another block joined to it."""
    match = _OTHER_BLOCK.search(fold(line))
    return line[: match.start()] if match else line


def _name(line: str) -> str | None:
    """The company name a line starts with, or None when it does not read as a name."""
    name = _NAME_END.split(own_part(line), maxsplit=1)[0].strip(" :;-\u2013")
    letters = sum(ch.isalpha() for ch in name)
    if letters < 3 or len(name) > 70 or _NOT_A_NAME.search(name) or name[0].isdigit():
        return None
    if sum(ch.isdigit() for ch in name) * 3 > letters or _POSTAL_LINE.search(name):
        return None
    if _LEGAL_FORM.fullmatch(name) or _SOLE_TRADER.fullmatch(fold(name)):
        return None
    return name
