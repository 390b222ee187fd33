"""Fan-outs for the delivery tests and the benchmark: a swap seeded with many
people straight into the SQLite file, and the organiser's move that owes each a message."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from bot.model import Role
from bot.services.sheets import builtin_version
from bot.standin import BotAPIStandIn, TestUser
from bot.text import Prompts
from storage.db import Database
from tests.support.bot import ORGANISER_ID, RunningBot

OPENING = "Workshop 1 has begun"


async def seed_swap(
    db_path: str, standin: BotAPIStandIn, people: int, *, teams: int = 2, title: str = "Fan-out"
) -> list[TestUser]:
    """A swap in setup, the organiser's current one, with ``people`` consented members.

    The first person of each team is its lead. Each person is a stand-in user who
    has started the bot, so the bot may write to them.
    """
    db = Database(db_path)
    await db.open()
    users = []
    try:
        async with db.transaction() as tx:
            swap = await tx.swaps.create(title, ORGANISER_ID)
            version = builtin_version(Prompts(), ZoneInfo("Europe/London"), swap)
            await tx.organisers.set_current_swap(ORGANISER_ID, swap.id)
            all_teams = [await tx.teams.create(swap.id, f"Team {n + 1}") for n in range(teams)]
            invites = {
                (team.id, role): await tx.invites.create(team.id, role)
                for team in all_teams
                for role in Role
            }
            for n in range(people):
                team = all_teams[n % teams]
                role = Role.LEAD if n < teams else Role.MEMBER
                user = standin.user(first_name=f"Person{n + 1}")
                user.started = True
                person = await tx.people.ensure(user.id, user.first_name)
                await tx.memberships.create(
                    person.id, team.id, swap.id, role, invites[team.id, role].id
                )
                await tx.consents.record(person.id, team.id, role, "agreed", version)
                users.append(user)
    finally:
        await db.close()
    return users


async def open_workshop(organiser: TestUser, people: int) -> None:
    """/advance and Confirm: the move from setup to workshop 1, owed to ``people``."""
    await organiser.send("/advance")
    preview = await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()), timeout=30)
    assert f"to {people} people" in preview.text
    # The move is written in the same transaction as the answer: 20,000 rows take seconds.
    await organiser.expect_answer(await organiser.press("Confirm"), timeout=30)


def openings(user: TestUser) -> int:
    """How many copies of the message opening workshop 1 the user has received."""
    return sum(1 for m in user.texts if OPENING in (m.text or ""))


def everyone_has_it(users: list[TestUser]) -> bool:
    return all(openings(user) for user in users)


async def wait_drained(bot: RunningBot, timeout: float = 30) -> None:
    """Wait until nothing in the outbox is pending.

    The database is polled: the stand-in sees a send before the bot records it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await bot.outbox_drained():
        assert loop.time() < deadline, f"messages still pending after {timeout}s"
        await asyncio.sleep(0.05)


async def seeded_bot(
    standin: BotAPIStandIn, tmp_path, people: int
) -> tuple[RunningBot, list[TestUser]]:
    """The real bot, started on a fresh file seeded with ``people`` members."""
    db_path = str(tmp_path / "swap.sqlite3")
    users = await seed_swap(db_path, standin, people)
    bot = RunningBot(standin, db_path, {ORGANISER_ID})
    await bot.start()
    return bot, users
