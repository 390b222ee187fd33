"""Issue 23 end to end: a swap between a team that works in Welsh, in Patagonia
(America/Argentina/Buenos_Aires, three hours behind London), and a team in Fife that
works in English. Each person reads the bot in their own language and zone; the
dilemmas cross as written; reminders keep each zone's quiet hours.

Time is the test's (``FakeClock``); the timetable's jobs run when the test ticks.
"""

from __future__ import annotations

import pytest

from tests.support.bot import rows, utc
from tests.support.swapflow import advance, create_swap, join, write_and_confirm

PATAGONIA = "America/Argentina/Buenos_Aires"
GAIMAN_DILEMMA = (
    "Mae'r ysgol a'r gwasanaethau cymdeithasol yn cyfarfod ar wahân, felly nid oes neb "
    "yn gweld y teulu cyfan. Pwy ddylai ddal y darlun llawn?"
)
FIFE_DILEMMA = (
    "Our steering groups each own a piece of early help, so anything integrated is "
    "always owned by somebody, and that excludes somebody else."
)


pytestmark = pytest.mark.timed


async def join_in_welsh(user, token: str) -> None:
    await user.send(f"/start {token}")
    sheet = await user.expect(lambda m: "Rwy'n cytuno" in " ".join(m.button_labels()))
    assert "gwybodaeth i gyfranogwyr" in sheet.text
    await user.press("Rwy'n cytuno")
    await user.expect_edit(sheet, lambda m: "rydych wedi ymuno" in m.text)


async def confirm_in_welsh(user, text: str, command: str | None = None):
    if command:
        await user.send(command)
        await user.expect(lambda m: not m.buttons and m.text)
    await user.send(text)
    preview = await user.expect(lambda m: "Cadarnhau" in " ".join(m.button_labels()))
    assert "Rhagolwg" in preview.text
    await user.expect_answer(await user.press("Cadarnhau"))
    return await user.expect_edit(preview, lambda m: "Wedi'i gadarnhau" in m.text)


def reminders(user) -> list:
    return [m for m in user.texts if "reminder" in m.text or "Nodyn atgoffa" in m.text]


async def test_a_welsh_team_in_patagonia_and_an_english_team_in_fife(
    bot, standin, organiser, clock
):
    tokens = await create_swap(organiser, "Y Wladfa a Fife", ["Gaiman", "Fife"])
    await organiser.send(f"/teams zone Gaiman {PATAGONIA}")
    await organiser.expect(f"team Gaiman now works in {PATAGONIA}")
    await organiser.send("/teams zone Gaiman Mars/Olympus")
    await organiser.expect("I don't know the time zone Mars/Olympus")
    await organiser.send("/teams")
    await organiser.expect(lambda m: PATAGONIA in m.text and "Europe/London" in m.text)
    people = {
        ("Gaiman", "lead"): standin.user(first_name="Gwenllian", language_code="cy"),
        ("Gaiman", "member"): standin.user(first_name="Dafydd", language_code="cy"),
        ("Fife", "lead"): standin.user(first_name="Fiona"),
        ("Fife", "member"): standin.user(first_name="Fraser", language_code="en"),
    }
    for (team, role), user in people.items():
        if team == "Gaiman":
            await join_in_welsh(user, tokens[team][role])
        else:
            await join(user, tokens[team][role])
    welsh = [people["Gaiman", "lead"], people["Gaiman", "member"]]
    english = [people["Fife", "lead"], people["Fife", "member"]]

    # The dilemma deadline, given in the swap's zone (London), is one instant:
    # each team reads it in its own time and language, the zone named.
    await organiser.send("/schedule dilemma 2027-02-03 17:00")
    await organiser.expect("Timetable")
    await advance(organiser)
    for user in welsh:
        opening = await user.expect("Mae gweithdy 1 wedi dechrau")
        assert f"14:00 ({PATAGONIA})" in opening.text and "Mer 03 Chwef 2027" in opening.text
    for user in english:
        opening = await user.expect("Workshop 1 has begun")
        assert "Wed 03 Feb 2027, 17:00 (Europe/London)" in opening.text

    await confirm_in_welsh(people["Gaiman", "lead"], GAIMAN_DILEMMA, "/dilemma")
    await write_and_confirm(people["Fife", "lead"], FIFE_DILEMMA, "/dilemma")
    await advance(organiser)
    # The dilemmas cross as written: Welsh words in an English frame, and the other way.
    for user in english:
        got = await user.expect(lambda m: "Team Gaiman asks you to work on this dilemma" in m.text)
        assert GAIMAN_DILEMMA in got.text
    for user in welsh:
        got = await user.expect(lambda m: "Mae tîm Fife yn gofyn i chi weithio" in m.text)
        assert FIFE_DILEMMA in got.text

    # Reminders two hours before a 12:00 (London) deadline: 10:00 in Fife, but
    # 07:00 in Patagonia, inside its quiet hours (21:00-08:00), so there at 08:00.
    await organiser.send("/settings reminders 2h")
    await organiser.expect("Done")
    await organiser.send("/schedule response 2027-02-05 12:00")
    await organiser.expect("Timetable")
    clock.set(utc("2027-02-05T10:00"))
    await bot.services.scheduling.tick()
    reminded = await people["Fife", "member"].expect("A reminder")
    assert "Fri 05 Feb 2027, 12:00 (Europe/London)" in reminded.text
    assert all(reminders(user) == [] for user in welsh)
    clock.set(utc("2027-02-05T10:59"))
    await bot.services.scheduling.tick()
    assert all(reminders(user) == [] for user in welsh)
    clock.set(utc("2027-02-05T11:00"))
    await bot.services.scheduling.tick()
    reminded = await people["Gaiman", "member"].expect("Nodyn atgoffa")
    assert f"Gwen 05 Chwef 2027, 09:00 ({PATAGONIA})" in reminded.text
    await people["Gaiman", "lead"].expect("Nodyn atgoffa")
    assert len(reminders(people["Fife", "member"])) == 1

    # The record: each contribution with its author's language, words untranslated.
    assert sorted(
        tuple(r)
        for r in await rows(
            bot,
            "SELECT t.name, c.language FROM contributions c JOIN teams t ON t.id = c.team_id"
            " WHERE c.status = 'confirmed'",
        )
    ) == [("Fife", "en"), ("Gaiman", "cy")]
    async with bot.db.read() as tx:
        swap = await tx.swaps.get(1)
        report = await bot.services.export.report(tx, swap)
        records = bot.services.export.records(await bot.services.export.gather(tx, swap.id))
    assert "written in Welsh" in report and "written in English" in report
    assert GAIMAN_DILEMMA.split(",")[0] in report
    assert {r["team"]: r["language"] for r in records} == {"Gaiman": "cy", "Fife": "en"}
