"""The things a dilemma swap is made of, as plain data.

Storage returns these; the procedure reasons about them. Nothing here knows
about Telegram or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """Where a swap is in the procedure, in order."""

    SETUP = "setup"
    DILEMMA = "dilemma"
    RESPONSE = "response"
    REFLECTION = "reflection"
    CLOSED = "closed"

    @property
    def next(self) -> Phase | None:
        order = list(Phase)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None

    @property
    def previous(self) -> Phase | None:
        order = list(Phase)
        i = order.index(self)
        return order[i - 1] if i > 0 else None


class Role(StrEnum):
    """A person's role in their team."""

    LEAD = "lead"
    MEMBER = "member"


class Kind(StrEnum):
    """What a contribution is."""

    PROPOSAL = "proposal"  # a participant's candidate dilemma, for their own team
    DILEMMA = "dilemma"  # the team's dilemma, submitted by the lead
    ANSWER = "answer"  # a participant's response to the partner's dilemma
    TEAM_RESPONSE = "team_response"  # the lead's consolidated response
    REFLECTION = "reflection"  # an answer in a reflection round


class Status(StrEnum):
    """Where a contribution stands: only a confirmed one counts."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SUPERSEDED = "superseded"  # a team item replaced by a newer confirmed one


class Allocation(StrEnum):
    """How teams are paired for the swap of dilemmas."""

    AUTO = "auto"  # pairs if the number of teams is even, else a ring
    PAIRS = "pairs"
    RING = "ring"


class Release(StrEnum):
    """How the reflection rounds are released in workshop 3."""

    ONE_AT_A_TIME = "one_at_a_time"
    ALL_AT_ONCE = "all_at_once"


class ChatStatus(StrEnum):
    """Whether the bot can write to a person."""

    OK = "ok"
    BLOCKED = "blocked"  # they blocked the bot
    NOT_STARTED = "not_started"  # Telegram does not know the chat


class Decision(StrEnum):
    """The answer to the information sheet."""

    AGREED = "agreed"
    DECLINED = "declined"


class Waiting(StrEnum):
    """What the bot is waiting for from a person (``Conversation.state``)."""

    PENDING_JOIN = "pending_join"  # an answer to the information sheet
    AWAITING = "awaiting"  # the text of a contribution of a given kind
    PASTING = "pasting"  # the next part of a long paste
    RENAMING_TEAM = "renaming_team"  # an organiser's new name for a team
    SHEET = "sheet"  # an organiser's information sheet for the current swap


@dataclass(frozen=True, slots=True)
class Swap:
    id: int
    title: str
    phase: Phase
    allocation: Allocation
    reflection_release: Release
    rounds_released: int
    share_names: bool
    created_by: int
    created_at: str
    reminders: str = "24h 2h"  # offsets before a deadline, as /settings takes them
    quiet: str = "21:00 08:00"  # hours without reminders, local time
    member_check_until: str | None = None  # UTC: comments on the report are taken until
    retention_months: int | None = None  # purged this many months after closing
    withdrawal: str | None = None  # the cut-off: always, until-close, until:YYYY-MM-DD
    closed_at: str | None = None  # UTC, by the bot's clock: when it last closed
    language: str | None = None  # fixed by an organiser: everyone reads the swap in it


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    swap_id: int
    name: str
    position: int
    group_chat_id: int | None = None  # the team's Telegram group, once its lead linked it
    group_title: str | None = None
    timezone: str | None = None  # IANA name; None: the swap's (the bot's TIMEZONE)


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    token: str
    team_id: int
    role: Role
    revoked: bool


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    telegram_id: int
    display_name: str
    pseudonym: str
    chat_status: ChatStatus
    language: str | None = None  # chosen (or taken from Telegram at first contact)


@dataclass(frozen=True, slots=True)
class Membership:
    id: int
    person_id: int
    swap_id: int
    team_id: int
    role: Role
    joined_at: str
    # When the person left after the withdrawal cut-off: they receive nothing
    # and write nothing more, and their words stay in the record.
    left_at: str | None = None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A swap's own information sheet, as the organiser sent it (Markdown)."""

    id: int
    swap_id: int
    version: int | None  # None: a draft, previewed and not yet confirmed
    text: str


@dataclass(frozen=True, slots=True)
class Contribution:
    id: int
    swap_id: int
    team_id: int
    person_id: int
    kind: Kind
    about_team_id: int | None
    round: int | None
    text: str
    status: Status
    replaces_id: int | None
    created_at: str
    confirmed_at: str | None
    delivered_at: str | None
    ever_delivered: bool
    adopted_from: int | None = None  # the proposal a lead adopted, word for word
    first_delivered_at: str | None = None
    language: str = "en"  # the language its author read the bot in when writing it


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the bot is waiting for from a person, kept across restarts."""

    state: Waiting
    data: dict
