"""Restarts: a hard kill in the middle of a fan-out, and updates delivered again.

A message in flight when the bot dies may arrive twice (Telegram accepted it, the
bot never learnt so); nothing may be lost, and nothing else may happen twice.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.delivery.worker import MAX_WINDOW
from bot.standin import BotAPIStandIn
from tests.support.bot import BOT_USERNAME, ORGANISER_ID, TOKEN, rows, start_bot_process
from tests.support.fanout import (
    OPENING,
    everyone_has_it,
    open_workshop,
    openings,
    seed_swap,
    wait_drained,
)
from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm

pytestmark = pytest.mark.paced


async def _start_bot(
    standin: BotAPIStandIn, folder: Path, db_path: Path, log_name: str
) -> asyncio.subprocess.Process:
    """``python -m bot`` against the stand-in, on the given SQLite file."""
    return await start_bot_process(standin, folder, folder / log_name, DATABASE_PATH=str(db_path))


async def test_a_hard_kill_during_a_fan_out_loses_nothing(standin, tmp_path):
    db_path = tmp_path / "swap.sqlite3"
    users = await seed_swap(str(db_path), standin, 120)
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")

    def served() -> int:
        return sum(1 for m in standin.sent if OPENING in (m.text or ""))

    first = await _start_bot(standin, tmp_path, db_path, "first.log")
    try:
        await open_workshop(organiser, 120)
        await standin.wait_for(lambda: served() >= 20, timeout=30)
    finally:
        first.kill()  # SIGKILL: no shutdown, no last commit
        await first.wait()
    assert served() < 120, "the fan-out ended before the kill; the test proves nothing"

    second = await _start_bot(standin, tmp_path, db_path, "second.log")
    try:
        await standin.wait_for(lambda: everyone_has_it(users), timeout=60)
        await organiser.expect("on their way", timeout=30)
    finally:
        second.terminate()
        await asyncio.wait_for(second.wait(), timeout=30)
    duplicates = sum(openings(user) - 1 for user in users)
    assert duplicates <= 1, f"{duplicates} people received the opening twice"
    assert standin.limit_violations == []


async def test_a_sigterm_during_a_fan_out_stops_between_sends_and_loses_nothing(standin, tmp_path):
    """A graceful stop: the send under way finishes and is recorded, nothing else is
    taken; the next start sends the rest, and nobody gets anything twice."""
    db_path = tmp_path / "swap.sqlite3"
    users = await seed_swap(str(db_path), standin, 120)
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")

    def served() -> int:
        return sum(1 for m in standin.sent if OPENING in (m.text or ""))

    first = await _start_bot(standin, tmp_path, db_path, "first.log")
    await open_workshop(organiser, 120)
    await standin.wait_for(lambda: served() >= 20, timeout=30)
    first.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(first.wait(), timeout=30) == 0
    stopped_at = served()
    assert stopped_at < 120, "the fan-out ended before the stop; the test proves nothing"
    # Everything delivered before the stop was recorded as sent: none is owed again.
    with sqlite3.connect(db_path) as conn:
        recorded = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND chat_id != ?", (ORGANISER_ID,)
        ).fetchone()[0]
    conn.close()
    assert recorded == stopped_at
    log = (tmp_path / "first.log").read_text()
    assert "Traceback" not in log

    second = await _start_bot(standin, tmp_path, db_path, "second.log")
    try:
        await standin.wait_for(lambda: everyone_has_it(users), timeout=60)
    finally:
        second.terminate()
        await asyncio.wait_for(second.wait(), timeout=30)
    assert all(openings(user) == 1 for user in users)


async def test_a_second_signal_stops_at_once(standin, tmp_path):
    """While a graceful stop waits (here: on a send Telegram does not answer), a
    second signal ends the process at once, still without a traceback."""
    db_path = tmp_path / "swap.sqlite3"
    await seed_swap(str(db_path), standin, 4)
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    process = await _start_bot(standin, tmp_path, db_path, "bot.log")
    await open_workshop(organiser, 4)
    standin.hang_next("sendMessage")
    await standin.wait_for(lambda: standin.hanging, timeout=30)
    process.send_signal(signal.SIGTERM)
    await standin.wait_for(lambda: "stopping" in (tmp_path / "bot.log").read_text(), timeout=30)
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), timeout=10)
    assert code != 0
    assert "Traceback" not in (tmp_path / "bot.log").read_text()


RECORDS = (
    "people",
    "memberships",
    "consents",
    "contributions",
    "transitions",
    "allocations",
    "conversations",
    "outbox",
)


async def _counts(bot) -> dict[str, int]:
    """How many rows each table holds that records what people did or were sent."""
    return {table: (await rows(bot, f"SELECT COUNT(*) FROM {table}"))[0][0] for table in RECORDS}


async def test_updates_delivered_again_change_nothing(bot, standin, organiser):
    people = await set_up(standin, organiser, "Replayed", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    await write_and_confirm(people["South", "member"], "Ask who the family trusts.")
    await write_and_confirm(people["South", "lead"], DILEMMAS["South"], "/dilemma")
    await advance(organiser)
    await write_and_confirm(people["South", "member"], "Name one lead professional per family.")
    await wait_drained(bot)
    before = await _counts(bot)
    sent = len(standin.sent)
    answers = len(standin.callback_answers)
    edits = sum(len(m.edits) for m in standin.sent)

    # Every update the bot ever had comes again, as if it had never confirmed one.
    await bot.stop()
    standin.unconfirm(standin.updates[0]["update_id"])
    await bot.start()
    # Updates are handled one at a time, in order: once a new command is answered,
    # every update before it has been handled (or skipped).
    await organiser.send("/help")
    await standin.wait_for(lambda: len(standin.sent) > sent)
    await wait_drained(bot)
    await standin.wait_for(lambda: not standin.pending_updates())  # all fetched again

    assert await _counts(bot) == {**before, "outbox": before["outbox"] + 1}
    assert [m.chat_id for m in standin.sent[sent:]] == [organiser.id]
    assert len(standin.callback_answers) == answers
    assert sum(len(m.edits) for m in standin.sent) == edits


async def test_a_hard_kill_at_100_ms_latency_duplicates_at_most_the_window(tmp_path):
    """Over a slow link several sends are in flight; a kill -9 may repeat each of them
    once, and nothing more: the bound is the window (``MAX_WINDOW``)."""
    standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, rolling=True, latency=0.1)
    await standin.start()
    try:
        db_path = tmp_path / "swap.sqlite3"
        users = await seed_swap(str(db_path), standin, 150)
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")

        def served() -> int:
            return sum(1 for m in standin.sent if OPENING in (m.text or ""))

        first = await _start_bot(standin, tmp_path, db_path, "first.log")
        try:
            await open_workshop(organiser, 150)
            await standin.wait_for(lambda: served() >= 40, timeout=60)
        finally:
            first.kill()
            await first.wait()
        assert served() < 150, "the fan-out ended before the kill; the test proves nothing"
        second = await _start_bot(standin, tmp_path, db_path, "second.log")
        try:
            await standin.wait_for(lambda: everyone_has_it(users), timeout=90)
        finally:
            second.terminate()
            await asyncio.wait_for(second.wait(), timeout=30)
        duplicates = sum(openings(user) - 1 for user in users)
        assert duplicates <= MAX_WINDOW, f"{duplicates} people received the opening twice"
        assert standin.limit_violations == []
    finally:
        await standin.stop()
