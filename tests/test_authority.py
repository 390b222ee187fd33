"""Issue 7, authority: buttons are claims to be checked, links can leak, names can lie.

Each test here failed on the main branch before the fix it is named for.
"""

from __future__ import annotations

import pytest

from tests.support.bot import ORGANISER_ID, RunningBot, execute, rows
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    set_up,
    withdraw,
    write_and_confirm,
)

OTHER_ORGANISER = 900002


@pytest.fixture
async def two_organisers(standin, tmp_path):
    running = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID, OTHER_ORGANISER})
    await running.start()
    yield running
    await running.stop()


async def test_a_second_organiser_cannot_press_the_first_ones_buttons(
    two_organisers, standin, organiser
):
    """Item 1: forged advance, settings and switch buttons naming another's swap."""
    bot = two_organisers
    await set_up(standin, organiser, "Olivia's swap", ["North", "South"])
    [(swap_id,)] = await rows(bot, "SELECT id FROM swaps")
    mallory = standin.user(user_id=OTHER_ORGANISER, first_name="Mallory")
    await mallory.send("/newswap Mallory's own")
    await mallory.expect("Mallory's own")
    for data in (
        f"adv:{swap_id}:set:0:1",
        f"set:{swap_id}:share_names:1",
        f"swap:{swap_id}",
        f"set:{swap_id}:allocation:ring",
    ):
        answered = await mallory.expect_answer(await mallory.press_data(data))
        assert answered is not None
        refusal = await mallory.expect(lambda m: True)
        assert "Olivia's swap" not in refusal.text and not refusal.buttons
    assert await rows(
        bot, "SELECT phase, share_names, allocation FROM swaps WHERE id = ?", swap_id
    ) == [("setup", 0, "auto")]
    assert await rows(bot, "SELECT COUNT(*) FROM transitions") == [(0,)]
    assert mallory.documents == []
    # The owner's own button still works.
    await advance(organiser)
    assert await rows(bot, "SELECT phase FROM swaps WHERE id = ?", swap_id) == [("dilemma",)]


@pytest.mark.parametrize(
    "data",
    [
        "ok:²",
        "ok:١",
        "ok:-1",
        "ok:0",
        "ok:99999999999999999999",
        "adv:1:set:0:2",
        "set:1:title:x",
        "ok",
        "ok:1:2",
        "",
        "x" * 64,
    ],
)
async def test_forged_callback_data_is_answered_and_changes_nothing(
    bot, standin, organiser, caplog, data
):
    """Item 1: one parse-and-check place; no traceback, and the spinner always stops."""
    await create_swap(organiser, "Swap", ["North", "South"])
    answer = await organiser.expect_answer(await organiser.press_data(data))
    assert answer is not None
    stale = await organiser.expect(lambda m: "button" in m.text.lower())
    assert not stale.buttons
    assert "Traceback" not in caplog.text and "Error while handling" not in caplog.text


async def test_one_lead_per_team_and_a_leaked_lead_link_is_reported(bot, standin, organiser):
    """Item 2: a second person on the lead link is refused; the organiser hears of it."""
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    lead = standin.user(first_name="Lena")
    await join(lead, tokens["North"]["lead"])
    intruder = standin.user(first_name="Ivan")
    await intruder.send(f"/start {tokens['North']['lead']}")
    refused = await intruder.expect(lambda m: "lead" in m.text.lower())
    assert not refused.buttons
    warning = await organiser.expect(lambda m: "lead link" in m.text and "North" in m.text)
    assert "/revoke" in warning.text
    assert await rows(bot, "SELECT COUNT(*) FROM memberships WHERE role = 'lead'") == [(1,)]


async def test_revoking_a_link_shows_who_used_it_and_removes_them(bot, standin, organiser):
    """Item 2: revoke lists who joined by the link; removal deletes them and their words."""
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    intruder = standin.user(first_name="Ivan")
    [(member_token,)] = await rows(
        bot,
        "SELECT token FROM invites i JOIN teams t ON t.id = i.team_id"
        " WHERE t.name = 'North' AND i.role = 'member'",
    )
    await join(intruder, member_token)
    await advance(organiser)
    await write_and_confirm(intruder, "An intruder's proposal, to be removed", "/propose")
    await organiser.send(f"/revoke {member_token}")
    joiners = await organiser.expect(lambda m: "Ivan" in m.text and m.buttons)
    labels = joiners.button_labels()
    assert any("Ivan" in b for b in labels)
    assert any(people["North", "member"].first_name in b for b in labels)
    await organiser.press("Ivan")
    confirm = await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
    assert "1 contribution" in confirm.text
    await organiser.expect_answer(await organiser.press("Confirm removal"))
    await organiser.expect(lambda m: "Ivan" in m.text and "removed" in m.text)
    await intruder.expect(lambda m: "removed" in m.text)
    assert await rows(bot, "SELECT COUNT(*) FROM people WHERE display_name = 'Ivan'") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM contributions WHERE text LIKE '%intruder%'") == [
        (0,)
    ]
    assert await rows(bot, "SELECT COUNT(*) FROM memberships") == [(4,)]


async def test_teams_can_be_renamed_and_removed_during_setup_only(bot, standin, organiser):
    """Item 2: /teams offers rename and remove in setup; people of a removed team are told."""
    tokens = await create_swap(organiser, "Swap", ["Nrth", "South", "West"])
    west = standin.user(first_name="Wes")
    await join(west, tokens["West"]["member"])
    await organiser.send("/teams")
    await organiser.expect(lambda m: "Rename Nrth" in m.button_labels())
    await organiser.press("Rename Nrth")
    await organiser.expect("new name")
    await organiser.send("south")
    await organiser.expect(lambda m: "already" in m.text)
    await organiser.send("North")
    await organiser.expect(lambda m: "North" in m.text and "Nrth" in m.text)
    await organiser.send("/teams")
    await organiser.expect(lambda m: "Remove West" in m.button_labels())
    await organiser.press("Remove West")
    await organiser.expect(lambda m: "Confirm removal" in m.button_labels())
    await organiser.expect_answer(await organiser.press("Confirm removal"))
    await west.expect(lambda m: "removed" in m.text)
    assert await rows(bot, "SELECT name FROM teams ORDER BY position") == [("North",), ("South",)]
    assert await rows(bot, "SELECT COUNT(*) FROM people") == [(0,)]
    await west.send(f"/start {tokens['West']['member']}")
    await west.expect(lambda m: "I agree" not in " ".join(m.button_labels()))


async def test_the_lead_hears_when_someone_else_replaces_the_team_dilemma(bot, standin, organiser):
    """Item 2: a team that has two leads from before the one-lead rule."""
    people = await set_up(standin, organiser, "Swap", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    # A second lead, as a database from before the one-lead rule may hold.
    await execute(
        bot,
        "UPDATE memberships SET role = 'lead' WHERE person_id ="
        " (SELECT id FROM people WHERE display_name = 'NorthMemberPerson')",
    )
    await write_and_confirm(people["North", "member"], DILEMMAS["West"], "/dilemma")
    told = await people["North", "lead"].expect(lambda m: "replaced" in m.text)
    assert "NorthMemberPerson" in told.text and DILEMMAS["West"][:30] in told.text


async def test_names_are_fixed_once_the_swap_leaves_setup(bot, standin, organiser):
    """Item 3: the preview promised 'your team's name, not yours'."""
    await set_up(standin, organiser, "Swap", ["North", "South"])
    [(swap_id,)] = await rows(bot, "SELECT id FROM swaps")
    await advance(organiser)
    await organiser.send("/settings")
    shown = await organiser.expect(lambda m: "Settings" in m.text)
    assert not any("name" in b.lower() for b in shown.button_labels())
    await organiser.press_data(f"set:{swap_id}:share_names:1")
    await organiser.expect(lambda m: "fixed" in m.text)
    assert await rows(bot, "SELECT share_names FROM swaps") == [(0,)]


async def test_the_allocation_cannot_change_after_the_dilemmas_were_swapped(
    bot, standin, organiser
):
    """Item 13: after /reopen the change was reported as done, and ignored."""
    people = await set_up(standin, organiser, "Swap", ["North", "South", "East", "West"])
    [(swap_id,)] = await rows(bot, "SELECT id FROM swaps")
    await advance(organiser)
    for team in ("North", "South", "East", "West"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    before = await rows(bot, "SELECT poser_team_id, receiver_team_id FROM allocations")
    await organiser.send("/reopen")
    await organiser.expect("workshop 1")
    await organiser.send("/settings")
    shown = await organiser.expect(lambda m: "Settings" in m.text)
    assert not any("ring" in b.lower() for b in shown.button_labels())
    await organiser.press_data(f"set:{swap_id}:allocation:ring")
    await organiser.expect(lambda m: "fixed" in m.text)
    assert await rows(bot, "SELECT allocation FROM swaps") == [("auto",)]
    assert await rows(bot, "SELECT poser_team_id, receiver_team_id FROM allocations") == before


async def test_an_edited_message_is_not_taken_as_a_new_one(bot, standin, organiser):
    """Item 5: an edited /addteam made a second team; an edited answer a second draft."""
    await organiser.send("/newswap Swap")
    await organiser.expect("Swap")
    sent = await organiser.send("/addteam Nrth")
    await organiser.expect("start=")
    await organiser.edit(sent, "/addteam North")
    await organiser.expect(lambda m: "new message" in m.text)
    assert await rows(bot, "SELECT name FROM teams") == [("Nrth",)]


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("North\u200b", "already"),  # a zero-width space
        ("ＮＯＲＴＨ", "already"),  # full-width letters, NFKC and case folded
        ("N\u043erth", "alphabet"),  # a Cyrillic о
        ("\u200b\u3164", "visible"),  # nothing visible
    ],
)
async def test_team_names_are_normalised(bot, standin, organiser, name, answer):
    """Item 6: look-alike, invisible and duplicate names are refused."""
    await create_swap(organiser, "Swap", ["North"])
    await organiser.send(f"/addteam {name}")
    refusal = await organiser.expect(lambda m: True)
    assert answer in refusal.text
    assert await rows(bot, "SELECT name FROM teams") == [("North",)]


async def test_a_stale_confirm_removal_removes_nobody_else(bot, standin, organiser):
    """Issue 19, item 3: "Remove X?" is opened, X withdraws and a newcomer joins (a new
    membership, which once took X's id); Confirm must not remove the newcomer."""
    await set_up(standin, organiser, "Swap", ["North", "South"])
    leaving = standin.user(first_name="Xena")
    [(member_token,)] = await rows(
        bot,
        "SELECT token FROM invites i JOIN teams t ON t.id = i.team_id"
        " WHERE t.name = 'South' AND i.role = 'member'",
    )
    await join(leaving, member_token)
    await organiser.send("/remove")
    await organiser.expect(lambda m: any("Xena" in b for b in m.button_labels()))
    await organiser.press("Xena")
    await organiser.expect(lambda m: "Confirm removal" in m.button_labels())
    await withdraw(leaving)
    newcomer = standin.user(first_name="Nadia")
    await join(newcomer, member_token)
    await organiser.expect_answer(await organiser.press("Confirm removal"))
    await organiser.expect("no longer active")
    assert await rows(bot, "SELECT COUNT(*) FROM people WHERE display_name = 'Nadia'") == [(1,)]
    assert await rows(bot, "SELECT COUNT(*) FROM memberships") == [(5,)]
