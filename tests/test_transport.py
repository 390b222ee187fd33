"""How the bot calls the Bot API: over aiohttp (``bot/delivery/transport.py``), or, with
``HTTP_CLIENT=httpx``, over python-telegram-bot's own httpx client."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.delivery.transport import AiohttpRequest
from tests.support.bot import ORGANISER_ID, TOKEN, RunningBot
from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm

CLASSES = {"aiohttp": "AiohttpRequest", "httpx": "HTTPXRequest"}


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
async def test_a_swap_runs_the_same_over_either_client(
    standin, organiser, tmp_path, client, recwarn
):
    running = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID})
    running.http_client = client
    await running.start()
    try:
        assert type(running.application.bot.request).__name__ == CLASSES[client]
        people = await set_up(standin, organiser, "Transport", ["North", "South"])
        await advance(organiser)
        lead = people["North", "lead"]
        receipt = await write_and_confirm(lead, DILEMMAS["North"], "/dilemma")
        assert DILEMMAS["North"][:40] in receipt.text
        assert "<" not in receipt.text, "the HTML was read as formatting"
        # A file goes as multipart form data, whatever carries the rest.
        await organiser.send("/export")
        document = await organiser.expect_document(contains=".csv", timeout=20)
        assert DILEMMAS["North"][:40].encode() in document.content
        # The worker's untyped calls (sends, edits, button removals) warn nobody.
        assert not [w for w in recwarn if issubclass(w.category, PTBUserWarning)]
    finally:
        await running.stop()


async def test_unanswered_refused_and_dropped_calls_become_telegram_errors(standin):
    person = standin.user(first_name="Pat")
    person.started = True
    async with Bot(
        TOKEN, base_url=standin.base_url, request=AiohttpRequest(read_timeout=0.3)
    ) as bot:
        standin.hang_next("sendMessage")
        with pytest.raises(TimedOut):
            await bot.send_message(person.id, "never answered")
        standin.drop_next("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(person.id, "cut off")
        with pytest.raises(BadRequest, match="parse"):
            await bot.send_message(person.id, "<b>unclosed", parse_mode="HTML")
        # The pool is none the worse: the next call goes through.
        sent = await bot.send_message(person.id, "and now <i>this</i>", parse_mode="HTML")
    assert sent.text == "and now this"
    assert [m.text for m in person.messages] == ["and now this"]


def test_the_proxy_the_environment_names_is_used_except_where_it_is_bypassed(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest()
    assert request._proxy("https://api.telegram.org/bot1:x/getMe") == "http://proxy.example:3128"
    assert request._proxy("http://127.0.0.1:8081/bot1:x/getMe") is None
    assert request._proxy("http://api.telegram.org/bot1:x/getMe") is None  # no HTTP_PROXY
