"""The SQLite database: one aiosqlite connection, transactions and migrations.

Every change that must not be lost happens inside one ``transaction()``; the
stores (``storage/*.py``, gathered in ``storage.tx.Tx``) hold the SQL, reached through the
transaction object, so a single ``async with`` covers every table it touches.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from storage.migrations import MIGRATIONS
from storage.tx import Tx

log = logging.getLogger(__name__)

# The Telegram update being handled, if any. A write transaction records it so
# that an update redelivered after a restart is recognised and skipped, and the
# record commits together with the change the update caused.
current_update_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_update_id", default=None
)


def utcnow() -> str:
    """The current time as an ISO 8601 string in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Database:
    """A single connection to the SQLite file, serialised by a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        # One connection is shared by every coroutine, so transactions must
        # not interleave on it.
        self._lock = asyncio.Lock()
        self._outbox_listeners: list[Callable[[], None]] = []

    async def open(self) -> None:
        """Open the file, set the pragmas and bring the schema up to date."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA busy_timeout = 5000")
        # Deleted words are overwritten, not left readable in free pages.
        await conn.execute("PRAGMA secure_delete = ON")
        self._conn = conn
        await self.migrate()

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    async def schema_version(self) -> int:
        """The number of the last migration applied to the file."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0])

    async def migrate(self) -> None:
        """Apply each pending migration in its own transaction."""
        async with self._lock:
            version = await self.schema_version()
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"the database {self.path} has schema version {version}, newer "
                    f"than this program knows ({len(MIGRATIONS)})"
                )
            for number, statements in enumerate(MIGRATIONS, start=1):
                if number <= version:
                    continue
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(statements):
                        await self.conn.execute(statement)
                    # PRAGMA cannot take a parameter; number is our own integer.
                    await self.conn.execute(f"PRAGMA user_version = {number}")
                    await self.conn.execute("COMMIT")
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
                log.info("Applied database migration %d", number)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction: everything inside commits together or not at all."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                tx = Tx(self.conn, utcnow())
                yield tx
                update_id = current_update_id.get()
                if update_id is not None:
                    await tx.updates.mark_handled(update_id)
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
        if tx.outbox.added:
            for listener in self._outbox_listeners:
                listener()

    @asynccontextmanager
    async def rehearsal(self) -> AsyncIterator[Tx]:
        """A write transaction that is always rolled back: to see what a change
        would do (what it would send, to whom) without making it."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self.conn, utcnow())
            finally:
                await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only view of a consistent snapshot."""
        async with self._lock:
            await self.conn.execute("BEGIN")
            try:
                yield Tx(self.conn, utcnow())
            finally:
                await self.conn.execute("ROLLBACK")

    async def scrub(self) -> None:
        """Write the WAL back into the file and empty it, so that deleted words
        are gone from the disk too (with ``secure_delete`` they are zeroed in
        the file; the WAL would otherwise keep old pages until it wraps)."""
        async with self._lock:
            await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every commit that added outbox messages."""
        self._outbox_listeners.append(listener)


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements; a trigger's body stays whole."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    return statements
