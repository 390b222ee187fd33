"""The research trail: what organisers did (the audit), who organises a swap
besides its creator, and the comments of the member check."""

from __future__ import annotations

import json
from typing import Any

from storage.store import Store


class AuditStore(Store):
    async def record(self, swap_id: int | None, by: int | None, event: str, **details: Any) -> None:
        """Note an event: its key in ``prompts/trail/events.md`` and the values
        its words take, kept as JSON. No detail may name or identify a participant.

        (Rows from before the keys hold an event's words and a detail in words.)
        """
        await self._run(
            "INSERT INTO audit (swap_id, by_telegram_id, event, detail, at) VALUES (?, ?, ?, ?, ?)",
            (swap_id, by, event, json.dumps(details, sort_keys=True), self.now),
        )

    async def last_at(self, swap_id: int, event: str) -> str | None:
        """When the swap last saw this event (an export, say), if ever."""
        row = await self._one(
            "SELECT MAX(at) AS at FROM audit WHERE swap_id = ? AND event = ?", (swap_id, event)
        )
        return row["at"] if row else None

    async def of_swap(self, swap_id: int, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM (SELECT * FROM audit WHERE swap_id = ? ORDER BY id DESC LIMIT ?)"
            " ORDER BY id",
            (swap_id, limit),
        )
        return [dict(r) for r in rows]

    async def purged_for(self, telegram_id: int) -> list[dict[str, Any]]:
        """The lines purges left, of swaps this organiser organised."""
        rows = await self._all(
            "SELECT * FROM audit WHERE swap_id IS NULL AND event = 'purged' AND EXISTS"
            " (SELECT 1 FROM json_each(audit.detail, '$.organisers') WHERE value = ?)"
            " ORDER BY id",
            (telegram_id,),
        )
        return [dict(r) for r in rows]


class OrganiserShareStore(Store):
    async def add(self, swap_id: int, telegram_id: int, by: int) -> bool:
        return (
            await self._count(
                "INSERT OR IGNORE INTO swap_organisers (swap_id, telegram_id, added_by, added_at)"
                " VALUES (?, ?, ?, ?)",
                (swap_id, telegram_id, by, self.now),
            )
            > 0
        )

    async def of_swap(self, swap_id: int) -> list[int]:
        rows = await self._all(
            "SELECT telegram_id FROM swap_organisers WHERE swap_id = ? ORDER BY added_at",
            (swap_id,),
        )
        return [r["telegram_id"] for r in rows]

    async def swaps_shared_with(self, telegram_id: int) -> list[int]:
        rows = await self._all(
            "SELECT swap_id FROM swap_organisers WHERE telegram_id = ? ORDER BY swap_id",
            (telegram_id,),
        )
        return [r["swap_id"] for r in rows]


class CommentStore(Store):
    async def add_draft(self, swap_id: int, team_id: int, person_id: int, text: str) -> int:
        # One open draft per person: a new text replaces it.
        await self._run(
            "DELETE FROM comments WHERE person_id = ? AND swap_id = ? AND status = 'draft'",
            (person_id, swap_id),
        )
        return await self._run(
            "INSERT INTO comments (swap_id, team_id, person_id, text, status, created_at)"
            " VALUES (?, ?, ?, ?, 'draft', ?)",
            (swap_id, team_id, person_id, text, self.now),
        )

    async def draft(self, comment_id: int, person_id: int) -> tuple[int, str] | None:
        """(swap id, text) of a person's own draft comment."""
        row = await self._one(
            "SELECT swap_id, text FROM comments WHERE id = ? AND person_id = ?"
            " AND status = 'draft'",
            (comment_id, person_id),
        )
        return (row["swap_id"], row["text"]) if row else None

    async def confirm(self, comment_id: int) -> None:
        await self._run(
            "UPDATE comments SET status = 'confirmed', confirmed_at = ? WHERE id = ?",
            (self.now, comment_id),
        )

    async def delete(self, comment_id: int) -> None:
        await self._run("DELETE FROM comments WHERE id = ?", (comment_id,))

    async def delete_expired_drafts(self, before: str) -> int:
        """Forget draft comments nobody confirmed, written before ``before``."""
        return await self._count(
            "DELETE FROM comments WHERE status = 'draft' AND created_at < ?", (before,)
        )

    async def delete_of(self, person_id: int, swap_id: int) -> int:
        return await self._count(
            "DELETE FROM comments WHERE person_id = ? AND swap_id = ?", (person_id, swap_id)
        )

    async def undigested(self) -> list[tuple[int, str, str | None]]:
        """Swaps with confirmed comments their organisers have not been told of: the
        earliest such comment's time, and the day of the last digest (or None)."""
        rows = await self._all(
            "SELECT c.swap_id, MIN(c.confirmed_at) AS since, (SELECT MAX(f.key) FROM fired f"
            " WHERE f.swap_id = c.swap_id AND f.key LIKE 'comments:%') AS last"
            " FROM comments c WHERE c.status = 'confirmed' AND NOT c.digested"
            " GROUP BY c.swap_id"
        )
        return [
            (row["swap_id"], row["since"], row["last"].split(":", 1)[1] if row["last"] else None)
            for row in rows
        ]

    async def digest(self, swap_id: int) -> list[tuple[str, int]]:
        """The comments on a swap its organisers have not been told of, counted by
        team; from now on they have been."""
        rows = await self._all(
            "SELECT t.name, COUNT(*) AS n FROM comments c JOIN teams t ON t.id = c.team_id"
            " WHERE c.swap_id = ? AND c.status = 'confirmed' AND NOT c.digested"
            " GROUP BY t.id ORDER BY t.position",
            (swap_id,),
        )
        await self._run(
            "UPDATE comments SET digested = 1 WHERE swap_id = ? AND status = 'confirmed'",
            (swap_id,),
        )
        return [(row["name"], row["n"]) for row in rows]

    async def confirmed(self, team_id: int) -> list[str]:
        rows = await self._all(
            "SELECT text FROM comments WHERE team_id = ? AND status = 'confirmed' ORDER BY id",
            (team_id,),
        )
        return [r["text"] for r in rows]

    async def confirmed_of_swap(self, swap_id: int) -> list[dict[str, Any]]:
        """The swap's confirmed comments: id, team, author, text and when confirmed."""
        rows = await self._all(
            "SELECT id, team_id, person_id, text, confirmed_at FROM comments"
            " WHERE swap_id = ? AND status = 'confirmed' ORDER BY id",
            (swap_id,),
        )
        return [dict(r) for r in rows]

    async def of_person(self, person_id: int) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT * FROM comments WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [dict(r) for r in rows]
