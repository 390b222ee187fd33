"""Issue 21: ready for an ethics committee and a council's information governance.

A swap's own information sheet (``/sheet``), the built-in sheet's unfilled
fields, retention (purged at its time, warned before), the withdrawal cut-off,
and the data map. Time is under the test's control where it matters: the bot
runs with a ``FakeClock`` and the test runs the timetable (``Scheduling.tick``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.bot import ORGANISER_ID, RunningBot, rows, run_cli
from tests.support.purged import assert_purged
from tests.support.swapflow import DILEMMAS, advance, create_swap, join, set_up, write_and_confirm

SHEET = """# Learning across borders: information for participants

This study is run by the University of Northshire (data controller). Contact: Dr A. Researcher,
a.researcher@northshire.example. Ethics approval: NREC 2027/014.

Your words are kept for 18 months after the last workshop, then deleted.

Press **I agree** to take part, or **Decline** if you would rather not.
"""


pytestmark = pytest.mark.timed


async def tick(bot: RunningBot) -> None:
    await bot.services.scheduling.tick()


async def send_sheet(organiser, text: str | None = None, *, document: bytes | None = None):
    """``/sheet``, then the sheet as a message or a file; return the preview."""
    await organiser.send("/sheet")
    await organiser.expect("send it now")
    if document is not None:
        await organiser.send_document("sheet.md", document, "text/markdown")
    else:
        assert text is not None
        await organiser.send(text)
    return await organiser.expect(lambda m: "Confirm sheet" in m.button_labels())


async def close(organiser, bot: RunningBot) -> None:
    """Move the current swap on, forced, until it is closed."""
    for _ in range(8):
        [(phase,)] = await rows(
            bot, "SELECT phase FROM swaps WHERE id = (SELECT MAX(id) FROM swaps)"
        )
        if phase == "closed":
            return
        await advance(organiser, force=True)
    raise AssertionError("the swap did not close")


# -- the swap's own sheet --------------------------------------------------------


async def test_two_swaps_on_one_bot_each_joiner_agrees_to_their_swaps_sheet(
    bot, standin, organiser
):
    north = await create_swap(organiser, "Borders study", ["North", "South"])
    await send_sheet(organiser, SHEET)
    await organiser.expect_answer(await organiser.press("Confirm sheet"))
    await organiser.expect("has its own information sheet, version swap1-v1")
    east = await create_swap(organiser, "Valleys study", ["East", "West"])
    valleys = SHEET.replace("Learning across borders", "Valleys together").replace(
        "NREC 2027/014", "VREC 88"
    )
    preview = await send_sheet(organiser, document=valleys.encode())
    assert "Valleys together" in preview.text and "VREC 88" in preview.text
    assert standin.downloads, "the sheet was read through getFile and a download"
    await organiser.expect_answer(await organiser.press("Confirm sheet"))
    await organiser.expect("version swap2-v1")

    nina, erik = standin.user(first_name="Nina"), standin.user(first_name="Erik")
    await nina.send(f"/start {north['North']['member']}")
    sheet = await nina.expect(lambda m: "I agree" in " ".join(m.button_labels()))
    assert "NREC 2027/014" in sheet.text and "not filled in" not in sheet.text
    await nina.press("I agree")
    receipt = await nina.expect_edit(sheet, lambda m: "you have joined" in m.text)
    assert "swap1-v1" in receipt.text
    await erik.send(f"/start {east['East']['member']}")
    sheet = await erik.expect(lambda m: "I agree" in " ".join(m.button_labels()))
    assert "VREC 88" in sheet.text and "NREC" not in sheet.text
    await erik.press("I agree")
    await erik.expect_edit(sheet, lambda m: "swap2-v1" in m.text)
    assert sorted(
        await rows(
            bot,
            "SELECT p.display_name, c.sheet_version FROM consents c JOIN people p"
            " ON p.id = c.person_id WHERE c.decision = 'agreed'",
        )
    ) == [("Erik", "swap2-v1"), ("Nina", "swap1-v1")]
    # /sheet alone shows the one in force.
    await organiser.send("/sheet")
    shown = await organiser.expect("version swap2-v1")
    assert "the swap's own" in shown.text


async def test_a_changed_sheet_asks_those_who_agreed_again(bot, standin, organiser):
    people = await set_up(standin, organiser, "Borders study", ["North", "South"])
    preview = await send_sheet(organiser, SHEET)
    assert "4 people already agreed" in preview.text
    await organiser.expect_answer(await organiser.press("Confirm sheet"))
    await organiser.expect("version swap1-v1")
    await advance(organiser)
    member = people["North", "member"]
    await member.send("A candidate written after the sheet changed.")
    asked = await member.expect(lambda m: "I agree" in m.button_labels())
    assert "has changed" in "".join(m.text for m in member.texts[-3:])
    assert "NREC 2027/014" in "".join(m.text for m in member.texts[-3:])
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(0,)]
    await member.expect_answer(
        await member.press_data(asked.buttons[0][0]["callback_data"], message=asked)
    )
    await member.expect("Thank you: you agreed")
    assert await rows(
        bot,
        "SELECT c.sheet_version FROM consents c JOIN people p ON p.id = c.person_id"
        " WHERE p.telegram_id = ? ORDER BY c.id DESC LIMIT 1",
        member.id,
    ) == [("swap1-v1",)]
    await write_and_confirm(member, "A candidate after agreeing to the new sheet.")


@pytest.mark.parametrize(
    ("send", "answer"),
    [
        ("photo", "not as a photo"),
        ("pdf", 'cannot take "sheet.pdf"'),
        ("empty", "That sheet is empty"),
        ("blank", "That sheet is empty"),
        ("large", "at most 30 KB"),
        ("latin1", "not UTF-8"),
        ("no_question", "must end by asking the question"),
        ("text_no_question", "must end by asking the question"),
        ("sticker", "not as a photo"),
        ("download_fails", "Telegram did not give me"),
    ],
)
async def test_every_bad_sheet_is_answered_and_changes_nothing(
    bot, standin, organiser, send, answer
):
    await create_swap(organiser, "Borders study", ["North", "South"])
    await organiser.send("/sheet")
    await organiser.expect("send it now")
    latin1 = SHEET.replace("Contact", "Café contact").encode("latin-1")
    sends = {
        "photo": lambda: organiser.send_photo(caption="our sheet"),
        "pdf": lambda: organiser.send_document("sheet.pdf", b"%PDF-1.7 ...", "application/pdf"),
        "empty": lambda: organiser.send_document("sheet.md", b""),
        "blank": lambda: organiser.send_document("sheet.txt", b" \n\n  \n"),
        "large": lambda: organiser.send_document("sheet.md", (SHEET * 200).encode()[:50_000]),
        "latin1": lambda: organiser.send_document("sheet.txt", latin1),
        "no_question": lambda: organiser.send_document(
            "sheet.md", b"# A sheet\n\nIt says who runs the study, and nothing else."
        ),
        "text_no_question": lambda: organiser.send("A sheet that asks nothing."),
        "sticker": lambda: organiser.send_sticker(),
        "download_fails": lambda: organiser.send_document("sheet.md", SHEET.encode()),
    }
    if send == "download_fails":
        standin.fail_next("getFile", 400, description="Bad Request: wrong file_id")
    await sends[send]()
    reply = await organiser.expect(answer)
    assert "Nothing was changed" in reply.text
    assert not reply.buttons
    assert await rows(bot, "SELECT COUNT(*) FROM sheets") == [(0,)]
    # Still waiting for the sheet: the next good one is taken.
    await organiser.send(SHEET)
    await organiser.expect(lambda m: "Confirm sheet" in m.button_labels())


async def test_a_participants_file_is_neither_fetched_nor_taken(bot, standin, organiser):
    tokens = await create_swap(organiser, "Borders study", ["North", "South"])
    nina = standin.user(first_name="Nina")
    await join(nina, tokens["North"]["member"])
    await nina.send_document("sheet.md", SHEET.encode(), caption="/sheet")
    await nina.expect("only the swap's organisers can do")
    assert standin.downloads == []
    assert await rows(bot, "SELECT COUNT(*) FROM sheets") == [(0,)]


async def test_the_sheet_is_fixed_once_setup_is_over(bot, standin, organiser):
    await set_up(standin, organiser, "Borders study", ["North", "South"])
    await advance(organiser, force=True)
    await organiser.send("/sheet " + SHEET)
    await organiser.expect("can be changed only during setup")
    await organiser.send("/sheet")
    await organiser.expect("can be changed only during setup")
    assert await rows(bot, "SELECT COUNT(*) FROM sheets") == [(0,)]


# -- the built-in sheet, unfilled --------------------------------------------------


async def test_an_unfilled_builtin_sheet_is_warned_of_until_the_swap_has_its_own(
    bot, standin, organiser, tmp_path
):
    tokens = await create_swap(organiser, "Borders study", ["North", "South"])
    nina = standin.user(first_name="Nina")
    await nina.send(f"/start {tokens['North']['member']}")
    sheet = await nina.expect(lambda m: "I agree" in " ".join(m.button_labels()))
    assert "The study is run by (not filled in)" in sheet.text
    assert "Telegram itself" in sheet.text
    await organiser.send("/status")
    status = await organiser.expect("Borders study")
    assert "The information sheet is not ready" in status.text
    await organiser.send("/advance force")
    preview = await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
    assert "The information sheet is not ready" in preview.text
    await organiser.press("Cancel")
    _, output = await run_cli(tmp_path, "check", DATABASE_PATH=bot.db_path)
    assert "warning: swap 1 (Borders study) uses the built-in information sheet" in output
    assert "who runs the study" in output and "how long data are kept" in output

    # Retention and the cut-off fill their fields; the study's own need its sheet.
    await organiser.send("/settings retention 18m")
    changed = await organiser.expect("is kept for 18 months after closing")
    assert "The built-in information sheet now says so" in changed.text
    await organiser.send("/settings withdrawal until-close")
    await organiser.expect("can withdraw their words until the swap closes")
    await organiser.send("/status")
    status = await organiser.expect("Borders study")
    assert "how long data are kept" not in status.text and "who runs" in status.text

    await send_sheet(organiser, SHEET)
    await organiser.expect_answer(await organiser.press("Confirm sheet"))
    await organiser.expect("version swap1-v1")
    await organiser.send("/settings retention 24m")
    changed = await organiser.expect("is kept for 24 months after closing")
    assert "people read as you wrote it: make sure it says the same" in changed.text
    await organiser.send("/status")
    status = await organiser.expect("Borders study")
    assert "not ready" not in status.text
    await organiser.send("/advance force")
    preview = await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
    assert "not ready" not in preview.text
    _, output = await run_cli(tmp_path, "check", DATABASE_PATH=bot.db_path)
    assert "warning:" not in output, output


# -- retention ------------------------------------------------------------------


async def set_up_with(standin, organiser, title: str, *settings: str) -> dict:
    """``set_up``, with settings chosen before anyone joins (after, the built-in
    sheet's words change, and those who agreed are asked again): each given as
    the words after /settings, then a piece of the answer."""
    tokens = await create_swap(organiser, title, ["North", "South"])
    for setting, answer in zip(settings[::2], settings[1::2], strict=True):
        await organiser.send(f"/settings {setting}")
        await organiser.expect(answer)
    people = {}
    for team in ("North", "South"):
        for role in ("lead", "member"):
            user = standin.user(first_name=f"{team}{role.title()}Person")
            await join(user, tokens[team][role])
            people[team, role] = user
    return people


async def closed_swap_with_retention(standin, organiser, bot) -> dict:
    people = await set_up_with(
        standin, organiser, "Retained swap", "retention 1m", "The date is set when the swap closes"
    )
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await close(organiser, bot)
    return people


async def test_retention_warns_twice_then_purges_at_its_time(bot, standin, organiser, clock):
    people = await closed_swap_with_retention(standin, organiser, bot)
    purge_at = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a month after closing, 09:00 GMT
    clock.set(purge_at - timedelta(days=14, minutes=1))
    await tick(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM swaps") == [(1,)]
    clock.set(purge_at - timedelta(days=14))
    await tick(bot)
    warning = await organiser.expect("will be purged in 14 days")
    assert "01 Mar 2027, 09:00" in warning.text and "/export" in warning.text
    await tick(bot)  # nothing twice
    clock.set(purge_at - timedelta(days=1))
    await tick(bot)
    await organiser.expect("will be purged in one day")
    assert len([m for m in organiser.texts if "will be purged in" in m.text]) == 2
    await organiser.send("/audit")
    audit = await organiser.expect("Audit of Retained swap")
    assert "purged on 2027-03-01 09:00 (14 day(s) left)" in audit.text
    assert "(1 day(s) left)" in audit.text
    assert "retention = 1m" in audit.text

    clock.set(purge_at - timedelta(seconds=1))
    await tick(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM swaps") == [(1,)]
    clock.set(purge_at)
    await tick(bot)
    await organiser.expect("Retained swap has been purged")
    line = assert_purged(bot.db_path, 1, [DILEMMAS["North"][:40].encode(), b"NorthLeadPerson"])
    assert line["reason"] == "retention"
    await organiser.send("/audit")
    trail = await organiser.expect("Swaps purged")
    assert "the bot or its operator · swap 1 purged (its retention period ended)" in trail.text
    # A person of the purged swap who writes is a stranger now.
    await people["North", "member"].send("Hello?")
    await people["North", "member"].expect("haven't joined")


async def test_a_bot_down_at_the_purge_purges_at_start_up(bot, standin, organiser, clock):
    await closed_swap_with_retention(standin, organiser, bot)
    await bot.stop()
    clock.set(datetime(2027, 3, 2, 12, 0, tzinfo=UTC))  # a day after the purge was due
    await bot.start()  # no tick by the test: the start-up does it
    await organiser.expect("Retained swap has been purged")
    assert_purged(bot.db_path, 1, [DILEMMAS["North"][:40].encode()])
    # Neither warning went late: the purge was already due.
    assert not [m for m in organiser.texts if "will be purged in" in m.text]


async def test_a_warning_missed_while_down_goes_late_once_saying_what_is_left(
    bot, standin, organiser, clock
):
    await closed_swap_with_retention(standin, organiser, bot)
    clock.set(datetime(2027, 2, 27, 9, 0, tzinfo=UTC))  # both warnings overdue
    await tick(bot)
    warning = await organiser.expect("will be purged in 2 days")
    assert "01 Mar 2027, 09:00" in warning.text
    await tick(bot)
    assert len([m for m in organiser.texts if "will be purged" in m.text]) == 1
    assert await rows(bot, "SELECT COUNT(*) FROM swaps") == [(1,)]


async def test_a_retention_that_would_purge_within_two_weeks_is_refused(
    bot, standin, organiser, clock
):
    await closed_swap_with_retention(standin, organiser, bot)
    await organiser.send("/settings retention 2m")
    await organiser.expect("is kept for 2 months after closing")
    clock.set(datetime(2027, 3, 25, 9, 0, tzinfo=UTC))  # the purge would be 1 April
    await organiser.send("/settings retention 2m")
    refused = await organiser.expect("too soon to warn you")
    assert "Nothing was changed" in refused.text and "purge --swap 1" in refused.text
    await organiser.send("/settings retention 1m")
    await organiser.expect("too soon to warn you")
    assert await rows(bot, "SELECT retention_months FROM swaps") == [(2,)]
    await tick(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM swaps") == [(1,)]


async def test_retention_and_withdrawal_settings_refuse_bad_input(bot, standin, organiser, clock):
    await create_swap(organiser, "Borders study", ["North", "South"])
    for words, answer in [
        ("retention", "in months after the swap closes"),
        ("retention 18", "in months after the swap closes"),
        ("retention 0m", "in months after the swap closes"),
        ("retention 121m", "in months after the swap closes"),
        ("withdrawal", "Until when may people withdraw"),
        ("withdrawal sometimes", "Until when may people withdraw"),
        ("withdrawal until 2027-02-30", "Until when may people withdraw"),
        ("withdrawal until 2027-01-31", "already over"),
    ]:
        await organiser.send(f"/settings {words}")
        reply = await organiser.expect(answer)
        assert "Nothing was changed" in reply.text
    assert await rows(bot, "SELECT retention_months, withdrawal FROM swaps") == [(None, None)]


# -- the withdrawal cut-off ------------------------------------------------------


async def swap_with_a_proposal(standin, organiser, bot, cutoff: str):
    people = await set_up_with(
        standin, organiser, "Cut-off swap", f"withdrawal {cutoff}", "can withdraw their words"
    )
    await advance(organiser)
    member = people["North", "member"]
    await write_and_confirm(member, "My candidate dilemma, in my words.", "/propose")
    return people, member


async def withdraw_deletes(member, bot) -> None:
    await member.send("/withdraw")
    await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    await member.expect_answer(await member.press("Confirm withdrawal"))
    await member.expect("You have withdrawn")
    assert await rows(bot, "SELECT COUNT(*) FROM contributions WHERE text LIKE 'My cand%'") == [
        (0,)
    ]


async def withdraw_leaves(member, organiser, bot) -> None:
    await member.send("/withdraw")
    ask = await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    assert "The time to withdraw your words has passed" in ask.text
    assert "under a pseudonym" in ask.text and "ask the organisers" in ask.text
    await member.expect_answer(await member.press("Confirm withdrawal"))
    await member.expect("You have left Cut-off swap")
    told = await organiser.expect("Someone has left")
    assert member.first_name not in told.text
    # The words stay, with their pseudonym; the person receives and keeps nothing new.
    assert await rows(bot, "SELECT COUNT(*) FROM contributions WHERE text LIKE 'My cand%'") == [
        (1,)
    ]
    [(left,)] = await rows(
        bot,
        "SELECT m.left_at FROM memberships m JOIN people p ON p.id = m.person_id"
        " WHERE p.telegram_id = ?",
        member.id,
    )
    assert left is not None
    await member.send("Something new after leaving.")
    await member.expect("You have already left")
    assert await rows(bot, "SELECT COUNT(*) FROM contributions WHERE text LIKE '%new after%'") == [
        (0,)
    ]
    await organiser.send("/audit")
    assert "after the withdrawal cut-off" in (await organiser.expect("Audit of")).text


async def test_withdrawal_always_deletes_even_after_closing(bot, standin, organiser):
    _, member = await swap_with_a_proposal(standin, organiser, bot, "always")
    await close(organiser, bot)
    await member.send("/withdraw")
    ask = await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    assert "you can withdraw your words at any time" in ask.text
    await member.press("Cancel")
    await withdraw_deletes(member, bot)


async def test_withdrawal_until_close_deletes_before_and_leaves_after(bot, standin, organiser):
    people, member = await swap_with_a_proposal(standin, organiser, bot, "until-close")
    other = people["South", "member"]
    await write_and_confirm(other, "South's candidate, to withdraw in time.", "/propose")
    await other.send("/withdraw")
    ask = await other.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    assert "you can withdraw your words until the swap closes" in ask.text
    await other.expect_answer(await other.press("Confirm withdrawal"))
    await other.expect("You have withdrawn")
    await close(organiser, bot)
    await withdraw_leaves(member, organiser, bot)
    # One who insists is still removed by the organiser, with their words.
    await organiser.send("/remove")
    await organiser.expect(lambda m: any("NorthMemberPerson" in b for b in m.button_labels()))
    await organiser.press("NorthMemberPerson")
    await organiser.expect(lambda m: "Confirm removal" in m.button_labels())
    await organiser.expect_answer(await organiser.press("Confirm removal"))
    await organiser.expect("removed")
    assert await rows(bot, "SELECT COUNT(*) FROM contributions WHERE text LIKE 'My cand%'") == [
        (0,)
    ]


async def test_withdrawal_until_a_date_deletes_until_its_end(bot, standin, organiser, clock):
    _, member = await swap_with_a_proposal(standin, organiser, bot, "until 2027-02-10")
    clock.set(datetime(2027, 2, 10, 23, 59, tzinfo=UTC))  # the last minute of the day
    await member.send("/withdraw")
    ask = await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    assert "until the end of 10 February 2027" in ask.text
    await member.press("Cancel")
    clock.set(datetime(2027, 2, 11, 0, 0, tzinfo=UTC))
    await withdraw_leaves(member, organiser, bot)


async def test_withdrawal_until_a_date_before_it(bot, standin, organiser, clock):
    _, member = await swap_with_a_proposal(standin, organiser, bot, "until 2027-02-10")
    clock.set(datetime(2027, 2, 9, 12, 0, tzinfo=UTC))
    await withdraw_deletes(member, bot)


async def test_the_sheet_says_the_cutoff_and_the_retention(bot, standin, organiser):
    tokens = await create_swap(organiser, "Borders study", ["North", "South"])
    await organiser.send("/settings withdrawal until 2027-06-30")
    await organiser.expect("until the end of 30 June 2027")
    await organiser.send("/settings retention 18m")
    await organiser.expect("18 months")
    nina = standin.user(first_name="Nina")
    await join(nina, tokens["North"]["member"])
    sheet = nina.texts[-1].text
    assert "you can withdraw them until the end of 30 June 2027" in sheet
    assert "Your words are kept for 18 months after closing" in sheet


async def test_warnings_and_notices_go_to_the_swaps_organisers_now(standin, tmp_path, clock):
    """Through Core.organisers_of: a co-organiser is told too, and a creator who is
    no longer in ORGANISER_IDS is not."""
    other_id = ORGANISER_ID + 1
    running = RunningBot(
        standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID, other_id}, clock=clock
    )
    await running.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        other = standin.user(user_id=other_id, first_name="Omar")
        await other.send("/start")
        people = await set_up_with(
            standin,
            organiser,
            "Shared swap",
            "retention 1m",
            "The date is set when",
            "withdrawal until-close",
            "until the swap closes",
        )
        await organiser.send(f"/share {other_id}")
        await other.expect("Shared swap")
        await advance(organiser)
        await write_and_confirm(people["North", "member"], "A candidate.", "/propose")
        await close(organiser, running)
        await running.stop()
        running.organisers = {other_id}  # the creator is an organiser no more
        await running.start()
        clock.set(datetime(2027, 2, 15, 9, 0, tzinfo=UTC))
        await tick(running)
        await other.expect("will be purged in 14 days")
        await withdraw_deletes_or_leaves(people["North", "member"])
        await other.expect("Someone has left")
        assert not [m for m in organiser.texts if "will be purged" in m.text]
        assert not [m for m in organiser.texts if "Someone has left" in m.text]
    finally:
        await running.stop()


async def withdraw_deletes_or_leaves(member) -> None:
    await member.send("/withdraw")
    await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    await member.expect_answer(await member.press("Confirm withdrawal"))
    await member.expect(lambda m: "You have left" in m.text or "You have withdrawn" in m.text)
