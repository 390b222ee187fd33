"""Delivery when something under it fails: the database, or Telegram's HTML parser.

The database faults are real: a second connection to the bot's SQLite file takes
the outbox table away for a moment, or adds a trigger that refuses to mark a row
sent, as a full disk would. (Holding ``BEGIN EXCLUSIVE`` would not do: in WAL mode
readers are not blocked by a writer.) What the worker says about a fault is read
from its log, the one thing that tells when the fault has been met.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiosqlite
import pytest

from bot.services.core import keyboard
from tests.support.bot import rows
from tests.support.fanout import wait_drained

DELIVERY_LOG = "bot.delivery.worker"


async def eventually(predicate: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds, checking often: for what the stand-in does not see."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.02)


def logged(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    """The delivery worker's log records containing ``words``."""
    return [r for r in caplog.records if r.name == DELIVERY_LOG and words in r.getMessage()]


async def test_delivery_carries_on_after_the_database_failed_under_it(
    bot, standin, organiser, caplog
):
    caplog.set_level(logging.INFO, logger=DELIVERY_LOG)
    async with aiosqlite.connect(bot.db_path) as other:
        await other.execute("ALTER TABLE outbox RENAME TO outbox_away")
        bot.application.bot_data["delivery"].wake()  # look at the outbox now
        await eventually(
            lambda: logged(caplog, "Delivery failed"), "the worker reports the failed read"
        )
        await other.execute("ALTER TABLE outbox_away RENAME TO outbox")

    failure = logged(caplog, "Delivery failed")[0]
    assert failure.levelno == logging.ERROR and failure.exc_info, "logged with its traceback"
    await organiser.send("/help")
    await organiser.expect("/advance")
    await bot.stop()  # cleanly


async def test_a_delivery_whose_record_fails_is_recorded_later_not_sent_again(
    bot, standin, organiser, caplog
):
    caplog.set_level(logging.INFO, logger=DELIVERY_LOG)
    async with aiosqlite.connect(bot.db_path) as other:
        await other.execute(
            "CREATE TRIGGER disk_full BEFORE UPDATE OF status ON outbox"
            " WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        await organiser.send("/help")
        reply = await organiser.expect("/advance")

        def copies() -> int:
            return sum(1 for m in organiser.texts if m.text == reply.text)

        # Sending it again would take about a second at most; the record is
        # tried three times in 1.5 s.
        await eventually(
            lambda: copies() > 1 or len(logged(caplog, "Could not record")) >= 3,
            "a second copy, or three failed records",
        )
        assert copies() == 1
        await other.execute("DROP TRIGGER disk_full")

    await wait_drained(bot)
    assert copies() == 1
    assert await rows(
        bot, "SELECT status, message_id FROM outbox WHERE chat_id = ?", organiser.id
    ) == [("sent", reply.message_id)]
    assert logged(caplog, "Recorded 1 delivered message")


async def test_a_message_telegram_cannot_parse_goes_as_plain_text_with_its_buttons(bot, standin):
    person = standin.user(first_name="Pat")
    person.started = True
    async with bot.db.transaction() as tx:
        await tx.outbox.add(
            person.id, "<b>Shall we <i>go on?</b>", keyboard([[("Yes", "go:yes"), ("No", "go:no")]])
        )

    message = await person.expect("Shall we go on?")
    assert message.parse_mode is None
    assert message.button_labels() == ["Yes", "No"]
    await wait_drained(bot)
    assert len(person.messages) == 1


async def test_a_document_whose_caption_cannot_be_parsed_still_arrives(bot, standin):
    person = standin.user(first_name="Pat")
    person.started = True
    async with bot.db.transaction() as tx:
        await tx.outbox.add(
            person.id,
            "Your <b>export</i> is ready",
            document_name="swap.csv",
            document=b"team,response\nNorth,Yes\n",
        )

    document = await person.expect_document(contains="swap.csv")
    assert document.content == b"team,response\nNorth,Yes\n"
    assert document.caption == "Your export is ready" and document.parse_mode is None
    await wait_drained(bot)
    assert len(person.messages) == 1
