"""What ``python -m bot check`` reads of the swaps themselves: which still use the
built-in information sheet, and what their settings leave unfilled. Read-only,
beside a running bot."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path


def swaps_on_builtin_sheet(path: str | Path) -> list[dict]:
    """Swaps not yet closed that have no information sheet of their own, with
    their retention and withdrawal settings (None where not chosen)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 5000")
        rows = conn.execute(
            "SELECT id, title, retention_months, withdrawal FROM swaps"
            " WHERE phase != 'closed' AND NOT EXISTS (SELECT 1 FROM sheets"
            " WHERE sheets.swap_id = swaps.id AND version IS NOT NULL) ORDER BY id"
        ).fetchall()
    return [dict(r) for r in rows]
