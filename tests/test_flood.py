"""Issue 7, item 12: one person cannot flood the store, and a long paste that
Telegram split into parts becomes one draft, previewed whole.

Each test here failed on the main branch before the fix.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.bot import execute, rows
from tests.support.fanout import wait_drained
from tests.support.swapflow import advance, set_up


def part(label: str, length: int = 4096) -> str:
    """One part of a long paste, as a Telegram app would send it: words, not one blob."""
    words = f"{label} practice note about shared assessment and trust. " * 200
    return words[:length].rsplit(" ", 1)[0]


async def in_workshop_1(standin, organiser):
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    await advance(organiser)
    return people


async def test_a_paste_split_into_parts_becomes_one_draft(bot, standin, organiser):
    people = await in_workshop_1(standin, organiser)
    lead = people["North", "lead"]
    lead.skip_all()
    parts = [part("First", 4090), part("Second", 4090), "And that is the whole dilemma."]
    for text in parts:
        await lead.send(text)
    preview = await lead.expect(lambda m: "Confirm" in m.button_labels(), timeout=15)
    shown = "\n".join(m.text for m in lead.texts)
    assert "limit" not in shown
    for text in parts:
        assert text[-60:] in shown
    assert preview.text.count("Confirm") >= 1
    assert sum(1 for m in lead.texts if "Confirm" in m.button_labels()) == 1
    [(draft,)] = await rows(bot, "SELECT text FROM contributions WHERE status = 'draft'")
    assert draft == "\n".join(parts)


async def test_a_single_long_message_is_previewed_after_a_short_wait(bot, standin, organiser):
    people = await in_workshop_1(standin, organiser)
    lead = people["North", "lead"]
    text = part("Only", 4000)
    await lead.send(text)
    await lead.expect(lambda m: "Confirm" in m.button_labels(), timeout=15)
    assert await rows(bot, "SELECT text FROM contributions") == [(text,)]


async def test_a_text_over_the_whole_limit_is_refused_plainly(bot, standin, organiser):
    people = await in_workshop_1(standin, organiser)
    lead = people["North", "lead"]
    lead.skip_all()
    for n in range(4):
        await lead.send(part(f"Part{n}", 4090))
    refusal = await lead.expect(lambda m: "limit" in m.text, timeout=15)
    assert "12,000" in refusal.text
    await wait_drained(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(0,)]


async def test_one_open_draft_per_person_and_kind(bot, standin, organiser):
    people = await in_workshop_1(standin, organiser)
    member = people["North", "member"]
    previews = []
    for n in range(3):
        await member.send(f"Candidate number {n}")
        previews.append(await member.expect(lambda m, n=n: f"Candidate number {n}" in m.text))
    assert "replaces your earlier draft" not in previews[0].text
    assert "replaces your earlier draft" in previews[2].text
    assert await rows(bot, "SELECT text FROM contributions WHERE status = 'draft'") == [
        ("Candidate number 2",)
    ]


async def test_a_flood_is_answered_once_and_dropped(bot, standin, organiser):
    people = await in_workshop_1(standin, organiser)
    member = people["North", "member"]
    member.skip_all()
    for n in range(60):
        await member.send(f"Flood message {n}")
    await member.expect(lambda m: "faster" in m.text, timeout=30)
    await wait_drained(bot, timeout=60)
    slow_downs = [m for m in member.texts if "faster" in m.text]
    assert len(slow_downs) == 1
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(1,)]
    previews = [m for m in member.texts if "Confirm" in m.button_labels()]
    assert len(previews) <= 20


async def test_old_drafts_expire(bot, standin, organiser):
    people = await in_workshop_1(standin, organiser)
    member = people["North", "member"]
    await member.send("A draft nobody confirms")
    await member.expect(lambda m: "Confirm" in m.button_labels())
    week_ago = (datetime.now(UTC) - timedelta(days=8)).replace(microsecond=0).isoformat()
    await execute(bot, "UPDATE contributions SET created_at = ?", week_ago)
    services = bot.application.bot_data["services"]
    assert await services.workshop.expire_drafts() == 1
    assert await rows(bot, "SELECT COUNT(*) FROM contributions") == [(0,)]


async def test_a_press_over_the_limit_is_still_answered(bot, standin, organiser):
    """Found by the fuzzing of issue 19: a press dropped by the flood limit was never
    answered, and its spinner turned on in the person's app."""
    people = await in_workshop_1(standin, organiser)
    member = people["North", "member"]
    presses = [await member.press_data("wd:999999") for _ in range(30)]
    for press in presses:
        await member.expect_answer(press, timeout=15)
