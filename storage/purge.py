"""``python -m bot purge --swap ID``: a closed swap's data, removed for good.

Everything of the swap goes (its teams, memberships, contributions, consents,
timetable, audit, comments, information sheets: the schema's cascades), then
everyone who belonged to no other swap, with every message to their chat. One
line without content stays in the audit: that the swap was purged, and why. ``secure_delete`` zeroes
the freed pages and a truncating checkpoint empties the WAL, so the file keeps
no readable copy. It works beside a running bot: SQLite's own locking keeps
the two apart, and the bot's file lock is not needed for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

# Why a swap was purged, in the words its audit line shows.
_WHY = {
    "command": "python -m bot purge",
    "retention": "its retention period ended",
}


class PurgeError(Exception):
    """The purge cannot be done; the message is one line for a person."""


def _purge(path: Path, swap_id: int, reason: str) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT phase, title FROM swaps WHERE id = ?", (swap_id,)).fetchone()
            if row is None:
                raise PurgeError(f"there is no swap {swap_id}")
            if row[0] != "closed":
                raise PurgeError(f"swap {swap_id} ({row[1]}) is not closed: close it first")
            people = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT person_id FROM memberships WHERE swap_id = ?", (swap_id,)
                )
            ]
            counts = {
                "contributions": conn.execute(
                    "SELECT COUNT(*) FROM contributions WHERE swap_id = ?", (swap_id,)
                ).fetchone()[0]
            }
            # Who may read the purge's line in /audit: the swap's organisers then.
            organisers = [
                r[0]
                for r in conn.execute(
                    "SELECT created_by FROM swaps WHERE id = ? UNION"
                    " SELECT telegram_id FROM swap_organisers WHERE swap_id = ?",
                    (swap_id, swap_id),
                )
            ]
            conn.execute("DELETE FROM contributions WHERE swap_id = ?", (swap_id,))
            conn.execute("DELETE FROM swaps WHERE id = ?", (swap_id,))
            gone = 0
            for person in people:
                left = conn.execute(
                    "SELECT COUNT(*) FROM memberships WHERE person_id = ?", (person,)
                ).fetchone()[0]
                if left:
                    continue
                chat = conn.execute(
                    "SELECT telegram_id FROM people WHERE id = ?", (person,)
                ).fetchone()[0]
                conn.execute("DELETE FROM outbox WHERE chat_id = ?", (chat,))
                conn.execute("DELETE FROM conversations WHERE telegram_id = ?", (chat,))
                conn.execute("DELETE FROM people WHERE id = ?", (person,))
                gone += 1
            counts["people"] = gone
            # The swap's audit went with it; one line, without content, outlives it.
            conn.execute(
                "INSERT INTO audit (swap_id, purged_swap, by_telegram_id, event, detail, at)"
                " VALUES (NULL, ?, NULL, 'purged', ?, ?)",
                (
                    swap_id,
                    json.dumps(
                        {
                            "swap": swap_id,
                            "reason": reason,
                            "why": _WHY.get(reason, reason),
                            "organisers": organisers,
                            **counts,
                        },
                        sort_keys=True,
                    ),
                    datetime.now(UTC).replace(microsecond=0).isoformat(),
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


async def purge(path: str | Path, swap_id: int, reason: str = "command") -> dict[str, int]:
    """Remove a closed swap for good; return how many contributions and people went.

    ``reason`` says what asked for it in the line the purge leaves in the audit:
    ``command`` (``python -m bot purge``) or ``retention`` (the swap's retention
    period ran out, and the running bot purged it the same way).
    """
    if not Path(path).is_file():
        raise PurgeError(f"there is no database at {path} (DATABASE_PATH)")
    try:
        return await asyncio.to_thread(_purge, Path(path), swap_id, reason)
    except sqlite3.Error as exc:
        raise PurgeError(f"could not purge: {exc}") from None
