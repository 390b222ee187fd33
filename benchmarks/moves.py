"""``python -m benchmarks.moves``: what each phase move sends each person, and how
long a whole programme's move takes at Telegram's rate.

A swap of ``--teams`` teams of ``--team-size`` (60 of 5 by default: 300 people,
a ×10 programme's day) is played through every move by the real bot against the
Bot API stand-in, with Telegram's limits counted as rolling windows. What people
write between moves goes straight into the database, as if they had written
and confirmed it: the figures are about what the moves send. For each move it
prints messages and notifications per person (the most anyone got, and the
mean), the whole move's messages, how long the stand-in took to receive them
all from the organiser's Confirm, and any 429.

Nothing is asserted: the figures are for the README. To measure an earlier
version, run this file with that version's checkout first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

from bot.model import Kind, Role  # noqa: E402
from bot.standin import BotAPIStandIn  # noqa: E402
from tests.support.bot import BOT_USERNAME, ORGANISER_ID, TOKEN, RunningBot  # noqa: E402
from tests.support.fanout import seed_swap  # noqa: E402

# Words of a realistic length: a dilemma and a consolidated response run to a
# paragraph or two, an individual response to one.
DILEMMA = "Who should hold the whole picture for a family when three services each own a part? " * 4
ANSWER = "We would ask the family first and write down who holds the plan, so nobody guesses. " * 5
TEAM_RESPONSE = "Our consolidated view: one plan, one lead, chosen with the family, reviewed. " * 10
REFLECTION = "Working on theirs showed us what we take for granted in ours. " * 3


async def measure(args: argparse.Namespace) -> list[dict]:
    people = args.teams * args.team_size
    folder = Path(tempfile.mkdtemp(prefix="moves-"))
    standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, rolling=True)
    await standin.start()
    users = await seed_swap(str(folder / "swap.sqlite3"), standin, people, teams=args.teams)
    bot = RunningBot(standin, str(folder / "swap.sqlite3"), {ORGANISER_ID})
    await bot.start()
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    ids = {user.id for user in users}
    figures = []
    try:

        async def move(step: str) -> None:
            organiser.skip_all()
            await organiser.send("/advance force")
            preview = await organiser.expect(
                lambda m: any("Confirm" in b for b in m.button_labels()), timeout=120
            )
            before, refused = len(standin.sent), len(standin.limit_violations)
            started = time.monotonic()
            await organiser.press_data(preview.callback_data("Confirm") or "", message=preview)
            # The organiser's answer is written with the move's messages: once it
            # is here, everything the move owes is in the outbox.
            await organiser.expect(lambda m: m is not preview and not m.buttons, timeout=120)
            while True:
                await asyncio.sleep(0.1)
                if await bot.outbox_drained():
                    break
            took = time.monotonic() - started
            got: dict[int, list] = {}
            for message in standin.sent[before:]:
                if message.chat_id in ids:
                    got.setdefault(message.chat_id, []).append(message)
            counts = [len(got.get(i, [])) for i in ids]
            loud = [sum(not getattr(m, "silent", False) for m in got.get(i, [])) for i in ids]
            figures.append(
                {
                    "move": step,
                    "messages": sum(counts),
                    "per person (max)": max(counts),
                    "per person (mean)": round(statistics.mean(counts), 2),
                    "notifications (max)": max(loud),
                    "notifications (mean)": round(statistics.mean(loud), 2),
                    "seconds": round(took, 1),
                    "429": len(standin.limit_violations) - refused,
                }
            )
            print(_line(figures[-1]), flush=True)
            if args.verbose:
                print("   ", [m.text[:80] for m in organiser.texts[-3:]])

        async def write(kind: Kind, text: str, who: str, **where) -> None:
            """Everyone of a role in every team writes and confirms ``text``."""
            async with bot.db.transaction() as tx:
                swap_id = (await tx.organisers.current_swap_id(ORGANISER_ID)) or 0
                recipients = await tx.allocations.get(swap_id)
                receiver_of = {r: p for p, r in recipients.items()}
                for team in await tx.teams.of_swap(swap_id):
                    for membership, person in await tx.memberships.of_team(team.id):
                        if who != "all" and (membership.role is Role.LEAD) != (who == "lead"):
                            continue
                        draft = await tx.contributions.add_draft(
                            swap_id,
                            team.id,
                            person.id,
                            kind,
                            text,
                            about_team_id=receiver_of.get(team.id)
                            if kind in (Kind.ANSWER, Kind.TEAM_RESPONSE)
                            else None,
                            **where,
                        )
                        await tx.contributions.confirm(draft.id)

        await move("workshop 1 opens")
        await write(Kind.DILEMMA, DILEMMA, "lead")
        await move("workshop 2: the dilemmas are swapped")
        await write(Kind.ANSWER, ANSWER, "member")
        await write(Kind.TEAM_RESPONSE, TEAM_RESPONSE, "lead")
        await move("workshop 3: the responses return")
        await write(Kind.REFLECTION, REFLECTION, "all", round=1)
        await move("reflection round 2")
        await move("reflection round 3")
        await move("the swap closes")
    finally:
        await bot.stop()
        await standin.stop()
    return figures


def _line(figure: dict) -> str:
    return " · ".join(f"{key}: {value}" for key, value in figure.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=60)
    parser.add_argument("--team-size", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="show the organiser's answers")
    args = parser.parse_args()
    print(f"{args.teams} teams of {args.team_size}, at Telegram's rate (rolling windows)")
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
