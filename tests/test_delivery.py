"""Delivery that loses nothing: fan-outs under Telegram's flood limits, with faults.

The stand-in enforces Telegram's limits (30 messages a second overall, one a second
per chat with a burst of three) and records every send it had to refuse with 429 in
``standin.limit_violations``; the faults we inject are recorded apart, in
``standin.injected_failures``. The stand-in injects a fault before it looks at the
request, so a faulted send was never delivered: a dropped connection here is one
that fails on the way in, and its retry must not produce a second copy. (A
connection lost after Telegram accepted the message is the crash case of
``test_restart.py``, where one duplicate is allowed.)

People are seeded straight into the SQLite file with the real stores: joining 300
people through /start would only make the tests slow. The fan-out itself is the
real one: the organiser's /advance and Confirm, which owes every member the message
that opens workshop 1.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.standin import BotAPIStandIn, utf16_len
from tests.support.bot import BOT_USERNAME, ORGANISER_ID, TOKEN, RunningBot
from tests.support.fanout import (
    OPENING,
    everyone_has_it,
    open_workshop,
    openings,
    seeded_bot,
    wait_drained,
)
from tests.support.swapflow import advance, write_and_confirm

pytestmark = pytest.mark.paced


async def test_a_fan_out_to_300_people_survives_429s_502s_and_drops(standin, tmp_path):
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    # Seeded, so that every run meets the same faults.
    standin.fail_rate("sendMessage", 429, 0.02, seed=1, retry_after=1)
    standin.fail_rate("sendMessage", 429, 0.01, seed=2, retry_after=2)
    standin.fail_rate("sendMessage", 502, 0.05, seed=3)
    standin.drop_rate("sendMessage", 0.05, seed=4)
    bot, users = await seeded_bot(standin, tmp_path, 300)
    try:
        await open_workshop(organiser, 300)
        await standin.wait_for(lambda: everyone_has_it(users), timeout=90)
        await organiser.expect("on their way", timeout=30)
        await wait_drained(bot)
    finally:
        await bot.stop()

    assert Counter(openings(user) for user in users) == {1: 300}
    assert standin.limit_violations == []
    injected = Counter(failure.status for failure in standin.injected_failures)
    assert injected[429] and injected[502] and injected[None], injected


async def test_a_429_outlasting_the_rate_limiter_is_retried_by_delivery(standin, tmp_path):
    """Three 429s in a row: the rate limiter retries twice, then delivery waits and retries."""
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    bot, users = await seeded_bot(standin, tmp_path, 4)
    standin.fail_next("sendMessage", 429, count=3, retry_after=1)
    try:
        await open_workshop(organiser, 4)
        await standin.wait_for(lambda: everyone_has_it(users), timeout=30)
        await organiser.expect("on their way")
        await wait_drained(bot)
    finally:
        await bot.stop()
    assert [f.status for f in standin.injected_failures] == [429, 429, 429]
    assert [openings(user) for user in users] == [1, 1, 1, 1]
    assert sum("Move Fan-out" in m.text for m in organiser.texts) == 1  # the preview
    assert standin.limit_violations == []


async def test_people_who_cannot_be_reached_are_counted_in_status(standin, tmp_path):
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    bot, users = await seeded_bot(standin, tmp_path, 8)
    never_started = users[5:7]
    for user in never_started:
        user.started = False
    blocker = users[7]
    standin.block(blocker)
    reachable = users[:5]
    try:
        await open_workshop(organiser, 8)
        await standin.wait_for(lambda: everyone_has_it(reachable))
        await organiser.expect("on their way")
        await wait_drained(bot)
        await organiser.send("/status")
        status = await organiser.expect("Not reachable yet")
        assert re.search(r"\b2 who have not started the bot", status.text), status.text
        assert re.search(r"\b1 who have blocked it", status.text), status.text

        # Whoever comes back is sent what they were owed, once.
        standin.unblock(blocker)
        await blocker.send("/help")
        await blocker.expect(OPENING)
        await wait_drained(bot)
    finally:
        await bot.stop()
    assert [openings(user) for user in users] == [1] * 5 + [0, 0] + [1]
    assert standin.limit_violations == []


async def test_someone_unreachable_before_a_restart_is_sent_what_they_were_owed_after_it(
    standin, tmp_path
):
    """The gate knows who could not be reached without asking SQLite each update:
    what it knew goes with the process, and the next one reads it back."""
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    bot, users = await seeded_bot(standin, tmp_path, 3)
    blocker = users[2]
    standin.block(blocker)
    try:
        await open_workshop(organiser, 3)
        await standin.wait_for(lambda: everyone_has_it(users[:2]))
        await wait_drained(bot)
    finally:
        await bot.stop()
    assert openings(blocker) == 0
    again = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID})
    await again.start()
    try:
        standin.unblock(blocker)
        await blocker.send("/help")
        await blocker.expect(OPENING)
        await wait_drained(again)
        # Back once is enough: the next update finds nothing more owed.
        await blocker.send("/help")
        await blocker.expect("What you can do now")
        await wait_drained(again)
    finally:
        await again.stop()
    assert [openings(user) for user in users] == [1, 1, 1]


def _long_dilemma() -> str:
    """Just under 4,000 characters (the most a contribution may have), in paragraphs."""
    text, n = "", 0
    while True:
        n += 1
        sentence = (
            f"Case {n}: the school nurse, the family hub and the social worker each "
            "hold part of the picture, and nobody holds all of it for very long."
        )
        joint = "" if n == 1 else "\n\n" if n % 5 == 1 else " "
        if len(text + joint + sentence) > 4000:
            return text
        text += joint + sentence


async def test_a_long_dilemma_arrives_whole_in_parts_telegram_accepts(standin, tmp_path):
    # People here press buttons faster than anyone could; the edits that remove
    # pressed buttons share the per-chat pace with the outbox, so no limit is hit.
    organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
    bot, users = await seeded_bot(standin, tmp_path, 4)
    north_lead, south_lead, _, south_member = users
    dilemma = _long_dilemma()
    assert len(dilemma) > 3900
    try:
        await open_workshop(organiser, 4)
        await organiser.expect("on their way")
        await write_and_confirm(north_lead, dilemma)
        await write_and_confirm(south_lead, "Whose assessment comes first?")
        await advance(organiser)
        await south_member.expect("Answer simply by writing")
        await wait_drained(bot)
    finally:
        await bot.stop()

    assert all(utf16_len(m.text or "") <= 4096 for m in standin.sent)
    assert standin.limit_violations == []
    # The partner team's copy: the dilemma whole and in order, each part ending
    # at the end of a sentence or paragraph.
    texts = [m.text for m in south_member.texts]
    first = next(i for i, text in enumerate(texts) if "asks you to work on this dilemma" in text)
    last = next(i for i, text in enumerate(texts) if "Answer simply by writing" in text)
    parts = texts[first : last + 1]
    assert len(parts) >= 2
    words = " ".join(parts).split()
    start = words.index(dilemma.split()[0])
    assert words[start : start + len(dilemma.split())] == dilemma.split(), "a word was cut"
    for part in parts[:-1]:
        # A sentence end, or a heading (the prompt's "As you work on it").
        assert part.rstrip()[-1] in ".?!:" or part.rstrip().endswith("As you work on it"), (
            f"a part ends mid-sentence: {part[-80:]!r}"
        )


async def test_a_fan_out_never_passes_telegram_s_limits_read_as_rolling_windows(tmp_path):
    """30 in any second, 3 in any 3 seconds per chat: no burst after a pause passes."""
    standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, rolling=True)
    await standin.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        bot, users = await seeded_bot(standin, tmp_path, 150)
        try:
            await open_workshop(organiser, 150)
            await standin.wait_for(lambda: everyone_has_it(users), timeout=60)
            await organiser.expect("on their way", timeout=30)
            await wait_drained(bot)
        finally:
            await bot.stop()
        assert standin.limit_violations == []
        assert Counter(openings(user) for user in users) == {1: 150}
    finally:
        await standin.stop()


async def test_a_restart_mid_fan_out_counts_the_last_second_of_the_process_before(tmp_path):
    """Stopped and started again at full speed, the bot would spend Telegram's budget
    for the second twice: the new process waits a refill before its first send."""
    standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, rolling=True)
    await standin.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        first, users = await seeded_bot(standin, tmp_path, 150)
        try:
            await open_workshop(organiser, 150)
            # Well into the fan-out, sending as fast as the limits allow.
            await standin.wait_for(lambda: sum(map(openings, users)) >= 60, timeout=30)
        finally:
            await first.stop()
        assert not everyone_has_it(users), "the fan-out ended first; the test proves nothing"
        second = RunningBot(standin, first.db_path, {ORGANISER_ID})
        await second.start()
        try:
            await standin.wait_for(lambda: everyone_has_it(users), timeout=60)
            await wait_drained(second)
        finally:
            await second.stop()
        assert standin.limit_violations == []
        assert Counter(openings(user) for user in users) == {1: 150}
    finally:
        await standin.stop()
