"""``python -m benchmarks.languages [--people N]``: what languages and time zones cost.

Each person now reads our words in their own language and zone, so a move that
owes N people finds each one's reader (one query each) and puts the words
together once per reader. This prints, for a swap of ``--people`` people in two
teams (one in Welsh, in another zone): the time to find every reader, the time to
put one workshop opening together for everyone, and a prompt's rendering in
English and in Welsh (each rendered once, then reused). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

from bot.services.core import Core  # noqa: E402
from bot.standin import BotAPIStandIn  # noqa: E402
from bot.text import Prompts  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.support.bot import BOT_USERNAME, ORGANISER_ID, TOKEN  # noqa: E402
from tests.support.fanout import seed_swap  # noqa: E402


async def measure(people: int) -> dict[str, float]:
    standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "swap.sqlite3")
        users = await seed_swap(path, standin, people)
        db = Database(path)
        await db.open()
        try:
            async with db.transaction() as tx:
                team = (await tx.teams.of_swap(1))[1]
                await tx.teams.set_timezone(team.id, "America/Argentina/Buenos_Aires")
                for _, person in await tx.memberships.of_team(team.id):
                    await tx.people.set_language(person.id, "cy")
            core = Core(db, Prompts(), frozenset({ORGANISER_ID}), BOT_USERNAME, ZoneInfo("UTC"))
            chats = [u.id for u in users]
            async with db.read() as tx:
                start = time.perf_counter()
                for chat in chats:
                    await core.reader(tx, chat)
                readers = time.perf_counter() - start

                async def opening(chat: int) -> str:
                    return core.html("phase/dilemma_member", title="Swap", dates="")

                start = time.perf_counter()
                made = await core.in_each_language(tx, chats, opening)
                together = time.perf_counter() - start
        finally:
            await db.close()
    assert len(made) == people
    render = {}
    for language in ("en", "cy"):
        prompts = Prompts().in_language(language)
        start = time.perf_counter()
        prompts.html("phase/dilemma_member", title="Swap", dates="")
        first = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(1000):
            prompts.html("phase/dilemma_member", title="Swap", dates="")
        render[language] = (first, (time.perf_counter() - start) / 1000)
    return {
        "find every reader (ms)": readers * 1000,
        "per person (µs)": readers / people * 1e6,
        "opening for everyone, made once per reader (ms)": together * 1000,
        "render en, first (ms)": render["en"][0] * 1000,
        "render en, again (µs)": render["en"][1] * 1e6,
        "render cy, first (ms)": render["cy"][0] * 1000,
        "render cy, again (µs)": render["cy"][1] * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()
    for name, value in asyncio.run(measure(args.people)).items():
        print(f"{name}: {value:.2f}")


if __name__ == "__main__":
    main()
