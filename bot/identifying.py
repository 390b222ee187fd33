"""Spotting details that could identify someone, before words are shared.

People write about real cases. In children's services a name, an address or an
NHS number in a shared text is a data-protection incident, so a preview whose
text looks like it holds one says so before the person confirms. It is a
warning, not a filter: the person may edit or confirm anyway, and names, which
no pattern finds reliably, are left to the request on every writing prompt.

The patterns look for the shapes of things (an e-mail address, a UK phone
number, a house number and street, a UK postcode, a date of birth, a 10-digit
CHI or NHS number) and are
written to let pass what workshop texts are full of: years, times, sums of
money, counts and the dates of meetings. Plain functions, no I/O.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Detail(StrEnum):
    """A kind of identifying detail, in the order a warning names them."""

    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    POSTCODE = "postcode"
    BIRTH_DATE = "birth_date"
    ID_NUMBER = "id_number"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A UK phone number: +44 or 0044 (perhaps with a "(0)" after it), or a leading 0;
# digits in the groups people write them in, not touching other digits, a
# currency sign, a decimal point or a thousands comma.
_PHONE = re.compile(
    r"(?<![\d£$€.,:/])(?:(?:\+|00)44\s?(?:\(0\)\s?)?|\(?0)\d[\d ()\-]{7,13}\d(?![\d]|[.,:/]\d)"
)
# A 10-digit CHI or NHS number: in one run, as 3-3-4 (NHS) or as 6-4 (CHI).
_TEN = re.compile(
    r"(?<![\d£$€.,:/\-])(?:\d{10}|\d{3}[ -]\d{3}[ -]\d{4}|\d{6}[ -]\d{4})(?![\d]|[.,:/]\d)"
)
# UK postcodes (the Royal Mail's shape): outward code, a space or not, inward code.
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)
# "P7 2nd term", "S3 1st year": school years and floors, not postcodes.
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)$")
# A house number and a street: "14 Rowan Close", "3a Mill Lane".
_STREET = re.compile(
    r"\b\d{1,4}[a-z]?,? (?:[A-Z][a-z'’]+ ){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Close|"
    r"Drive|Way|Crescent|Court|Place|Gardens|Terrace|Grove|Square|Row|Walk|Mews|View|Park)\b"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH},? \d{{4}}"
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
# A date is a date of birth only where the text says so: the dates of
# meetings and reviews are what workshop texts are full of.
_BIRTH = re.compile(
    rf"\b(?:d\.?o\.?b\.?|date of birth|born(?: on)?|birthday)\W{{0,3}}(?:is |was |on )?{_DATE}",
    re.IGNORECASE,
)


def identifying_details(text: str) -> list[Detail]:
    """The kinds of identifying detail ``text`` seems to hold, in ``Detail`` order."""
    found: set[Detail] = set()
    if _EMAIL.search(text):
        found.add(Detail.EMAIL)
    if any(_is_phone(m.group(0)) for m in _PHONE.finditer(text)):
        found.add(Detail.PHONE)
    if _TEN.search(text):
        found.add(Detail.ID_NUMBER)
    if _STREET.search(text):
        found.add(Detail.ADDRESS)
    if any(not _ORDINAL.search(m.group(0)) for m in _POSTCODE.finditer(text)):
        found.add(Detail.POSTCODE)
    if _BIRTH.search(text):
        found.add(Detail.BIRTH_DATE)
    return [detail for detail in Detail if detail in found]


def _is_phone(written: str) -> bool:
    """Whether a number as written is a UK phone number: 10 or 11 digits from the
    leading 0 (a CHI number, a date and four digits, is not one), or the same
    after +44 or 0044 (and a "(0)")."""
    digits = re.sub(r"\D", "", written)
    if written.startswith(("+", "00")):
        national = digits[4:] if digits.startswith("0044") else digits[2:]
        national = national[1:] if national.startswith("0") else national
        return len(national) in (9, 10)
    if len(digits) == 10 and _is_chi(digits):
        return False
    return len(digits) in (10, 11)


def _is_chi(digits: str) -> bool:
    """Whether 10 digits begin as a CHI number does, with a real day and month."""
    day, month = int(digits[:2]), int(digits[2:4])
    return 1 <= day <= 31 and 1 <= month <= 12
