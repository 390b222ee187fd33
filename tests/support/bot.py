"""The real bot, run in the test's own event loop against the stand-in, and
ways to look into its database."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Update

from bot.app import build_application
from bot.config import Settings
from bot.delivery.worker import Limits
from bot.services import Services
from bot.standin import BotAPIStandIn
from storage.db import Database

TOKEN = "123456:AAH-test-token-for-the-stand-in-0123"
BOT_USERNAME = "dilemma_swap_test_bot"
ORGANISER_ID = 900001


# A Monday morning in term time, in London (GMT): where a ``timed`` test's clock starts.
MONDAY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    """A moment written as ISO, in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class FakeClock:
    """Time under the test's control: it moves only when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class RunningBot:
    """The real Application, started and stopped the way ``run_polling`` does."""

    def __init__(
        self,
        standin: BotAPIStandIn,
        db_path: str,
        organisers: set[int],
        limits: Limits | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.standin = standin
        self.clock = clock
        self.prompts_dir: str | None = None  # a folder of prompts of the test's own
        self.db_path = db_path
        self.organisers = organisers
        # The stand-in's limits decide: real ones (tests marked ``paced``) or none.
        self.limits = limits or (Limits() if getattr(standin, "paced", True) else Limits.unpaced())
        self.application = None
        self.http_client = "aiohttp"

    def settings(self) -> Settings:
        return Settings(
            TELEGRAM_BOT_TOKEN=TOKEN,
            ORGANISER_IDS=",".join(str(o) for o in sorted(self.organisers)),
            DATABASE_PATH=self.db_path,
            TELEGRAM_API_BASE_URL=self.standin.base_url,
            PROMPTS_DIR=self.prompts_dir or "",
            HTTP_CLIENT=self.http_client,
        )

    async def start(self) -> None:
        app = build_application(self.settings(), self.limits, self.clock)
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(
            poll_interval=0, timeout=2, allowed_updates=Update.ALL_TYPES
        )
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
    def services(self) -> Services:
        assert self.application is not None
        return self.application.bot_data["services"]

    @property
    def db(self) -> Database:
        assert self.application is not None
        return self.application.bot_data["db"]

    async def outbox_drained(self) -> bool:
        async with self.db.read() as tx:
            return (await tx.outbox.counts()).get("pending", 0) == 0


def clean_env(**settings: str) -> dict[str, str]:
    """A clean environment: no settings but those given, no path to the repo."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH",)
        and not k.startswith(("TELEGRAM_", "ORGANISER_", "DATABASE_", "TIMEZONE", "WEBHOOK_"))
    }
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


async def start_bot_process(
    standin: BotAPIStandIn, cwd: Path, log: Path | None = None, **settings: str
) -> asyncio.subprocess.Process:
    """``python -m bot`` serving against the stand-in, as the test's organiser's bot,
    its output written to ``log`` (or dropped)."""
    env = clean_env(
        TELEGRAM_BOT_TOKEN=TOKEN,
        ORGANISER_IDS=str(ORGANISER_ID),
        TELEGRAM_API_BASE_URL=standin.base_url,
        **settings,
    )
    if log is None:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=cwd, env=env, stdout=out, stderr=out
        )


async def run_cli(cwd: Path, *args: str, **settings: str) -> tuple[int, str]:
    """``python -m bot <args>`` as a real process in a clean environment: its exit code
    and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=clean_env(**settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode()


# A stand-in without Telegram's pacing (its limits so high that no test waits on
# them, still enforced): for every test that is not about pacing.
UNPACED = {
    "global_capacity": 10_000,
    "global_rate": 10_000,
    "chat_capacity": 10_000,
    "chat_rate": 10_000,
    "group_limit": 10_000,
}
