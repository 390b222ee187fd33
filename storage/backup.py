"""``python -m bot backup PATH``: a consistent copy of the database, while the bot runs.

SQLite's online backup API copies the file page by page from a snapshot, so a
copy taken in the middle of a fan-out is still a database as it was at one
moment. It reads beside the running bot (the database is in WAL mode) and
takes none of its locks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path


class BackupError(Exception):
    """The copy cannot be made; the message is one line for a person."""


def _copy(source: Path, target: Path) -> int:
    try:
        # Read-only: a backup must never change, nor create, the original.
        # closing(): sqlite3's own context manager ends a transaction, not the
        # connection, and the copy must be closed before a failed one is removed.
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as original:
            original.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            with closing(sqlite3.connect(target)) as copy:
                original.backup(copy)
                pages = copy.execute("PRAGMA page_count").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"could not back up {source}: {exc}") from None
    return int(pages)


async def backup(source: str | Path, target: str | Path) -> int:
    """Copy the database at ``source`` to a new file ``target``; return its pages."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (DATABASE_PATH)")
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file for the backup")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    return await asyncio.to_thread(_copy, source, target)
