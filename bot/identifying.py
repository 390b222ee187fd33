"""Spotting details that could identify someone, before words are shared.

People write about real cases. In children's services a name, an address or an
NHS number in a shared text is a data-protection incident, so a preview whose
text looks like it holds one says so before the person confirms. It is a
warning, not a filter: the person may edit or confirm anyway, and names, which
no pattern finds reliably, are left to the request on every writing prompt.

The patterns look for the shapes of things (an e-mail address, a UK phone
number, a UK postcode, a date of birth, a 10-digit CHI or NHS number) and are
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
    POSTCODE = "postcode"
    BIRTH_DATE = "birth_date"
    ID_NUMBER = "id_number"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits that may be written with spaces, hyphens or brackets, not
# touching other digits, a currency sign, a decimal point or a thousands comma.
_NUMBER = re.compile(r"(?<![\d£$€.,:/])(\+?\(?\d[\d \-()]{7,18}\d)(?![\d]|[.,:/]\d)")
# UK postcodes (the Royal Mail's shape): outward code, a space or not, inward code.
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH},? \d{{4}}"
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
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
    for match in _NUMBER.finditer(text):
        kind = _number_kind(match.group(1))
        if kind is not None:
            found.add(kind)
    if _POSTCODE.search(text):
        found.add(Detail.POSTCODE)
    if _BIRTH.search(text):
        found.add(Detail.BIRTH_DATE)
    return [detail for detail in Detail if detail in found]


def _number_kind(written: str) -> Detail | None:
    """A phone number (+44, or a leading 0 and 10 or 11 digits), a CHI number (a
    date of birth then four digits) or an NHS number (10 digits), or neither."""
    digits = re.sub(r"\D", "", written)
    if written.startswith("+"):
        return Detail.PHONE if digits.startswith("44") and len(digits) in (11, 12) else None
    if len(digits) == 10 and _is_chi(digits):
        return Detail.ID_NUMBER
    if digits.startswith("0") and len(digits) in (10, 11):
        return Detail.PHONE
    if len(digits) == 10:
        return Detail.ID_NUMBER
    return None


def _is_chi(digits: str) -> bool:
    """Whether 10 digits begin as a CHI number does, with a real day and month."""
    day, month = int(digits[:2]), int(digits[2:4])
    return 1 <= day <= 31 and 1 <= month <= 12
