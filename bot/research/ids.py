"""Ids for the research outputs: the same in every export of the same swap.

Each id is a name-based UUID (version 5): the swap's own UUID, derived from its
number and the instant it was created, is the namespace, and the thing's kind
and row number the name. So two exports of one swap, before and after a
restart, give every contribution, team, person and code the same id, and swaps
of two installations (both with a swap 1) do not collide. Nothing is derived
from a Telegram id: a person's id comes from their pseudonym, itself random.
"""

from __future__ import annotations

import hashlib
import uuid

# The namespace of every swap's UUID: this program's own, fixed for good.
_PROGRAM = uuid.uuid5(uuid.NAMESPACE_URL, "urn:dilemma-swap:research-outputs")


def uuid5(namespace: str | uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, in a third of its time: an export of
    10,000 contributions derives some 70,000 of them."""
    space = namespace.bytes if isinstance(namespace, uuid.UUID) else uuid.UUID(namespace).bytes
    digest = bytearray(hashlib.sha1(space + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Ids:
    """The ids of one swap's things."""

    def __init__(self, swap_id: int, created_at: str) -> None:
        self.swap = uuid.UUID(uuid5(_PROGRAM, f"swap:{swap_id}:{created_at}"))

    def of(self, *parts: object) -> str:
        """The id of the thing named by ``parts`` (its kind, then its number or name)."""
        return uuid5(self.swap, ":".join(str(p) for p in parts))

    def contribution(self, contribution_id: int) -> str:
        return self.of("contribution", contribution_id)

    def comment(self, comment_id: int) -> str:
        return self.of("comment", comment_id)

    def team(self, team_id: int) -> str:
        return self.of("team", team_id)

    def person(self, pseudonym: str) -> str:
        return self.of("person", pseudonym)
