"""Dates, deadlines, reminders and announcements: ``/schedule``, ``/remind``,
``/announce``, and the timetable's jobs when they fall due.

The timetable lives in SQLite (``storage.schedule``); ``bot.timetable`` says
what falls due when. ``tick`` runs every job that is due and has not run, each
in one transaction with what it sends and the record that it ran, so a crash
in the middle of a job can neither lose it nor run it twice. The application
wakes ``tick`` with python-telegram-bot's JobQueue (APScheduler) at the next
due time (``next_due``), at start-up, and whenever the timetable changes
(``on_change``): the database, not the scheduler, says what is owed, so
nothing needs rebuilding after a restart.

A job that fell due while the bot was down runs at the next tick if it is still
of use (a reminder before its deadline, an automatic advance, a note before its
workshop) and is otherwise dropped, and the organiser is told.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from bot import callbacks as cb
from bot.model import Kind, Phase, Role, Swap
from bot.services.core import Core, Mail, Refusal, Who, act
from bot.services.phases import Phases
from bot.text import Html
from bot.timetable import (
    DEADLINE_PHASES,
    Entry,
    Job,
    Quiet,
    RetentionJob,
    Unclear,
    digest_due,
    parse_offsets,
    parse_quiet,
    parse_when,
    plan,
    retention_plan,
    show_offset,
)
from storage.purge import PurgeError, purge
from storage.tx import Tx

log = logging.getLogger(__name__)

ANNOUNCE_LIMIT = 3500
# What counts as contributing in a phase, for reminders.
_CONTRIBUTIONS = {
    Phase.DILEMMA: (Kind.DILEMMA,),
    Phase.RESPONSE: (Kind.ANSWER, Kind.TEAM_RESPONSE),
    Phase.REFLECTION: (Kind.REFLECTION,),
}


def offsets_of(swap: Swap) -> tuple[timedelta, ...]:
    return parse_offsets(swap.reminders.split())


def quiet_of(swap: Swap) -> Quiet:
    return parse_quiet(*swap.quiet.split())


def show_quiet(core: Core, swap: Swap) -> str:
    """The quiet hours as people read them: ``21:00–08:00``, and weekends if so."""
    quiet = quiet_of(swap)
    hours = f"{quiet.start:%H:%M}–{quiet.end:%H:%M}"
    return core.label("quiet_weekends", hours=hours) if quiet.weekends else hours


class Scheduling:
    """``/schedule``, ``/remind``, ``/announce``, and the jobs of the timetable."""

    def __init__(self, core: Core, phases: Phases) -> None:
        self.core = core
        self.phases = phases
        # Called after the timetable changed, so the application can wake up
        # at the new next due time.
        self.on_change: Callable[[], None] = lambda: None
        self._ticking = asyncio.Lock()

    async def jobs(self, tx: Tx, swap: Swap, entries: list[Entry] | None = None) -> list[Job]:
        """The swap's jobs, reminders by the quiet hours of each of its teams' zones."""
        if entries is None:
            entries = await tx.schedule.entries(swap.id)
        zones = [self.core.zone_of(team).key for team in await tx.teams.of_swap(swap.id)]
        return plan(entries, offsets_of(swap), quiet_of(swap), self.core.zone, zones)

    def retention_jobs(self, swap: Swap) -> list[RetentionJob]:
        """A closed swap's warnings before its purge, and the purge."""
        if swap.phase is not Phase.CLOSED or not swap.retention_months or not swap.closed_at:
            return []
        closed = datetime.fromisoformat(swap.closed_at)
        return retention_plan(closed, swap.retention_months, self.core.zone)

    # -- /schedule --------------------------------------------------------------

    @act
    async def schedule(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """List, set or clear the current swap's dates and deadlines."""
        swap = await self.core.current_swap(tx, who)
        if not words:
            await self._list(tx, mail, who, swap)
            return
        first = words[0].lower()
        if first == "clear":
            what = self._what(words[1:])
            if not await tx.schedule.clear(swap.id, what):
                raise Refusal("schedule/nothing_to_clear", what=self._name(what))
            await tx.audit.record(swap.id, who.telegram_id, "schedule_cleared", what=what)
            await mail.send(
                who.telegram_id,
                "schedule/cleared",
                what=self._name(what),
                title=swap.title,
                timetable=await self._timetable(tx, swap),
            )
        else:
            if first == "workshop":
                what, rest = self._what(words[:2]), words[2:]
            else:
                what, rest = self._what(words[:1]), words[1:]
            auto = len(rest) == 3 and rest[2].lower() == "auto"
            if len(rest) != (3 if auto else 2) or (auto and what.startswith("workshop")):
                raise Refusal("schedule/usage")
            try:
                local = parse_when(rest[0], rest[1], self.core.zone, self.core.clock())
            except Unclear as unclear:
                raise Refusal(f"schedule/time_{unclear.reason}") from None
            entry = Entry(what, local, auto)
            if list(Phase).index(swap.phase) > list(Phase).index(entry.phase):
                raise Refusal("schedule/phase_over", what=self._name(what))
            await tx.schedule.set(swap.id, entry, who.telegram_id)
            await tx.audit.record(
                swap.id,
                who.telegram_id,
                "schedule_set_auto" if auto else "schedule_set",
                what=what,
                time=str(local),
            )
            # Reminders whose time has already passed when the deadline is set
            # are not sent: they would arrive as if late.
            now = self.core.clock()
            for job in await self.jobs(tx, swap, [entry]):
                if job.due <= now:
                    await tx.schedule.mark_fired(swap.id, job.key, "skipped: already past")
            await mail.send(
                who.telegram_id,
                "schedule/set",
                what=self._name(what),
                when=self.core.local_when(entry.instant(self.core.zone)),
                auto=self.core.html("schedule/auto_note") if auto else "",
                title=swap.title,
                timetable=await self._timetable(tx, swap),
            )
        self.on_change()

    def _what(self, words: list[str]) -> str:
        """``dilemma``, ``response``, ``reflection`` or ``workshop N``, as stored."""
        if len(words) == 2 and words[0].lower() == "workshop" and words[1] in ("1", "2", "3"):
            return f"workshop{words[1]}"
        if len(words) == 1 and words[0].lower() in {p.value for p in DEADLINE_PHASES}:
            return words[0].lower()
        raise Refusal("schedule/usage")

    def _name(self, what: str) -> str:
        return self.core.label(f"when_{what}")

    async def _list(self, tx: Tx, mail: Mail, who: Who, swap: Swap) -> None:
        """``/schedule`` alone: the timetable, and how to change it."""
        await mail.send(
            who.telegram_id,
            "schedule/list",
            title=swap.title,
            timetable=await self._timetable(tx, swap),
        )

    async def _timetable(self, tx: Tx, swap: Swap) -> Html:
        """The swap's dates and deadlines, and when reminders go."""
        lines = [
            self.core.html(
                "schedule/line",
                what=self._name(e.what),
                when=self.core.local_when(e.instant(self.core.zone)),
                auto=self.core.label("auto_mark") if e.auto else "",
            )
            for e in await tx.schedule.entries(swap.id)
        ]
        return self.core.html(
            "schedule/timetable",
            lines=Html("\n".join(lines)) if lines else self.core.html("schedule/empty"),
            reminders=", ".join(show_offset(o) for o in offsets_of(swap)),
            quiet=show_quiet(self.core, swap),
        )

    @act
    async def change_times(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """``/settings reminders 24h 2h`` or ``/settings quiet 21:00 08:00``."""
        swap = await self.core.current_swap(tx, who)
        key = words[0].lower() if words else ""
        try:
            if key == "reminders":
                value = " ".join(show_offset(o) for o in parse_offsets(words[1:]))
            elif key == "quiet" and [w.lower() for w in words[1:]] in (
                ["weekends"],
                ["weekends", "off"],
            ):
                # Weekends join the quiet hours, or leave them; the hours stay.
                start, end = swap.quiet.split()[:2]
                value = f"{start} {end}" + (" weekends" if len(words) == 2 else "")
            elif key == "quiet" and len(words) == 3:
                parse_quiet(words[1], words[2])
                value = f"{words[1]} {words[2]}" + (" weekends" if quiet_of(swap).weekends else "")
            else:
                raise Refusal("schedule/settings_usage")
        except Unclear as unclear:
            raise Refusal(f"schedule/bad_{unclear.reason}") from None
        await tx.swaps.update_settings(swap.id, **{key: value})
        await tx.audit.record(swap.id, who.telegram_id, "setting", name=key, value=value)
        changed = await tx.swaps.get(swap.id)
        assert changed is not None
        # Reminders the new times put in the past are not sent late.
        now = self.core.clock()
        for job in await self.jobs(tx, changed):
            if job.kind == "reminder" and job.due <= now:
                await tx.schedule.mark_fired(swap.id, job.key, "skipped: already past")
        await mail.send(
            who.telegram_id,
            "schedule/times_changed",
            title=swap.title,
            reminders=", ".join(show_offset(o) for o in offsets_of(changed)),
            quiet=show_quiet(self.core, changed),
        )
        self.on_change()

    # -- reminders --------------------------------------------------------------

    @act
    async def remind(self, tx: Tx, mail: Mail, who: Who) -> None:
        """``/remind``: remind everyone who has not contributed in this phase, now."""
        swap = await self.core.current_swap(tx, who)
        if swap.phase not in _CONTRIBUTIONS:
            raise Refusal("schedule/nothing_to_remind", title=swap.title)
        per_team = await self._remind(tx, mail, swap, await self._deadline(tx, swap))
        await mail.send(
            who.telegram_id,
            "schedule/reminded",
            people=self.core.plural("people", sum(per_team.values())),
            title=swap.title,
            teams=", ".join(
                self.core.label("team_count", team=team, count=n) for team, n in per_team.items()
            ),
        )

    async def _deadline(self, tx: Tx, swap: Swap) -> datetime | None:
        """The current phase's deadline (None if none)."""
        for entry in await tx.schedule.entries(swap.id):
            if entry.what == swap.phase.value:
                return entry.instant(self.core.zone)
        return None

    async def _remind(
        self, tx: Tx, mail: Mail, swap: Swap, at: datetime | None, zone: str | None = None
    ) -> dict[str, int]:
        """Remind, privately, each person who has not contributed in this phase, and
        each lead whose team part is missing (of the teams in ``zone``, if given),
        saying the deadline ``at`` in their own language and zone; return how many
        were reminded, by team."""
        kinds = _CONTRIBUTIONS[swap.phase]
        per_team: dict[str, int] = {}
        bulk = self.core.mail(tx, bulk=True)

        async def by(chat: int) -> str:
            if at is None:
                return ""
            with self.core.reading_as(await bulk.reader(chat)):
                return self.core.html("reminder/by", when=self.core.local_when(at))

        # Who has contributed, in one query for the swap, not one a person.
        contributed = await tx.contributions.contributors(swap.id, kinds, swap.rounds_released)
        for team in await tx.teams.of_swap(swap.id):
            if zone is not None and self.core.zone_of(team).key != zone:
                continue
            count = per_team.setdefault(team.name, 0)
            team_item = {Phase.DILEMMA: Kind.DILEMMA, Phase.RESPONSE: Kind.TEAM_RESPONSE}.get(
                swap.phase
            )
            team_missing = team_item is not None and not await tx.contributions.confirmed(
                team_id=team.id, kind=team_item
            )
            for membership, person in await tx.memberships.of_team(team.id):
                if membership.role is Role.LEAD and team_missing:
                    assert team_item is not None
                    await bulk.send(
                        person.telegram_id,
                        f"reminder/lead_{team_item.value}",
                        title=swap.title,
                        by=await by(person.telegram_id),
                    )
                    count += 1
                    continue
                if swap.phase is Phase.DILEMMA:
                    continue  # in workshop 1 only the lead's dilemma is awaited
                if person.id not in contributed:
                    await bulk.send(
                        person.telegram_id,
                        f"reminder/{swap.phase.value}",
                        title=swap.title,
                        by=await by(person.telegram_id),
                        round=swap.rounds_released,
                    )
                    count += 1
            per_team[team.name] = count
        return per_team

    # -- /announce ----------------------------------------------------------------

    @act
    async def announce(self, tx: Tx, mail: Mail, who: Who, text: str) -> None:
        """Preview an announcement with the number of its recipients."""
        swap = await self.core.current_swap(tx, who)
        clean = text.strip()
        if not clean:
            raise Refusal("announce/usage")
        if len(clean) > ANNOUNCE_LIMIT:
            raise Refusal(
                "announce/too_long", limit=f"{ANNOUNCE_LIMIT:,}", length=f"{len(clean):,}"
            )
        people = await self._everyone(tx, swap)
        if not people:
            raise Refusal("announce/nobody", title=swap.title)
        announcement = await tx.schedule.add_announcement(swap.id, clean, who.telegram_id)
        await mail.send(
            who.telegram_id,
            "announce/preview",
            title=swap.title,
            text=clean,
            people=self.core.plural("people", len(people)),
            buttons=[
                [(self.core.label("confirm_announce"), cb.ANNOUNCE.pack(announcement))],
                [(self.core.label("cancel"), cb.CANCEL.pack())],
            ],
        )

    @act
    async def announce_confirmed(self, tx: Tx, mail: Mail, who: Who, announcement: int) -> None:
        """Send a previewed announcement to every member, once."""
        found = await tx.schedule.announcement(announcement)
        if found is None or found[2]:
            raise Refusal("errors/stale_button")
        swap = await self.core.organised_swap(tx, who, found[0])
        bulk = self.core.mail(tx, bulk=True)
        people = await self._everyone(tx, swap)
        for chat in people:
            await bulk.send(chat, "announce/message", title=swap.title, text=found[1])
        await tx.schedule.mark_announced(announcement)
        await tx.audit.record(swap.id, who.telegram_id, "announcement", count=len(people))
        log.info("An announcement went to %d people in swap %d", len(people), swap.id)
        await mail.send(
            who.telegram_id,
            "announce/sent",
            people=self.core.plural("people", len(people)),
            title=swap.title,
        )

    async def _everyone(self, tx: Tx, swap: Swap, zone: str | None = None) -> list[int]:
        """Everyone in the swap's teams (those in ``zone``, if given)."""
        return [
            person.telegram_id
            for team in await tx.teams.of_swap(swap.id)
            if zone is None or self.core.zone_of(team).key == zone
            for _, person in await tx.memberships.of_team(team.id)
        ]

    # -- the timetable's jobs -----------------------------------------------------

    async def next_due(self) -> datetime | None:
        """When the next job that has not run falls due (perhaps already)."""
        soonest: datetime | None = None
        async with self.core.db.read() as tx:
            for _, since, last_day in await tx.comments.undigested():
                due = digest_due(datetime.fromisoformat(since), last_day, self.core.zone)
                soonest = due if soonest is None else min(soonest, due)
            for swap_id in await tx.schedule.swaps_with_entries():
                swap = await tx.swaps.get(swap_id)
                assert swap is not None
                fired = await tx.schedule.fired(swap_id)
                for job in await self.jobs(tx, swap):
                    if job.key not in fired:
                        soonest = job.due if soonest is None else min(soonest, job.due)
                        break
            for swap_id in await tx.schedule.swaps_with_retention():
                swap = await tx.swaps.get(swap_id)
                assert swap is not None
                fired = await tx.schedule.fired(swap_id)
                for kept in self.retention_jobs(swap):
                    if kept.key not in fired:
                        soonest = kept.due if soonest is None else min(soonest, kept.due)
                        break
        return soonest

    async def tick(self) -> int:
        """Run every job that is due and has not run; return how many ran.

        One tick at a time: the record of each job already keeps it from running
        twice, and this keeps two ticks from doing the same reading twice.
        """
        async with self._ticking:
            return await self._tick()

    async def _tick(self) -> int:
        now = self.core.clock()
        ran = await self._digests(now)
        async with self.core.db.read() as tx:
            swap_ids = await tx.schedule.swaps_with_entries()
        for swap_id in swap_ids:
            async with self.core.db.read() as tx:
                swap = await tx.swaps.get(swap_id)
                assert swap is not None
                fired = await tx.schedule.fired(swap_id)
                due = [
                    job
                    for job in await self.jobs(tx, swap)
                    if job.due <= now and job.key not in fired
                ]
            for job in due:
                async with self.core.db.transaction() as tx:
                    ran += await self._run(tx, self.core.mail(tx), swap_id, job, now)
        async with self.core.db.read() as tx:
            retained = await tx.schedule.swaps_with_retention()
        for swap_id in retained:
            ran += await self._retention(swap_id, now)
        return ran

    async def _digests(self, now: datetime) -> int:
        """Tell each swap's organisers, once a day, how many member-check comments
        came in since they were last told (never one message a comment)."""
        async with self.core.db.read() as tx:
            waiting = await tx.comments.undigested()
        sent = 0
        for swap_id, since, last_day in waiting:
            due = digest_due(datetime.fromisoformat(since), last_day, self.core.zone)
            if due > now:
                continue
            async with self.core.db.transaction() as tx:
                day = now.astimezone(self.core.zone).date().isoformat()
                swap = await tx.swaps.get(swap_id)
                if swap is None or not await tx.schedule.mark_fired(
                    swap_id, f"comments:{day}", "sent"
                ):
                    continue
                counts = await tx.comments.digest(swap_id)
                mail = self.core.mail(tx)
                for organiser in await self.core.organisers_of(tx, swap):
                    await mail.send(
                        organiser,
                        "trail/comments_digest",
                        title=swap.title,
                        comments=self.core.plural("new_comments", sum(n for _, n in counts)),
                        teams=", ".join(
                            self.core.label("team_count", team=team, count=n) for team, n in counts
                        ),
                    )
                sent += 1
        return sent

    # -- retention ------------------------------------------------------------------

    async def _retention(self, swap_id: int, now: datetime) -> int:
        """Warn a closed swap's organisers before its purge; purge it when its time
        comes (or at the first tick after, when the bot was down then)."""
        async with self.core.db.read() as tx:
            swap = await tx.swaps.get(swap_id)
            assert swap is not None
            fired = await tx.schedule.fired(swap_id)
        due = [job for job in self.retention_jobs(swap) if job.due <= now and job.key not in fired]
        if any(job.kind == "purge" for job in due):
            return await self._purge(swap)
        ran = 0
        for job in due:
            # Of warnings the bot was down for, only the latest goes (one message).
            latest = job is due[-1]
            async with self.core.db.transaction() as tx:
                ran += await self._warn(tx, self.core.mail(tx), swap, job, now, latest)
        return ran

    async def _warn(
        self, tx: Tx, mail: Mail, swap: Swap, job: RetentionJob, now: datetime, latest: bool
    ) -> int:
        """Tell the organisers when the swap will be purged, and how to export first.
        A warning the bot was down for goes late, saying how long is really left,
        unless a later warning is due too."""
        if not await tx.schedule.mark_fired(swap.id, job.key, "running"):
            return 0
        if not latest:
            await tx.schedule.set_outcome(swap.id, job.key, "dropped: a later warning is due")
            return 1
        days = max(1, math.ceil((job.purge_at - now) / timedelta(days=1)))
        for organiser in await self.core.organisers_of(tx, swap):
            await mail.send(
                organiser,
                "retention/warning",
                title=swap.title,
                swap=swap.id,
                when=self.core.local_when(job.purge_at),
                left=self.core.plural("in_days", days),
            )
        await tx.audit.record(
            swap.id,
            None,
            "retention_warning",
            days=days,
            when=f"{job.purge_at.astimezone(self.core.zone):%Y-%m-%d %H:%M}",
        )
        await tx.schedule.set_outcome(swap.id, job.key, "sent")
        log.info("Swap %d: warned of its purge %d day(s) ahead", swap.id, days)
        return 1

    async def _purge(self, swap: Swap) -> int:
        """Purge the swap as ``python -m bot purge`` does (the same function), then
        empty the WAL of this connection too, and tell the organisers it is done."""
        async with self.core.db.read() as tx:
            organisers = await self.core.organisers_of(tx, swap)
        try:
            gone = await purge(self.core.db.path, swap.id, reason="retention")
        except PurgeError as problem:
            log.warning("Swap %d could not be purged at its time: %s", swap.id, problem)
            async with self.core.db.transaction() as tx:
                key = self.retention_jobs(swap)[-1].key
                await tx.schedule.mark_fired(swap.id, key, f"failed: {problem}")
            return 0
        await self.core.db.scrub()
        log.info("Swap %d purged at the end of its retention period", swap.id)
        async with self.core.db.transaction() as tx:
            mail = self.core.mail(tx)
            for organiser in organisers:
                await mail.send(
                    organiser,
                    "retention/purged",
                    title=swap.title,
                    contributions=self.core.plural("contributions", gone["contributions"]),
                )
        return 1

    async def _run(self, tx: Tx, mail: Mail, swap_id: int, job: Job, now: datetime) -> int:
        """Run one job, in the transaction that records it; 0 if it had already run.

        The record comes first: a second run of the same job (another tick, a
        crash and a restart) finds it and sends nothing.
        """
        swap = await tx.swaps.get(swap_id)
        assert swap is not None
        if not await tx.schedule.mark_fired(swap.id, job.key, "running"):
            return 0
        at = job.entry.instant(self.core.zone)
        outcome = "skipped: not this phase"
        if job.kind == "reminder":
            if now >= at:
                outcome = "dropped: the deadline passed while the bot was down"
            elif swap.phase is job.entry.phase:
                per_team = await self._remind(tx, mail, swap, at, job.zone)
                outcome = f"sent to {sum(per_team.values())}"
        elif job.kind == "workshop_note":
            if now >= at:
                outcome = "dropped: the workshop began while the bot was down"
            else:
                people = await self._everyone(tx, swap, job.zone)
                bulk = self.core.mail(tx, bulk=True)
                for chat in people:
                    with self.core.reading_as(await bulk.reader(chat)):
                        when = self.core.local_when(at)
                    await bulk.send(
                        chat,
                        "schedule/workshop_note",
                        title=swap.title,
                        number=job.entry.what[-1],
                        when=when,
                    )
                outcome = f"sent to {len(people)}"
        elif job.kind == "auto_advance" and swap.phase is job.entry.phase:
            # Recorded in the name of whoever set the deadline, if they still organise
            # the swap; else of an organiser who does (every one of them is told).
            by = await tx.schedule.set_by(swap.id, job.entry.what) or swap.created_by
            if not await self.core.may_organise(tx, Who(by, ""), swap):
                by = next(iter(await self.core.organisers_of(tx, swap)), swap.created_by)
            moved = await self.phases.close_at_deadline(tx, mail, swap, by)
            outcome = "advanced" if moved else "blocked: something was missing"
        await tx.schedule.set_outcome(swap.id, job.key, outcome)
        if outcome.startswith("dropped"):
            await self.core.tell_organisers(
                tx,
                mail,
                swap,
                "schedule/dropped",
                title=swap.title,
                what=self.core.label(f"job_{job.kind}"),
                entry=self._name(job.entry.what),
                when=self.core.local_when(job.due),
            )
        log.info("Job %s of swap %d: %s", job.kind, swap.id, outcome)
        return 1
