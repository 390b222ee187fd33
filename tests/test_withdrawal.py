"""Issue 7, promises to participants: withdrawal leaves none of a person's words
anywhere, says truthfully what was delivered, and works per swap.

Each test here failed on the main branch before the fix it is named for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bot import execute, rows
from tests.support.fanout import wait_drained
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    set_up,
    withdraw,
    write_and_confirm,
)

SECRET = "Marmalade-otter-4711 is what our panel keeps quiet about"


async def test_unsent_messages_quoting_withdrawn_words_are_not_sent(bot, standin, organiser):
    """Item 4: the side by side and an export document quote people's words without
    being linked to one contribution; failed rows kept the words indefinitely."""
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], SECRET, "/response")
    await write_and_confirm(people["South", "lead"], "South's consolidated view.", "/response")
    # South's member and the organiser cannot be reached: what is owed to them waits.
    standin.block(people["South", "member"])
    standin.block(organiser)
    await advance(organiser, force=True)  # to workshop 3: returns and side by side
    await organiser.send("/export")
    await wait_drained(bot)
    waiting = await rows(
        bot, "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND text LIKE '%Marmalade%'"
    )
    assert waiting[0][0] >= 1
    await withdraw(people["North", "lead"])
    assert await rows(
        bot,
        "SELECT COUNT(*) FROM outbox WHERE text LIKE '%Marmalade%'"
        " OR CAST(document AS TEXT) LIKE '%Marmalade%'",
    ) == [(0,)]
    standin.unblock(people["South", "member"])
    await people["South", "member"].send("/help")
    await wait_drained(bot)
    assert not any("Marmalade" in m.text for m in people["South", "member"].texts)


async def test_an_adopted_proposal_goes_with_its_author_and_the_lead_is_told(
    bot, standin, organiser
):
    """Item 4: the lead adopted a member's proposal word for word; the member withdraws."""
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    member, lead = people["North", "member"], people["North", "lead"]
    await advance(organiser)
    await write_and_confirm(member, SECRET, "/propose")
    offered = await lead.expect(lambda m: "Adopt as team dilemma" in m.button_labels())
    await lead.press_data(offered.buttons[0][0]["callback_data"], message=offered)
    preview = await lead.expect(lambda m: "Confirm" in m.button_labels())
    await lead.expect_answer(
        await lead.press_data(preview.buttons[0][0]["callback_data"], message=preview)
    )
    assert await rows(
        bot,
        "SELECT COUNT(*) FROM contributions WHERE kind = 'dilemma' AND adopted_from IS NOT NULL",
    ) == [(1,)]
    ask, _ = await withdraw(member)
    assert "dilemma goes too" in ask.text
    told = await lead.expect(lambda m: "withdrawn" in m.text and "/dilemma" in m.text)
    assert SECRET not in told.text
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(0,)]
    await organiser.send("/export")
    record = await organiser.expect_document()
    assert SECRET.encode() not in record.content


async def test_withdrawn_words_are_gone_from_the_files_on_disk(bot, standin, organiser, tmp_path):
    """Item 4: without secure_delete and a checkpoint, deleted text stayed in the WAL
    and in free pages."""
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "member"], SECRET, "/propose")
    await wait_drained(bot)
    await withdraw(people["North", "member"])
    await wait_drained(bot)
    for path in Path(tmp_path).glob("swap.sqlite3*"):
        assert b"Marmalade-otter" not in path.read_bytes(), path.name


async def test_the_withdrawal_names_what_was_delivered_even_after_an_edit(bot, standin, organiser):
    """Item 4: delivered, reopened and edited, the message said nothing had reached
    another team, and its list named no team."""
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    lead = people["North", "lead"]
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    await organiser.send("/reopen")
    await organiser.expect("workshop 1")
    await write_and_confirm(lead, "North's dilemma, put better.", "/dilemma")
    ask, done = await withdraw(lead)
    for message in (ask, done):
        assert "delivered to team South on" in message.text
        assert "none of your words" not in message.text.lower()


async def test_withdraw_drops_an_unanswered_invitation(bot, standin, organiser):
    """Item 4: it said nothing was stored, and kept the invitation."""
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    visitor = standin.user(first_name="Vera")
    await visitor.send(f"/start {tokens['North']['member']}")
    sheet = await visitor.expect(lambda m: "I agree" in " ".join(m.button_labels()))
    await visitor.send("/withdraw")
    await visitor.expect(lambda m: "invitation" in m.text)
    assert await rows(bot, "SELECT COUNT(*) FROM conversations") == [(0,)]
    await visitor.press_data(sheet.buttons[0][0]["callback_data"], message=sheet)
    await visitor.expect(lambda m: "button" in m.text.lower())
    assert await rows(bot, "SELECT COUNT(*) FROM memberships") == [(0,)]


async def test_someone_who_declines_leaves_no_trace_of_their_chat(bot, standin, organiser):
    """Item 4: their outbox rows' times could match the recorded decline."""
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    visitor = standin.user(first_name="Dora")
    await visitor.send(f"/start {tokens['North']['member']}")
    sheet = await visitor.expect(lambda m: "Decline" in m.button_labels())
    await visitor.press("Decline")
    await visitor.expect_edit(sheet, lambda m: "change your mind" in m.text)
    await wait_drained(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM outbox WHERE chat_id = ?", visitor.id) == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM consents WHERE decision = 'declined'") == [(1,)]


async def test_someone_who_declines_and_blocks_the_bot_at_once_leaves_no_trace(
    bot, standin, organiser
):
    """The answer to their decline (the sheet, edited) cannot reach them: it is
    forgotten, not kept as a failed message holding the team and a time."""
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    visitor = standin.user(first_name="Dora")
    await visitor.send(f"/start {tokens['North']['member']}")
    await visitor.expect(lambda m: "Decline" in m.button_labels())
    await visitor.press("Decline")
    standin.block(visitor)
    await standin.wait_for(
        lambda: any(
            method == "editMessageText" and str(params.get("chat_id")) == str(visitor.id)
            for method, params in standin.calls
        )
    )
    await wait_drained(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM outbox WHERE chat_id = ?", visitor.id) == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM consents WHERE decision = 'declined'") == [(1,)]


async def test_a_person_in_two_swaps_chooses_where_to_act_and_what_to_leave(
    bot, standin, organiser
):
    """Item 4: they could act only in the newest, and /withdraw left both."""
    first = await create_swap(organiser, "Spring swap", ["North", "South"])
    await join(standin.user(first_name="Sam"), first["South"]["lead"])
    second = await create_swap(organiser, "Autumn swap", ["East", "West"])
    await join(standin.user(first_name="Wen"), second["West"]["lead"])
    pat = standin.user(first_name="Pat")
    await join(pat, first["North"]["lead"])
    await join(pat, second["East"]["member"])
    await organiser.send("/swaps")
    await organiser.expect("Autumn swap")
    await organiser.press("Spring swap")
    await organiser.expect(lambda m: "Spring swap" in m.text and not m.buttons)
    await advance(organiser)
    # Pat acts in the swap she chooses, not only the one she joined last.
    await pat.send("/swaps")
    await pat.expect(lambda m: "Spring swap" in " ".join(m.button_labels()))
    await pat.press("Spring swap")
    await pat.expect(lambda m: "North" in m.text and not m.buttons)
    await write_and_confirm(pat, DILEMMAS["North"], "/dilemma")
    assert await rows(
        bot, "SELECT s.title FROM contributions c JOIN swaps s ON s.id = c.swap_id"
    ) == [("Spring swap",)]
    # She leaves the autumn swap only.
    _, done = await withdraw(pat, choose="Autumn swap")
    assert "Autumn swap" in done.text
    assert await rows(
        bot,
        "SELECT s.title FROM memberships m JOIN swaps s ON s.id = m.swap_id"
        " JOIN people p ON p.id = m.person_id WHERE p.telegram_id = ?",
        pat.id,
    ) == [("Spring swap",)]
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(1,)]


async def test_the_withdrawal_receipt_leaves_no_row_with_the_person_s_chat(bot, standin, organiser):
    people = await set_up(standin, organiser, "Receipt swap", ["North", "South"])
    member = people["North", "member"]
    await withdraw(member)
    await wait_drained(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM outbox WHERE chat_id = ?", member.id) == [(0,)]


async def test_leaving_one_swap_keeps_the_swap_the_person_chose_to_act_in(bot, standin, organiser):
    pat = standin.user(first_name="Pat")
    for title, team in (("Spring swap", "North"), ("Summer swap", "East"), ("Autumn swap", "Up")):
        tokens = await create_swap(organiser, title, [team, "Other"])
        await join(pat, tokens[team]["member"])
    await pat.send("/swaps")
    await pat.expect(lambda m: "Spring swap" in " ".join(m.button_labels()))
    await pat.press("Spring swap")
    await pat.expect(lambda m: "North" in m.text and not m.buttons)
    await withdraw(pat, choose="Autumn swap")
    current = (
        "SELECT s.title FROM people p JOIN swaps s ON s.id = p.current_swap_id"
        " WHERE p.telegram_id = ?"
    )
    assert await rows(bot, current, pat.id) == [("Spring swap",)]


async def test_the_audit_counts_each_swap_s_own_deleted_contributions(bot, standin, organiser):
    first = await create_swap(organiser, "Spring swap", ["North", "South"])
    second = await create_swap(organiser, "Autumn swap", ["East", "West"])
    await join(standin.user(first_name="Sam"), first["South"]["lead"])
    pat = standin.user(first_name="Pat")
    await join(pat, first["North"]["lead"])
    await join(pat, second["East"]["member"])
    await organiser.send("/swaps")
    await organiser.expect("Autumn swap")
    await organiser.press("Spring swap")
    await organiser.expect(lambda m: "Spring swap" in m.text and not m.buttons)
    await advance(organiser)
    await pat.send("/swaps")
    await pat.expect(lambda m: "Spring swap" in " ".join(m.button_labels()))
    await pat.press("Spring swap")
    await pat.expect(lambda m: "North" in m.text and not m.buttons)
    await write_and_confirm(pat, DILEMMAS["North"], "/dilemma")
    await withdraw(pat, choose="every swap")
    audit = (
        "SELECT s.title, a.detail FROM audit a JOIN swaps s ON s.id = a.swap_id"
        " WHERE a.event = 'withdrawal' ORDER BY s.title"
    )
    assert await rows(bot, audit) == [
        ("Autumn swap", '{"count": 0}'),
        ("Spring swap", '{"count": 1}'),
    ]


def on_disk(bot, words: bytes) -> bool:
    """Whether ``words`` can be read in the database file or its WAL."""
    return any(
        words in Path(bot.db_path + suffix).read_bytes()
        for suffix in ("", "-wal")
        if Path(bot.db_path + suffix).exists()
    )


@pytest.mark.parametrize("how", ["discard", "withdraw_item"])
async def test_every_path_that_deletes_words_scrubs_them_from_the_disk(
    bot, standin, organiser, how
):
    """Issue 19, item 7: discarding a draft and withdrawing one item leave the words
    readable in neither the file nor the WAL, as a full /withdraw does."""
    people = await set_up(standin, organiser, "Scrubbed swap", ["North", "South"])
    await advance(organiser)
    member = people["North", "member"]
    words = "Zebra crossings near the Quillfield depot are unsafe"
    if how == "discard":
        await member.send(words)
        await member.expect(lambda m: "Discard" in m.button_labels())
        await member.expect_answer(await member.press("Discard"))
    else:
        await write_and_confirm(member, words, "/propose")
        await member.expect_answer(await member.press("Withdraw"))
        confirm = [m for m in member.messages if "Confirm" in " ".join(m.button_labels())]
        if confirm and confirm[-1] is member.messages[-1]:
            await member.expect_answer(await member.press("Confirm"))
    await wait_drained(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(0,)]
    assert not on_disk(bot, b"Quillfield")


async def test_sent_messages_keep_no_buttons_naming_people(bot, standin, organiser):
    """Issue 19, item 6: the organiser's "Remove NAME (team)" buttons, once sent, are
    not kept in the outbox: a person who withdraws leaves no name behind there."""
    people = await set_up(standin, organiser, "Named swap", ["North", "South"])
    await organiser.send("/remove")
    await organiser.expect(lambda m: any("NorthMemberPerson" in b for b in m.button_labels()))
    await withdraw(people["North", "member"])
    await wait_drained(bot)
    assert await rows(
        bot, "SELECT COUNT(*) FROM outbox WHERE reply_markup LIKE '%NorthMemberPerson%'"
    ) == [(0,)]


async def test_unconfirmed_member_check_comments_are_forgotten_like_drafts(bot, standin, organiser):
    """Issue 19, item 8: a comment draft nobody confirmed is forgotten after seven
    days, as a contribution's draft is; a confirmed one stays."""
    await set_up(standin, organiser, "Checked swap", ["North", "South"])
    for status, created in (("draft", "2020-01-01T00:00:00+00:00"), ("confirmed", "2020-01-01")):
        await execute(
            bot,
            "INSERT INTO comments (swap_id, team_id, person_id, text, status, created_at)"
            " SELECT m.swap_id, m.team_id, m.person_id, ?, ?, ? FROM memberships m"
            " JOIN people p ON p.id = m.person_id WHERE p.display_name = 'NorthMemberPerson'",
            f"A {status} comment",
            status,
            created,
        )
    assert await bot.services.workshop.expire_drafts() == 1
    assert await rows(bot, "SELECT text FROM comments") == [("A confirmed comment",)]
