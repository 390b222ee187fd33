"""Issue 18: what each person receives, and what they get back, in a two-team swap
of five a team: one notification a person a move, the team's answers in front of
the lead, the proposer told of an adoption, the record at the close, a member
check that shows nobody a teammate's words, and nothing for an unlinked group."""

from __future__ import annotations

from bot.delivery.worker import Limits
from bot.standin import BotAPIStandIn
from bot.standin.models import SentMessage
from tests.support.bot import BOT_USERNAME, ORGANISER_ID, TOKEN, UNPACED, RunningBot, rows
from tests.support.fanout import wait_drained
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    set_up,
    write_and_confirm,
)

TEAMS = ("North", "South")
MEMBERS = 4
PROPOSAL = "Nobody agrees who holds the plan for a family once three services are involved."


async def five_a_team(standin, organiser, title: str) -> dict:
    """A lead and four members in each team, all consented."""
    tokens = await create_swap(organiser, title, list(TEAMS))
    people = {}
    for team in TEAMS:
        people[team, "lead"] = standin.user(first_name=f"{team}Lead")
        await join(people[team, "lead"], tokens[team]["lead"])
        for n in range(MEMBERS):
            people[team, n] = standin.user(first_name=f"{team}Member{n}")
            await join(people[team, n], tokens[team]["member"])
    return people


async def move(bot, standin, organiser, people, force=False, group=None) -> dict:
    """Advance, wait until everything is delivered, and return what each person got
    from the move; each got exactly one message that notifies, and a linked group,
    whose members were each notified in private, none."""
    before = len(standin.sent)
    await advance(organiser, force)
    await wait_drained(bot)
    new = standin.sent[before:]
    if group is not None:
        to_group = [m for m in new if m.chat_id == group.id]
        assert to_group and all(m.silent for m in to_group)
    got: dict = {key: [m for m in new if m.chat_id == user.id] for key, user in people.items()}
    for key, messages in got.items():
        assert messages, f"{key} got nothing from the move"
        notifying = [m for m in messages if not m.silent]
        assert len(notifying) == 1, (key, [m.text[:60] for m in notifying])
        assert notifying[0] is messages[0], "the first message is the one that notifies"
    return got


def text_of(messages: list[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


def answer(team: str, n: int) -> str:
    # Long enough that what comes back to a team takes several messages.
    return (
        f"{team} member {n} would hand the plan to whoever the family trusts."
        + " We would ask the family first, then the services around them, and write down"
        " who holds the plan so that nobody has to guess." * 8
    )


def reflection(team: str, key) -> str:
    return f"Round one for {team} {key}: we saw our own habit of owning things."


async def test_a_two_team_swap_of_five_a_team_as_each_person_receives_it(bot, standin, organiser):
    people = await five_a_team(standin, organiser, "Five a team")
    group = standin.group("North office")
    await people["North", "lead"].send_in(group, f"/linkgroup@{BOT_USERNAME}")
    await people["North", "lead"].expect(lambda m: "Confirm link" in m.button_labels())
    await people["North", "lead"].expect_answer(await people["North", "lead"].press("Confirm link"))
    await group.expect("now team")
    got = await move(bot, standin, organiser, people, group=group)
    assert all(len(messages) == 1 for messages in got.values())

    # Workshop 1: a member proposes; the lead adopts it; the proposer is told, privately.
    proposer, lead = people["North", 0], people["North", "lead"]
    await write_and_confirm(proposer, PROPOSAL)
    shared = await lead.expect(lambda m: PROPOSAL[:30] in m.text and m.buttons)
    await lead.press_data(shared.callback_data("Adopt"), message=shared)
    preview = await lead.expect(lambda m: "Confirm" in m.button_labels())
    await lead.expect_answer(await lead.press_data(preview.callback_data("Confirm"), preview))
    told = await proposer.expect("Your proposal is now your team's dilemma")
    assert PROPOSAL in told.text
    for key, user in people.items():
        if key != ("North", 0):
            assert not any("Your proposal is now" in (m.text or "") for m in user.messages)
    # The rest of the team is told the team's dilemma, as for any the lead confirms.
    for n in range(1, MEMBERS):
        await people["North", n].expect(
            lambda m: "as confirmed by your team lead" in m.text and PROPOSAL in m.text
        )
    await write_and_confirm(people["South", "lead"], DILEMMAS["South"], "/dilemma")

    # Workshop 2: the opening and the partner's dilemma come as one notification.
    got = await move(bot, standin, organiser, people, group=group)
    assert PROPOSAL in text_of(got["South", 0]) and DILEMMAS["South"] in text_of(got["North", 1])
    for team in TEAMS:
        for n in range(MEMBERS):
            receipt = await write_and_confirm(people[team, n], answer(team, n))
            assert "Your team sees it now" in receipt.text
    # Each confirmed answer reached the rest of the team, with the author's name.
    north_member = people["North", 1]
    await north_member.expect(lambda m: answer("North", 3) in m.text)
    assert "NorthMember0" in text_of(
        [m for m in north_member.messages if answer("North", 0) in m.text]
    )
    # The lead consolidates with every answer of the team in front of them.
    lead.skip_all()
    await lead.send("/response")
    await lead.expect(lambda m: "consolidated response" in m.text and "one message" in m.text)
    shown = text_of(lead.messages[-MEMBERS - 1 :])
    for n in range(MEMBERS):
        assert answer("North", n) in shown
    assert answer("South", 0) not in shown
    await write_and_confirm(lead, "North as a team: the family chooses the lead professional.")
    await write_and_confirm(
        people["South", "lead"], "South as a team: one plan, owned jointly.", "/response"
    )

    # Workshop 3: what came back, the side by side and round 1, one notification each.
    got = await move(bot, standin, organiser, people, group=group)
    north = text_of(got["North", 2])
    for n in range(MEMBERS):
        assert answer("South", n) in north
    assert "South as a team: one plan" in north and "Reflection, round 1" in north
    for key, user in people.items():
        await write_and_confirm(user, reflection(key[0], key[1]))
    got = await move(bot, standin, organiser, people)  # round 2
    got = await move(bot, standin, organiser, people)  # round 3
    assert "that is all: thank you" in text_of(got["South", 3])

    # The close: each member keeps their team's part of the record, and never reads
    # a teammate's reflection.
    got = await move(bot, standin, organiser, people, force=True)
    for key, messages in got.items():
        team, partner = key[0], next(t for t in TEAMS if t != key[0])
        record = text_of(messages)
        posed = PROPOSAL if team == "North" else DILEMMAS["South"]
        assert posed in record, key
        assert f"{partner} as a team" in record and f"{team} as a team" in record, key
        for n in range(MEMBERS):
            assert answer(partner, n) in record
        for other in people:
            assert reflection(other[0], other[1]) not in record, (key, other)

    # The member check: the team's shared part and one's own words, nobody else's.
    await organiser.send("/membercheck 7")
    await organiser.expect("comments are taken until")
    await wait_drained(bot)
    for key, user in people.items():
        start = next(
            i for i, m in enumerate(user.messages) if "How your team appears" in (m.text or "")
        )
        check = text_of(user.messages[start:])
        assert reflection(key[0], key[1]) in check, key
        for other in people:
            if other != key:
                assert reflection(other[0], other[1]) not in check, (key, other)
                if other[0] == key[0] and other[1] != "lead":
                    assert answer(other[0], other[1]) not in check, (key, other)


async def test_a_preview_points_out_what_looks_identifying(bot, standin, organiser):
    people = await set_up(standin, organiser, "Careful", list(TEAMS))
    await advance(organiser)
    member = people["North", "member"]
    await member.send("Child A (DOB 03/04/2015) lives at LS6 2QT; mum is on 07700 900123.")
    preview = await member.expect(lambda m: "Confirm" in m.button_labels())
    assert "looks like it holds a phone number, a postcode and a date of birth" in preview.text
    await member.send("A child whose placement broke down twice in a year.")
    plain = await member.expect(lambda m: "Confirm" in m.button_labels() and m is not preview)
    assert "looks like it holds" not in plain.text


async def test_nothing_reaches_a_group_after_it_is_unlinked(tmp_path):
    """A group is paced (here two messages in any 30 s): what a move owes it waits.
    /unlinkgroup drops it, in the same transaction; only the goodbye is left."""
    standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, **UNPACED)
    await standin.start()
    limits = Limits(
        overall_per_second=10_000, chat_per_window=10_000, group_per_minute=2, group_window=30.0
    )
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID}, limits=limits)
    await bot.start()
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        people = await set_up(standin, organiser, "Unlinked", list(TEAMS))
        group = standin.group("North office")
        lead = people["North", "lead"]
        await lead.send_in(group, f"/linkgroup@{BOT_USERNAME}")
        await lead.expect(lambda m: "Confirm link" in m.button_labels())
        await lead.expect_answer(await lead.press("Confirm link"))
        await group.expect("now team")  # the group's two messages in this window
        await advance(organiser)
        await people["North", "member"].expect("Workshop 1 has begun")
        owed = "SELECT text FROM outbox WHERE chat_id = ? AND status = 'pending'"
        assert any("Workshop 1" in t for (t,) in await rows(bot, owed, group.id))
        await lead.send("/unlinkgroup")
        await lead.expect("no longer")
        left = [t for (t,) in await rows(bot, owed, group.id)]
        assert len(left) == 1 and "no longer" in left[0]
        assert not any("Workshop 1" in (m.text or "") for m in group.messages)
    finally:
        await bot.stop()
        await standin.stop()


async def test_a_withdrawal_during_the_member_check_takes_out_only_its_words(
    bot, standin, organiser
):
    """The member check's messages wait their turn (here, after a restart, one
    message a second in all); someone withdraws meanwhile. Everyone else still gets
    their part, rebuilt without the withdrawn words, and people's words arrive as
    they wrote them (| and ~ included)."""
    people = await five_a_team(standin, organiser, "Checked")
    await advance(organiser)
    for team in TEAMS:
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    leaving = people["South", 0]
    await write_and_confirm(leaving, "Withdrawn words: ask the family who they trust.")
    await write_and_confirm(people["South", 1], "Kept words | as written ~ with marks.")
    for team in TEAMS:
        await write_and_confirm(people[team, "lead"], f"{team} as a team.", "/response")
    while await rows(bot, "SELECT phase FROM swaps") != [("closed",)]:
        await advance(organiser, force=True)
    await wait_drained(bot)
    bot.limits = Limits(overall_per_second=1, chat_per_window=10_000, group_per_minute=10_000)
    await bot.restart()
    await organiser.send("/membercheck 7")
    await organiser.expect("comments are taken until")
    pending = "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND text LIKE '%How your%'"
    assert (await rows(bot, pending))[0][0] > 1  # still waiting when they leave
    await leaving.send("/withdraw")
    await leaving.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    await leaving.expect_answer(await leaving.press("Confirm withdrawal"))
    await wait_drained(bot, timeout=60)
    for key, user in people.items():
        if user is leaving:
            continue
        checks = [m for m in user.messages if "How your team appears" in (m.text or "")]
        assert checks, f"{key} lost their part of the member check"
        shown = text_of(user.messages[user.messages.index(checks[-1]) :])
        assert "Withdrawn words" not in shown
        if key[0] == "North":  # South's answers came back to North
            assert "Kept words | as written ~ with marks." in shown
