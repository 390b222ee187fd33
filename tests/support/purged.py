"""What a purge must leave of a swap: nothing but one line in the audit."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

# Every table that holds anything of a swap.
SWAP_TABLES = (
    "swaps",
    "teams",
    "memberships",
    "contributions",
    "people",
    "consents",
    "transitions",
    "allocations",
    "comments",
    "schedule",
    "fired",
    "sheets",
)


def assert_purged(db_path: str, swap_id: int, words: list[bytes]) -> dict:
    """Nothing of the swap is left in any table, nor any of ``words`` anywhere in
    the file or its WAL; return the details of the one audit line left."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        for table in SWAP_TABLES:
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
        [(event, purged, detail)] = conn.execute(
            "SELECT event, purged_swap, detail FROM audit"
        ).fetchall()
    assert (event, purged) == ("purged", swap_id)
    for path in Path(db_path).parent.glob(Path(db_path).name + "*"):
        data = path.read_bytes()
        for word in words:
            assert word not in data, (path.name, word)
    return json.loads(detail)
