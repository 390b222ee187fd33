"""``python benchmarks/purge.py [--people N] [--each K]``: how long purging a closed
swap takes (``storage.purge``, as ``python -m bot purge`` and a swap's retention do
it), with N people each of K contributions. The purge holds the database's write
lock throughout, so the running bot waits that long to write: it must stay short.
Never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.model import Decision, Kind, Phase, Role
from storage.db import Database
from storage.purge import purge


async def seed(path: Path, people: int, each: int) -> None:
    """A closed swap of ten teams, ``people`` members with ``each`` answers apiece."""
    db = Database(path)
    await db.open()
    try:
        async with db.transaction() as tx:
            swap = await tx.swaps.create("Purged", 1)
            teams = [await tx.teams.create(swap.id, f"Team {n}") for n in range(10)]
            invites = {t.id: await tx.invites.create(t.id, Role.MEMBER) for t in teams}
            for n in range(people):
                team = teams[n % 10]
                person = await tx.people.ensure(10_000 + n, f"Person {n}")
                await tx.memberships.create(
                    person.id, team.id, swap.id, Role.MEMBER, invites[team.id].id
                )
                await tx.consents.record(person.id, team.id, Role.MEMBER, Decision.AGREED, "v")
                for _ in range(each):
                    draft = await tx.contributions.add_draft(
                        swap.id, team.id, person.id, Kind.ANSWER, "words " * 80
                    )
                    await tx.contributions.confirm(draft.id)
            await tx.swaps.set_phase(swap.id, Phase.CLOSED)
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--each", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "purge.sqlite3"
        asyncio.run(seed(path, args.people, args.each))
        started = time.perf_counter()
        gone = asyncio.run(purge(path, 1, reason="benchmark"))
        took = time.perf_counter() - started
    print(
        f"purged {gone['contributions']:,} contributions and {gone['people']:,} people"
        f" in {took:.2f} s (the write lock held as long)"
    )


if __name__ == "__main__":
    main()
