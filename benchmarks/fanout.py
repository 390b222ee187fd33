"""How fast a fan-out reaches 1,000 people, against the Bot API stand-in.

Run from the repository (with the test dependencies installed)::

    python benchmarks/fanout.py [--people 1000] [--latency 0.1] [--buckets]

It seeds a swap with that many consented members into a fresh SQLite file, starts
``python -m bot`` on it against the stand-in enforcing Telegram's flood limits as
rolling windows (30 in any second overall, 3 in any 3 seconds per chat; with
``--buckets``, the more lenient token buckets), each call taking ``--latency``
seconds as a network round trip would, has the organiser
move the swap into workshop 1 (one message to every member), and prints the rate the
messages arrived at, as a fraction of 30 a second, and how many sends the stand-in
refused with 429. It also measures, in the same run, how fast plain sequential
``send_message`` calls go against a stand-in without limits: the machine's speed,
the ceiling of anything measured here. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from telegram import Bot  # noqa: E402

from benchmarks.running import start  # noqa: E402
from bot.standin import BotAPIStandIn  # noqa: E402
from tests.support.bot import ORGANISER_ID, TOKEN  # noqa: E402
from tests.support.fanout import OPENING, open_workshop, openings, seed_swap  # noqa: E402

TELEGRAM_RATE = 30.0  # messages a second, overall


async def sequential_baseline(count: int) -> float:
    """Messages a second for plain sequential sends to a stand-in without limits."""
    async with BotAPIStandIn(token=TOKEN, enforce_limits=False) as standin:
        users = [standin.user(first_name=f"Reader{n}") for n in range(count)]
        for user in users:
            user.started = True
        async with Bot(TOKEN, base_url=standin.base_url) as bot:
            started = time.perf_counter()
            for user in users:
                await bot.send_message(user.id, "A line of text, as a fan-out sends.")
            return count / (time.perf_counter() - started)


async def fan_out(people: int, folder: Path, rolling: bool, latency: float) -> dict:
    """The real bot's fan-out to ``people`` members; what the stand-in saw."""
    async with BotAPIStandIn(token=TOKEN, rolling=rolling, latency=latency) as standin:
        db_path = folder / "swap.sqlite3"
        users = await seed_swap(str(db_path), standin, people)
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        arrivals: list[float] = []  # when each opening message reached the stand-in
        looked_at = 0

        def everyone_served() -> bool:
            # Called by wait_for after every change, so each arrival is timed.
            nonlocal looked_at
            now = time.perf_counter()
            arrivals.extend(now for m in standin.sent[looked_at:] if OPENING in (m.text or ""))
            looked_at = len(standin.sent)
            return len(arrivals) >= people

        with (folder / "bot.log").open("wb") as log:
            process = await start(standin, db_path, folder, log=log)
        try:
            await open_workshop(organiser, people)
            confirmed = time.perf_counter()
            await standin.wait_for(everyone_served, timeout=people / 5 + 60)
        finally:
            process.terminate()
            await process.wait()
        return {
            "delivered": len(arrivals),
            "people served once": sum(1 for user in users if openings(user) == 1),
            "first to last": arrivals[-1] - arrivals[0],
            "confirm to last": arrivals[-1] - confirmed,
            "rate": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]),
            "429s": len(standin.limit_violations),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--baseline-sends", type=int, default=500)
    parser.add_argument(
        "--buckets",
        action="store_true",
        help="let the stand-in count Telegram's limits as token buckets, "
        "not the stricter rolling windows (30 in any second, 3 in any 3 s)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds each Bot API call takes, as a network round trip",
    )
    args = parser.parse_args()

    baseline = await sequential_baseline(args.baseline_sends)
    with tempfile.TemporaryDirectory() as folder:
        result = await fan_out(args.people, Path(folder), not args.buckets, args.latency)

    print(
        f"baseline: {args.baseline_sends} sequential send_message calls, no limits: "
        f"{baseline:.0f} messages/s ({baseline / TELEGRAM_RATE:.1f} x 30/s)"
    )
    print(
        f"fan-out to {args.people} people, Telegram's limits enforced as "
        f"{'token buckets' if args.buckets else 'rolling windows'}, "
        f"{args.latency * 1000:.0f} ms per call:"
    )
    print(
        f"  delivered          {result['delivered']} messages, "
        f"{result['people served once']} people served exactly once"
    )
    print(
        f"  first to last      {result['first to last']:.1f} s "
        f"(confirm to last: {result['confirm to last']:.1f} s)"
    )
    print(f"  rate               {result['rate']:.1f} messages/s")
    print(f"  fraction of 30/s   {result['rate'] / TELEGRAM_RATE:.3f}")
    print(f"  429s (over limit)  {result['429s']}")


if __name__ == "__main__":
    asyncio.run(main())
