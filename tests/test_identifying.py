"""What a preview warns of: details that could identify a child, a family, a
colleague or a place (``bot.identifying``), and what it must let pass."""

from __future__ import annotations

import pytest

from bot.identifying import Detail, identifying_details

FLAGGED = [
    ("Email his social worker at j.smith@northshire.gov.uk about it.", Detail.EMAIL),
    ("Mum's mobile is 07700 900123 if anyone needs it.", Detail.PHONE),
    ("The school office, 0161 496 0000, never answers.", Detail.PHONE),
    ("Call +44 7700 900 123 after four.", Detail.PHONE),
    ("Call (020) 7946 0018 for the duty team.", Detail.PHONE),
    ("Dad's number is +44 (0)20 7946 0018.", Detail.PHONE),
    ("Ring +44 (0) 7700 900123 in the evening.", Detail.PHONE),
    ("Her aunt, on 0044 7700 900123, has the children at weekends.", Detail.PHONE),
    ("They moved to 14 Rowan Close last spring.", Detail.ADDRESS),
    ("The foster carers at 3a Mill Lane are struggling.", Detail.ADDRESS),
    ("They moved to 14 Rowan Close, LS6 2QT, in the spring.", Detail.POSTCODE),
    ("The family lives near EH1 1YZ.", Detail.POSTCODE),
    ("the flat at g12 8qq", Detail.POSTCODE),
    ("Child A, DOB 03/04/2015, was excluded twice.", Detail.BIRTH_DATE),
    ("born on 3 April 2015 in the maternity unit", Detail.BIRTH_DATE),
    ("His date of birth: 12.11.2014.", Detail.BIRTH_DATE),
    ("She was born March 3rd, 2016.", Detail.BIRTH_DATE),
    ("Child B, born 2015-04-03, is in P5.", Detail.BIRTH_DATE),
    ("NHS number 943 476 5919 is on the referral.", Detail.ID_NUMBER),
    ("CHI 0304151234 came up twice.", Detail.ID_NUMBER),
    ("Reference 9434765919 was on the form.", Detail.ID_NUMBER),
]

PASSED = [
    "We met on 12/03/2025 and again on 3 April 2025.",
    "The review is on Tuesday 4 March 2025 at 14:30.",
    "Since 2019, and again in 2023 and 2024, budgets fell.",
    "It costs £12,000 a year, or £1,250,000 across the county.",
    "We see 120 families a month across 14 schools and 3 GP practices.",
    "Between 09:00 and 17:30 the hub is staffed by 6 workers.",
    "Section 47 enquiries rose by 15% (from 340 to 391).",
    "The M6 junction, Year 7 transitions and COVID-19 all matter here.",
    "A caseload of 25 is 5 more than the 20 we agreed in 2022.",
    "Our budget line 2024-2025 is 1.5 million.",
    "Version 2.10.3 of the form, page 12 of 40.",
    "Most moves happen in P7 2nd term or S3 1st year; Y6 2nd half is calmer.",
    "In Y7 1st term the A1 2nd review takes place on the M1 3rd floor, L1 2nd floor too.",
    "We counted cases 1234 5678 90 in the audit sample.",
    "Budget 1 000 000 000 is the national figure, not ours.",
    "Our office on the 3rd floor has 14 desks and a Way In board.",
    "We met at 10:15 on 2025-04-03 to review the plan.",
]


@pytest.mark.parametrize(("text", "detail"), FLAGGED)
def test_real_looking_details_are_flagged(text: str, detail: Detail):
    assert detail in identifying_details(text)


@pytest.mark.parametrize("text", PASSED)
def test_what_workshop_texts_are_full_of_passes(text: str):
    assert identifying_details(text) == []


def test_several_details_come_in_one_order():
    text = "DOB 01/02/2013; mum on 07700 900123, j@x.org, at 2 Elm Road, LS6 2QT."
    assert identifying_details(text) == [
        Detail.EMAIL,
        Detail.PHONE,
        Detail.ADDRESS,
        Detail.POSTCODE,
        Detail.BIRTH_DATE,
    ]
