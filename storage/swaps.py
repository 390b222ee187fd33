"""Swaps and what belongs to a swap as a whole: its organisers' choice of
current swap, its teams, their invite links, and who works on whose dilemma.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.model import Allocation, Invite, Kind, Phase, Release, Role, Sheet, Swap, Team
from storage.store import Store


def _swap(row: aiosqlite.Row | dict[str, Any]) -> Swap:
    return Swap(
        id=row["id"],
        title=row["title"],
        phase=Phase(row["phase"]),
        allocation=Allocation(row["allocation"]),
        reflection_release=Release(row["reflection_release"]),
        rounds_released=row["rounds_released"],
        share_names=bool(row["share_names"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        reminders=row["reminders"],
        quiet=row["quiet"],
        member_check_until=row["member_check_until"],
        retention_months=row["retention_months"],
        withdrawal=row["withdrawal"],
        closed_at=row["closed_at"],
        language=row["language"],
    )


class SwapStore(Store):
    async def create(self, title: str, created_by: int) -> Swap:
        swap_id = await self._run(
            "INSERT INTO swaps (title, created_by, created_at) VALUES (?, ?, ?)",
            (title, created_by, self.now),
        )
        swap = await self.get(swap_id)
        assert swap is not None
        return swap

    async def get(self, swap_id: int) -> Swap | None:
        row = await self._one("SELECT * FROM swaps WHERE id = ?", (swap_id,))
        return _swap(row) if row else None

    async def created_by(self, telegram_id: int) -> list[Swap]:
        rows = await self._all(
            "SELECT * FROM swaps WHERE created_by = ? ORDER BY id", (telegram_id,)
        )
        return [_swap(r) for r in rows]

    async def organised_by(self, telegram_id: int) -> list[Swap]:
        """The swaps an organiser created or was made a co-organiser of."""
        rows = await self._all(
            "SELECT * FROM swaps WHERE created_by = ? OR id IN (SELECT swap_id FROM"
            " swap_organisers WHERE telegram_id = ?) ORDER BY id",
            (telegram_id, telegram_id),
        )
        return [_swap(r) for r in rows]

    async def set_phase(self, swap_id: int, phase: Phase) -> None:
        await self._run("UPDATE swaps SET phase = ? WHERE id = ?", (phase.value, swap_id))

    async def set_rounds_released(self, swap_id: int, rounds: int) -> None:
        await self._run("UPDATE swaps SET rounds_released = ? WHERE id = ?", (rounds, swap_id))

    async def update_settings(self, swap_id: int, **settings: Any) -> None:
        allowed = {
            "allocation",
            "reflection_release",
            "share_names",
            "reminders",
            "quiet",
            "member_check_until",
            "retention_months",
            "withdrawal",
            "closed_at",
            "language",
        }
        for key, value in settings.items():
            if key not in allowed:
                raise ValueError(f"unknown swap setting {key}")
            # key is checked against a fixed set, so formatting it in is safe.
            await self._run(f"UPDATE swaps SET {key} = ? WHERE id = ?", (value, swap_id))

    async def record_transition(
        self,
        swap_id: int,
        from_phase: Phase,
        to_phase: Phase,
        by: int,
        forced: bool,
        missing: list[str],
        automatic: bool = False,
    ) -> None:
        await self._run(
            "INSERT INTO transitions (swap_id, from_phase, to_phase, by_telegram_id,"
            " forced, missing, automatic, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                swap_id,
                from_phase.value,
                to_phase.value,
                by,
                int(forced),
                json.dumps(missing),
                int(automatic),
                self.now,
            ),
        )

    async def transitions(self, swap_id: int) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM transitions WHERE swap_id = ? ORDER BY id", (swap_id,)
        )
        return [
            {**dict(r), "forced": bool(r["forced"]), "missing": json.loads(r["missing"])}
            for r in rows
        ]


def _sheet(row: aiosqlite.Row) -> Sheet:
    return Sheet(row["id"], row["swap_id"], row["version"], row["text"])


class SheetStore(Store):
    """A swap's own information sheets: drafts awaiting Confirm, and each
    confirmed version, kept (a consent names the version agreed to)."""

    async def add_draft(self, swap_id: int, text: str, by: int) -> int:
        # One draft at a time per swap: a new one replaces it.
        await self._run("DELETE FROM sheets WHERE swap_id = ? AND version IS NULL", (swap_id,))
        return await self._run(
            "INSERT INTO sheets (swap_id, text, set_by, created_at) VALUES (?, ?, ?, ?)",
            (swap_id, text, by, self.now),
        )

    async def get(self, sheet_id: int) -> Sheet | None:
        row = await self._one("SELECT * FROM sheets WHERE id = ?", (sheet_id,))
        return _sheet(row) if row else None

    async def confirm(self, sheet_id: int, swap_id: int) -> int:
        """Make a draft the swap's sheet in force; return its version number."""
        row = await self._one(
            "SELECT COALESCE(MAX(version), 0) + 1 AS next FROM sheets WHERE swap_id = ?",
            (swap_id,),
        )
        version = int(row["next"]) if row else 1
        await self._run(
            "UPDATE sheets SET version = ?, confirmed_at = ? WHERE id = ?",
            (version, self.now, sheet_id),
        )
        return version

    async def in_force(self, swap_id: int) -> Sheet | None:
        """The swap's newest confirmed sheet, if it has one of its own."""
        row = await self._one(
            "SELECT * FROM sheets WHERE swap_id = ? AND version IS NOT NULL"
            " ORDER BY version DESC LIMIT 1",
            (swap_id,),
        )
        return _sheet(row) if row else None


class OrganiserStore(Store):
    async def current_swap_id(self, telegram_id: int) -> int | None:
        row = await self._one(
            "SELECT current_swap_id FROM organisers WHERE telegram_id = ?", (telegram_id,)
        )
        return row["current_swap_id"] if row else None

    async def set_current_swap(self, telegram_id: int, swap_id: int) -> None:
        await self._run(
            "INSERT INTO organisers (telegram_id, current_swap_id) VALUES (?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET current_swap_id = excluded.current_swap_id",
            (telegram_id, swap_id),
        )


def _team(row: aiosqlite.Row | dict[str, Any]) -> Team:
    return Team(
        id=row["id"],
        swap_id=row["swap_id"],
        name=row["name"],
        position=row["position"],
        group_chat_id=row["group_chat_id"],
        group_title=row["group_title"],
        timezone=row["timezone"],
    )


class TeamStore(Store):
    async def create(self, swap_id: int, name: str) -> Team:
        row = await self._one(
            "SELECT COALESCE(MAX(position), 0) + 1 AS next FROM teams WHERE swap_id = ?",
            (swap_id,),
        )
        assert row is not None
        team_id = await self._run(
            "INSERT INTO teams (swap_id, name, position, created_at) VALUES (?, ?, ?, ?)",
            (swap_id, name, row["next"], self.now),
        )
        return Team(id=team_id, swap_id=swap_id, name=name, position=row["next"])

    async def get(self, team_id: int) -> Team | None:
        row = await self._one("SELECT * FROM teams WHERE id = ?", (team_id,))
        return _team(row) if row else None

    async def by_name(self, swap_id: int, name: str) -> Team | None:
        row = await self._one(
            "SELECT * FROM teams WHERE swap_id = ? AND name = ? COLLATE NOCASE",
            (swap_id, name),
        )
        return _team(row) if row else None

    async def link_group(self, team_id: int, chat_id: int, title: str, by: int) -> None:
        """Give a team its group (replacing any other), linked by the lead ``by``."""
        await self._run(
            "UPDATE teams SET group_chat_id = NULL, group_title = NULL, group_linked_by = NULL"
            " WHERE group_chat_id = ?",
            (chat_id,),
        )
        await self._run(
            "UPDATE teams SET group_chat_id = ?, group_title = ?, group_linked_by = ? WHERE id = ?",
            (chat_id, title, by, team_id),
        )

    async def unlink_group(self, team_id: int) -> None:
        await self._run(
            "UPDATE teams SET group_chat_id = NULL, group_title = NULL, group_linked_by = NULL"
            " WHERE id = ?",
            (team_id,),
        )

    async def linked_by(self, telegram_id: int, team_ids: Iterable[int]) -> list[Team]:
        """Which of these teams have a group linked by this person."""
        ids = list(team_ids)
        rows = await self._all(
            f"SELECT * FROM teams WHERE group_linked_by = ? AND id IN ({','.join('?' * len(ids))})",
            (telegram_id, *ids),
        )
        return [_team(r) for r in rows]

    async def by_group(self, chat_id: int) -> Team | None:
        row = await self._one("SELECT * FROM teams WHERE group_chat_id = ?", (chat_id,))
        return _team(row) if row else None

    async def move_group(self, old: int, new: int) -> None:
        """The group became a supergroup with a new id."""
        await self._run("UPDATE teams SET group_chat_id = ? WHERE group_chat_id = ?", (new, old))

    async def add_group_link(self, team_id: int, chat_id: int, title: str, by: int) -> int:
        return await self._run(
            "INSERT INTO group_links (team_id, chat_id, title, requested_by, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (team_id, chat_id, title, by, self.now),
        )

    async def group_link(self, link_id: int) -> tuple[int, int, str, int] | None:
        """(team id, chat id, title, requested by) of a link waiting for Confirm."""
        row = await self._one("SELECT * FROM group_links WHERE id = ?", (link_id,))
        return (row["team_id"], row["chat_id"], row["title"], row["requested_by"]) if row else None

    async def drop_group_links_of(self, telegram_id: int) -> None:
        """Forget the group links a person asked for and never confirmed."""
        await self._run("DELETE FROM group_links WHERE requested_by = ?", (telegram_id,))

    async def drop_group_link(self, link_id: int) -> None:
        await self._run("DELETE FROM group_links WHERE id = ?", (link_id,))

    async def set_timezone(self, team_id: int, zone: str | None) -> None:
        await self._run("UPDATE teams SET timezone = ? WHERE id = ?", (zone, team_id))

    async def rename(self, team_id: int, name: str) -> None:
        await self._run("UPDATE teams SET name = ? WHERE id = ?", (name, team_id))

    async def delete(self, team_id: int) -> None:
        await self._run("DELETE FROM teams WHERE id = ?", (team_id,))

    async def of_swap(self, swap_id: int) -> list[Team]:
        rows = await self._all(
            "SELECT * FROM teams WHERE swap_id = ? ORDER BY position", (swap_id,)
        )
        return [_team(r) for r in rows]

    async def tallies(self, swap_id: int) -> list[tuple[Team, dict[str, int]]]:
        """Each team of a swap with what the phase guards count, in one query: its
        people and leads, and its confirmed dilemmas, team responses and reflections."""

        def confirmed(kind: Kind) -> str:
            return (
                "(SELECT COUNT(*) FROM contributions c WHERE c.team_id = t.id"
                f" AND c.kind = '{kind.value}' AND c.status = 'confirmed')"
            )

        rows = await self._all(
            "SELECT t.*,"
            " (SELECT COUNT(*) FROM memberships m WHERE m.team_id = t.id"
            " AND m.left_at IS NULL) AS people,"
            " (SELECT COUNT(*) FROM memberships m WHERE m.team_id = t.id"
            f" AND m.left_at IS NULL AND m.role = '{Role.LEAD.value}') AS leads,"
            f" {confirmed(Kind.DILEMMA)} AS dilemmas,"
            f" {confirmed(Kind.TEAM_RESPONSE)} AS team_responses,"
            f" {confirmed(Kind.REFLECTION)} AS reflections"
            " FROM teams t WHERE t.swap_id = ? ORDER BY t.position",
            (swap_id,),
        )
        counted = ("people", "leads", "dilemmas", "team_responses", "reflections")
        return [(_team(r), {k: r[k] for k in counted}) for r in rows]


def _invite(row: aiosqlite.Row) -> Invite:
    return Invite(
        id=row["id"],
        token=row["token"],
        team_id=row["team_id"],
        role=Role(row["role"]),
        revoked=row["revoked_at"] is not None,
    )


class InviteStore(Store):
    async def create(self, team_id: int, role: Role) -> Invite:
        # 16 random bytes, URL-safe: unguessable, and 22 characters fit the
        # 64-character limit of a /start parameter.
        token = secrets.token_urlsafe(16)
        invite_id = await self._run(
            "INSERT INTO invites (token, team_id, role, created_at) VALUES (?, ?, ?, ?)",
            (token, team_id, role.value, self.now),
        )
        return Invite(id=invite_id, token=token, team_id=team_id, role=role, revoked=False)

    async def by_token(self, token: str) -> Invite | None:
        row = await self._one("SELECT * FROM invites WHERE token = ?", (token,))
        return _invite(row) if row else None

    async def get(self, invite_id: int) -> Invite | None:
        row = await self._one("SELECT * FROM invites WHERE id = ?", (invite_id,))
        return _invite(row) if row else None

    async def active_of_team(self, team_id: int) -> list[Invite]:
        rows = await self._all(
            "SELECT * FROM invites WHERE team_id = ? AND revoked_at IS NULL ORDER BY role, id",
            (team_id,),
        )
        return [_invite(r) for r in rows]

    async def revoke(self, invite_id: int) -> None:
        await self._run(
            "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (self.now, invite_id),
        )


class AllocationStore(Store):
    async def get(self, swap_id: int) -> dict[int, int]:
        """poser team id -> receiver team id, or empty before the swap."""
        rows = await self._all(
            "SELECT poser_team_id, receiver_team_id FROM allocations WHERE swap_id = ?",
            (swap_id,),
        )
        return {r["poser_team_id"]: r["receiver_team_id"] for r in rows}

    async def save(self, swap_id: int, recipients: dict[int, int]) -> None:
        for poser, receiver in recipients.items():
            await self._run(
                "INSERT INTO allocations (swap_id, poser_team_id, receiver_team_id)"
                " VALUES (?, ?, ?)",
                (swap_id, poser, receiver),
            )
