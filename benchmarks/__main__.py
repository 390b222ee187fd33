"""``python -m benchmarks``: figures for capacity, each beside its aim, and as JSON.

Never part of the test suite: the machines are shared and noisy, so nothing is
asserted; every figure is measured in the same run as its baseline. It starts
the real bot (``python -m bot``) against the Bot API stand-in, which counts
Telegram's limits as rolling windows and can add a round trip (``--latency``).

- fan-out to 300 and 1,000 people at 0 ms and 100 ms a call: messages a second as
  a fraction of 30, and 429s; beside it python-telegram-bot's own
  ``AIORateLimiter`` sending as many messages (what a developer would pick);
- reply time (p50, p95) for someone writing while a 1,000-person fan-out runs;
- CPU per update for a mixed workload (join, consent, write, preview, confirm),
  beside a bare python-telegram-bot bot answering each message;
- CPU per update when 60 and 333 people act at once (join, agree, write,
  confirm, all in the same few seconds, so that the outbox fills while
  Telegram's rate holds the replies back), beside the bare bot given as many
  messages at once;
- the bot's CPU per send while 100, 2,000 and 20,000 messages wait: what a send
  costs must not grow with what waits behind it;
- resident memory with 2,000 members, start-up time, export of 1,000 contributions.

``--scale 10`` multiplies the work, so that a cost growing faster than it shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from telegram.ext import AIORateLimiter, ExtBot  # noqa: E402

from benchmarks.fanout import fan_out  # noqa: E402
from benchmarks.running import polling, start  # noqa: E402
from bot.model import Kind  # noqa: E402
from bot.research import qdpx  # noqa: E402
from bot.services.core import Core  # noqa: E402
from bot.services.export import Export  # noqa: E402
from bot.standin import BotAPIStandIn, TestUser  # noqa: E402
from bot.text import Prompts  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.support.bot import ORGANISER_ID, TOKEN  # noqa: E402
from tests.support.fanout import open_workshop, seed_swap  # noqa: E402

TELEGRAM_RATE = 30.0
# People in each team of the CPU workload: a local authority's leadership team.
# Each proposal is shared with the proposer's team, so one team of everyone
# would measure a broadcast growing with the square of the people, not updates.
TEAM_SIZE = 5
# Seconds between a reply and the writer's next message (see reply_times).
WRITER_PAUSE = 1.0
BARE_BOT = Path(__file__).with_name("bare_bot.py")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process so far, all its threads (Linux), to the nanosecond.

    That is the process's CPU clock, which Linux names by its pid (what glibc's
    ``clock_getcpuclockid`` returns, which Python does not offer). ``/proc``'s
    figures count hundredths of a second: too coarse for a baseline that spends
    a tenth of a second in all.
    """
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now, or at its highest so far with ``VmHWM``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def baseline_fan_out(people: int, latency: float) -> dict:
    """python-telegram-bot's AIORateLimiter sending ``people`` messages at once."""
    async with BotAPIStandIn(token=TOKEN, rolling=True, latency=latency) as standin:
        users = [standin.user(first_name=f"Reader{n}") for n in range(people)]
        for user in users:
            user.started = True
        bot = ExtBot(TOKEN, base_url=standin.base_url, rate_limiter=AIORateLimiter())
        async with bot:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(bot.send_message(u.id, "A line of text, as a fan-out sends.") for u in users),
                return_exceptions=True,
            )
            took = time.perf_counter() - started
        delivered = sum(1 for r in results if not isinstance(r, Exception))
        return {
            "rate": delivered / took,
            "429s": len(standin.limit_violations),
            "lost": people - delivered,
        }


async def reply_times(people: int, folder: Path) -> dict:
    """How long someone writing waits for an answer while a fan-out runs."""
    async with BotAPIStandIn(token=TOKEN, rolling=True) as standin:
        db_path = folder / "reply.sqlite3"
        users = await seed_swap(str(db_path), standin, people)
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        process = await start(standin, db_path, folder)
        waits = []
        try:
            await open_workshop(organiser, people)
            writer = users[-1]
            for _ in range(20):
                writer.skip_all()
                sent = time.perf_counter()
                await writer.send("/help")
                await writer.expect(lambda m: "/cancel" in (m.text or ""), timeout=60)
                waits.append(time.perf_counter() - sent)
                # As fast as Telegram lets anyone be answered: it allows a bot at
                # most 3 messages in any 3 seconds to one chat (and this chat also
                # gets the fan-out's message), so someone writing faster than once
                # a second waits on Telegram's limit, whatever the bot does.
                await asyncio.sleep(WRITER_PAUSE)
        finally:
            process.terminate()
            await process.wait()
        return {"p50": statistics.median(waits), "p95": statistics.quantiles(waits, n=20)[18]}


async def teams_in_workshop(organiser: TestUser, people: int) -> list[str]:
    """A swap with a team of ``TEAM_SIZE`` for every five of ``people``, moved
    into workshop 1 with nobody in it yet; each team's members' invitation token."""
    await organiser.send("/newswap CPU")
    await organiser.expect("CPU")
    tokens = []
    for t in range(math.ceil(people / TEAM_SIZE)):
        await organiser.send(f"/addteam Team {t + 1}")
        links = await organiser.expect(f"Team {t + 1}")
        tokens.append(
            next(
                line.split("start=")[1].split()[0]
                for line in links.text.splitlines()
                if "member" in line.lower() and "start=" in line
            )
        )
    await organiser.send("/advance force")
    await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
    await organiser.press("Confirm")
    await organiser.expect("forced")
    return tokens


async def join_and_contribute(user: TestUser, token: str, n: int, timeout: float) -> None:
    """One person's four updates: /start, I agree, a candidate dilemma, Confirm;
    each waited for as a person on a phone would."""
    await user.send(f"/start {token}")
    sheet = await user.expect(lambda m: "I agree" in " ".join(m.button_labels()), timeout)
    await user.press("I agree")
    # The sheet becomes the receipt, which carries the phase's opening.
    await user.expect_edit(sheet, lambda m: "Workshop 1 has begun" in m.text, timeout)
    await user.send(f"A candidate dilemma from person {n}.")
    preview = await user.expect(lambda m: "Confirm" in m.button_labels(), timeout)
    await user.expect_answer(await user.press("Confirm"), timeout)
    await user.expect_edit(preview, lambda m: "Confirm" not in m.button_labels(), timeout)


def pending(db_path: Path) -> int:
    """Messages the bot still owes, read from its file beside it."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


async def acting_at_once(people: int, folder: Path, bare: bool) -> dict:
    """CPU per update when ``people`` act in the same few seconds, as a room does
    when a workshop opens: each joins, agrees, writes and confirms (teams of
    ``TEAM_SIZE``), all at once, against the stand-in holding the bot to
    Telegram's rate, so that the outbox fills while they act. Measured until
    everyone is done and nothing is owed. The bare bot gets as many messages,
    four from each person at once, each waiting for its answer (and no limits:
    it has no pacing, and would only be refused)."""
    async with BotAPIStandIn(token=TOKEN, rolling=True, enforce_limits=not bare) as standin:
        db_path = folder / ("crowd-bare.sqlite3" if bare else "crowd.sqlite3")
        bare_bot = [sys.executable, str(BARE_BOT)]
        process = await start(standin, db_path, folder, program=bare_bot if bare else None)
        # Everyone waits on the rate: at most a message every 1/28 s, several each.
        timeout = people + 60
        try:
            await polling(standin)
            organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
            users = [standin.user(first_name=f"P{n}") for n in range(people)]
            if bare:

                async def act(n: int) -> None:
                    for m in range(4):
                        await users[n].send(f"message {m} from {n}")
                        await users[n].expect(f"message {m} from {n}", timeout)

            else:
                tokens = await teams_in_workshop(organiser, people)

                async def act(n: int) -> None:
                    await join_and_contribute(users[n], tokens[n // TEAM_SIZE], n, timeout)

            before, calls = cpu_seconds(process.pid), len(standin.calls)
            started = time.perf_counter()
            await asyncio.gather(*(act(n) for n in range(people)))
            if not bare:
                await wait_until(lambda: pending(db_path) == 0, timeout)
            took = cpu_seconds(process.pid) - before
            wall = time.perf_counter() - started
            calls = len(standin.calls) - calls
        finally:
            process.terminate()
            await process.wait()
        updates = people * 4
        return {
            "per_update_ms": took / updates * 1000,
            "calls_per_update": calls / updates,
            "all_done_s": wall,
            "429s": len(standin.limit_violations),
        }


async def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` (something outside the stand-in's sight) until it holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the condition did not hold in time")
        await asyncio.sleep(0.05)


async def cost_per_send(backlog: int, folder: Path, sends: int = 300) -> dict:
    """The bot's CPU per message while a backlog of ``backlog`` is waiting: a
    fan-out to that many people (every row written in Confirm's transaction),
    measured over ``sends`` messages once it is under way (at most half the
    backlog, so that it is still there), against the stand-in enforcing
    Telegram's limits."""
    sends = min(sends, backlog // 2)
    async with BotAPIStandIn(token=TOKEN, rolling=True) as standin:
        db_path = folder / f"backlog-{backlog}.sqlite3"
        await seed_swap(str(db_path), standin, backlog)
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        process = await start(standin, db_path, folder)
        try:
            await polling(standin)
            await open_workshop(organiser, backlog)
            await standin.wait_for(lambda: len(standin.sent) >= 10, timeout=120)
            first = len(standin.sent)
            before, started = cpu_seconds(process.pid), time.perf_counter()
            await standin.wait_for(lambda: len(standin.sent) >= first + sends, timeout=120)
            took = cpu_seconds(process.pid) - before
            wall = time.perf_counter() - started
            sent = len(standin.sent) - first
        finally:
            process.terminate()
            await process.wait()
        return {"per_send_ms": took / sent * 1000, "rate": sent / wall}


async def cpu_per_update(people: int, folder: Path, bare: bool) -> dict:
    """CPU seconds per update: joining, agreeing, writing, confirming, in teams of
    ``TEAM_SIZE`` (or, for the bare bot, the same number of messages each answered
    once). Also the Bot API calls each update cost, beside the bare bot's."""
    async with BotAPIStandIn(token=TOKEN, enforce_limits=False) as standin:
        db_path = folder / ("bare.sqlite3" if bare else "cpu.sqlite3")
        bare_bot = [sys.executable, str(BARE_BOT)]
        process = await start(standin, db_path, folder, program=bare_bot if bare else None)
        try:
            await polling(standin)
            organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
            updates = 0
            if bare:
                user = standin.user(first_name="Reader")
                before, calls = cpu_seconds(process.pid), len(standin.calls)
                for n in range(people * 4):
                    await user.send(f"message {n}")
                    await user.expect(f"message {n}")
                updates = people * 4
            else:
                tokens = await teams_in_workshop(organiser, people)
                before, calls = cpu_seconds(process.pid), len(standin.calls)
                joining = contributing = 0
                for n in range(people):
                    user = standin.user(first_name=f"P{n}")
                    since = len(standin.calls)
                    await user.send(f"/start {tokens[n // TEAM_SIZE]}")
                    sheet = await user.expect(lambda m: "I agree" in " ".join(m.button_labels()))
                    await user.press("I agree")
                    # The sheet becomes the receipt, which carries the phase's opening.
                    await user.expect_edit(sheet, lambda m: "Workshop 1 has begun" in m.text)
                    joining += len(standin.writes_to(user.id, since))
                    since = len(standin.calls)
                    await user.send(f"A candidate dilemma from person {n}.")
                    preview = await user.expect(lambda m: "Confirm" in m.button_labels())
                    await user.expect_answer(await user.press("Confirm"))
                    await user.expect_edit(preview, lambda m: "Confirm" not in m.button_labels())
                    contributing += len(standin.writes_to(user.id, since))
                    updates += 4
            took = cpu_seconds(process.pid) - before
            calls = len(standin.calls) - calls
        finally:
            process.terminate()
            await process.wait()
        figures = {
            "per_update_ms": took / max(1, updates) * 1000,
            "calls_per_update": calls / max(1, updates),
        }
        if not bare:
            figures["messages_per_join"] = joining / people
            figures["messages_per_contribution"] = contributing / people
        return figures


async def memory_and_start(people: int, folder: Path) -> dict:
    async with BotAPIStandIn(token=TOKEN, enforce_limits=False) as standin:
        db_path = folder / "memory.sqlite3"
        await seed_swap(str(db_path), standin, people)
        started = time.perf_counter()
        process = await start(standin, db_path, folder)
        try:
            await polling(standin)
            start_up = time.perf_counter() - started
            organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
            await organiser.send("/status")
            await organiser.expect("Fan-out", timeout=60)
            rss = resident_mb(process.pid)
            peak = resident_mb(process.pid, "VmHWM")
        finally:
            process.terminate()
            await process.wait()
        return {"start_s": start_up, "rss_mb": rss, "peak_mb": peak}


async def export_time(contributions: int, folder: Path) -> dict:
    """``python -m bot export`` of a swap holding that many confirmed contributions."""
    async with BotAPIStandIn(token=TOKEN, enforce_limits=False) as standin:
        db_path = folder / "export.sqlite3"
        await seed_swap(str(db_path), standin, 20)
        db = Database(db_path)
        await db.open()
        try:
            async with db.transaction() as tx:
                [swap] = await tx.swaps.created_by(ORGANISER_ID)
                people = [
                    p
                    for t in await tx.teams.of_swap(swap.id)
                    for p in await tx.memberships.of_team(t.id)
                ]
                for n in range(contributions):
                    membership, person = people[n % len(people)]
                    item = await tx.contributions.add_draft(
                        swap.id,
                        membership.team_id,
                        person.id,
                        Kind.REFLECTION,
                        f"Reflection {n}: what working on theirs showed us. " * 3,
                        round=1,
                    )
                    await tx.contributions.confirm(item.id)
        finally:
            await db.close()
        started = time.perf_counter()
        process = await start(
            standin, db_path, folder, "export", "--swap", str(swap.id), "--out", "out"
        )
        await process.wait()
        figures = {"export_s": time.perf_counter() - started}
        figures.update(await export_parts(db_path, swap.id))
        return figures


async def export_parts(db_path: Path, swap_id: int) -> dict[str, float]:
    """The export's parts, each timed in this process: the data files (reading the
    swap, the records, CSV and JSON), the .qdpx, and the report (Markdown and HTML)."""
    db = Database(db_path)
    await db.open_read_only()
    try:
        core = Core(db, Prompts(None), frozenset(), "", ZoneInfo("Europe/London"))
        export = Export(core)
        async with db.read() as tx:
            started = time.perf_counter()
            gathered = await export.gather(tx, swap_id)
            records = export.records(gathered)
            export.csv(records)
            json.dumps(records, ensure_ascii=False, indent=2)
            data = time.perf_counter()
            qdpx.qdpx(export.project(gathered, records))
            project = time.perf_counter()
            parts = export.report_parts(gathered, tx.now)
            export.as_markdown(parts)
            export.page(gathered.swap, parts)
            report = time.perf_counter()
    finally:
        await db.close()
    return {"data_s": data - started, "qdpx_s": project - data, "report_s": report - project}


async def main() -> None:
    # The baseline's refused sends are counted below; its own log of each is noise.
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply the work by this")
    parser.add_argument("--json", default="benchmarks.json", help="where to write the figures")
    parser.add_argument(
        "--fanouts",
        default="300,1000",
        help="fan-out sizes before --scale, comma-separated (a long run: fewer)",
    )
    parser.add_argument(
        "--latencies", default="0,0.1", help="seconds a call takes, comma-separated"
    )
    parser.add_argument(
        "--pairs", type=int, default=3, help="CPU measured this many times, ours and bare in turn"
    )
    parser.add_argument(
        "--crowds",
        default="60,333",
        help="people acting at once before --scale, comma-separated",
    )
    parser.add_argument(
        "--backlogs",
        default="100,2000,20000",
        help="outbox backlogs the CPU per send is measured at (not scaled), comma-separated",
    )
    args = parser.parse_args()
    k = args.scale
    rows: list[tuple[str, str, str]] = []
    figures: dict[str, object] = {"scale": k}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for people in (int(n) * k for n in args.fanouts.split(",") if n):
            for latency in (float(x) for x in args.latencies.split(",") if x):
                place = folder / f"fan-out-{people}-{latency}"
                place.mkdir()
                ours = await fan_out(people, place, True, latency)
                theirs = await baseline_fan_out(people, latency)
                key = f"fan-out {people} at {latency * 1000:.0f} ms"
                figures[key] = {"ours": ours, "AIORateLimiter": theirs}
                rows.append(
                    (
                        key,
                        f"{ours['rate'] / TELEGRAM_RATE:.2f} of 30/s, "
                        f"{ours['429s']} × 429 (AIORateLimiter: "
                        f"{theirs['rate'] / TELEGRAM_RATE:.2f}, {theirs['429s']} × 429)",
                        "≥ 0.90, 0 × 429",
                    )
                )
        reply = await reply_times(1000 * k, folder)
        figures["reply during fan-out"] = reply
        rows.append(
            (
                f"reply while {1000 * k:,} fan out (a message a second)",
                f"p50 {reply['p50']:.2f} s, p95 {reply['p95']:.2f} s",
                "p95 ≤ 1 s",
            )
        )
        # Ours and the bare bot in turn, a few times: the median of the ratios
        # sets aside a pair that the shared machine disturbed.
        pairs = []
        for n in range(args.pairs):
            place = folder / f"cpu-{n}"
            place.mkdir()
            ours_cpu = await cpu_per_update(20 * k, place, bare=False)
            bare_cpu = await cpu_per_update(20 * k, place, bare=True)
            ratio = ours_cpu["per_update_ms"] / max(bare_cpu["per_update_ms"], 1e-6)
            pairs.append((ratio, ours_cpu, bare_cpu))
        pairs.sort(key=lambda pair: pair[0])
        ratio, ours_cpu, bare_cpu = pairs[len(pairs) // 2]
        figures["cpu per update"] = {
            "ours": ours_cpu,
            "bare": bare_cpu,
            "ratio": ratio,
            "ratios": [pair[0] for pair in pairs],
        }
        spread = f", of {pairs[0][0]:.1f} to {pairs[-1][0]:.1f}" if len(pairs) > 1 else ""
        rows.append(
            (
                "CPU per update" + (f" (median of {len(pairs)} pairs)" if len(pairs) > 1 else ""),
                f"{ours_cpu['per_update_ms']:.1f} ms, {ours_cpu['calls_per_update']:.1f} calls"
                f" (bare bot {bare_cpu['per_update_ms']:.1f} ms,"
                f" {bare_cpu['calls_per_update']:.1f} calls: × {ratio:.1f}{spread})",
                "≤ 3 × bare",
            )
        )
        rows.append(
            (
                "messages (sends and edits) per contribution",
                f"{ours_cpu['messages_per_contribution']:.1f}",
                "≤ 2",
            )
        )
        rows.append(
            (
                "messages per join (the sheet, then I agree edits it into the receipt)",
                f"{ours_cpu['messages_per_join']:.1f}",
                "sheet and receipt",
            )
        )
        for people in (int(n) * k for n in args.crowds.split(",") if n):
            # In pairs too, as above: the bare bot's own figure moves from run to run.
            crowd_pairs = []
            for n in range(args.pairs):
                place = folder / f"crowd-{people}-{n}"
                place.mkdir()
                ours_crowd = await acting_at_once(people, place, bare=False)
                bare_crowd = await acting_at_once(people, place, bare=True)
                ratio = ours_crowd["per_update_ms"] / max(bare_crowd["per_update_ms"], 1e-6)
                crowd_pairs.append((ratio, ours_crowd, bare_crowd))
            crowd_pairs.sort(key=lambda pair: pair[0])
            ratio, ours_crowd, bare_crowd = crowd_pairs[len(crowd_pairs) // 2]
            key = f"{people:,} people acting at once"
            figures[key] = {
                "ours": ours_crowd,
                "bare": bare_crowd,
                "ratio": ratio,
                "ratios": [pair[0] for pair in crowd_pairs],
            }
            spread = (
                f", of {crowd_pairs[0][0]:.1f} to {crowd_pairs[-1][0]:.1f}"
                if len(crowd_pairs) > 1
                else ""
            )
            rows.append(
                (
                    f"CPU per update, {key} (each: /start, I agree, a text, Confirm)"
                    + (f", median of {len(crowd_pairs)} pairs" if len(crowd_pairs) > 1 else ""),
                    f"{ours_crowd['per_update_ms']:.1f} ms, all done in"
                    f" {ours_crowd['all_done_s']:.0f} s, {ours_crowd['429s']} × 429"
                    f" (bare bot {bare_crowd['per_update_ms']:.1f} ms: × {ratio:.1f}{spread})",
                    "≤ 3 × bare",
                )
            )
        backlogs = [int(n) for n in args.backlogs.split(",") if n]
        sends = {}
        for backlog in backlogs:
            place = folder / f"backlog-{backlog}"
            place.mkdir()
            sends[backlog] = await cost_per_send(backlog, place)
        figures["cpu per send"] = {str(b): f for b, f in sends.items()}
        for backlog, measured in sends.items():
            flat = measured["per_send_ms"] / sends[backlogs[0]]["per_send_ms"]
            rows.append(
                (
                    f"CPU per send with {backlog:,} waiting",
                    f"{measured['per_send_ms']:.2f} ms, {measured['rate']:.0f}/s"
                    f" (× {flat:.2f} of {backlogs[0]:,} waiting;"
                    f" bare bot {bare_cpu['per_update_ms']:.2f} ms an update)",
                    f"≤ 1.5 × at {backlogs[0]:,}",
                )
            )
        memory = await memory_and_start(2000 * k, folder)
        figures["memory and start"] = memory
        rows.append(
            (
                f"resident with {2000 * k:,} members, after /status",
                f"{memory['rss_mb']:.0f} MB (at most {memory['peak_mb']:.0f} MB)",
                "≤ 150 MB",
            )
        )
        rows.append(("start-up", f"{memory['start_s']:.2f} s", "—"))
        exported = await export_time(1000 * k, folder)
        figures["export"] = exported
        rows.append(
            (
                f"export of {1000 * k:,} contributions (process, five files)",
                f"{exported['export_s']:.2f} s",
                "—",
            )
        )
        rows.append(
            (
                "  of which the data files (.csv, .json)",
                f"{exported['data_s']:.2f} s",
                "≤ 2 s at 10,000",
            )
        )
        rows.append(("  the .qdpx", f"{exported['qdpx_s']:.2f} s", "—"))
        rows.append(("  the report (.md, .html)", f"{exported['report_s']:.2f} s", "—"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  figure  (aim)")
    for what, figure, aim in rows:
        print(f"{what:<{width}}  {figure}  ({aim})")
    Path(args.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    asyncio.run(main())
