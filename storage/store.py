"""What every store shares: the transaction's connection and its time.

Stores are reached through a ``Tx`` (``storage.tx``), so every store used
inside one ``async with`` shares the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite


class Store:
    """The helpers each run one statement in one trip to aiosqlite's thread.

    Every ``await`` on aiosqlite is a round trip between the event loop and the
    connection's thread, and that trip, not SQLite, is most of a query's cost
    here. So a query is read with ``execute_fetchall`` (execute, fetch and close
    in one trip), and a change's cursor is left for the garbage collector rather
    than closed with a trip of its own: SQLite has already reset a statement that
    ran to completion, so closing it frees nothing that matters.
    """

    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self.conn = conn
        self.now = now

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row, or None. The query should select at most one row
        (a key, or ``LIMIT 1``): all of them are read."""
        rows = await self.conn.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def _run(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Execute a statement; return the new row id (for INSERT)."""
        cur = await self.conn.execute(sql, tuple(params))
        return cur.lastrowid or 0

    async def _count(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Execute a statement; return how many rows it changed."""
        cur = await self.conn.execute(sql, tuple(params))
        return cur.rowcount
