"""The procedure's rules on their own: allocation, guards, permissions."""

import pytest

from bot.model import Allocation, Kind, Phase, Role
from bot.procedure import (
    NotAllowed,
    SwapProgress,
    TeamProgress,
    allocate,
    check_may_contribute,
    missing_for_advance,
    next_step,
)


@pytest.mark.parametrize("count", range(2, 10))
def test_allocation_never_gives_a_team_its_own_dilemma(count):
    teams = list(range(1, count + 1))
    modes = [Allocation.AUTO, Allocation.RING] + ([Allocation.PAIRS] if count % 2 == 0 else [])
    for mode in modes:
        recipients = allocate(teams, mode)
        assert sorted(recipients) == teams
        assert sorted(recipients.values()) == teams  # everyone receives exactly one
        assert all(poser != receiver for poser, receiver in recipients.items())


def test_pairs_and_ring_shapes():
    assert allocate([1, 2, 3, 4]) == {1: 2, 2: 1, 3: 4, 4: 3}
    assert allocate([1, 2, 3]) == {1: 2, 2: 3, 3: 1}
    assert allocate([1, 2, 3, 4], Allocation.RING) == {1: 2, 2: 3, 3: 4, 4: 1}
    with pytest.raises(NotAllowed):
        allocate([1, 2, 3], Allocation.PAIRS)
    with pytest.raises(NotAllowed):
        allocate([1])


def test_who_may_contribute_what_when():
    check_may_contribute(Kind.DILEMMA, Phase.DILEMMA, Role.LEAD)
    check_may_contribute(Kind.PROPOSAL, Phase.DILEMMA, Role.MEMBER)
    with pytest.raises(NotAllowed) as refused:
        check_may_contribute(Kind.DILEMMA, Phase.DILEMMA, Role.MEMBER)
    assert refused.value.reason == "wrong_role"
    with pytest.raises(NotAllowed) as refused:
        check_may_contribute(Kind.ANSWER, Phase.DILEMMA, Role.MEMBER)
    assert refused.value.reason == "wrong_phase"


def test_guards_name_what_is_missing():
    teams = [
        TeamProgress("North", leads=1, has_dilemma=True),
        TeamProgress("South", leads=1, has_dilemma=False),
    ]
    missing = missing_for_advance(SwapProgress(Phase.DILEMMA, teams))
    assert [(m.what, m.team) for m in missing] == [("dilemma", "South")]
    missing = missing_for_advance(SwapProgress(Phase.SETUP, teams[:1]))
    assert [m.what for m in missing] == ["two_teams"]


def test_reflection_rounds_are_released_one_at_a_time_or_all():
    one = SwapProgress(Phase.RESPONSE)
    assert next_step(one) == (Phase.REFLECTION, 1)
    assert next_step(SwapProgress(Phase.REFLECTION, rounds_released=1)) == (Phase.REFLECTION, 2)
    assert next_step(SwapProgress(Phase.REFLECTION, rounds_released=3)) == (Phase.CLOSED, 3)
    assert next_step(SwapProgress(Phase.RESPONSE, all_at_once=True)) == (Phase.REFLECTION, 3)
