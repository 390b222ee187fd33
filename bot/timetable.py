"""A swap's timetable as plain rules: when each deadline, reminder, automatic
advance and workshop note falls due. No I/O, no Telegram, no clock of its own:
every function is told what time it is.

Times people give are wall-clock times in the configured zone, and are kept
that way: a deadline of 17:00 stays 17:00 across the October and March clock
changes, because it is turned into an instant (UTC) only when a plan is made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.model import Phase

DEADLINE_PHASES = (Phase.DILEMMA, Phase.RESPONSE, Phase.REFLECTION)
WORKSHOPS = {1: Phase.DILEMMA, 2: Phase.RESPONSE, 3: Phase.REFLECTION}
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=2))
DEFAULT_QUIET = (time(21, 0), time(8, 0))
WORKSHOP_NOTE_BEFORE = timedelta(hours=24)
# When organisers get the day's digest of new member-check comments.
DIGEST_AT = time(9, 0)

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_OFFSET = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class Unclear(Exception):
    """Input that cannot be taken; ``reason`` names why, for the prompt."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    """One line of a swap's schedule: a phase's deadline or a workshop's date.

    ``what`` is a phase name (its deadline) or ``workshop1``..``workshop3``;
    ``local`` the wall-clock time, ``YYYY-MM-DDTHH:MM``, in the configured zone.
    """

    what: str
    local: str
    auto: bool = False

    @property
    def is_workshop(self) -> bool:
        return self.what.startswith("workshop")

    @property
    def phase(self) -> Phase:
        """The phase this entry belongs to: the one it closes, or its workshop's."""
        if self.is_workshop:
            return WORKSHOPS[int(self.what[-1])]
        return Phase(self.what)

    def instant(self, zone: ZoneInfo) -> datetime:
        """When it is, in UTC, by the rules of the zone on that day."""
        return datetime.fromisoformat(self.local).replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Job:
    """Something the bot owes at a moment: ``key`` says what, once and for all.

    The key holds the entry's time, so a deadline moved later makes new
    reminders, and one that fired is never fired again.
    """

    key: str
    kind: str  # "reminder", "auto_advance" or "workshop_note"
    entry: Entry
    due: datetime  # UTC
    # The time zone of the teams it is for (their quiet hours held it); None: all.
    zone: str | None = None


@dataclass(frozen=True)
class Quiet:
    """Hours in which no reminder goes: from ``start`` to ``end`` local time, and
    with ``weekends`` the whole of Saturday and Sunday too."""

    start: time = DEFAULT_QUIET[0]
    end: time = DEFAULT_QUIET[1]
    weekends: bool = False

    def holds(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        if self.weekends and local.weekday() >= 5:
            return True
        clock = local.time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def release(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first moment at or after ``moment`` outside the quiet hours."""
        # A night, then perhaps a weekend, then perhaps Monday's early hours.
        for _ in range(4):
            if not self.holds(moment, zone):
                return moment
            moment = self._after(moment, zone)
        return moment

    def last_open_before(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The last moment at or before ``moment`` outside the quiet hours."""
        for _ in range(4):
            if not self.holds(moment, zone):
                return moment
            moment = self._began(moment, zone) - timedelta(minutes=1)
        return moment

    def _began(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """When the quiet that holds at ``moment`` began (or may have begun)."""
        local = moment.astimezone(zone)
        if self.weekends and local.weekday() >= 5:
            day = local.date() - timedelta(days=local.weekday() - 5)  # Saturday, 00:00
            return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        day = local.date()
        if self.start > self.end and local.time() < self.start:
            day -= timedelta(days=1)  # a night that began the evening before
        return datetime(
            day.year, day.month, day.day, self.start.hour, self.start.minute, tzinfo=zone
        ).astimezone(UTC)

    def _after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The next time the quiet that holds at ``moment`` ends (or may end)."""
        local = moment.astimezone(zone)
        if self.weekends and local.weekday() >= 5:
            day = local.date() + timedelta(days=7 - local.weekday())  # Monday
        else:
            day = local.date()
            if time(self.end.hour, self.end.minute) <= local.time():
                day += timedelta(days=1)
        # Rebuild from the wall clock, so a clock change that night is respected.
        return datetime(
            day.year, day.month, day.day, self.end.hour, self.end.minute, tzinfo=zone
        ).astimezone(UTC)


def parse_when(day: str, clock: str, zone: ZoneInfo, now: datetime) -> str:
    """``YYYY-MM-DD`` and ``HH:MM`` as a stored local time; it must exist and be ahead."""
    date_match, time_match = _DATE.match(day), _TIME.match(clock)
    if not date_match or not time_match:
        raise Unclear("malformed")
    try:
        year, month, day_of_month = (int(g) for g in date_match.groups())
        local = datetime(
            year, month, day_of_month, int(time_match.group(1)), int(time_match.group(2))
        )
    except ValueError:
        raise Unclear("impossible") from None
    placed = local.replace(tzinfo=zone)
    # A time the clocks skip (the spring change) does not survive the round trip.
    if placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise Unclear("skipped")
    if placed.astimezone(UTC) <= now:
        raise Unclear("past")
    return local.isoformat(timespec="minutes")


def parse_offsets(words: list[str]) -> tuple[timedelta, ...]:
    """Reminder offsets such as ``24h 2h 30m``: how long before a deadline."""
    offsets = []
    for word in words:
        match = _OFFSET.match(word.lower())
        if not word or not match or not any(match.groups()):
            raise Unclear("offsets")
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        if not timedelta(0) < offset <= timedelta(days=14):
            raise Unclear("offsets")
        offsets.append(offset)
    if not offsets or len(offsets) > 5:
        raise Unclear("offsets")
    return tuple(sorted(set(offsets), reverse=True))


def parse_quiet(start: str, end: str, *rest: str) -> Quiet:
    """Quiet hours such as ``21:00 08:00``, and ``weekends`` after them if so."""
    if rest not in ((), ("weekends",)):
        raise Unclear("quiet")
    parsed = []
    for word in (start, end):
        match = _TIME.match(word)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise Unclear("quiet")
        parsed.append(time(int(match.group(1)), int(match.group(2))))
    return Quiet(parsed[0], parsed[1], weekends=bool(rest))


def show_offset(offset: timedelta) -> str:
    """An offset as people write it: ``24h``, ``2h30m``, ``90s``."""
    seconds = int(offset.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (
        "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n)
        or "0m"
    )


def plan(
    entries: list[Entry],
    offsets: tuple[timedelta, ...],
    quiet: Quiet,
    zone: ZoneInfo,
    team_zones: Iterable[str] = (),
) -> list[Job]:
    """Every job a swap's schedule makes, in time order: its dates are in ``zone``
    (the swap's); when its teams work in other zones (``team_zones``), reminders
    and workshop notes are planned for each zone's teams by that zone's quiet
    hours, their keys naming the zone."""
    zones = sorted(set(team_zones)) or [zone.key]
    if zones == [zone.key]:
        return _plan(entries, offsets, quiet, zone, zone)
    jobs = [j for j in _plan(entries, offsets, quiet, zone, zone) if j.kind == "auto_advance"]
    for name in zones:
        jobs += [
            replace(j, key=f"{j.key}@{name}", zone=name)
            for j in _plan(entries, offsets, quiet, zone, ZoneInfo(name))
            if j.kind != "auto_advance"
        ]
    return sorted(jobs, key=lambda job: (job.due, job.key))


def _plan(
    entries: list[Entry],
    offsets: tuple[timedelta, ...],
    quiet: Quiet,
    zone: ZoneInfo,
    quiet_zone: ZoneInfo,
) -> list[Job]:
    """Every job a swap's schedule makes, in time order.

    Reminders fall ``offsets`` before each deadline; one due in the quiet hours
    waits for their end, and is dropped if the deadline comes first (with quiet
    weekends, one the weekend would hold past the deadline goes before it
    instead); two held to the same moment go as one. A deadline
    marked ``auto`` advances the swap. A workshop gets a note the day before
    (also held back by the quiet hours, and dropped if that is after it starts).
    """
    jobs = []
    for entry in entries:
        at = entry.instant(zone)
        if entry.is_workshop:
            due = quiet.release(at - WORKSHOP_NOTE_BEFORE, quiet_zone)
            if due < at:
                jobs.append(Job(f"note:{entry.what}:{entry.local}", "workshop_note", entry, due))
            continue
        planned: set[datetime] = set()
        for offset in offsets:
            due = quiet.release(at - offset, quiet_zone)
            if due >= at and quiet.weekends:
                # A weekend would hold it past the deadline (a Monday-morning one):
                # it goes before the quiet that holds it begins, on the Friday.
                due = quiet.last_open_before(at - offset, quiet_zone)
            # Two reminders the quiet hours hold to the same moment go as one.
            if due < at and due not in planned:
                planned.add(due)
                jobs.append(
                    Job(
                        f"remind:{entry.what}:{entry.local}:{show_offset(offset)}",
                        "reminder",
                        entry,
                        due,
                    )
                )
        if entry.auto:
            jobs.append(Job(f"auto:{entry.what}:{entry.local}", "auto_advance", entry, at))
    return sorted(jobs, key=lambda job: (job.due, job.key))


def digest_due(since: datetime, last_day: str | None, zone: ZoneInfo) -> datetime:
    """When the digest of comments that came in at ``since`` goes: the next
    ``DIGEST_AT`` in the zone at or after it, and never on the day of the last
    digest (``last_day``, ``YYYY-MM-DD``) or before: one a day, never at night."""
    local = since.astimezone(zone)
    day = local.date()
    if local.time() > DIGEST_AT:
        day += timedelta(days=1)
    if last_day is not None:
        day = max(day, date.fromisoformat(last_day) + timedelta(days=1))
    return datetime(
        day.year, day.month, day.day, DIGEST_AT.hour, DIGEST_AT.minute, tzinfo=zone
    ).astimezone(UTC)


# -- retention: a closed swap is purged a number of months after it closed ------

RETENTION_MONTHS = (1, 120)
RETENTION_WARNINGS = (timedelta(days=14), timedelta(days=1))
_MONTHS = re.compile(r"^(\d{1,3})m$")


def parse_retention(word: str) -> int:
    """``18m``: months after the swap closes."""
    match = _MONTHS.match(word.lower())
    low, high = RETENTION_MONTHS
    if not match or not low <= int(match.group(1)) <= high:
        raise Unclear("retention")
    return int(match.group(1))


def add_months(moment: datetime, months: int, zone: ZoneInfo) -> datetime:
    """The same wall-clock time ``months`` calendar months later (the last day
    of a shorter month for the 31st), as an instant in UTC."""
    local = moment.astimezone(zone)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, _days_in(year, month))
    return datetime(year, month, day, local.hour, local.minute, tzinfo=zone).astimezone(UTC)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@dataclass(frozen=True)
class RetentionJob:
    """A warning before a swap is purged, or the purge: ``key`` as in ``Job``."""

    key: str
    kind: str  # "retention_warning" or "purge"
    due: datetime  # UTC
    purge_at: datetime  # UTC
    before: timedelta = timedelta(0)  # for a warning: how long before the purge


def retention_plan(closed_at: datetime, months: int, zone: ZoneInfo) -> list[RetentionJob]:
    """The warnings 14 days and 1 day before the purge, and the purge. The keys
    hold the purge's time: a swap reopened and closed again, or a retention
    changed, makes new jobs, and one that ran never runs again."""
    purge_at = add_months(closed_at, months, zone)
    stamp = purge_at.isoformat(timespec="minutes")
    jobs = [
        RetentionJob(
            f"retention:warn:{stamp}:{before.days}d",
            "retention_warning",
            purge_at - before,
            purge_at,
            before,
        )
        for before in RETENTION_WARNINGS
    ]
    jobs.append(RetentionJob(f"retention:purge:{stamp}", "purge", purge_at, purge_at))
    return jobs


# -- withdrawal: until when people may take their words out of the record -------

ALWAYS = "always"
UNTIL_CLOSE = "until-close"


def parse_withdrawal(words: list[str], zone: ZoneInfo, now: datetime) -> str:
    """``always``, ``until-close`` or ``until YYYY-MM-DD`` (a day not yet over), as stored."""
    if len(words) == 1 and words[0].lower() in (ALWAYS, UNTIL_CLOSE):
        return words[0].lower()
    if len(words) != 2 or words[0].lower() != "until" or not _DATE.match(words[1]):
        raise Unclear("withdrawal")
    try:
        day = datetime.fromisoformat(words[1]).date()
    except ValueError:
        raise Unclear("withdrawal") from None
    setting = f"until:{day.isoformat()}"
    ends = withdrawal_ends(setting, zone)
    assert ends is not None
    if ends <= now:
        raise Unclear("withdrawal_past")
    return setting


def withdrawal_ends(setting: str | None, zone: ZoneInfo) -> datetime | None:
    """For ``until:<day>``, the end of that day in ``zone`` (UTC); else None."""
    if not setting or not setting.startswith("until:"):
        return None
    day = datetime.fromisoformat(setting.removeprefix("until:"))
    following = day + timedelta(days=1)
    return following.replace(tzinfo=zone).astimezone(UTC)


def withdrawal_open(setting: str | None, closed: bool, zone: ZoneInfo, now: datetime) -> bool:
    """Whether withdrawing still takes a person's words out of the record. Not
    chosen is ``always``: nobody was told of a cut-off."""
    if setting == UNTIL_CLOSE:
        return not closed
    ends = withdrawal_ends(setting, zone)
    return ends is None or now < ends
