"""Starting what the benchmarks measure: ``python -m bot`` (or another program) on a
database, pointed at the stand-in, as its own process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import IO

from bot.standin import BotAPIStandIn
from tests.support.bot import ORGANISER_ID, TOKEN

REPO = Path(__file__).resolve().parent.parent


def environment(standin: BotAPIStandIn, db_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "ORGANISER_IDS": str(ORGANISER_ID),
        "TELEGRAM_API_BASE_URL": standin.base_url,
        "DATABASE_PATH": str(db_path),
        "LOG_LEVEL": "WARNING",
    }


async def start(
    standin: BotAPIStandIn,
    db_path: Path,
    folder: Path,
    *arguments: str,
    program: list[str] | None = None,
    log: IO[bytes] | None = None,
) -> asyncio.subprocess.Process:
    """``python -m bot <arguments>`` (or ``program``) in ``folder``; its output to
    ``log``, or nowhere."""
    output = log if log is not None else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        *(program or [sys.executable, "-m", "bot", *arguments]),
        cwd=folder,
        env=environment(standin, db_path),
        stdout=output,
        stderr=output,
    )


async def polling(standin: BotAPIStandIn) -> None:
    """Until the process started has asked for updates: it is up."""
    await standin.wait_for(lambda: any(m == "getUpdates" for m, _ in standin.calls), timeout=60)
