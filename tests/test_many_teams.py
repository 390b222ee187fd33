"""Issue 3 for more than two teams: a ring of three, pairs of four."""

from __future__ import annotations

import pytest

from tests.support.swapflow import DILEMMAS, advance, set_up, write_and_confirm


async def run_swap_to_reflection(standin, organiser, teams):
    people = await set_up(standin, organiser, f"{len(teams)} teams", teams)
    await advance(organiser)
    for team in teams:
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    return people


@pytest.mark.parametrize(
    ("teams", "expected"),
    [
        # A ring: A's dilemma goes to B, B's to C, C's to A.
        (["North", "South", "East"], {"North": "South", "South": "East", "East": "North"}),
        # Pairs: A↔B, C↔D.
        (
            ["North", "South", "East", "West"],
            {"North": "South", "South": "North", "East": "West", "West": "East"},
        ),
    ],
)
async def test_each_dilemma_reaches_exactly_the_allocated_team(
    bot, standin, organiser, teams, expected
):
    people = await run_swap_to_reflection(standin, organiser, teams)
    for poser, receiver in expected.items():
        for role in ("lead", "member"):
            user = people[receiver, role]
            got = await user.expect(DILEMMAS[poser][:50])
            assert poser in got.text
        for team in teams:
            if team not in (receiver, poser):  # the poser's own team saw it confirmed
                for role in ("lead", "member"):
                    assert not any(
                        DILEMMAS[poser][:50] in m.text for m in people[team, role].messages
                    )
    # Each team answers; the answers go back to the poser only.
    for receiver in teams:
        poser = next(p for p, r in expected.items() if r == receiver)
        await write_and_confirm(people[receiver, "member"], f"{receiver} answers {poser}.")
        await write_and_confirm(
            people[receiver, "lead"], f"{receiver} as a team to {poser}.", "/response"
        )
    await advance(organiser)
    for receiver in teams:
        poser = next(p for p, r in expected.items() if r == receiver)
        # Folded into one message: the consolidated response, then the answers.
        got = await people[poser, "member"].expect(f"{receiver} as a team to {poser}.")
        assert f"{receiver} answers {poser}." in got.text
        for team in teams:
            if team not in (poser, receiver):  # the author saw their own preview
                assert not any(
                    f"{receiver} answers {poser}." in m.text
                    for m in people[team, "member"].messages
                )


async def test_ring_can_be_chosen_for_four_teams(bot, standin, organiser):
    teams = ["North", "South", "East", "West"]
    people = await set_up(standin, organiser, "Ring of four", teams)
    await organiser.send("/settings")
    await organiser.expect(lambda m: any("ring" in b.lower() for b in m.button_labels()))
    await organiser.expect_answer(await organiser.press("ring"))
    await advance(organiser)
    for team in teams:
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    ring = {"North": "South", "South": "East", "East": "West", "West": "North"}
    for poser, receiver in ring.items():
        await people[receiver, "member"].expect(DILEMMAS[poser][:50])


async def test_pairs_refused_for_an_odd_number_of_teams(bot, standin, organiser):
    people = await set_up(standin, organiser, "Odd pairs", ["North", "South", "East"])
    await organiser.send("/settings")
    await organiser.expect(lambda m: any("pairs" in b.lower() for b in m.button_labels()))
    await organiser.expect_answer(await organiser.press("pairs"))
    await advance(organiser)
    for team in ("North", "South", "East"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await organiser.send("/advance force")
    blocked = await organiser.expect(lambda m: "even" in m.text.lower())
    assert not blocked.buttons
    async with bot.db.conn.execute("SELECT phase FROM swaps") as cur:
        assert (await cur.fetchone())[0] == "dilemma"
