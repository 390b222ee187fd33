"""Issue 2 end to end: organisers set a swap up; people join by link and consent."""

from __future__ import annotations

from tests.support.bot import ORGANISER_ID, rows
from tests.support.swapflow import advance, create_swap, join, set_up


async def count(bot, sql: str, *params) -> int:
    async with bot.db.conn.execute(sql, params) as cur:
        return (await cur.fetchone())[0]


async def test_two_team_swap_four_people_join_and_status_shows_them(bot, standin, organiser):
    tokens = await create_swap(organiser, "Fife and Lothian", ["Fife", "Lothian"])
    people = {
        ("Fife", "lead"): standin.user(first_name="Fiona"),
        ("Fife", "member"): standin.user(first_name="Fraser"),
        ("Lothian", "lead"): standin.user(first_name="Lewis"),
        ("Lothian", "member"): standin.user(first_name="Leah"),
    }
    for (team, role), user in people.items():
        await join(user, tokens[team][role])
    await organiser.send("/status")
    status = await organiser.expect("Fife and Lothian")
    for name in ("Fife", "Lothian", "Fiona", "Fraser", "Lewis", "Leah"):
        assert name in status.text
    assert await count(bot, "SELECT COUNT(*) FROM memberships") == 4
    assert await count(bot, "SELECT COUNT(*) FROM consents WHERE decision = 'agreed'") == 4
    rows = await bot.db.conn.execute_fetchall(
        "SELECT m.role, t.name FROM memberships m JOIN teams t ON t.id = m.team_id"
        " JOIN people p ON p.id = m.person_id ORDER BY p.display_name"
    )
    assert sorted(tuple(r) for r in rows) == sorted(
        [("lead", "Fife"), ("member", "Fife"), ("lead", "Lothian"), ("member", "Lothian")]
    )


async def test_information_sheet_then_consent_receipt_with_timestamp(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    ann = standin.user(first_name="Ann")
    await ann.send(f"/start {tokens['North']['member']}")
    sheet = await ann.expect(lambda m: any("I agree" in b for b in m.button_labels()))
    assert "North" in sheet.text
    assert any("decline" in b.lower() for b in sheet.button_labels())
    # Nothing is stored about her before she agrees.
    assert await count(bot, "SELECT COUNT(*) FROM people") == 0
    await ann.send("Here is something I think about our team")
    await ann.expect(lambda m: "agree" in m.text.lower())
    assert await count(bot, "SELECT COUNT(*) FROM contributions") == 0
    assert await count(bot, "SELECT COUNT(*) FROM people") == 0
    await ann.press("I agree")
    # The sheet becomes the receipt: its words stay, the question under them
    # gives way to the answer, and its buttons are spent. No new message.
    sent = len(ann.texts)
    receipt = await ann.expect_edit(sheet, lambda m: "Europe/London" in m.text)
    assert "voluntary" in receipt.text and "you have joined" in receipt.text
    assert "Press I agree" not in receipt.text and not receipt.buttons
    assert len(ann.texts) == sent
    async with bot.db.conn.execute(
        "SELECT decision, decided_at, sheet_version FROM consents"
    ) as cur:
        decision, decided_at, version = await cur.fetchone()
    assert decision == "agreed" and decided_at[:2] == "20" and len(version) == 12
    # The sheet's buttons are spent.
    await standin.wait_for(lambda: sheet.buttons == [])


async def test_declining_stores_only_the_refusal(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    ben = standin.user(first_name="Ben")
    await ben.send(f"/start {tokens['South']['lead']}")
    sheet = await ben.expect(lambda m: any("I agree" in b for b in m.button_labels()))
    await ben.press("Decline")
    # The answer takes the place of the question under the sheet.
    await ben.expect_edit(sheet, lambda m: "change your mind" in m.text and not m.buttons)
    assert await count(bot, "SELECT COUNT(*) FROM people") == 0
    assert await count(bot, "SELECT COUNT(*) FROM memberships") == 0
    assert (
        await count(
            bot, "SELECT COUNT(*) FROM consents WHERE decision = 'declined' AND person_id IS NULL"
        )
        == 1
    )


async def test_bad_tokens_get_clear_answers_and_change_nothing(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    eve = standin.user(first_name="Eve")
    answers = []
    for token in ("AAAAAAAAAAAAAAAAAAAAAA", "not a token!", "x" * 70):
        await eve.send(f"/start {token}")
        answers.append((await eve.expect(lambda m: True)).text)
    assert all(answers) and not any("I agree" in a for a in answers)
    assert await count(bot, "SELECT COUNT(*) FROM conversations") == 0

    # A revoked link no longer works; the organiser gets a fresh one.
    await organiser.send(f"/revoke {tokens['North']['member']}")
    fresh = await organiser.expect("start=")
    await eve.send(f"/start {tokens['North']['member']}")
    revoked = await eve.expect(lambda m: True)
    assert "revoked" in revoked.text.lower() or "no longer" in revoked.text.lower()
    new_token = fresh.text.split("start=")[1].split()[0]
    await join(eve, new_token)
    assert await count(bot, "SELECT COUNT(*) FROM memberships") == 1


async def test_joining_twice_or_a_second_team_is_refused(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    kim = standin.user(first_name="Kim")
    await join(kim, tokens["North"]["member"])
    await kim.send(f"/start {tokens['North']['member']}")
    again = await kim.expect(lambda m: "already" in m.text.lower())
    assert not again.buttons
    await kim.send(f"/start {tokens['South']['member']}")
    other = await kim.expect(lambda m: "already" in m.text.lower() and m is not again)
    assert "North" in other.text and not other.buttons
    assert await count(bot, "SELECT COUNT(*) FROM memberships") == 1


async def test_forged_and_stale_buttons_change_nothing(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    sam = standin.user(first_name="Sam")
    await sam.send(f"/start {tokens['North']['member']}")
    sheet = await sam.expect(lambda m: any("I agree" in b for b in m.button_labels()))
    # A button for an invite she never opened (the South lead link is id 3).
    await sam.press_data("agree:3", message=sheet)
    forged = await sam.expect(lambda m: True)
    assert "button" in forged.text.lower()
    await sam.press_data("nonsense:1:2:3", message=sheet)
    await sam.expect(lambda m: "button" in m.text.lower())
    assert await count(bot, "SELECT COUNT(*) FROM memberships") == 0
    await sam.press("I agree")
    await sam.expect_edit(sheet, lambda m: "Europe/London" in m.text)
    # Pressing the spent button again (an old client) is stale, not a second consent.
    await sam.press_data("agree:2", message=sheet)
    await sam.expect(lambda m: "button" in m.text.lower())
    assert await count(bot, "SELECT COUNT(*) FROM consents") == 1


async def test_strangers_cannot_use_organiser_commands(bot, standin):
    mallory = standin.user(first_name="Mallory")
    for command in (
        "/newswap Mine",
        "/addteam X",
        "/status",
        "/swaps",
        "/revoke",
        "/advance",
        "/export",
        "/settings",
    ):
        await mallory.send(command)
        refusal = await mallory.expect(lambda m: True)
        assert "organiser" in refusal.text.lower(), command
    assert await count(bot, "SELECT COUNT(*) FROM swaps") == 0


async def test_start_without_token_and_help_fit_the_person(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    visitor = standin.user(first_name="Vic")
    await visitor.send("/start")
    how = await visitor.expect(lambda m: True)
    assert "link" in how.text.lower()
    await visitor.send("/help")
    stranger_help = await visitor.expect(lambda m: True)
    await organiser.send("/help")
    organiser_help = await organiser.expect("/advance")
    assert "/newswap" in organiser_help.text and "/newswap" not in stranger_help.text
    lead = standin.user(first_name="Lee")
    await join(lead, tokens["North"]["lead"])
    await lead.send("/help")
    lead_help = await lead.expect("/status")
    assert "/newswap" not in lead_help.text and "North" in lead_help.text
    assert lead_help.text != stranger_help.text


async def test_command_menus_are_set_per_scope(bot, standin):
    await standin.wait_for(lambda: len(standin.commands) >= 2)
    menus = {
        str(scope): [c["command"] for c in commands]
        for (scope, _lang), commands in standin.commands.items()
    }
    default = next(v for k, v in menus.items() if "default" in k)
    mine = next(v for k, v in menus.items() if str(ORGANISER_ID) in k)
    assert "newswap" in mine and "advance" in mine
    assert "newswap" not in default and "help" in default


async def test_swaps_lists_and_switches_the_current_swap(bot, standin, organiser):
    await organiser.send("/newswap First swap")
    await organiser.expect("First swap")
    await organiser.send("/newswap Second swap")
    await organiser.expect("Second swap")
    await organiser.send("/swaps")
    listing = await organiser.expect(lambda m: "First swap" in m.text and "Second swap" in m.text)
    assert any("First swap" in b for b in listing.button_labels())
    await organiser.press("First swap")
    await organiser.expect(lambda m: "First swap" in m.text and m is not listing)
    await organiser.send("/addteam Borders")
    await organiser.expect("Borders")
    async with bot.db.conn.execute(
        "SELECT s.title FROM teams t JOIN swaps s ON s.id = t.swap_id"
    ) as cur:
        assert [r[0] for r in await cur.fetchall()] == ["First swap"]


async def test_a_restart_resumes_a_person_where_they_were(bot, standin, organiser):
    tokens = await create_swap(organiser, "Swap", ["North", "South"])
    rory = standin.user(first_name="Rory")
    await rory.send(f"/start {tokens['South']['member']}")
    sheet = await rory.expect(lambda m: any("I agree" in b for b in m.button_labels()))
    await bot.restart()
    await rory.press("I agree")
    await rory.expect_edit(sheet, lambda m: "Europe/London" in m.text and "South" in m.text)


async def test_organiser_input_is_validated(bot, standin, organiser):
    await organiser.send("/addteam North")
    no_swap = await organiser.expect(lambda m: True)
    assert "/newswap" in no_swap.text
    await organiser.send("/newswap")
    usage = await organiser.expect(lambda m: True)
    assert "/newswap" in usage.text
    await organiser.send("/newswap " + "T" * 300)
    await organiser.expect(lambda m: "long" in m.text.lower())
    await organiser.send("/newswap Real")
    await organiser.expect("Real")
    await organiser.send("/addteam North")
    await organiser.expect("start=")
    await organiser.send("/addteam north")
    duplicate = await organiser.expect(lambda m: True)
    assert "already" in duplicate.text.lower()
    assert await count(bot, "SELECT COUNT(*) FROM teams") == 1


async def test_a_sheet_opened_before_the_swap_closed_cannot_join_it_after(bot, standin, organiser):
    """Issue 19, item 9: I agree pressed after the swap closed joins nothing."""
    await set_up(standin, organiser, "Closing swap", ["North", "South"])
    [(token,)] = await rows(
        bot,
        "SELECT token FROM invites i JOIN teams t ON t.id = i.team_id"
        " WHERE t.name = 'North' AND i.role = 'member'",
    )
    late = standin.user(first_name="Lena")
    await late.send(f"/start {token}")
    await late.expect(lambda m: "I agree" in " ".join(m.button_labels()))
    while await rows(bot, "SELECT phase FROM swaps") != [("closed",)]:
        await advance(organiser, force=True)
    await late.expect_answer(await late.press("I agree"))
    await late.expect("has closed")
    assert await rows(bot, "SELECT COUNT(*) FROM people WHERE display_name = 'Lena'") == [(0,)]
