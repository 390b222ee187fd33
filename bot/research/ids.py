"""Ids for the research outputs: the same in every export of the same swap.

Each id is a name-based UUID (version 5): the swap's own UUID, derived from its
number and the instant it was created, is the namespace, and the thing's kind
and row number the name. So two exports of one swap, before and after a
restart, give every contribution, team, person and code the same id, and swaps
of two installations (both with a swap 1) do not collide. Nothing is derived
from a Telegram id: a person's id comes from their pseudonym, itself random.
"""

from __future__ import annotations

import uuid

# The namespace of every swap's UUID: this program's own, fixed for good.
_PROGRAM = uuid.uuid5(uuid.NAMESPACE_URL, "urn:dilemma-swap:research-outputs")


class Ids:
    """The ids of one swap's things."""

    def __init__(self, swap_id: int, created_at: str) -> None:
        self.swap = uuid.uuid5(_PROGRAM, f"swap:{swap_id}:{created_at}")

    def of(self, *parts: object) -> str:
        """The id of the thing named by ``parts`` (its kind, then its number or name)."""
        return str(uuid.uuid5(self.swap, ":".join(str(p) for p in parts)))

    def contribution(self, contribution_id: int) -> str:
        return self.of("contribution", contribution_id)

    def comment(self, comment_id: int) -> str:
        return self.of("comment", comment_id)

    def team(self, team_id: int) -> str:
        return self.of("team", team_id)

    def person(self, pseudonym: str) -> str:
        return self.of("person", pseudonym)
