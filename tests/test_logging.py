"""What the bot writes to its log at the default level: one line per event that
matters, and never what anyone wrote, who they are, their Telegram id or the token."""

from __future__ import annotations

import asyncio
import json

from tests.support.bot import ORGANISER_ID, TOKEN, start_bot_process
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    links_in,
    set_up,
    withdraw,
    write_and_confirm,
)


async def run_logged(standin, tmp_path, log_format: str, steps) -> str:
    """Run ``python -m bot`` with LOG_FORMAT, play ``steps``; return what it logged."""
    log_path = tmp_path / "bot.log"
    process = await start_bot_process(standin, tmp_path, log_path, LOG_FORMAT=log_format)
    try:
        await steps()
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
    return log_path.read_text()


async def test_log_format_json_writes_one_object_per_line(standin, tmp_path):
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")

    async def steps():
        await create_swap(organiser, "Shipped logs", ["North", "South"])
        await join(standin.user(first_name="Jonas"), (await member_token(organiser)))

    text = await run_logged(standin, tmp_path, "json", steps)
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    messages = "\n".join(e["message"] for e in entries)
    assert "Started as @" in messages and "joined team" in messages
    for secret in (TOKEN, "Jonas", "Olivia", "Shipped logs", str(ORGANISER_ID)):
        assert secret not in text


async def member_token(organiser) -> str:
    """The member token of the last team the organiser added."""
    last = next(m for m in reversed(organiser.texts) if "start=" in (m.text or ""))
    return links_in(last.text)["member"]


async def test_the_log_tells_events_and_nothing_about_people(standin, tmp_path):
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia", username="olivia_r")
    people = {}

    async def steps():
        people.update(await set_up(standin, organiser, "Logged swap", ["North", "South"]))
        await advance(organiser)
        await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
        await write_and_confirm(people["South", "member"], DILEMMAS["West"], "/propose")
        member = people["South", "member"]
        await withdraw(member)

    text = await run_logged(standin, tmp_path, "text", steps)
    for event in (
        "Started as @",
        "joined team",
        "moved from setup to dilemma",
        "dilemma was confirmed",
        "proposal was confirmed",
        "withdrew",
    ):
        assert event in text, event
    secrets = [
        TOKEN,
        "Logged swap",
        DILEMMAS["North"][:30],
        DILEMMAS["West"][:30],
        "olivia_r",
        "Olivia",
        str(ORGANISER_ID),
    ]
    for user in people.values():
        secrets += [user.first_name, str(user.id)]
    for secret in secrets:
        assert secret not in text, f"the log holds {secret!r}"


async def test_updates_python_telegram_bot_cannot_read_are_not_logged_raw(standin, tmp_path):
    """Issue 19, item 16: python-telegram-bot logs a batch it cannot parse at CRITICAL,
    raw (names, ids, words); the log policy holds there too."""
    log_path = tmp_path / "bot.log"
    process = await start_bot_process(standin, tmp_path, log_path)
    try:
        standin._push_update(
            {
                "message": {
                    "message_id": 1,
                    "from": {"id": 555123, "is_bot": False, "first_name": "Ignatius"},
                    "chat": {"id": 555123, "type": "private", "first_name": "Ignatius"},
                    "date": "a date no parser reads",
                    "text": "Our secret budget words",
                }
            }
        )
        for _ in range(600):
            if "could not read" in log_path.read_text():
                break
            await asyncio.sleep(0.05)
    finally:
        process.kill()
        await asyncio.wait_for(process.wait(), timeout=30)
    text = log_path.read_text()
    assert "could not read" in text
    for secret in ("Ignatius", "555123", "secret budget"):
        assert secret not in text
