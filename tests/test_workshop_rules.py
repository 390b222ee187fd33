"""Wrong phase, wrong role, wrong kind; reopen and late joiners; status; withdrawal."""

from __future__ import annotations

import json

from tests.support.bot import rows
from tests.support.fanout import wait_drained
from tests.support.swapflow import DILEMMAS, advance, create_swap, join, set_up, write_and_confirm


async def scalar(bot, sql: str, *params):
    async with bot.db.conn.execute(sql, params) as cur:
        return (await cur.fetchone())[0]


async def contributions(bot) -> int:
    return await scalar(bot, "SELECT COUNT(*) FROM contributions")


async def test_wrong_phase_role_and_kind_get_clear_answers_and_change_nothing(
    bot, standin, organiser
):
    people = await set_up(standin, organiser, "Rules", ["North", "South"])
    member, lead = people["North", "member"], people["North", "lead"]

    # Setup: writing is not stored yet.
    await member.send("An early thought")
    early = await member.expect(
        lambda m: "not started" in m.text.lower() or "workshop 1" in m.text.lower()
    )
    assert not early.buttons
    await advance(organiser)
    member.skip_all()
    lead.skip_all()

    # A participant cannot submit the team's dilemma or response; nobody can respond yet.
    await member.send("/dilemma")
    refused = await member.expect(lambda m: "lead" in m.text.lower())
    assert not refused.buttons
    await lead.send("/response")
    await lead.expect(lambda m: "workshop 2" in m.text.lower())
    # A sticker, an empty-looking message, a text over the limit.
    await member.send_sticker()
    await member.expect(lambda m: "text" in m.text.lower())
    await member.send("   ")
    await member.expect(lambda m: m.text)
    await member.send("word " * 2500)
    too_long = await member.expect(lambda m: "12,000" in m.text)
    assert not too_long.buttons
    # An unknown command and a forged confirm button.
    await member.send("/frobnicate")
    await member.expect(lambda m: "/help" in m.text)
    await member.press_data("ok:999", message=too_long)
    await member.expect(lambda m: "button" in m.text.lower())
    assert await contributions(bot) == 0

    # Someone else's draft cannot be confirmed by pressing a forged button.
    await lead.send(DILEMMAS["North"])
    preview = await lead.expect(lambda m: "Confirm" in m.button_labels())
    draft_button = preview.buttons[0][0]["callback_data"]
    await member.press_data(draft_button, message=member.messages[-1])
    await member.expect(lambda m: "button" in m.text.lower())
    assert await scalar(bot, "SELECT COUNT(*) FROM contributions WHERE status = 'confirmed'") == 0
    # /cancel drops the waiting state and the unconfirmed draft.
    await lead.send("/cancel")
    await lead.expect(lambda m: m.text and m is not preview)
    assert await contributions(bot) == 0


async def test_reopen_delivers_only_what_is_new_and_late_joiners_catch_up(bot, standin, organiser):
    tokens = await create_swap(organiser, "Late", ["North", "South"])
    people = {}
    for team in ("North", "South"):
        for role in ("lead", "member"):
            people[team, role] = standin.user(first_name=f"{team}{role}")
            await join(people[team, role], tokens[team][role])
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    await people["South", "member"].expect(DILEMMAS["North"][:50])
    await write_and_confirm(people["South", "member"], "First answer to North.")
    await write_and_confirm(people["South", "lead"], "South's team view.", "/response")
    await write_and_confirm(people["North", "lead"], "North's team view.", "/response")
    await advance(organiser)
    await people["North", "member"].expect("First answer to North.")

    # Back to workshop 2 for a late answer; moving on again sends only that one.
    await organiser.send("/reopen")
    await organiser.expect(lambda m: "workshop 2" in m.text.lower())
    await people["South", "member"].expect(lambda m: "workshop 2" in m.text.lower())
    await write_and_confirm(people["South", "member"], "A late second answer to North.")
    await advance(organiser)
    late_answer = await people["North", "member"].expect("A late second answer to North.")
    north_texts = [m.text for m in people["North", "member"].messages]
    assert sum("First answer to North." in t for t in north_texts) == 1
    assert "South's team view." not in late_answer.text

    # A person who joins now receives what their team was already sent.
    late = standin.user(first_name="Latecomer")
    await join(late, tokens["North"]["member"])
    await late.expect(lambda m: "working on" in m.text.lower())
    everything = "\n".join(m.text for m in late.messages)
    for text in (
        DILEMMAS["South"][:50],
        "South's team view.",
        "First answer to North.",
        "A late second answer to North.",
    ):
        assert text in everything


async def test_status_shows_progress_to_the_organiser_and_the_lead_only(bot, standin, organiser):
    people = await set_up(standin, organiser, "Progress", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    await write_and_confirm(people["North", "member"], "A candidate from me.", "/propose")
    await organiser.send("/status")
    status = await organiser.expect(lambda m: "NorthLeadPerson" in m.text)
    assert "SouthMemberPerson" in status.text
    lead = people["North", "lead"]
    await lead.send("/status")
    mine = await lead.expect(lambda m: "NorthMemberPerson" in m.text)
    assert "South" not in mine.text.replace("SouthLeadPerson", "")
    assert "SouthLeadPerson" not in mine.text
    member = people["North", "member"]
    await member.send("/status")
    refused = await member.expect(lambda m: "lead" in m.text.lower())
    assert "NorthLeadPerson" not in refused.text


async def test_mydata_and_withdraw_really_delete(bot, standin, organiser):
    people = await set_up(standin, organiser, "Leaving", ["North", "South"])
    await advance(organiser)
    member = people["North", "member"]
    await write_and_confirm(member, "A candidate I may take back.", "/propose")
    await member.send("/mydata")
    document = await member.expect_document()
    data = json.loads(document.content)
    assert data["contributions"][0]["text"] == "A candidate I may take back."
    assert data["memberships"][0]["team"] == "North"
    await member.send("/withdraw")
    ask = await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    assert await scalar(bot, "SELECT COUNT(*) FROM contributions") == 1
    await member.expect_answer(await member.press("Confirm withdrawal"))
    await member.expect(lambda m: "withdrawn" in m.text.lower() and m is not ask)
    assert await scalar(bot, "SELECT COUNT(*) FROM contributions") == 0
    assert await scalar(bot, "SELECT COUNT(*) FROM people WHERE telegram_id = ?", member.id) == 0
    assert await scalar(bot, "SELECT COUNT(*) FROM outbox WHERE text LIKE ?", "%take back%") == 0
    await organiser.send("/export")
    record = (await organiser.expect_document()).content.decode()
    assert "take back" not in record
    await member.send("/mydata")
    await member.expect(lambda m: "nothing" in m.text.lower())


async def test_delivered_messages_keep_no_copy_of_peoples_words(bot, standin, organiser):
    people = await set_up(standin, organiser, "Copies", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    await people["North", "member"].expect(DILEMMAS["North"][:50])
    await organiser.send("/export")
    await organiser.expect_document()
    await wait_drained(bot)
    assert await scalar(bot, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'") > 10
    # The team's copy and the organiser's file went out: the outbox kept neither.
    assert (
        await scalar(bot, "SELECT COUNT(*) FROM outbox WHERE text != '' OR document IS NOT NULL")
        == 0
    )
    assert (
        await scalar(
            bot,
            "SELECT COUNT(*) FROM contributions WHERE text LIKE ?",
            DILEMMAS["North"][:30] + "%",
        )
        == 1
    )


async def test_after_a_reopen_nobody_is_told_that_nothing_came_back_when_it_did(
    bot, standin, organiser
):
    people = await set_up(standin, organiser, "Reopened swap", ["North", "South"])
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    await write_and_confirm(people["South", "member"], "South's one answer to North.")
    await advance(organiser, force=True)  # no consolidated responses
    north = people["North", "member"]
    await north.expect("South's one answer to North")
    await organiser.send("/reopen")
    await organiser.expect("workshop 2")
    await advance(organiser, force=True)
    await wait_drained(bot)
    assert not any("did not send responses" in m.text for m in north.texts)


async def test_a_stale_settings_button_shows_the_swap_it_changed(bot, standin, organiser):
    await organiser.send("/newswap First")
    await organiser.expect("First")
    await organiser.send("/settings")
    first = await organiser.expect("Settings for First")
    await organiser.send("/newswap Second")
    await organiser.expect("Second")
    data = next(
        b["callback_data"] for row in first.buttons for b in row if "all rounds" in b["text"]
    )
    await organiser.press_data(data, message=first)
    shown = await organiser.expect(lambda m: "Settings for" in m.text)
    assert "Settings for First" in shown.text
    assert await rows(bot, "SELECT title, reflection_release FROM swaps ORDER BY id") == [
        ("First", "all_at_once"),
        ("Second", "one_at_a_time"),
    ]
