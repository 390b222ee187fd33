"""Issue 13: a team's group chat sees what the team shares, and nothing personal."""

from __future__ import annotations

import pytest

from bot.delivery.worker import Limits
from bot.standin import BotAPIStandIn
from tests.support.bot import (
    BOT_USERNAME,
    ORGANISER_ID,
    TOKEN,
    UNPACED,
    RunningBot,
    execute,
    rows,
)
from tests.support.fanout import wait_drained
from tests.support.swapflow import DILEMMAS, advance, set_up, withdraw, write_and_confirm


async def link(standin, lead, group) -> None:
    """The lead sends /linkgroup in the group and confirms in private."""
    await lead.send_in(group, f"/linkgroup@{BOT_USERNAME}")
    await lead.expect(lambda m: "Confirm link" in m.button_labels())
    await lead.expect_answer(await lead.press("Confirm link"))
    await group.expect("now team")


async def test_a_lead_links_and_unlinks_the_team_group(bot, standin, organiser):
    people = await set_up(standin, organiser, "Grouped swap", ["North", "South"])
    group = standin.group("North office")
    member = people["North", "member"]
    await member.send_in(group, "/linkgroup")
    refused = await member.expect("Only a team's lead")
    assert not refused.buttons
    assert await rows(bot, "SELECT COUNT(*) FROM teams WHERE group_chat_id IS NOT NULL") == [(0,)]
    lead = people["North", "lead"]
    await link(standin, lead, group)
    assert await rows(
        bot, "SELECT name, group_title FROM teams WHERE group_chat_id = ?", group.id
    ) == [("North", "North office")]
    await organiser.send("/status")
    status = await organiser.expect("Grouped swap")
    assert "group linked: North office" in status.text
    await member.send_in(group, "/unlinkgroup")
    await member.expect("Only the lead")
    await lead.send_in(group, "/unlinkgroup")
    await group.expect("no longer team North's group")
    assert await rows(bot, "SELECT COUNT(*) FROM teams WHERE group_chat_id IS NOT NULL") == [(0,)]
    # Anything else in the group gets the way to the private chat.
    await member.send_in(group, "/help")
    pointer = await group.expect("private chat")
    assert f"t.me/{BOT_USERNAME}" in pointer.text


async def test_the_group_gets_what_the_team_shares_and_nothing_personal(bot, standin, organiser):
    people = await set_up(standin, organiser, "Shared swap", ["North", "South"])
    group = standin.group("North office")
    await link(standin, people["North", "lead"], group)
    await advance(organiser)
    await group.expect("Workshop 1 has begun")
    await write_and_confirm(
        people["North", "member"], "A private candidate from North.", "/propose"
    )
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    await write_and_confirm(people["South", "lead"], DILEMMAS["South"], "/dilemma")
    await advance(organiser)
    await group.expect(DILEMMAS["South"][:40])
    await write_and_confirm(people["North", "member"], "North's own answer, kept private.")
    await write_and_confirm(people["South", "member"], "South answers North's dilemma.")
    await write_and_confirm(people["North", "lead"], "North's consolidated view.", "/response")
    await write_and_confirm(people["South", "lead"], "South's consolidated view.", "/response")
    await advance(organiser)
    # What came back, the side by side and round 1, folded as they fit, in order.
    await group.expect(lambda m: "Reflection, round 1" in m.text)
    returned = "\n".join(m.text for m in group.texts)
    order = ["South's consolidated view", "South answers North's dilemma", "Side by side"]
    assert [returned.index(t) for t in order] == sorted(returned.index(t) for t in order)
    shown = "\n".join(m.text for m in group.texts)
    for private in (
        "A private candidate from North",
        "North's own answer, kept private",
        DILEMMAS["North"][:40],
    ):
        assert private not in shown
    assert all(not m.buttons for m in group.messages)
    for user in people.values():
        assert user.first_name not in shown


async def test_a_group_becoming_a_supergroup_is_followed(bot, standin, organiser):
    people = await set_up(standin, organiser, "Moving swap", ["North", "South"])
    group = standin.group("North office")
    await link(standin, people["North", "lead"], group)
    supergroup = standin.migrate(group, people["North", "lead"])
    await advance(organiser)
    await supergroup.expect("Workshop 1 has begun")
    assert await rows(bot, "SELECT group_chat_id FROM teams WHERE name = 'North'") == [
        (supergroup.id,)
    ]


async def test_a_group_that_migrates_before_the_bot_hears_of_it_is_followed(
    bot, standin, organiser
):
    people = await set_up(standin, organiser, "Late news swap", ["North", "South"])
    group = standin.group("North office")
    await link(standin, people["North", "lead"], group)
    # Telegram refuses the old id with migrate_to_chat_id before the service message
    # reaches the bot: the send itself finds the new id.
    supergroup = standin.group("North office (super)")
    group.bot_status, group.migrated_to = "migrated", supergroup.id
    await advance(organiser)
    await supergroup.expect("Workshop 1 has begun")


@pytest.mark.parametrize("what", ["removed", "restricted"])
async def test_a_lost_group_ends_the_link_and_the_lead_is_told(bot, standin, organiser, what):
    people = await set_up(standin, organiser, "Lost swap", ["North", "South"])
    group = standin.group("North office")
    lead = people["North", "lead"]
    await link(standin, lead, group)
    if what == "removed":
        standin.remove_bot(group, people["North", "member"])
        told = await lead.expect("no longer in your team's group")
    else:
        standin.restrict_bot(group, people["North", "member"])
        await advance(organiser)  # the next thing for the group finds it cannot post
        told = await lead.expect("may not post")
    assert "North office" in told.text
    assert await rows(bot, "SELECT COUNT(*) FROM teams WHERE group_chat_id IS NOT NULL") == [(0,)]
    # Members are unaffected: they still get their own copies.
    if what == "removed":
        await advance(organiser)
    await people["North", "member"].expect("Workshop 1 has begun")


async def test_a_busy_group_stays_within_its_limit_and_holds_up_no_one(tmp_path):
    """Telegram's 20 a minute per group, scaled down in time: 2 in any 2 seconds."""
    standin = BotAPIStandIn(
        token=TOKEN, bot_username=BOT_USERNAME, **{**UNPACED, "group_limit": 2}, group_window=2.0
    )
    await standin.start()
    limits = Limits(
        overall_per_second=10_000,
        chat_per_window=10_000,
        group_per_minute=2,
        group_window=2.0,
    )
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID}, limits=limits)
    await bot.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        people = await set_up(standin, organiser, "Busy swap", ["North", "South"])
        group = standin.group("North office")
        await link(standin, people["North", "lead"], group)
        await advance(organiser)
        for team in ("North", "South"):
            await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
        await advance(organiser)
        for n in range(3):
            await write_and_confirm(people["South", "member"], f"South's answer {n}.")
        await write_and_confirm(people["South", "lead"], "South's consolidated view.", "/response")
        await write_and_confirm(people["North", "lead"], "North's consolidated view.", "/response")
        await advance(organiser)  # the group is owed: opening, 4 returns, side by side, round
        member = people["North", "member"]
        await member.send("/help")
        await member.expect("/cancel")
        helped_at = len(standin.sent)
        await group.expect("Reflection, round 1", timeout=30)
        assert standin.limit_violations == []
        # The private answer did not wait for the group's turn to come round again.
        last_group_message = max(i for i, m in enumerate(standin.sent) if m.chat_id == group.id)
        assert helped_at <= last_group_message
    finally:
        await bot.stop()
        await standin.stop()


async def test_another_team_cannot_take_over_a_linked_group(bot, standin, organiser):
    people = await set_up(standin, organiser, "Contested swap", ["North", "South"])
    group = standin.group("Shared office")
    await link(standin, people["North", "lead"], group)
    south_lead = people["South", "lead"]
    await south_lead.send_in(group, "/linkgroup")
    await south_lead.expect("already another team's group")
    assert await rows(bot, "SELECT name FROM teams WHERE group_chat_id = ?", group.id) == [
        ("North",)
    ]
    # A lead's actions are in the audit without the lead.
    await organiser.send("/audit")
    audit = await organiser.expect("Audit of")
    assert "group linked" in audit.text
    assert str(people["North", "lead"].id) not in audit.text


async def still_owed_later(bot, group) -> int:
    """How many of the messages ``owe_the_group_later`` wrote still wait to go."""
    [(count,)] = await rows(
        bot,
        "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND status = 'pending'"
        " AND not_before > 1e11",
        group.id,
    )
    return count


async def owe_the_group_later(bot, group) -> None:
    """A message to the group still waiting (deferred far ahead), as a busy group's are."""
    await execute(
        bot,
        "INSERT INTO outbox (chat_id, text, not_before, created_at) VALUES (?, 'x', 1e12, 't')",
        group.id,
    )


@pytest.mark.parametrize("how", ["removed", "withdrew"])
async def test_a_group_stops_receiving_when_the_lead_who_linked_it_leaves(
    bot, standin, organiser, how
):
    """Issue 19, item 1: the link is the lead's; when they leave the team (removed as a
    stranger who used a leaked lead link, or withdrawn), the group receives nothing more,
    not even what was already waiting for it, and /status no longer shows it."""
    people = await set_up(standin, organiser, "Leaky swap", ["North", "South"])
    group = standin.group("North office")
    lead = people["North", "lead"]
    await link(standin, lead, group)
    await owe_the_group_later(bot, group)
    if how == "removed":
        await organiser.send("/remove")
        await organiser.expect(lambda m: any(lead.first_name in b for b in m.button_labels()))
        await organiser.press(lead.first_name)
        await organiser.expect(lambda m: "Confirm removal" in m.button_labels())
        await organiser.expect_answer(await organiser.press("Confirm removal"))
        await organiser.expect("removed")
    else:
        await withdraw(lead)
    await group.expect("no longer team North's group")
    assert await still_owed_later(bot, group) == 0
    await organiser.send("/status")
    status = await organiser.expect("Leaky swap")
    assert "Group linked" not in status.text
    await advance(organiser, force=True)  # North has no lead now
    await people["North", "member"].expect("Workshop 1 has begun")
    await wait_drained(bot)
    assert not any("Workshop 1" in m.text for m in group.texts)


async def test_an_organiser_unlinks_a_teams_group(bot, standin, organiser):
    """Issue 19, item 1: an organiser need not wait for a new lead to end a link."""
    people = await set_up(standin, organiser, "Unlinked swap", ["North", "South"])
    group = standin.group("North office")
    lead = people["North", "lead"]
    await link(standin, lead, group)
    await owe_the_group_later(bot, group)
    await organiser.send("/teams")
    teams = await organiser.expect(lambda m: "Unlink North's group" in m.button_labels())
    assert "North office" in teams.text
    await organiser.expect_answer(await organiser.press("Unlink North's group"))
    await organiser.expect("no longer linked")
    await group.expect("no longer team North's group")
    await lead.expect("An organiser unlinked your team's group North office")
    assert await still_owed_later(bot, group) == 0
    assert await rows(bot, "SELECT COUNT(*) FROM teams WHERE group_chat_id IS NOT NULL") == [(0,)]
    await advance(organiser)
    await people["North", "member"].expect("Workshop 1 has begun")
    await wait_drained(bot)
    assert not any("Workshop 1" in m.text for m in group.texts)
    # The same button again: nothing left to unlink, and it says so.
    await organiser.send("/teams")
    teams = await organiser.expect(lambda m: "Teams in" in m.text and m is not teams)
    assert not any("Unlink" in b for b in teams.button_labels())


async def test_in_a_group_the_bot_answers_only_what_is_addressed_to_it(bot, standin, organiser):
    """Issue 19, item 10: where the bot sees every message (an admin, or privacy mode
    off), people replying to each other and commands for another bot get no answer."""
    people = await set_up(standin, organiser, "Chatty swap", ["North", "South"])
    group = standin.group("North office")
    lead, member = people["North", "lead"], people["North", "member"]
    said = await lead.send_in(group, "Shall we meet on Tuesday?")
    await member.send_in(group, "Yes, Tuesday works.", reply_to=said["message"])
    await member.send_in(group, "/help@some_other_bot")
    await member.send_in(group, f"/help@{BOT_USERNAME}")
    pointer = await group.expect("private chat")
    await member.send_in(group, "/help")
    await group.expect(lambda m: "private chat" in m.text and m is not pointer)
    await wait_drained(bot)
    assert len([m for m in group.texts if "one to one" in m.text]) == 2
