"""The SQLite database: one aiosqlite connection, transactions and migrations.

Every change that must not be lost happens inside one ``transaction()``; the
stores (``storage/*.py``, gathered in ``storage.tx.Tx``) hold the SQL, reached through the
transaction object, so a single ``async with`` covers every table it touches.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from storage.migrations import BUTTON_ID_TABLES, MIGRATIONS, Migration, Rebuild, reusable
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


class DatabaseUnusable(Exception):
    """The file cannot serve as the database. The message is one line for a person
    and starts with the file's path."""


class Database:
    """A single connection to the SQLite file, serialised by a lock.

    While it is open, it also holds an exclusive lock on ``<file>.lock``, so
    that a second bot started on the same file refuses to run: two would both
    deliver every message, and together overdraw Telegram's limits.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock_descriptor: int | None = None
        # One connection is shared by every coroutine, so transactions must
        # not interleave on it.
        self._lock = asyncio.Lock()
        self._outbox_listeners: list[Callable[[], None]] = []
        # Set (from the connection's thread, by a trigger) when a statement deleted
        # someone's words: the commit is followed by a scrub.
        self._words_deleted = False

    async def open(self) -> None:
        """Lock and open the file, set the pragmas and bring the schema up to date.

        If any step fails, the connection is closed again before the error goes
        on: an open aiosqlite connection keeps a thread alive, and the process
        could never exit. A file that cannot serve at all, or that another bot
        has open, raises ``DatabaseUnusable``.
        """
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._lock_descriptor = _lock_exclusively(self.path)
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute("PRAGMA foreign_keys = ON")
            await self._conn.execute("PRAGMA journal_mode = WAL")
            await self._conn.execute("PRAGMA synchronous = NORMAL")
            await self._conn.execute("PRAGMA busy_timeout = 5000")
            # Deleted words are overwritten, not left readable in free pages.
            await self._conn.execute("PRAGMA secure_delete = ON")
            await self.migrate()
            await self._notice_deleted_words()
        except sqlite3.Error as exc:
            await self.close()
            reason = _refusal(exc)
            if reason is None:
                raise
            raise DatabaseUnusable(f"{self.path} {reason}") from None
        except BaseException:
            await self.close()
            raise

    async def _notice_deleted_words(self) -> None:
        """Whichever path deletes someone's words (a withdrawal, a removal, a draft
        discarded or forgotten, a declined sheet, a cascade), a trigger of this
        connection notices, and the transaction's commit is followed by a scrub.
        One mechanism, so that no new path can forget it."""

        def deleted() -> None:
            self._words_deleted = True

        await self.conn.create_function("words_deleted", 0, deleted)
        for table, when in _WORDS:
            await self.conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {table}_words_deleted AFTER DELETE"
                f" ON main.{table} {when} BEGIN SELECT words_deleted(); END"
            )

    async def open_read_only(self) -> None:
        """Open the file for reading only, beside a bot that may be running on it:
        no lock, no migrations (the schema must be this program's)."""
        if not Path(self.path).is_file():
            raise DatabaseUnusable(f"{self.path} does not exist")
        try:
            self._conn = await aiosqlite.connect(
                f"file:{self.path}?mode=ro", uri=True, isolation_level=None
            )
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute("PRAGMA busy_timeout = 5000")
            version = await self.schema_version()
        except sqlite3.Error as exc:
            await self.close()
            raise DatabaseUnusable(f"{self.path} {_refusal(exc) or f'failed: {exc}'}") from None
        if version != len(MIGRATIONS):
            await self.close()
            raise DatabaseUnusable(
                f"{self.path} has schema version {version}, this program {len(MIGRATIONS)}:"
                " start the bot once to bring it up to date"
            )

    async def close(self) -> None:
        """Close the connection, then release the lock."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._lock_descriptor is not None:
            os.close(self._lock_descriptor)  # which releases the lock
            self._lock_descriptor = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    async def schema_version(self) -> int:
        """The number of the last migration applied to the file."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        # PRAGMA user_version always answers one row; 0 for a new file.
        return int(row[0]) if row is not None else 0

    async def migrate(self) -> None:
        """Apply each pending migration in its own transaction."""
        async with self._lock:
            version = await self.schema_version()
            if version > len(MIGRATIONS):
                raise DatabaseUnusable(
                    f"{self.path} has schema version {version}, newer than this "
                    f"program knows ({len(MIGRATIONS)})"
                )
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number <= version:
                    continue
                await self._apply(number, migration)
                log.info("Applied database migration %d", number)

    async def _apply(self, number: int, migration: Migration) -> None:
        """One migration in a transaction; a rebuild with foreign keys off (they
        cannot be switched inside a transaction), checked before it commits."""
        rebuild = isinstance(migration, Rebuild)
        if rebuild:
            await self.conn.execute("PRAGMA foreign_keys = OFF")
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            async with self.conn.execute(_SCHEMA) as cur:
                schema = [tuple(r) for r in await cur.fetchall()]
            for statement in _statements(migration, schema):
                await self.conn.execute(statement)
            if rebuild:
                async with self.conn.execute("PRAGMA foreign_key_check") as cur:
                    if await cur.fetchone() is not None:
                        raise sqlite3.IntegrityError(f"migration {number} broke a reference")
            # PRAGMA cannot take a parameter; number is our own integer.
            await self.conn.execute(f"PRAGMA user_version = {number}")
            await self.conn.execute("COMMIT")
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        finally:
            if rebuild:
                await self.conn.execute("PRAGMA foreign_keys = ON")

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
            finally:
                scrub, self._words_deleted = self._words_deleted, False
        if scrub:
            await self.scrub()
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
                self._words_deleted = False  # nothing was deleted after all

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only view of a consistent snapshot."""
        async with self._lock:
            await self.conn.execute("BEGIN")
            try:
                yield Tx(self.conn, utcnow())
            finally:
                await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def alone(self) -> AsyncIterator[Tx]:
        """The connection to ourselves, without a transaction: for statements that
        each stand alone, which SQLite makes atomic one by one.

        It saves a trip to the connection's thread for BEGIN and another for the
        end, which the delivery worker, reading and recording every message it
        sends, would otherwise pay each time. Use ``transaction()`` whenever two
        statements must hold together, and ``read()`` for a consistent view.
        """
        async with self._lock:
            yield Tx(self.conn, utcnow())
        if self._words_deleted:  # a message to be forgotten once sent, say
            await self.scrub()

    async def scrub(self) -> None:
        """Write the WAL back into the file and empty it, so that deleted words
        are gone from the disk too (with ``secure_delete`` they are zeroed in
        the file; the WAL would otherwise keep old pages until it wraps)."""
        async with self._lock:
            self._words_deleted = False
            await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every commit that added outbox messages."""
        self._outbox_listeners.append(listener)


def _lock_exclusively(path: str) -> int:
    """Take an exclusive lock on ``<path>.lock``; return its open descriptor.

    A file of its own: SQLite holds POSIX locks on the database file, which
    closing any other descriptor of that file in this process would drop.
    ``flock`` belongs to this open descriptor (a second open in this same
    process is refused too), the descriptor is not inherited by child
    processes, and the kernel releases the lock when the process ends however
    it ends, even by SIGKILL. The file stays behind: deleting it could let a
    third start lock a new file while the first still holds the old one.
    """
    lock_path = f"{path}.lock"
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DatabaseUnusable(
            f"{path} cannot be used: its lock file {lock_path} cannot be "
            f"opened ({exc.strerror}): the folder must be writable"
        ) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise DatabaseUnusable(
            f"{path} is in use: a bot is already running on it and holds {lock_path}"
        ) from None
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _refusal(exc: sqlite3.Error) -> str | None:
    """Why SQLite refused the file itself, if it did (and not our SQL)."""
    # The primary result code is the low byte of the extended one.
    code = (exc.sqlite_errorcode or 0) & 0xFF
    if code == sqlite3.SQLITE_NOTADB:
        return "is not an SQLite database"
    if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
        return f"cannot be opened for writing ({exc}): the file and its folder must be writable"
    return None


# Tables whose deleted rows held someone's words (or name), and when.
_WORDS = (
    ("contributions", ""),
    ("comments", ""),
    ("people", ""),
    ("consents", "WHEN OLD.person_id IS NOT NULL"),
    ("outbox", "WHEN OLD.text != '' OR OLD.reply_markup IS NOT NULL OR OLD.document IS NOT NULL"),
)

_SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"


def _statements(migration: Migration, schema: list[tuple]) -> list[str]:
    """A migration's statements, for a file with this ``sqlite_master``."""
    if isinstance(migration, Rebuild):
        return migration.statements(schema)
    return _split_sql(migration)


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


def reusable_ids(conn: sqlite3.Connection) -> list[str]:
    """The tables whose ids travel in buttons and could be given again."""
    return [
        name
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if name in BUTTON_ID_TABLES and reusable(sql)
    ]


@dataclass(frozen=True)
class Rehearsal:
    """What applying the pending migrations would do to a file."""

    version: int
    pending: int
    # Tables whose ids could be given again, before and after the migrations.
    reusable_before: list[str]
    reusable_after: list[str]


def rehearse_migrations(path: str | Path) -> Rehearsal:
    """Apply the pending migrations to a copy of the file at ``path``, in memory:
    whether they would apply, without changing anything. (A copy, not a
    transaction rolled back: a rebuild switches foreign keys off, which SQLite
    allows only outside a transaction.)

    It takes none of the running bot's locks, only a moment's read of SQLite's
    own, so it can check a database in use.
    """
    try:
        with (
            contextlib.closing(sqlite3.connect(path, isolation_level=None)) as file,
            contextlib.closing(sqlite3.connect(":memory:", isolation_level=None)) as conn,
        ):
            file.execute("PRAGMA busy_timeout = 5000")
            version = int(file.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise DatabaseUnusable(
                    f"{path} has schema version {version}, newer than this program knows "
                    f"({len(MIGRATIONS)})"
                )
            file.backup(conn)
            before = reusable_ids(conn)
            for migration in MIGRATIONS[version:]:
                rebuild = isinstance(migration, Rebuild)
                conn.execute(f"PRAGMA foreign_keys = {'OFF' if rebuild else 'ON'}")
                conn.execute("BEGIN IMMEDIATE")
                schema = conn.execute(_SCHEMA).fetchall()
                for statement in _statements(migration, schema):
                    conn.execute(statement)
                if rebuild and conn.execute("PRAGMA foreign_key_check").fetchone():
                    raise sqlite3.IntegrityError("a rebuild broke a reference")
                conn.execute("COMMIT")
            after = reusable_ids(conn)
    except sqlite3.Error as exc:
        raise DatabaseUnusable(f"{path} {_refusal(exc) or f'failed: {exc}'}") from None
    return Rehearsal(version, len(MIGRATIONS) - version, before, after)
