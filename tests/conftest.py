"""Fixtures: the Bot API stand-in, and the real bot polling it with a real SQLite file."""

from __future__ import annotations

import os
import re

import pytest
from telegram import Update

from bot.app import build_application
from bot.config import Settings
from bot.delivery import Limits
from storage.db import Database
from tests.standin import BotAPIStandIn

TOKEN = "123456:AAH-test-token-for-the-stand-in-0123"
BOT_USERNAME = "dilemma_swap_test_bot"
ORGANISER_ID = 900001


class RunningBot:
    """The real Application, started and stopped the way ``run_polling`` does."""

    def __init__(self, standin: BotAPIStandIn, db_path: str, organisers: set[int],
                 limits: Limits | None = None) -> None:
        self.standin = standin
        self.db_path = db_path
        self.organisers = organisers
        # The stand-in's limits decide: real ones (tests marked ``paced``) or none.
        self.limits = limits or (Limits() if getattr(standin, "paced", True)
                                 else Limits.unpaced())
        self.application = None

    def settings(self) -> Settings:
        return Settings(TELEGRAM_BOT_TOKEN=TOKEN,
                        ORGANISER_IDS=",".join(str(o) for o in sorted(self.organisers)),
                        DATABASE_PATH=self.db_path,
                        TELEGRAM_API_BASE_URL=self.standin.base_url)

    async def start(self) -> None:
        app = build_application(self.settings(), self.limits)
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0, timeout=2,
                                        allowed_updates=Update.ALL_TYPES)
        await app.start()
        self.application = app

    async def stop(self) -> None:
        app = self.application
        if app is None:
            return
        self.application = None
        await app.updater.stop()
        await app.stop()
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def db(self) -> Database:
        assert self.application is not None
        return self.application.bot_data["db"]

    async def outbox_drained(self) -> bool:
        async with self.db.read() as tx:
            return (await tx.outbox.counts()).get("pending", 0) == 0


def clean_env(**settings: str) -> dict[str, str]:
    """A clean environment: no settings but those given, no path to the repo."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH",) and not k.startswith(("TELEGRAM_", "ORGANISER_",
                                                              "DATABASE_", "TIMEZONE",
                                                              "WEBHOOK_"))}
    env.update(settings)
    return env



async def rows(bot: RunningBot, sql: str, *params) -> list[tuple]:
    """Rows of a query on the running bot's database, as tuples."""
    async with bot.db.conn.execute(sql, params) as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def execute(bot: RunningBot, sql: str, *params) -> None:
    """Change the running bot's database in a transaction of its own, as data from
    elsewhere (an older version, another tool) would be."""
    async with bot.db.transaction() as tx:
        await tx.people.conn.execute(sql, params)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "paced: runs at Telegram's real limits, in the bot and in the stand-in "
        "(tests about pacing, flood limits and restarts); all others run unpaced")


@pytest.fixture
async def standin(request):
    """The stand-in: with Telegram's limits for ``paced`` tests, else with limits so
    high that no test waits on them (they are still enforced, and a breach fails)."""
    if request.node.get_closest_marker("paced"):
        server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME)
    else:
        server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, global_capacity=10_000,
                               global_rate=10_000, chat_capacity=10_000, chat_rate=10_000,
                               group_limit=10_000)
    server.paced = request.node.get_closest_marker("paced") is not None
    await server.start()
    yield server
    await server.stop()
    assert server.internal_errors == [], "the stand-in itself failed"


@pytest.fixture
async def bot(standin, tmp_path):
    running = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID})
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def organiser(standin):
    return standin.user(user_id=ORGANISER_ID, first_name="Olivia", username="olivia_res")


LINK = re.compile(r"https://t\.me/" + BOT_USERNAME + r"\?start=([A-Za-z0-9_-]+)")


def links_in(text: str) -> dict[str, str]:
    """The lead and member tokens of an /addteam answer, by the word on their line."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = LINK.search(line)
        if match:
            role = "lead" if "lead" in line.lower() else "member" if "member" in line.lower() \
                else None
            assert role is not None, f"a link on a line naming no role: {line!r}"
            found[role] = match.group(1)
    return found


async def create_swap(organiser, title: str, teams: list[str]) -> dict[str, dict[str, str]]:
    """Create a swap and its teams; return each team's lead and member tokens."""
    await organiser.send(f"/newswap {title}")
    await organiser.expect(title)
    tokens = {}
    for team in teams:
        await organiser.send(f"/addteam {team}")
        message = await organiser.expect(lambda m, t=team: t in m.text and "start=" in m.text)
        tokens[team] = links_in(message.text)
        assert set(tokens[team]) == {"lead", "member"}
    return tokens


async def join(user, token: str) -> None:
    """Start with a token, read the information sheet, agree, get the receipt."""
    await user.send(f"/start {token}")
    await user.expect(lambda m: any("I agree" in b for b in m.button_labels()))
    await user.press("I agree")
    await user.expect(lambda m: "consent" in m.text.lower() or "agreed" in m.text.lower())
