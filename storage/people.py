"""People: who they are, the teams they belong to, their consent, and what the
bot is waiting for from them.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import aiosqlite

from bot.model import (
    ChatStatus,
    Conversation,
    Decision,
    Membership,
    Person,
    Role,
    Swap,
    Team,
    Waiting,
)
from storage.store import Store
from storage.swaps import _swap, _team


def _person(row: aiosqlite.Row | dict[str, Any]) -> Person:
    return Person(
        id=row["id"],
        telegram_id=row["telegram_id"],
        display_name=row["display_name"],
        pseudonym=row["pseudonym"],
        chat_status=ChatStatus(row["chat_status"]),
        language=row["language"],
    )


# A person ``p``'s acting membership ``m`` (the one they act in: in the
# swap they chose, else the one they joined last), its team ``t`` and swap ``s``.
_ACTING = (
    " LEFT JOIN memberships m ON m.id = (SELECT a.id FROM memberships a"
    "  WHERE a.person_id = p.id AND a.left_at IS NULL"
    "  ORDER BY a.swap_id IS (SELECT q.current_swap_id FROM people q WHERE q.id = a.person_id)"
    "  DESC, a.joined_at DESC, a.id DESC LIMIT 1)"
    " LEFT JOIN teams t ON t.id = m.team_id LEFT JOIN swaps s ON s.id = m.swap_id"
)


class PersonStore(Store):
    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        row = await self._one("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))
        return _person(row) if row else None

    async def get(self, person_id: int) -> Person | None:
        row = await self._one("SELECT * FROM people WHERE id = ?", (person_id,))
        return _person(row) if row else None

    async def ensure(self, telegram_id: int, display_name: str) -> Person:
        """The person with this Telegram id, created if new; the name is refreshed."""
        existing = await self.by_telegram_id(telegram_id)
        if existing is not None:
            if existing.display_name == display_name:
                return existing
            row = await self._one(
                "UPDATE people SET display_name = ? WHERE id = ? RETURNING *",
                (display_name, existing.id),
            )
        else:
            # A pseudonymous id for research exports, unrelated to the Telegram id.
            # 48 random bits: among thousands of people, two alike is out of reach.
            pseudonym = "P-" + secrets.token_hex(6).upper()
            row = await self._one(
                "INSERT INTO people (telegram_id, display_name, pseudonym, created_at)"
                " VALUES (?, ?, ?, ?) RETURNING *",
                (telegram_id, display_name, pseudonym, self.now),
            )
        assert row is not None  # RETURNING answers the row written
        return _person(row)

    async def unreached(self) -> list[int]:
        """The chats of people the bot could not reach (blocked, or never started)."""
        rows = await self._all("SELECT telegram_id FROM people WHERE chat_status != 'ok'")
        return [row["telegram_id"] for row in rows]

    async def set_chat_status(self, telegram_id: int, status: ChatStatus) -> None:
        await self._run(
            "UPDATE people SET chat_status = ? WHERE telegram_id = ?", (status, telegram_id)
        )

    async def delete(self, person_id: int) -> None:
        await self._run("DELETE FROM people WHERE id = ?", (person_id,))

    async def set_current_swap(self, person_id: int, swap_id: int) -> None:
        await self._run("UPDATE people SET current_swap_id = ? WHERE id = ?", (swap_id, person_id))

    async def set_language(self, person_id: int, language: str | None) -> None:
        await self._run("UPDATE people SET language = ? WHERE id = ?", (language, person_id))

    async def reader(self, chat_id: int) -> tuple[str | None, str | None, str | None] | None:
        """For a person's chat: the language their acting swap fixed, their own, and
        their team's time zone; for a team's group: the swap's language, its lead's,
        and the team's zone; None for a chat we know nothing of."""
        row = await self._one(
            # The acting membership as in ``_ACTING``.
            "WITH me AS (SELECT id, language, current_swap_id FROM people"
            "  WHERE telegram_id = ?1),"
            " acting AS (SELECT m.swap_id, m.team_id FROM memberships m JOIN me"
            "  ON m.person_id = me.id WHERE m.left_at IS NULL"
            "  ORDER BY m.swap_id IS me.current_swap_id DESC, m.joined_at DESC, m.id DESC"
            "  LIMIT 1)"
            " SELECT s.language AS fixed, me.language AS own, t.timezone AS zone"
            " FROM me LEFT JOIN acting LEFT JOIN teams t ON t.id = acting.team_id"
            " LEFT JOIN swaps s ON s.id = acting.swap_id"
            # A team's group reads in its lead's language (the lead linked it).
            " UNION ALL SELECT s.language, lead.language, t.timezone FROM teams t"
            " JOIN swaps s ON s.id = t.swap_id"
            " LEFT JOIN memberships lm ON lm.team_id = t.id AND lm.role = 'lead'"
            "  AND lm.left_at IS NULL"
            " LEFT JOIN people lead ON lead.id = lm.person_id"
            " WHERE t.group_chat_id = ?1"
            " LIMIT 1",
            (chat_id,),
        )
        return (row["fixed"], row["own"], row["zone"]) if row else None

    async def readers(
        self, chat_ids: list[int]
    ) -> dict[int, tuple[str | None, str | None, str | None]]:
        """``reader`` for many people's chats in one query (what a team is owed
        at once); a chat not found here (a group, or someone unknown) is left out."""
        rows = await self._all(
            "SELECT p.telegram_id AS chat, s.language AS fixed, p.language AS own,"
            " t.timezone AS zone FROM people p"
            + _ACTING
            + " WHERE p.telegram_id IN (SELECT value FROM json_each(?))",
            (json.dumps(chat_ids),),
        )
        return {row["chat"]: (row["fixed"], row["own"], row["zone"]) for row in rows}

    async def current_swap_id(self, person_id: int) -> int | None:
        row = await self._one("SELECT current_swap_id FROM people WHERE id = ?", (person_id,))
        return row["current_swap_id"] if row else None


def _membership(row: aiosqlite.Row | dict[str, Any]) -> Membership:
    return Membership(
        id=row["id"],
        person_id=row["person_id"],
        swap_id=row["swap_id"],
        team_id=row["team_id"],
        role=Role(row["role"]),
        joined_at=row["joined_at"],
        left_at=row["left_at"],
    )


# Memberships with their people, for the lists that need both.
_WITH_PEOPLE = (
    "SELECT m.*, p.telegram_id, p.display_name, p.pseudonym, p.chat_status, p.language,"
    " p.id AS pid FROM memberships m JOIN people p ON p.id = m.person_id"
)


def _joined_person(row: aiosqlite.Row) -> Person:
    return Person(
        row["pid"],
        row["telegram_id"],
        row["display_name"],
        row["pseudonym"],
        ChatStatus(row["chat_status"]),
        row["language"],
    )


class MembershipStore(Store):
    async def create(
        self, person_id: int, team_id: int, swap_id: int, role: Role, invite_id: int
    ) -> Membership:
        membership_id = await self._run(
            "INSERT INTO memberships (person_id, swap_id, team_id, role, invite_id, joined_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (person_id, swap_id, team_id, role.value, invite_id, self.now),
        )
        return Membership(membership_id, person_id, swap_id, team_id, role, self.now)

    async def in_swap(self, person_id: int, swap_id: int) -> Membership | None:
        row = await self._one(
            "SELECT * FROM memberships WHERE person_id = ? AND swap_id = ?",
            (person_id, swap_id),
        )
        return _membership(row) if row else None

    async def acting_member(
        self, telegram_id: int
    ) -> tuple[Person | None, Membership | None, Team | None, Swap | None]:
        """The person, their acting membership (``_ACTING``), its team and its
        swap, in one query (what almost every update asks first)."""
        row = await self._one(
            'SELECT p.*, 0 AS "|", m.*, 0 AS "|", t.*, 0 AS "|", s.* FROM people p'
            + _ACTING
            + " WHERE p.telegram_id = ?",
            (telegram_id,),
        )
        if row is None:
            return None, None, None, None
        parts: list[dict[str, Any]] = [{}]
        for name, value in zip(row.keys(), row, strict=True):
            if name == "|":
                parts.append({})
            else:
                parts[-1][name] = value
        person, membership, team, swap = parts
        if membership["id"] is None or team["id"] is None or swap["id"] is None:
            return _person(person), None, None, None
        return _person(person), _membership(membership), _team(team), _swap(swap)

    async def of_person(self, person_id: int, *, left: bool = False) -> list[Membership]:
        """A person's memberships; with ``left``, also those they left after the
        withdrawal cut-off (their words are still in that swap's record)."""
        rows = await self._all(
            "SELECT * FROM memberships WHERE person_id = ?"
            + ("" if left else " AND left_at IS NULL")
            + " ORDER BY id",
            (person_id,),
        )
        return [_membership(r) for r in rows]

    async def of_team(self, team_id: int, *, left: bool = False) -> list[tuple[Membership, Person]]:
        """A team's people; with ``left``, also those who left after the cut-off."""
        rows = await self._all(
            _WITH_PEOPLE
            + " WHERE m.team_id = ?"
            + ("" if left else " AND m.left_at IS NULL")
            + " ORDER BY m.role, m.id",
            (team_id,),
        )
        return [(_membership(r), _joined_person(r)) for r in rows]

    async def count_in_swap(self, swap_id: int) -> int:
        """How many people are in a swap (and so agreed to its sheet)."""
        row = await self._one(
            "SELECT COUNT(*) AS n FROM memberships WHERE swap_id = ? AND left_at IS NULL",
            (swap_id,),
        )
        return row["n"] if row else 0

    async def mark_left(self, membership_id: int) -> None:
        """The person left after the withdrawal cut-off: the membership stays, so
        that their words keep their team and role in the record."""
        await self._run(
            "UPDATE memberships SET left_at = ? WHERE id = ?", (self.now, membership_id)
        )

    async def of_swap(self, swap_id: int) -> list[tuple[Membership, Person]]:
        """Everyone in a swap, team by team (leads first), in the order they joined;
        those who left after its withdrawal cut-off too (their words stay)."""
        rows = await self._all(
            _WITH_PEOPLE + " WHERE m.swap_id = ? ORDER BY m.team_id, m.role, m.id",
            (swap_id,),
        )
        return [(_membership(r), _joined_person(r)) for r in rows]

    async def delete(self, membership_id: int) -> None:
        await self._run("DELETE FROM memberships WHERE id = ?", (membership_id,))

    async def get(self, membership_id: int) -> Membership | None:
        row = await self._one("SELECT * FROM memberships WHERE id = ?", (membership_id,))
        return _membership(row) if row else None

    async def joined_by(self, invite_id: int) -> list[tuple[Membership, Person]]:
        """Who joined through this invite link."""
        rows = await self._all(
            _WITH_PEOPLE + " WHERE m.invite_id = ? ORDER BY m.id",
            (invite_id,),
        )
        return [(_membership(r), _joined_person(r)) for r in rows]


class ConsentStore(Store):
    async def record(
        self,
        person_id: int | None,
        team_id: int,
        role: Role,
        decision: Decision,
        sheet_version: str,
        language: str | None = None,
    ) -> str:
        await self._run(
            "INSERT INTO consents (person_id, team_id, role, decision, sheet_version,"
            " decided_at, language) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (person_id, team_id, role.value, decision, sheet_version, self.now, language),
        )
        return self.now

    async def of_person(self, person_id: int) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM consents WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [dict(r) for r in rows]

    async def detach(self, person_id: int, team_id: int) -> None:
        """Keep that someone agreed, but no longer who: they left this team."""
        await self._run(
            "UPDATE consents SET person_id = NULL WHERE person_id = ? AND team_id = ?",
            (person_id, team_id),
        )

    async def latest_agreed(self, person_id: int, team_id: int) -> str | None:
        """The version of the information sheet a person last agreed to, in a team."""
        row = await self._one(
            "SELECT sheet_version FROM consents WHERE person_id = ? AND team_id = ?"
            " AND decision = 'agreed' ORDER BY id DESC LIMIT 1",
            (person_id, team_id),
        )
        return row["sheet_version"] if row else None

    async def declined_count(self, team_id: int) -> int:
        row = await self._one(
            "SELECT COUNT(*) AS n FROM consents WHERE team_id = ? AND decision = 'declined'",
            (team_id,),
        )
        return row["n"] if row else 0


class ConversationStore(Store):
    async def get(self, telegram_id: int) -> Conversation | None:
        row = await self._one(
            "SELECT state, data FROM conversations WHERE telegram_id = ?", (telegram_id,)
        )
        return Conversation(Waiting(row["state"]), json.loads(row["data"])) if row else None

    async def set(self, telegram_id: int, state: Waiting, **data: Any) -> None:
        await self._run(
            "INSERT INTO conversations (telegram_id, state, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET state = excluded.state,"
            " data = excluded.data, updated_at = excluded.updated_at",
            (telegram_id, state, json.dumps(data), self.now),
        )

    async def clear(self, telegram_id: int) -> None:
        await self._run("DELETE FROM conversations WHERE telegram_id = ?", (telegram_id,))
