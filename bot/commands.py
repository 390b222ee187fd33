"""Every command, once: who it is for and when it is any use.

This table drives the registration of handlers (``bot.app``, with the handler
of each name in ``handlers.commands``), the command menus Telegram shows each
audience, the list of commands in ``/help`` for a role and phase, and a test
that the README names them all. The one-line description of each is wording,
so it lives in ``prompts/commands.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.model import Phase, Role


class Audience(StrEnum):
    """Who may use a command: organisers, or a team's lead or participants."""

    ORGANISER = "organiser"
    LEAD = "lead"
    MEMBER = "member"

    @classmethod
    def of(cls, role: Role) -> Audience:
        return cls(role.value)


_EVERY_PHASE = frozenset(Phase)
_TEAM = frozenset({Audience.LEAD, Audience.MEMBER})
_ORGANISER = frozenset({Audience.ORGANISER})
_EVERYONE = _TEAM | _ORGANISER


@dataclass(frozen=True)
class Command:
    """A command: its name, its audience, and the phases in which /help offers it."""

    name: str
    audience: frozenset[Audience]
    phases: frozenset[Phase] = _EVERY_PHASE
    in_private: bool = True  # where it is taken: a private chat...
    in_groups: bool = False  # ...and/or a team's group


COMMANDS: tuple[Command, ...] = (
    Command("start", frozenset()),  # opened by invite links, never offered
    Command("help", _EVERYONE),
    Command("dilemma", frozenset({Audience.LEAD}), frozenset({Phase.DILEMMA})),
    Command("propose", _TEAM, frozenset({Phase.DILEMMA})),
    Command("response", frozenset({Audience.LEAD}), frozenset({Phase.RESPONSE})),
    Command("newswap", _ORGANISER),
    Command("swaps", _EVERYONE),
    Command("addteam", _ORGANISER),
    Command("teams", _ORGANISER),
    Command("sheet", _ORGANISER),
    Command("status", _ORGANISER | {Audience.LEAD}),
    Command("advance", _ORGANISER),
    Command("reopen", _ORGANISER),
    Command("settings", _ORGANISER),
    Command("revoke", _ORGANISER),
    Command("remove", _ORGANISER),
    Command("schedule", _ORGANISER),
    Command("remind", _ORGANISER),
    Command("announce", _ORGANISER),
    Command("export", _ORGANISER),
    Command("membercheck", _ORGANISER, frozenset({Phase.CLOSED})),
    Command("share", _ORGANISER),
    Command("audit", _ORGANISER),
    Command("cancel", _EVERYONE),
    Command("language", _TEAM),
    Command("mydata", _TEAM),
    Command("withdraw", _TEAM),
    Command("linkgroup", frozenset({Audience.LEAD}), in_private=False, in_groups=True),
    Command("unlinkgroup", frozenset({Audience.LEAD}), in_groups=True),
)


def menu(audience: Audience) -> list[str]:
    """The names Telegram's command menu shows this audience, in table order."""
    return [c.name for c in COMMANDS if audience in c.audience]


def group_menu() -> list[str]:
    """The names Telegram's command menu shows in groups."""
    return [c.name for c in COMMANDS if c.in_groups]


def offered(audience: Audience, phase: Phase | None = None) -> list[str]:
    """The names /help lists for this audience in this phase."""
    return [
        c.name for c in COMMANDS if audience in c.audience and (phase is None or phase in c.phases)
    ]
