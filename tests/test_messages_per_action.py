"""Every message saved is capacity for everyone else: Confirm edits the
preview into its receipt instead of removing buttons and sending a receipt."""

from __future__ import annotations

import pytest

from bot.delivery.worker import IDLE_WAIT
from tests.support.bot import ORGANISER_ID, RunningBot, rows
from tests.support.fanout import wait_drained
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    labels,
    links_in,
    set_up,
    write_and_confirm,
)


@pytest.fixture
async def in_workshop_2(standin, tmp_path):
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID})
    await bot.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        people = await set_up(standin, organiser, "Counted swap", ["North", "South"])
        await advance(organiser)
        for team in ("North", "South"):
            await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
        await advance(organiser)
        await wait_drained(bot)
        yield bot, people
    finally:
        await bot.stop()


async def test_a_contribution_costs_one_send_and_one_edit(standin, in_workshop_2):
    bot, people = in_workshop_2
    member = people["South", "member"]
    member.skip_all()
    since = len(standin.calls)
    receipt = await write_and_confirm(member, "Name one lead professional per family.")
    assert standin.writes_to(member.id, since) == ["sendMessage", "editMessageText"]
    # The preview became the receipt: it still shows the words, and now manages them.
    assert receipt.text.startswith("Confirmed")
    assert "Name one lead professional per family." in receipt.text
    assert labels(receipt) == ["Edit", "Withdraw"]
    assert [m for m in member.texts[member._cursor :] if m is not receipt] == []
    confirmed = await rows(bot, "SELECT COUNT(*) FROM contributions WHERE status = 'confirmed'")
    assert confirmed == [(3,)]


async def test_a_receipt_too_long_for_one_message_is_sent_and_the_preview_loses_its_buttons(
    standin, in_workshop_2
):
    _, people = in_workshop_2
    member = people["South", "member"]
    member.skip_all()
    # Two parts of one long paste, joined into one draft of about 6,000 characters.
    first, second = "Part one of a long answer. " * 140, "Part two, the end of it. " * 90
    await member.send(first)
    await member.send(second)
    preview = await member.expect(lambda m: "Confirm" in labels(m), timeout=15)
    await member.expect_answer(await member.press("Confirm"))
    receipt = await member.expect(lambda m: "Withdraw" in labels(m))
    await member.expect_edit(preview, lambda m: not m.buttons)
    assert receipt is not preview
    sent = "".join(m.text for m in member.texts[-3:])
    assert "the end of it." in sent and "Confirmed" in sent


async def test_a_preview_telegram_will_no_longer_edit_gets_its_receipt_as_a_new_message(
    standin, in_workshop_2
):
    _, people = in_workshop_2
    member = people["South", "member"]
    member.skip_all()
    standin.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
    await member.send("Start with the family's own view of who helps.")
    preview = await member.expect(lambda m: "Confirm" in labels(m))
    await member.expect_answer(await member.press("Confirm"))
    receipt = await member.expect(lambda m: "Withdraw" in labels(m))
    assert receipt is not preview
    assert receipt.text.startswith("Confirmed") and "own view" in receipt.text


async def test_an_edit_made_twice_counts_as_made(standin, in_workshop_2):
    # After a crash the same edit may go again; Telegram then answers "not
    # modified", which means done: no new message, no retry.
    bot, people = in_workshop_2
    member = people["South", "member"]
    member.skip_all()
    standin.fail_next(
        "editMessageText",
        400,
        description="Bad Request: message is not modified: specified new message content "
        "and reply markup are exactly the same as a current content and reply markup",
    )
    await member.send("Ask the family who they trust most.")
    await member.expect(lambda m: "Confirm" in labels(m))
    await member.expect_answer(await member.press("Confirm"))
    await wait_drained(bot)
    edits = await rows(
        bot,
        "SELECT status, attempts, error FROM outbox WHERE edit_message_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
    )
    assert edits == [("sent", 1, None)]
    assert not any("Withdraw" in labels(m) for m in member.texts[member._cursor :])


async def test_joining_is_the_information_sheet_edited_into_the_receipt(standin, tmp_path):
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID})
    await bot.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        tokens = await create_swap(organiser, "Joined swap", ["North", "South"])
        person = standin.user(first_name="Nadia")
        since = len(standin.calls)
        await join(person, tokens["North"]["member"])
        await wait_drained(bot)
        # The sheet, then the same message edited into the receipt: one call each.
        assert standin.writes_to(person.id, since) == ["sendMessage", "editMessageText"]
        [receipt] = person.texts
        # The receipt also says what comes next, so nobody is left wondering.
        assert "you have joined" in receipt.text and "has not started yet" in receipt.text
    finally:
        await bot.stop()


async def join_south_late(standin):
    """Sol joins South, with the link the organiser was given, once the swap runs."""
    organiser = standin.get_user(ORGANISER_ID)
    south = next(m for m in organiser.texts if "Team South added" in m.text)
    sol = standin.user(first_name="Sol")
    await join(sol, links_in(south.text)["member"])
    return sol


async def test_someone_joining_during_a_workshop_finds_its_opening_in_the_receipt(
    standin, in_workshop_2
):
    bot, _ = in_workshop_2
    person = await join_south_late(standin)
    await wait_drained(bot)
    # The receipt opens workshop 2 for them; no message of its own does.
    [receipt] = [m for m in person.texts if "you have joined" in m.text]
    assert "Workshop 2 has begun" in receipt.text
    assert [m for m in person.texts if "Workshop 2 has begun" in m.text] == [receipt]
    # What their team already had follows: the dilemma it works on.
    assert any(DILEMMAS["North"][:40] in m.text for m in person.texts)


async def test_the_worker_looks_at_the_outbox_once_a_message_yet_sends_all(standin, in_workshop_2):
    """The worker looks at the outbox when rows are added and when a send ends;
    after a send that its last look showed was all there was, it does not."""
    bot, _ = in_workshop_2
    looks: list[str] = []
    await bot.db.conn.set_trace_callback(
        lambda sql: looks.append(sql) if "ROW_NUMBER()" in sql else None
    )
    readers = [standin.user(first_name=f"Reader{n}") for n in range(6)]
    for reader in readers:
        await reader.send("/help")
        await reader.expect("invite link")
    await wait_drained(bot)
    # One look for each answer (before, two: one more when its send ended).
    assert len(looks) <= len(readers) + 2, looks
    # A late joiner is owed two messages at once: the receipt (an edit of the
    # sheet) and the dilemma their team works on. The first send's end looks
    # again, for the second, at once: not at the worker's idle wake-up.
    sol = await join_south_late(standin)
    await sol.expect(DILEMMAS["North"][:40], timeout=IDLE_WAIT / 2)
