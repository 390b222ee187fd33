"""Issue 9: dates, deadlines, reminders, automatic advances and announcements.

Time is under the test's control: the bot runs with a ``FakeClock`` that moves
only when the test moves it, and the test runs the timetable's jobs itself
(``Scheduling.tick``), as the JobQueue would when they fall due.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.timetable import Entry, Quiet, Unclear, parse_when, plan
from tests.support.bot import MONDAY, ORGANISER_ID, RunningBot, rows, start_bot_process, utc
from tests.support.fanout import wait_drained
from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm

LONDON = ZoneInfo("Europe/London")


pytestmark = pytest.mark.timed


def reminders(user) -> list:
    return [m for m in user.texts if "A reminder" in (m.text or "")]


async def tick(bot) -> None:
    await bot.services.scheduling.tick()


# -- the rules on their own ----------------------------------------------------


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning_or_is_dropped():
    quiet = Quiet(time(21, 0), time(8, 0))
    offsets = (timedelta(hours=2),)
    at_nine = plan([Entry("response", "2027-02-10T09:00")], offsets, quiet, LONDON)
    assert [job.due for job in at_nine] == [utc("2027-02-10T08:00")]  # not 07:00
    at_half_seven = plan([Entry("response", "2027-02-10T07:30")], offsets, quiet, LONDON)
    assert at_half_seven == []  # 08:00 would be after the deadline
    evening = plan([Entry("response", "2027-02-10T22:30")], offsets, quiet, LONDON)
    assert [job.due for job in evening] == [utc("2027-02-10T20:30")]


def test_a_deadline_across_the_october_change_keeps_its_wall_clock_time():
    # Set in British Summer Time for a day after the clocks go back (31 October 2027).
    [reminder, auto] = plan(
        [Entry("response", "2027-11-01T17:00", auto=True)], (timedelta(hours=2),), Quiet(), LONDON
    )
    assert auto.due == utc("2027-11-01T17:00")  # 17:00 GMT, not 16:00
    assert reminder.due == utc("2027-11-01T15:00")
    [summer] = plan([Entry("response", "2027-10-29T17:00", auto=True)], (), Quiet(), LONDON)
    assert summer.due == utc("2027-10-29T16:00")  # 17:00 BST


@pytest.mark.parametrize(
    ("day", "clock_time", "reason"),
    [
        ("2027-02-30", "10:00", "impossible"),
        ("2027-02-10", "25:00", "impossible"),
        ("10/02/2027", "10:00", "malformed"),
        ("2027-02-10", "10h", "malformed"),
        ("2027-03-28", "01:30", "skipped"),  # the clocks go forward at 01:00
        ("2027-01-31", "10:00", "past"),
    ],
)
def test_times_that_cannot_be_taken(day, clock_time, reason):
    with pytest.raises(Unclear) as refused:
        parse_when(day, clock_time, LONDON, MONDAY)
    assert refused.value.reason == reason


# -- the bot, with time under control ---------------------------------------------


async def in_workshop_2(standin, organiser):
    people = await set_up(standin, organiser, "Timed swap", ["North", "South"])
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    return people


async def test_reminders_reach_only_those_who_have_not_contributed(bot, standin, organiser, clock):
    people = await in_workshop_2(standin, organiser)
    await write_and_confirm(people["South", "member"], "Name one lead professional.")
    await write_and_confirm(people["North", "lead"], "North's consolidated view.", "/response")
    await organiser.send("/schedule response 2027-02-04 17:00")
    await organiser.expect("Timetable of Timed swap")
    clock.set(utc("2027-02-03T17:00"))  # 24 hours before
    await tick(bot)
    await people["North", "member"].expect("A reminder")
    await people["South", "lead"].expect(lambda m: "A reminder" in m.text and "/response" in m.text)
    clock.set(utc("2027-02-03T17:30"))
    await tick(bot)  # nothing more is due, and nothing fires twice
    await organiser.send("/status")
    await organiser.expect("Timed swap")
    assert reminders(people["South", "member"]) == []
    assert reminders(people["North", "lead"]) == []
    assert len(reminders(people["North", "member"])) == 1
    assert len(reminders(people["South", "lead"])) == 1
    # /remind sends one now and says to how many.
    await organiser.send("/remind")
    said = await organiser.expect("Reminder sent")
    assert "2 people" in said.text and "North 1, South 1" in said.text
    # Nobody is named in front of anyone else.
    for user in people.values():
        for message in reminders(user):
            assert not any(other.first_name in message.text for other in people.values())


async def test_quiet_hours_hold_a_reminder_until_the_morning(bot, standin, organiser, clock):
    people = await in_workshop_2(standin, organiser)
    await organiser.send("/settings reminders 2h")
    await organiser.expect("Done")
    await organiser.send("/schedule response 2027-02-04 09:00")
    await organiser.expect("Timetable")
    clock.set(utc("2027-02-04T07:30"))
    await tick(bot)
    clock.set(utc("2027-02-04T07:59"))
    await tick(bot)
    member = people["North", "member"]
    assert reminders(member) == []
    clock.set(utc("2027-02-04T08:00"))
    await tick(bot)
    await member.expect("A reminder")


async def test_auto_respects_the_guards_and_is_recorded_like_advance(
    bot, standin, organiser, clock
):
    people = await set_up(standin, organiser, "Auto swap", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    await organiser.send("/schedule dilemma 2027-02-02 17:00 auto")
    await organiser.expect("moves on by itself")
    clock.set(utc("2027-02-02T17:00"))
    await tick(bot)
    blocked = await organiser.expect("did not move on")
    assert "South" in blocked.text
    assert await rows(bot, "SELECT phase FROM swaps") == [("dilemma",)]
    # A later deadline, once everything is in: the swap moves, recorded as /advance is.
    await write_and_confirm(people["South", "lead"], DILEMMAS["South"], "/dilemma")
    await organiser.expect("Everything is in")
    await organiser.send("/schedule dilemma 2027-02-03 17:00 auto")
    await organiser.expect("Timetable")
    clock.set(utc("2027-02-03T17:00"))
    await tick(bot)
    await organiser.expect("at its deadline")
    await people["South", "member"].expect(DILEMMAS["North"][:40])
    assert await rows(
        bot,
        "SELECT from_phase, to_phase, by_telegram_id, forced, automatic"
        " FROM transitions ORDER BY id",
    ) == [
        ("setup", "dilemma", ORGANISER_ID, 0, 0),
        ("dilemma", "response", ORGANISER_ID, 0, 1),
    ]


async def test_the_schedule_survives_a_restart_and_late_jobs_run_once_or_are_reported(
    bot, standin, organiser, clock
):
    people = await in_workshop_2(standin, organiser)
    await organiser.send("/schedule response 2027-02-05 17:00")
    await organiser.expect("Timetable")
    await organiser.send("/schedule workshop 3 2027-02-03 10:00")
    await organiser.expect("Timetable")
    await bot.stop()
    # While the bot is down, the reminder 24 hours before the deadline falls due
    # (still of use), and so does the note before workshop 3, which then begins.
    clock.set(utc("2027-02-04T18:00"))
    await bot.start()
    member = people["North", "member"]
    await member.expect("A reminder")  # run at start-up, without anyone asking
    dropped = await organiser.expect("was not running")
    assert "Workshop 3" in dropped.text
    await tick(bot)
    await organiser.send("/schedule")
    listing = await organiser.expect("Timetable of Timed swap")
    assert "Responses due" in listing.text and "Workshop 3" in listing.text
    assert len(reminders(member)) == 1
    assert not any("is tomorrow" in m.text for m in member.texts)
    fired = await rows(bot, "SELECT key, outcome FROM fired WHERE key LIKE 'note:%'")
    assert fired and fired[0][1].startswith("dropped")


async def test_the_day_before_a_workshop_everyone_gets_a_note(bot, standin, organiser, clock):
    people = await set_up(standin, organiser, "Noted swap", ["North", "South"])
    await organiser.send("/schedule workshop 1 2027-02-03 10:00")
    await organiser.expect("Timetable")
    clock.set(utc("2027-02-02T10:00"))
    await tick(bot)
    for user in people.values():
        note = await user.expect("is tomorrow")
        assert "03 Feb 2027, 10:00" in note.text
    await advance(organiser)
    opening = await people["North", "member"].expect("Workshop 1 has begun")
    assert "Workshop 1: Wed 03 Feb 2027, 10:00" in opening.text
    await people["North", "lead"].send("/help")
    helped = await people["North", "lead"].expect("/dilemma")
    assert "03 Feb 2027" in helped.text


async def test_bad_schedule_input_changes_nothing(bot, standin, organiser):
    await set_up(standin, organiser, "Careful swap", ["North", "South"])
    for command, answer in [
        ("/schedule response 2027-01-20 17:00", "already passed"),
        ("/schedule response 2027-02-30 17:00", "does not exist"),
        ("/schedule response 2027-03-28 01:30", "clocks go forward"),
        ("/schedule response tomorrow 17:00", "could not read"),
        ("/schedule lunch 2027-02-10 12:00", "/schedule workshop"),
        ("/schedule workshop 4 2027-02-10 12:00", "/schedule workshop"),
        ("/schedule workshop 2 2027-02-10 12:00 auto", "/schedule workshop"),
        ("/settings reminders soon", "not clear"),
        ("/settings quiet 25:00 08:00", "not clear"),
    ]:
        await organiser.send(command)
        refusal = await organiser.expect(lambda m: True)
        assert answer in refusal.text, command
    assert await rows(bot, "SELECT COUNT(*) FROM schedule") == [(0,)]
    assert await rows(bot, "SELECT reminders, quiet FROM swaps") == [("24h 2h", "21:00 08:00")]


async def test_announce_reaches_every_member_exactly_once(bot, standin, organiser):
    people = await set_up(standin, organiser, "Announced swap", ["North", "South"])
    await organiser.send("/announce Workshop 2 moves to room 4.\nBring your notes.")
    preview = await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
    assert "4 people" in preview.text and "room 4" in preview.text
    data = next(
        b["callback_data"] for row in preview.buttons for b in row if "Confirm" in b["text"]
    )
    await organiser.expect_answer(await organiser.press_data(data, message=preview))
    await organiser.expect("on its way to 4 people")
    await organiser.press_data(data, message=preview)  # pressed again (or forged)
    await organiser.expect(lambda m: "button" in m.text.lower())
    for user in people.values():
        got = await user.expect("room 4")
        assert "Bring your notes." in got.text
    assert all(sum("room 4" in m.text for m in u.texts) == 1 for u in people.values())
    assert await rows(bot, "SELECT text FROM announcements") == [("",)]


async def test_a_real_process_sends_a_reminder_across_a_restart(standin, tmp_path):
    """The real ``python -m bot`` and the real clock: a deadline a few minutes ahead,
    a reminder offset that falls due within seconds, and a restart in between."""
    db_path = tmp_path / "swap.sqlite3"

    async def start() -> asyncio.subprocess.Process:
        return await start_bot_process(standin, tmp_path, DATABASE_PATH=str(db_path))

    process = await start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        people = await set_up(standin, organiser, "Real time", ["North", "South"])
        await advance(organiser)
        await organiser.send("/settings quiet 03:00 03:00")  # no quiet hours, day or night
        await organiser.expect("Done")
        deadline = (datetime.now(LONDON) + timedelta(minutes=4)).replace(second=0, microsecond=0)
        await organiser.send(f"/schedule dilemma {deadline:%Y-%m-%d %H:%M}")
        await organiser.expect("Timetable")
        # A reminder due about five seconds from now.
        offset = int((deadline - datetime.now(LONDON)).total_seconds()) - 5
        await organiser.send(f"/settings reminders {offset}s")
        await organiser.expect("Done")
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
        process = await start()
        for team in ("North", "South"):
            got = await people[team, "lead"].expect("A reminder", timeout=60)
            assert "/dilemma" in got.text
        assert reminders(people["North", "member"]) == []
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


async def test_two_ticks_at_once_run_each_job_once(bot, standin, organiser, clock):
    people = await in_workshop_2(standin, organiser)
    await organiser.send("/schedule response 2027-02-04 17:00")
    await organiser.expect("Timetable")
    clock.set(utc("2027-02-03T17:00"))
    await asyncio.gather(tick(bot), tick(bot), tick(bot))
    member = people["North", "member"]
    await member.expect("A reminder")
    await wait_drained(bot)
    assert len(reminders(member)) == 1
    assert await rows(bot, "SELECT COUNT(*) FROM fired WHERE key LIKE 'remind:%'") == [(1,)]


async def test_organisers_get_one_digest_a_day_of_member_check_comments(
    bot, standin, organiser, clock
):
    clock.set(datetime.now(UTC))  # the comments' times are the real ones
    people = await set_up(standin, organiser, "Checked swap", ["North", "South"])
    while await rows(bot, "SELECT phase FROM swaps") != [("closed",)]:
        await advance(organiser, force=True)
    await organiser.send("/membercheck 7")
    await organiser.expect("comments are taken until")
    for user, words in (
        (people["North", "member"], "We meant it more gently."),
        (people["North", "lead"], "Our dilemma was about ownership, not budgets."),
        (people["South", "member"], "Fair as it stands."),
    ):
        await user.send(words)
        preview = await user.expect(lambda m: "Confirm" in m.button_labels())
        await user.expect_answer(await user.press("Confirm"))
        await user.expect_edit(preview, lambda m: "kept beside" in m.text)
    [(latest,)] = await rows(bot, "SELECT MAX(confirmed_at) FROM comments")
    # The next 09:00 in London after the last comment.
    local = datetime.fromisoformat(latest).astimezone(LONDON)
    day = local.date() + timedelta(days=1 if local.time() > time(9, 0) else 0)
    nine = datetime(day.year, day.month, day.day, 9, 0, tzinfo=LONDON)
    clock.set(nine - timedelta(minutes=1))
    await tick(bot)
    await wait_drained(bot)
    assert not any("new comments" in (m.text or "") for m in organiser.texts)
    clock.set(nine)
    await tick(bot)
    digest = await organiser.expect("new comments")
    assert "3 new comments" in digest.text and "North 2, South 1" in digest.text
    assert "gently" not in digest.text  # counts, never the words or who wrote them
    await tick(bot)
    # A comment after the digest waits for the next day's; the timetable sleeps till then.
    member = people["South", "lead"]
    await member.send("One more thing on schools.")
    preview = await member.expect(lambda m: "Confirm" in m.button_labels())
    await member.expect_answer(await member.press("Confirm"))
    await member.expect_edit(preview, lambda m: "kept beside" in m.text)
    clock.set(nine + timedelta(hours=3))
    assert await bot.services.scheduling.next_due() == nine + timedelta(days=1)
    await tick(bot)
    await wait_drained(bot)
    assert sum("new comment" in (m.text or "") for m in organiser.texts) == 1
    clock.set(nine + timedelta(days=1))
    await tick(bot)
    # One comment, said as one (Babel's plural forms, not "1 new comments").
    second = await organiser.expect("1 new comment came in")
    assert "1 new comments" not in second.text


# -- quiet weekends ----------------------------------------------------------------

WEEKENDS = Quiet(time(21, 0), time(8, 0), weekends=True)


def reminder_times(local: str, quiet: Quiet) -> list[datetime]:
    jobs = plan(
        [Entry("response", local)], (timedelta(hours=24), timedelta(hours=2)), quiet, LONDON
    )
    return [
        job.due.astimezone(LONDON).replace(tzinfo=None) for job in jobs if job.kind == "reminder"
    ]


def test_quiet_weekends_hold_a_reminder_until_monday_morning():
    # Monday 2027-02-08 17:00: the 24-hour reminder (Sunday 17:00) waits for Monday 08:00.
    assert reminder_times("2027-02-08T17:00", WEEKENDS) == [
        datetime(2027, 2, 8, 8, 0),
        datetime(2027, 2, 8, 15, 0),
    ]
    # Without weekends it goes on the Sunday.
    assert reminder_times("2027-02-08T17:00", Quiet())[0] == datetime(2027, 2, 7, 17, 0)


def test_two_reminders_held_to_the_same_moment_go_as_one():
    # Monday 10:00: 24 hours before is Sunday, 2 hours before is 08:00 (the quiet's end).
    assert reminder_times("2027-02-08T10:00", WEEKENDS) == [datetime(2027, 2, 8, 8, 0)]


def test_a_reminder_the_weekend_would_hold_past_its_deadline_goes_on_friday():
    # Monday 07:00: both would wait until 08:00, after the deadline: they go once,
    # on Friday evening before the quiet hours.
    assert reminder_times("2027-02-08T07:00", WEEKENDS) == [datetime(2027, 2, 5, 20, 59)]
    # Sunday 20:00: the same.
    assert reminder_times("2027-02-07T20:00", WEEKENDS) == [datetime(2027, 2, 5, 20, 59)]


def test_quiet_weekends_across_the_spring_clock_change():
    # The clocks go forward on Sunday 2027-03-28: Monday 08:00 is BST (07:00 UTC).
    [job] = [
        j
        for j in plan(
            [Entry("response", "2027-03-29T12:00")], (timedelta(hours=48),), WEEKENDS, LONDON
        )
        if j.kind == "reminder"
    ]
    assert job.due == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)


async def test_settings_quiet_weekends_on_and_off(bot, standin, organiser):
    await set_up(standin, organiser, "Weekends", ["North", "South"])
    await organiser.send("/settings quiet weekends")
    done = await organiser.expect("Done")
    assert "21:00–08:00 and all weekend" in done.text
    assert await rows(bot, "SELECT quiet FROM swaps") == [("21:00 08:00 weekends",)]
    await organiser.send("/settings quiet 22:00 07:00")  # the hours change, weekends stay
    await organiser.expect(lambda m: "22:00–07:00 and all weekend" in m.text)
    await organiser.send("/settings quiet weekends off")
    off = await organiser.expect(lambda m: "Done" in m.text and "weekend" not in m.text)
    assert "22:00–07:00" in off.text
    await organiser.send("/settings quiet weekdays")
    await organiser.expect("/settings quiet weekends")  # the usage, nothing changed
    assert await rows(bot, "SELECT quiet FROM swaps") == [("22:00 07:00",)]


async def test_an_automatic_close_goes_to_the_organisers_now_and_not_a_former_one(
    standin, tmp_path, clock
):
    """Issue 19, item 2: a swap shared with a co-organiser, its creator then taken out
    of ORGANISER_IDS and the bot restarted: at the ``auto`` deadline the export and
    every note meant for the swap's organisers go to the co-organiser, never to the
    former organiser."""
    other = 900002
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID, other}, clock=clock)
    await bot.start()
    try:
        creator = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        co = standin.user(user_id=other, first_name="Omar")
        await co.send("/help")  # a bot may write only to someone who started it
        await co.expect(lambda m: bool(m.text))
        people = await in_workshop_2(standin, creator)
        await creator.send(f"/share {other}")
        await creator.expect("now shared")
        for team in ("North", "South"):
            await write_and_confirm(people[team, "lead"], f"{team}'s view.", "/response")
        await advance(creator)
        for team in ("North", "South"):
            await write_and_confirm(people[team, "member"], f"{team} reflects.")
        await creator.send("/schedule reflection 2027-02-05 16:00 auto")
        await creator.expect("moves on by itself")
        bot.organisers = {other}
        await bot.restart()
        seen = len(creator.messages)
        stranger = standin.user(first_name="Sam")
        [(token,)] = await rows(
            bot,
            "SELECT token FROM invites i JOIN teams t ON t.id = i.team_id"
            " WHERE t.name = 'North' AND i.role = 'lead' AND revoked_at IS NULL",
        )
        await stranger.send(f"/start {token}")
        await co.expect("Someone else opened the lead link")
        clock.set(utc("2027-02-05T16:00"))
        await tick(bot)
        await co.expect("at its deadline")
        await co.expect_document(contains=".csv")
        await wait_drained(bot)
        assert creator.messages[seen:] == []
        assert await rows(bot, "SELECT phase FROM swaps") == [("closed",)]
    finally:
        await bot.stop()


async def test_announce_on_the_next_line_keeps_its_first_word(bot, standin, organiser):
    """Issue 19, item 11: /announce, a line break, then the text: nothing is lost."""
    await set_up(standin, organiser, "Announced swap", ["North", "South"])
    await organiser.send("/announce\nTomorrow the workshop starts at nine.\nBring notes.")
    preview = await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
    assert "Tomorrow the workshop starts at nine." in preview.text
    assert "Bring notes." in preview.text
