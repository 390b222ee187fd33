"""The timetable: workshop dates and deadlines, the jobs that have run, and
announcements waiting for the organiser's Confirm."""

from __future__ import annotations

import aiosqlite

from bot.timetable import Entry
from storage.store import Store


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(what=row["what"], local=row["local_time"], auto=bool(row["auto"]))


class ScheduleStore(Store):
    async def entries(self, swap_id: int) -> list[Entry]:
        rows = await self._all(
            "SELECT * FROM schedule WHERE swap_id = ? ORDER BY local_time, what", (swap_id,)
        )
        return [_entry(r) for r in rows]

    async def set(self, swap_id: int, entry: Entry, by: int) -> None:
        await self._run(
            "INSERT INTO schedule (swap_id, what, local_time, auto, set_by, set_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (swap_id, what) DO UPDATE SET"
            " local_time = excluded.local_time, auto = excluded.auto,"
            " set_by = excluded.set_by, set_at = excluded.set_at",
            (swap_id, entry.what, entry.local, int(entry.auto), by, self.now),
        )

    async def set_by(self, swap_id: int, what: str) -> int | None:
        """Who set an entry (an automatic advance acts in their name)."""
        row = await self._one(
            "SELECT set_by FROM schedule WHERE swap_id = ? AND what = ?", (swap_id, what)
        )
        return row["set_by"] if row else None

    async def clear(self, swap_id: int, what: str) -> bool:
        return (
            await self._count(
                "DELETE FROM schedule WHERE swap_id = ? AND what = ?", (swap_id, what)
            )
            > 0
        )

    async def swaps_with_entries(self) -> list[int]:
        """Swaps, not yet closed, that have a timetable."""
        rows = await self._all(
            "SELECT DISTINCT s.swap_id FROM schedule s JOIN swaps w ON w.id = s.swap_id"
            " WHERE w.phase != 'closed' ORDER BY s.swap_id"
        )
        return [r["swap_id"] for r in rows]

    async def swaps_with_retention(self) -> list[int]:
        """Closed swaps with a retention period: they are to be purged."""
        rows = await self._all(
            "SELECT id FROM swaps WHERE phase = 'closed' AND retention_months IS NOT NULL"
            " AND closed_at IS NOT NULL ORDER BY id"
        )
        return [r["id"] for r in rows]

    async def fired(self, swap_id: int) -> frozenset[str]:
        """The keys of the jobs that have run (or were skipped) in a swap."""
        rows = await self._all("SELECT key FROM fired WHERE swap_id = ?", (swap_id,))
        return frozenset(r["key"] for r in rows)

    async def mark_fired(self, swap_id: int, key: str, outcome: str) -> bool:
        """Record that a job ran; False if it had already (nothing may run twice)."""
        return (
            await self._count(
                "INSERT OR IGNORE INTO fired (swap_id, key, outcome, at) VALUES (?, ?, ?, ?)",
                (swap_id, key, outcome, self.now),
            )
            > 0
        )

    async def set_outcome(self, swap_id: int, key: str, outcome: str) -> None:
        await self._run(
            "UPDATE fired SET outcome = ? WHERE swap_id = ? AND key = ?", (outcome, swap_id, key)
        )

    async def add_announcement(self, swap_id: int, text: str, by: int) -> int:
        return await self._run(
            "INSERT INTO announcements (swap_id, text, by_telegram_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (swap_id, text, by, self.now),
        )

    async def announcement(self, announcement_id: int) -> tuple[int, str, bool] | None:
        """(swap id, text, already sent) of an announcement."""
        row = await self._one("SELECT * FROM announcements WHERE id = ?", (announcement_id,))
        return (row["swap_id"], row["text"], row["sent_at"] is not None) if row else None

    async def mark_announced(self, announcement_id: int) -> None:
        """Sent: its words now live in the outbox until delivered, and nowhere else."""
        await self._run(
            "UPDATE announcements SET sent_at = ?, text = '' WHERE id = ?",
            (self.now, announcement_id),
        )
