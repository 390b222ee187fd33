"""The dilemma swap procedure as plain rules: phases, roles, guards, allocation.

Nothing here does I/O or knows about Telegram; ``bot.services.core`` asks these
functions what is allowed and what is missing, then acts on the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.model import Allocation, Kind, Phase, Role

REFLECTION_ROUNDS = 3

# Who may contribute what, in which phase. Leads are participants too.
_ALLOWED: dict[Kind, tuple[Phase, frozenset[Role]]] = {
    Kind.PROPOSAL: (Phase.DILEMMA, frozenset({Role.MEMBER, Role.LEAD})),
    Kind.DILEMMA: (Phase.DILEMMA, frozenset({Role.LEAD})),
    Kind.ANSWER: (Phase.RESPONSE, frozenset({Role.MEMBER, Role.LEAD})),
    Kind.TEAM_RESPONSE: (Phase.RESPONSE, frozenset({Role.LEAD})),
    Kind.REFLECTION: (Phase.REFLECTION, frozenset({Role.MEMBER, Role.LEAD})),
}


class NotAllowed(Exception):
    """An action is refused; ``reason`` names why, for the prompt to explain."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def check_may_contribute(kind: Kind, phase: Phase, role: Role) -> None:
    """Raise ``NotAllowed`` unless ``role`` may contribute ``kind`` in ``phase``."""
    when, who = _ALLOWED[kind]
    if role not in who:
        raise NotAllowed("wrong_role", kind=kind, role=role)
    if phase is not when:
        raise NotAllowed("wrong_phase", kind=kind, phase=phase, when=when)


def phase_of(kind: Kind) -> Phase:
    """The phase in which contributions of this kind are made."""
    return _ALLOWED[kind][0]


def allocation_mode(requested: Allocation, team_count: int) -> Allocation:
    """Pairs or ring: pairs by default when the number of teams is even."""
    if requested is Allocation.AUTO:
        return Allocation.PAIRS if team_count % 2 == 0 else Allocation.RING
    if requested is Allocation.PAIRS and team_count % 2:
        raise NotAllowed("pairs_need_even", count=team_count)
    return requested


def allocate(team_ids: list[int], requested: Allocation = Allocation.AUTO) -> dict[int, int]:
    """Map each team to the team that works on its dilemma.

    Pairs: A↔B, C↔D. Ring: A→B→C→A (A's dilemma goes to B). Never a team's own.
    """
    if len(team_ids) < 2:
        raise NotAllowed("too_few_teams", count=len(team_ids))
    mode = allocation_mode(requested, len(team_ids))
    if mode is Allocation.PAIRS:
        recipients: dict[int, int] = {}
        for a, b in zip(team_ids[0::2], team_ids[1::2], strict=True):
            recipients[a] = b
            recipients[b] = a
        return recipients
    return {team: team_ids[(i + 1) % len(team_ids)] for i, team in enumerate(team_ids)}


def works_on(recipients: dict[int, int], team_id: int) -> int:
    """The team whose dilemma ``team_id`` works on."""
    return next(poser for poser, receiver in recipients.items() if receiver == team_id)


@dataclass(frozen=True)
class Missing:
    """One unmet precondition of a transition: what, and for which team."""

    what: str
    team: str | None = None


@dataclass
class TeamProgress:
    """What the guards need to know about one team."""

    name: str
    people: int = 0
    leads: int = 0
    has_dilemma: bool = False
    has_team_response: bool = False
    reflections: int = 0
    answers: int = 0


@dataclass
class SwapProgress:
    phase: Phase
    teams: list[TeamProgress] = field(default_factory=list)
    rounds_released: int = 0
    all_at_once: bool = False


def next_step(progress: SwapProgress) -> tuple[Phase, int]:
    """Where ``/advance`` goes from here: (phase, reflection rounds released).

    In the reflection phase each advance releases the next round, one at a
    time, until every round is out; the advance after that closes the swap.
    """
    if progress.phase is Phase.REFLECTION and progress.rounds_released < REFLECTION_ROUNDS:
        return Phase.REFLECTION, (
            REFLECTION_ROUNDS if progress.all_at_once else progress.rounds_released + 1
        )
    following = progress.phase.next
    if following is None:
        raise NotAllowed("already_closed")
    if following is Phase.REFLECTION:
        return following, REFLECTION_ROUNDS if progress.all_at_once else 1
    return following, progress.rounds_released


# What a step waits for (``missing_for_advance``): a proposal or a member's
# answer never completes one, so confirming one need not ask.
COMPLETES_A_STEP = frozenset({Kind.DILEMMA, Kind.TEAM_RESPONSE, Kind.REFLECTION})


def missing_for_advance(progress: SwapProgress) -> list[Missing]:
    """Everything that should be in place before the swap moves on."""
    missing: list[Missing] = []
    phase = progress.phase
    if phase is Phase.SETUP:
        if len(progress.teams) < 2:
            missing.append(Missing("two_teams"))
        for team in progress.teams:
            if team.leads == 0:
                missing.append(Missing("lead", team.name))
    elif phase is Phase.DILEMMA:
        missing += [Missing("dilemma", t.name) for t in progress.teams if not t.has_dilemma]
    elif phase is Phase.RESPONSE:
        missing += [
            Missing("team_response", t.name) for t in progress.teams if not t.has_team_response
        ]
    elif phase is Phase.REFLECTION:
        if progress.rounds_released >= REFLECTION_ROUNDS:
            missing += [Missing("reflection", t.name) for t in progress.teams if t.reflections == 0]
    elif phase is Phase.CLOSED:
        raise NotAllowed("already_closed")
    return missing


def can_reopen(phase: Phase) -> Phase:
    """The phase ``/reopen`` goes back to, or ``NotAllowed``."""
    previous = phase.previous
    if previous is None or previous is Phase.SETUP:
        raise NotAllowed("cannot_reopen", phase=phase)
    return previous
