"""Issue 3 end to end: a whole swap from /newswap to closed, through the real bot."""

from __future__ import annotations

import json

from tests.support.bot import rows
from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm


def received(user, text: str) -> bool:
    return any(text in m.text for m in user.messages)


def names_of(people) -> list[str]:
    return [u.first_name for u in people.values()]


async def test_two_teams_from_newswap_to_closed(bot, standin, organiser):
    people = await set_up(standin, organiser, "Two councils", ["North", "South"])
    north_lead, north_member = people["North", "lead"], people["North", "member"]
    south_lead, south_member = people["South", "lead"], people["South", "member"]

    # Workshop 1 opens: everyone is told, leads and members differently.
    preview, _ = await advance(organiser)
    assert "4 people" in preview.text
    for user in people.values():
        await user.expect(lambda m: "/dilemma" in m.text or "/propose" in m.text)

    # A member proposes; the lead adopts the proposal as the team's dilemma.
    await write_and_confirm(north_member, DILEMMAS["North"], "/propose")
    offered = await north_lead.expect(
        lambda m: DILEMMAS["North"][:40] in m.text and any("Adopt" in b for b in m.button_labels())
    )
    await north_lead.press_data(
        next(b["callback_data"] for r in offered.buttons for b in r if "Adopt" in b["text"]),
        message=offered,
    )
    preview = await north_lead.expect(lambda m: "Confirm" in m.button_labels())
    await north_lead.expect_answer(
        await north_lead.press_data(preview.buttons[0][0]["callback_data"], message=preview)
    )
    await north_member.expect(lambda m: DILEMMAS["North"][:40] in m.text and m is not offered)

    # The guard names the team whose dilemma is missing, and nothing moves.
    await organiser.send("/advance")
    blocked = await organiser.expect(lambda m: "South" in m.text and "force" in m.text)
    assert not blocked.buttons
    assert await rows(bot, "SELECT phase FROM swaps") == [("dilemma",)]

    # South's lead writes, edits before confirming, then confirms.
    await south_lead.send("A first rough draft")
    draft = await south_lead.expect(lambda m: "Confirm" in m.button_labels())
    await south_lead.press("Edit")
    await south_lead.expect(lambda m: "rough draft" in m.text and m is not draft)
    await write_and_confirm(south_lead, DILEMMAS["South"])
    assert await rows(
        bot, "SELECT COUNT(*) FROM contributions WHERE kind = 'dilemma' AND status = 'confirmed'"
    ) == [(2,)]

    # The swap: each team receives the other's dilemma, with a team name, no person's.
    await advance(organiser)
    for user in (south_lead, south_member):
        got = await user.expect(DILEMMAS["North"][:50])
        assert "North" in got.text
        assert not any(n in got.text for n in names_of(people))
    for user in (north_lead, north_member):
        await user.expect(DILEMMAS["South"][:50])
    assert not received(north_member, DILEMMAS["North"][:50] + "x")

    # Workshop 2: several answers per person, one edited; the leads' consolidated responses.
    await write_and_confirm(south_member, "Name one lead professional per family.")
    receipt = await write_and_confirm(
        south_member, "Start with the family's own view of who helps."
    )
    # Confirm made the preview itself the receipt: no new message, one edit.
    assert receipt.text.startswith("Confirmed") and "Withdraw" in receipt.button_labels()
    await south_member.press_data(receipt.buttons[0][0]["callback_data"], message=receipt)
    await south_member.expect(lambda m: "own view" in m.text and not m.buttons)
    await write_and_confirm(south_member, "Ask the family who they trust most.")
    await write_and_confirm(
        south_lead, "South's consolidated view: one plan, one lead.", "/response"
    )
    await write_and_confirm(north_member, "Count joint work in the school improvement plan.")
    await write_and_confirm(
        north_lead, "North's consolidated view: make it part of results.", "/response"
    )

    # The return: North gets South's consolidated response first, then the answers,
    # the side by side and round 1, folded into one message that notifies.
    await advance(organiser)
    returned = await north_member.expect("South's consolidated view")
    text = returned.text
    assert (
        text.index("South's consolidated view")
        < text.index("one lead professional")
        < text.index("who they trust")
    )
    assert not returned.silent
    assert "own view of who helps" not in text  # replaced by the edit
    assert not any(n in text for n in names_of(people))
    await south_lead.expect("North's consolidated view")
    # The side by side: ours in full, theirs by its opening words (it is just above).
    side = text[text.index("Side by side") :]
    assert side.index("North's consolidated") < side.index("South's consolidated")
    assert "working on" in text[text.index("round 1") :].lower()
    round_1 = returned

    # Workshop 3: reply to the round; rounds 2 and 3 come one at a time.
    await north_member.reply(round_1, "We saw our own ownership habit in their question.")
    reflection = await north_member.expect(lambda m: "Confirm" in m.button_labels())
    await north_member.press_data(reflection.buttons[0][0]["callback_data"], message=reflection)
    await write_and_confirm(south_member, "Their answer showed we measure the wrong things.")
    _, _moved = await advance(organiser)
    await north_member.expect(lambda m: "responses" in m.text.lower() and "round" in m.text.lower())
    await advance(organiser)
    await north_member.expect(lambda m: "keep" in m.text.lower())
    assert await rows(bot, "SELECT rounds_released FROM swaps") == [(3,)]

    # Closing produces the record for the organiser, without names or ids.
    await advance(organiser)
    document = await organiser.expect_document()
    record = document.content.decode()
    for text in (
        DILEMMAS["North"],
        DILEMMAS["South"],
        "one lead professional",
        "ownership habit",
        "measure the wrong things",
    ):
        assert text in record
    assert record.index("South's consolidated view") < record.index("one lead professional")
    for person in people.values():
        assert person.first_name not in record and str(person.id) not in record
    assert str(organiser.id) not in record
    assert await rows(bot, "SELECT phase FROM swaps") == [("closed",)]
    moves = await rows(bot, "SELECT from_phase, to_phase, forced FROM transitions")
    assert [m[:2] for m in moves][-1] == ("reflection", "closed")
    assert all(forced == 0 for *_, forced in moves)

    # Contributions are frozen once closed.
    await north_member.send("One more thought")
    frozen = await north_member.expect(lambda m: "closed" in m.text.lower())
    assert not frozen.buttons


async def test_forced_advance_is_recorded_with_what_was_missing(bot, standin, organiser):
    people = await set_up(standin, organiser, "Forced", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    preview, _result = await advance(organiser, force=True)
    assert "South" in preview.text
    moves = await rows(
        bot,
        "SELECT from_phase, to_phase, forced, missing, by_telegram_id FROM transitions ORDER BY id",
    )
    assert moves[-1][:3] == ("dilemma", "response", 1)
    assert json.loads(moves[-1][3]) == ["dilemma:South"]
    assert moves[-1][4] == organiser.id
    # North still gets told South's dilemma has not come yet.
    await people["North", "member"].expect(lambda m: "South" in m.text)
    await people["South", "member"].expect(DILEMMAS["North"][:50])


async def test_a_stale_advance_button_changes_nothing(bot, standin, organiser):
    await set_up(standin, organiser, "Stale", ["North", "South"])
    await organiser.send("/advance")
    first = await organiser.expect(lambda m: any("Confirm" in b for b in m.button_labels()))
    await organiser.send("/advance")
    second = await organiser.expect(
        lambda m: any("Confirm" in b for b in m.button_labels()) and m is not first
    )
    await organiser.press_data(second.buttons[0][0]["callback_data"], message=second)
    await organiser.expect(lambda m: not m.buttons and "people" in m.text and m is not second)
    await organiser.press_data(first.buttons[0][0]["callback_data"], message=first)
    await organiser.expect(lambda m: "already" in m.text.lower() or "changed" in m.text.lower())
    assert await rows(bot, "SELECT to_phase FROM transitions") == [("dilemma",)]
