"""Replies to someone acting now go before the bulk still queued for them."""

from __future__ import annotations

from bot.delivery.worker import Limits
from tests.support.bot import ORGANISER_ID, RunningBot
from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm


async def test_a_reply_overtakes_phase_material_queued_in_the_same_chat(standin, tmp_path):
    # Each chat paced (one message in any 0.15 s, with no margin), so that phase
    # material queues.
    limits = Limits(
        overall_per_second=10_000,
        chat_per_window=1,
        chat_window=0.15,
        group_per_minute=10_000,
        margin=0,
    )
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID}, limits=limits)
    await bot.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        people = await set_up(standin, organiser, "Queued swap", ["North", "South"])
        await advance(organiser)
        for team in ("North", "South"):
            await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
        await advance(organiser)
        # Long answers, so that what workshop 3 owes does not fold into one message.
        for n in range(4):
            await write_and_confirm(
                people["South", "member"], f"South's answer number {n}. " + "Words. " * 450
            )
        await write_and_confirm(people["South", "lead"], "South's view.", "/response")
        await write_and_confirm(people["North", "lead"], "North's view.", "/response")
        lead = people["North", "lead"]
        lead.skip_all()
        # Workshop 3 owes North's lead six messages; the lead asks for help at once.
        await advance(organiser)
        await lead.send("/help")
        await lead.expect("Reflection, round 1", timeout=20)
        texts = [m.text for m in lead.texts]
        helped = next(i for i, t in enumerate(texts) if "/cancel" in t and "Workshop 3" in t)
        last = next(i for i, t in enumerate(texts) if "Reflection, round 1" in t)
        assert helped < last, texts
    finally:
        await bot.stop()
