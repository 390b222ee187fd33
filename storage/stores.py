"""Small stores of plain SQL, one per table or close family of tables.

They are reached through a ``Tx`` (see ``storage.db.Database.transaction``), so
every store used inside one ``async with`` shares the same transaction.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.model import (
    Allocation,
    ChatStatus,
    Contribution,
    Conversation,
    Decision,
    Invite,
    Kind,
    Membership,
    Person,
    Phase,
    Release,
    Role,
    Status,
    Swap,
    Team,
    Waiting,
)


class _Store:
    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self.conn = conn
        self.now = now

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def _run(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Execute a statement; return the new row id (for INSERT)."""
        async with self.conn.execute(sql, tuple(params)) as cur:
            return cur.lastrowid or 0

    async def _count(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Execute a statement; return how many rows it changed."""
        async with self.conn.execute(sql, tuple(params)) as cur:
            return cur.rowcount


def _swap(row: aiosqlite.Row) -> Swap:
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
    )


class SwapStore(_Store):
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
            "SELECT * FROM swaps WHERE created_by = ? ORDER BY id", (telegram_id,))
        return [_swap(r) for r in rows]

    async def set_phase(self, swap_id: int, phase: Phase) -> None:
        await self._run("UPDATE swaps SET phase = ? WHERE id = ?", (phase.value, swap_id))

    async def set_rounds_released(self, swap_id: int, rounds: int) -> None:
        await self._run(
            "UPDATE swaps SET rounds_released = ? WHERE id = ?", (rounds, swap_id)
        )

    async def update_settings(self, swap_id: int, **settings: Any) -> None:
        allowed = {"allocation", "reflection_release", "share_names"}
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
    ) -> None:
        await self._run(
            "INSERT INTO transitions (swap_id, from_phase, to_phase, by_telegram_id,"
            " forced, missing, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (swap_id, from_phase.value, to_phase.value, by, int(forced),
             json.dumps(missing), self.now),
        )

    async def transitions(self, swap_id: int) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM transitions WHERE swap_id = ? ORDER BY id", (swap_id,)
        )
        return [
            {**dict(r), "forced": bool(r["forced"]), "missing": json.loads(r["missing"])}
            for r in rows
        ]


class OrganiserStore(_Store):
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


def _team(row: aiosqlite.Row) -> Team:
    return Team(id=row["id"], swap_id=row["swap_id"], name=row["name"], position=row["position"])


class TeamStore(_Store):
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

    async def rename(self, team_id: int, name: str) -> None:
        await self._run("UPDATE teams SET name = ? WHERE id = ?", (name, team_id))

    async def delete(self, team_id: int) -> None:
        await self._run("DELETE FROM teams WHERE id = ?", (team_id,))

    async def of_swap(self, swap_id: int) -> list[Team]:
        rows = await self._all(
            "SELECT * FROM teams WHERE swap_id = ? ORDER BY position", (swap_id,)
        )
        return [_team(r) for r in rows]


def _invite(row: aiosqlite.Row) -> Invite:
    return Invite(
        id=row["id"],
        token=row["token"],
        team_id=row["team_id"],
        role=Role(row["role"]),
        revoked=row["revoked_at"] is not None,
    )


class InviteStore(_Store):
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


def _person(row: aiosqlite.Row) -> Person:
    return Person(
        id=row["id"],
        telegram_id=row["telegram_id"],
        display_name=row["display_name"],
        pseudonym=row["pseudonym"],
        chat_status=ChatStatus(row["chat_status"]),
    )


class PersonStore(_Store):
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
            if existing.display_name != display_name:
                await self._run(
                    "UPDATE people SET display_name = ? WHERE id = ?",
                    (display_name, existing.id),
                )
            return await self.get(existing.id)  # type: ignore[return-value]
        # A pseudonymous id for research exports, unrelated to the Telegram id.
        pseudonym = "P-" + secrets.token_hex(4).upper()
        person_id = await self._run(
            "INSERT INTO people (telegram_id, display_name, pseudonym, created_at)"
            " VALUES (?, ?, ?, ?)",
            (telegram_id, display_name, pseudonym, self.now),
        )
        return await self.get(person_id)  # type: ignore[return-value]

    async def set_chat_status(self, telegram_id: int, status: ChatStatus) -> None:
        await self._run(
            "UPDATE people SET chat_status = ? WHERE telegram_id = ?", (status, telegram_id)
        )

    async def delete(self, person_id: int) -> None:
        await self._run("DELETE FROM people WHERE id = ?", (person_id,))

    async def set_current_swap(self, person_id: int, swap_id: int) -> None:
        await self._run("UPDATE people SET current_swap_id = ? WHERE id = ?",
                        (swap_id, person_id))

    async def current_swap_id(self, person_id: int) -> int | None:
        row = await self._one("SELECT current_swap_id FROM people WHERE id = ?", (person_id,))
        return row["current_swap_id"] if row else None


def _membership(row: aiosqlite.Row) -> Membership:
    return Membership(
        id=row["id"],
        person_id=row["person_id"],
        swap_id=row["swap_id"],
        team_id=row["team_id"],
        role=Role(row["role"]),
        joined_at=row["joined_at"],
    )


class MembershipStore(_Store):
    async def create(self, person_id: int, team_id: int, swap_id: int, role: Role,
                     invite_id: int) -> Membership:
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

    async def latest_of_person(self, person_id: int) -> Membership | None:
        row = await self._one(
            "SELECT * FROM memberships WHERE person_id = ? ORDER BY joined_at DESC, id DESC"
            " LIMIT 1",
            (person_id,),
        )
        return _membership(row) if row else None

    async def of_person(self, person_id: int) -> list[Membership]:
        rows = await self._all(
            "SELECT * FROM memberships WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [_membership(r) for r in rows]

    async def of_team(self, team_id: int) -> list[tuple[Membership, Person]]:
        rows = await self._all(
            "SELECT m.*, p.telegram_id, p.display_name, p.pseudonym, p.chat_status,"
            " p.id AS pid FROM memberships m JOIN people p ON p.id = m.person_id"
            " WHERE m.team_id = ? ORDER BY m.role, m.id",
            (team_id,),
        )
        return [
            (
                _membership(r),
                Person(r["pid"], r["telegram_id"], r["display_name"], r["pseudonym"],
                       ChatStatus(r["chat_status"])),
            )
            for r in rows
        ]

    async def delete(self, membership_id: int) -> None:
        await self._run("DELETE FROM memberships WHERE id = ?", (membership_id,))

    async def get(self, membership_id: int) -> Membership | None:
        row = await self._one("SELECT * FROM memberships WHERE id = ?", (membership_id,))
        return _membership(row) if row else None

    async def joined_by(self, invite_id: int) -> list[tuple[Membership, Person]]:
        """Who joined through this invite link."""
        rows = await self._all(
            "SELECT m.*, p.telegram_id, p.display_name, p.pseudonym, p.chat_status,"
            " p.id AS pid FROM memberships m JOIN people p ON p.id = m.person_id"
            " WHERE m.invite_id = ? ORDER BY m.id", (invite_id,))
        return [(_membership(r), Person(r["pid"], r["telegram_id"], r["display_name"],
                                        r["pseudonym"], ChatStatus(r["chat_status"])))
                for r in rows]


class ConsentStore(_Store):
    async def record(self, person_id: int | None, team_id: int, role: Role, decision: Decision,
                     sheet_version: str) -> str:
        await self._run(
            "INSERT INTO consents (person_id, team_id, role, decision, sheet_version,"
            " decided_at) VALUES (?, ?, ?, ?, ?, ?)",
            (person_id, team_id, role.value, decision, sheet_version, self.now),
        )
        return self.now

    async def of_person(self, person_id: int) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM consents WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [dict(r) for r in rows]

    async def detach(self, person_id: int, team_id: int) -> None:
        """Keep that someone agreed, but no longer who: they left this team."""
        await self._run("UPDATE consents SET person_id = NULL WHERE person_id = ? AND team_id = ?",
                        (person_id, team_id))

    async def declined_count(self, team_id: int) -> int:
        row = await self._one(
            "SELECT COUNT(*) AS n FROM consents WHERE team_id = ? AND decision = 'declined'",
            (team_id,),
        )
        return row["n"] if row else 0


class ConversationStore(_Store):
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


def _contribution(row: aiosqlite.Row) -> Contribution:
    return Contribution(
        id=row["id"],
        swap_id=row["swap_id"],
        team_id=row["team_id"],
        person_id=row["person_id"],
        kind=Kind(row["kind"]),
        about_team_id=row["about_team_id"],
        round=row["round"],
        text=row["text"],
        status=Status(row["status"]),
        replaces_id=row["replaces_id"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        delivered_at=row["delivered_at"],
        ever_delivered=bool(row["ever_delivered"]),
        adopted_from=row["adopted_from"],
        first_delivered_at=row["first_delivered_at"],
    )


class ContributionStore(_Store):
    async def add_draft(self, swap_id: int, team_id: int, person_id: int, kind: Kind,
                        text: str, about_team_id: int | None = None,
                        round: int | None = None, replaces_id: int | None = None,
                        adopted_from: int | None = None) -> Contribution:
        cid = await self._run(
            "INSERT INTO contributions (swap_id, team_id, person_id, kind, about_team_id,"
            " round, text, status, replaces_id, adopted_from, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)",
            (swap_id, team_id, person_id, kind.value, about_team_id, round, text,
             replaces_id, adopted_from, self.now),
        )
        c = await self.get(cid)
        assert c is not None
        return c

    async def get(self, contribution_id: int) -> Contribution | None:
        row = await self._one("SELECT * FROM contributions WHERE id = ?", (contribution_id,))
        return _contribution(row) if row else None

    async def confirm(self, contribution_id: int) -> None:
        await self._run(
            "UPDATE contributions SET status = 'confirmed', confirmed_at = ? WHERE id = ?",
            (self.now, contribution_id),
        )

    async def replace_text(self, contribution_id: int, text: str,
                           adopted_from: int | None) -> None:
        """Give a confirmed contribution new words; it counts as not yet delivered."""
        await self._run(
            "UPDATE contributions SET text = ?, confirmed_at = ?, delivered_at = NULL,"
            " adopted_from = ? WHERE id = ?",
            (text, self.now, adopted_from, contribution_id),
        )

    async def supersede_team_item(self, team_id: int, kind: Kind, keep_id: int) -> None:
        """Mark the team's other confirmed items of this kind as replaced."""
        await self._run(
            "UPDATE contributions SET status = 'superseded' WHERE team_id = ? AND kind = ?"
            " AND status = 'confirmed' AND id != ?",
            (team_id, kind.value, keep_id),
        )

    async def delete(self, contribution_id: int) -> None:
        await self._run("DELETE FROM contributions WHERE id = ?", (contribution_id,))

    async def delete_drafts_of(self, person_id: int, kind: Kind | None = None,
                               swap_id: int | None = None) -> int:
        """Delete a person's drafts (of one kind, in one swap, if given)."""
        return await self._count(
            "DELETE FROM contributions WHERE person_id = ? AND status = 'draft'"
            " AND (? IS NULL OR kind = ?) AND (? IS NULL OR swap_id = ?)",
            (person_id, kind and kind.value, kind and kind.value, swap_id, swap_id),
        )

    async def delete_of(self, person_id: int, swap_id: int) -> int:
        """Delete everything a person contributed to one swap."""
        return await self._count(
            "DELETE FROM contributions WHERE person_id = ? AND swap_id = ?",
            (person_id, swap_id),
        )

    async def adopted(self, proposal_ids: Iterable[int]) -> list[Contribution]:
        """Team items that took these proposals' words as they were."""
        ids = list(proposal_ids)
        if not ids:
            return []
        rows = await self._all(
            f"SELECT * FROM contributions WHERE adopted_from IN ({','.join('?' * len(ids))})"
            " ORDER BY id", ids)
        return [_contribution(r) for r in rows]

    async def delete_expired_drafts(self, before: str) -> int:
        """Forget drafts nobody confirmed, written before ``before``."""
        return await self._count(
            "DELETE FROM contributions WHERE status = 'draft' AND created_at < ?", (before,))

    async def confirmed(self, *, swap_id: int | None = None, team_id: int | None = None,
                        kind: Kind | None = None, person_id: int | None = None,
                        about_team_id: int | None = None, round: int | None = None
                        ) -> list[Contribution]:
        clauses = ["status = 'confirmed'"]
        params: list[Any] = []
        for column, value in (("swap_id", swap_id), ("team_id", team_id),
                              ("kind", kind.value if kind else None),
                              ("person_id", person_id), ("about_team_id", about_team_id),
                              ("round", round)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        rows = await self._all(
            f"SELECT * FROM contributions WHERE {' AND '.join(clauses)} ORDER BY id", params
        )
        return [_contribution(r) for r in rows]

    async def team_response(self, by_team_id: int, about_team_id: int) -> Contribution | None:
        """A team's confirmed consolidated response to another team's dilemma."""
        found = await self.confirmed(team_id=by_team_id, kind=Kind.TEAM_RESPONSE,
                                     about_team_id=about_team_id)
        return found[-1] if found else None

    async def of_person(self, person_id: int) -> list[Contribution]:
        rows = await self._all(
            "SELECT * FROM contributions WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [_contribution(r) for r in rows]

    async def has_delivered_superseded(self, team_id: int, kind: Kind) -> bool:
        return await self._one(
            "SELECT 1 FROM contributions WHERE team_id = ? AND kind = ? AND status ="
            " 'superseded' AND delivered_at IS NOT NULL LIMIT 1",
            (team_id, kind.value),
        ) is not None

    async def mark_delivered(self, contribution_ids: Iterable[int]) -> None:
        for cid in contribution_ids:
            await self._run(
                "UPDATE contributions SET delivered_at = ?, ever_delivered = 1,"
                " first_delivered_at = COALESCE(first_delivered_at, ?) WHERE id = ?",
                (self.now, self.now, cid)
            )


class OutboxStore(_Store):
    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        super().__init__(conn, now)
        self.added = 0
        self.chats: set[int] = set()

    async def add(self, chat_id: int, text: str, reply_markup: dict | None = None,
                  contribution_id: int | None = None, context: dict | None = None,
                  document_name: str | None = None, document: bytes | None = None,
                  bulk: bool = False, quotes: Iterable[int] = (),
                  forget_when_sent: bool = False, not_before: float = 0.0) -> int:
        """Owe a message; ``quotes`` are the contributions whose words it carries,
        so that it is not sent if they are withdrawn first."""
        self.added += 1
        self.chats.add(chat_id)
        outbox_id = await self._run(
            "INSERT INTO outbox (chat_id, text, reply_markup, contribution_id, context,"
            " document_name, document, priority, forget_when_sent, not_before, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (chat_id, text, json.dumps(reply_markup) if reply_markup else None,
             contribution_id, json.dumps(context) if context else None,
             document_name, document, int(bulk), int(forget_when_sent), not_before,
             self.now),
        )
        quoted = set(quotes) | ({contribution_id} if contribution_id else set())
        for quoted_id in quoted:
            await self._run(
                "INSERT INTO outbox_quotes (outbox_id, contribution_id) VALUES (?, ?)",
                (outbox_id, quoted_id))
        return outbox_id

    async def forget_chat(self, chat_id: int) -> None:
        """Delete every message to a chat, sent or not: previews, receipts and
        prompts that may quote a person's words, and the times that could tie
        them to a record."""
        await self._run("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))

    async def context_of(self, chat_id: int, message_id: int) -> dict | None:
        """What a message we sent was about, for a person replying to it."""
        row = await self._one(
            "SELECT context FROM outbox WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return json.loads(row["context"]) if row and row["context"] else None

    async def due(self, now: float, limit: int, exclude_chats: Iterable[int] = ()
                  ) -> list[aiosqlite.Row]:
        """Pending messages that may go now, oldest first, the first one per chat."""
        chats = list(exclude_chats)
        pending = "status = 'pending'"
        if chats:
            pending += f" AND chat_id NOT IN ({','.join('?' * len(chats))})"
        # Only each chat's oldest pending message, so that a chat's messages
        # are sent in order even when several chats are served at once.
        return await self._all(
            "SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox"
            f" WHERE {pending} GROUP BY chat_id) AND not_before <= ?"
            # Replies to people acting now go before a fan-out's bulk.
            " ORDER BY priority, id LIMIT ?",
            (*chats, now, limit),
        )

    async def next_wake(self, after: float) -> float | None:
        """When the next message deferred beyond ``after`` falls due, if any.

        Messages already due are left out: they are the sender's to pace, and
        counting them would make it wake again at once, over and over.
        """
        row = await self._one(
            "SELECT MIN(not_before) AS t FROM outbox WHERE status = 'pending'"
            " AND not_before > ?",
            (after,),
        )
        return row["t"] if row and row["t"] is not None else None

    async def mark_sent(self, outbox_id: int, message_id: int | None) -> None:
        """Record a delivery. Its words and any file are dropped: once delivered
        they are not needed here, and people's words should live in one place."""
        await self._run(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, text = '',"
            " document = NULL, attempts = attempts + 1 WHERE id = ?",
            (self.now, message_id, outbox_id),
        )
        # A message to someone who keeps no record with us (they declined) is
        # not kept either: its times alone could tie them to the decline.
        await self._run("DELETE FROM outbox WHERE id = ? AND forget_when_sent = 1",
                        (outbox_id,))

    async def retry_later(self, outbox_id: int, not_before: float, error: str) -> None:
        await self._run(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ? WHERE id = ?",
            (not_before, error, outbox_id),
        )

    async def fail_chat(self, chat_id: int, error: str) -> int:
        """Give up on every pending message to a chat that refuses them."""
        return await self._count(
            "UPDATE outbox SET status = 'failed', error = ?, attempts = attempts + 1"
            " WHERE chat_id = ? AND status = 'pending'",
            ("unreachable: " + error, chat_id),
        )

    async def requeue_chat(self, chat_id: int) -> int:
        """Try again the messages set aside for a chat that could not be reached."""
        count = await self._count(
            "UPDATE outbox SET status = 'pending', not_before = 0 WHERE chat_id = ?"
            " AND status = 'failed' AND error LIKE 'unreachable:%'",
            (chat_id,),
        )
        self.added += count
        return count

    async def fail(self, outbox_id: int, error: str) -> None:
        await self._run(
            "UPDATE outbox SET status = 'failed', error = ?, attempts = attempts + 1"
            " WHERE id = ?",
            (error, outbox_id),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}


class AllocationStore(_Store):
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


class UpdateStore(_Store):
    async def was_handled(self, update_id: int) -> bool:
        return await self._one(
            "SELECT 1 FROM handled_updates WHERE update_id = ?", (update_id,)
        ) is not None

    async def mark_handled(self, update_id: int) -> None:
        await self._run(
            "INSERT OR IGNORE INTO handled_updates (update_id, handled_at) VALUES (?, ?)",
            (update_id, self.now),
        )


class Tx:
    """Every store, bound to one connection inside one transaction."""

    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self.now = now
        self.swaps = SwapStore(conn, now)
        self.organisers = OrganiserStore(conn, now)
        self.teams = TeamStore(conn, now)
        self.invites = InviteStore(conn, now)
        self.people = PersonStore(conn, now)
        self.memberships = MembershipStore(conn, now)
        self.consents = ConsentStore(conn, now)
        self.conversations = ConversationStore(conn, now)
        self.contributions = ContributionStore(conn, now)
        self.outbox = OutboxStore(conn, now)
        self.allocations = AllocationStore(conn, now)
        self.updates = UpdateStore(conn, now)
