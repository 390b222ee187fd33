"""What every store shares: the transaction's connection and its time.

Stores are reached through a ``Tx`` (``storage.tx``), so every store used
inside one ``async with`` shares the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite


class Store:
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
