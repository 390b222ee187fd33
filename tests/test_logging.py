"""What the bot writes to its log at the default level: one line per event that
matters, and never what anyone wrote, who they are, their Telegram id or the token."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.support.bot import ORGANISER_ID, TOKEN, clean_env
from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_the_log_tells_events_and_nothing_about_people(standin, tmp_path, log_format):
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=clean_env(
                TELEGRAM_BOT_TOKEN=TOKEN,
                ORGANISER_IDS=str(ORGANISER_ID),
                TELEGRAM_API_BASE_URL=standin.base_url,
                LOG_FORMAT=log_format,
            ),
            stdout=log,
            stderr=log,
        )
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia", username="olivia_r")
        people = await set_up(standin, organiser, "Logged swap", ["North", "South"])
        await advance(organiser)
        await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
        await write_and_confirm(people["South", "member"], DILEMMAS["West"], "/propose")
        member = people["South", "member"]
        await member.send("/withdraw")
        await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
        await member.expect_answer(await member.press("Confirm withdrawal"))
        await member.expect(lambda m: "withdrawn" in m.text)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
    text = log_path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    if log_format == "json":
        entries = [json.loads(line) for line in lines]
        assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
        messages = [e["message"] for e in entries]
    else:
        messages = lines
    events = "\n".join(messages)
    for event in (
        "Started as @",
        "joined team",
        "moved from setup to dilemma",
        "dilemma was confirmed",
        "proposal was confirmed",
        "withdrew",
    ):
        assert event in events, event
    secrets = [
        TOKEN,
        "Logged swap",
        DILEMMAS["North"][:30],
        DILEMMAS["West"][:30],
        "olivia_r",
        "Olivia",
        str(ORGANISER_ID),
    ]
    for user in [*people.values()]:
        secrets += [user.first_name, str(user.id)]
    for secret in secrets:
        assert secret not in text, f"the log holds {secret!r}"
