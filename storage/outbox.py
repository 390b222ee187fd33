"""The outbox (every message the bot owes), and the updates already handled."""

from __future__ import annotations

import json
from collections.abc import Iterable

import aiosqlite

from storage.store import Store


class OutboxStore(Store):
    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        super().__init__(conn, now)
        self.added = 0
        # Of those, how many notify (a new message not sent ``silent``).
        self.notifying = 0
        self.chats: set[int] = set()

    async def add(
        self,
        chat_id: int,
        text: str,
        reply_markup: dict | None = None,
        contribution_id: int | None = None,
        context: dict | None = None,
        document_name: str | None = None,
        document: bytes | None = None,
        bulk: bool = False,
        quotes: Iterable[int] = (),
        forget_when_sent: bool = False,
        not_before: float = 0.0,
        edit_message_id: int | None = None,
        silent: bool = False,
        blocks: Iterable[tuple[str, int | None, bool]] = (),
    ) -> int:
        """Owe a message; ``quotes`` are the contributions whose words it carries,
        so that it is not sent if they are withdrawn first.

        ``blocks`` (its words, the contribution each quotes, whether it alone is
        worth sending) are what ``text`` was made of: a withdrawal takes a
        block out and the message is rebuilt without it (migration 8).
        ``silent`` sends it without a notification."""
        self.added += 1
        self.notifying += not silent and edit_message_id is None
        self.chats.add(chat_id)
        outbox_id = await self._run(
            "INSERT INTO outbox (chat_id, text, reply_markup, contribution_id, context,"
            " document_name, document, priority, forget_when_sent, not_before, created_at,"
            " edit_message_id, silent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                text,
                json.dumps(reply_markup) if reply_markup else None,
                contribution_id,
                json.dumps(context) if context else None,
                document_name,
                document,
                int(bulk),
                int(forget_when_sent),
                not_before,
                self.now,
                edit_message_id,
                int(silent),
            ),
        )
        for position, (html, quoted_id, keeps) in enumerate(blocks):
            await self._run(
                "INSERT INTO outbox_blocks (outbox_id, position, html, contribution_id, keeps)"
                " VALUES (?, ?, ?, ?, ?)",
                (outbox_id, position, html, quoted_id, int(keeps)),
            )
        quoted = set(quotes) | ({contribution_id} if contribution_id else set())
        for quoted_id in quoted:
            await self._run(
                "INSERT INTO outbox_quotes (outbox_id, contribution_id) VALUES (?, ?)",
                (outbox_id, quoted_id),
            )
        return outbox_id

    async def move_chat(self, old: int, new: int) -> int:
        """Messages still owed to a group that became a supergroup go to its new id."""
        count = await self._count(
            "UPDATE outbox SET chat_id = ?, not_before = 0 WHERE chat_id = ?"
            " AND status = 'pending'",
            (new, old),
        )
        self.added += count  # owed anew: the worker looks at once
        return count

    async def awaiting_files_quoting(self, contribution_ids: Iterable[int]) -> list[int]:
        """The chats owed files (an export) not yet sent that quote any of these."""
        ids = list(contribution_ids)
        rows = await self._all(
            "SELECT DISTINCT o.chat_id FROM outbox o JOIN outbox_quotes q ON q.outbox_id = o.id"
            " WHERE o.status = 'pending' AND o.document_name IS NOT NULL"
            f" AND q.contribution_id IN ({','.join('?' * len(ids))})",
            ids,
        )
        return [r["chat_id"] for r in rows]

    async def drop_pending(self, chat_id: int) -> int:
        """Drop every message still waiting to go to a chat (a group that stops
        receiving); what was sent stays as it was. Returns how many were dropped."""
        return await self._count(
            "DELETE FROM outbox WHERE chat_id = ? AND status = 'pending'", (chat_id,)
        )

    async def forget_chat(self, chat_id: int) -> None:
        """Delete every message to a chat, sent or not: previews, receipts and
        prompts that may quote a person's words, and the times that could tie
        them to a record."""
        await self._run("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))

    async def context_of(self, chat_id: int, message_id: int) -> dict | None:
        """What a message we sent was about, for a person replying to it."""
        row = await self._one(
            # An edited message's context is its latest edit's.
            "SELECT context FROM outbox WHERE chat_id = ? AND message_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (chat_id, message_id),
        )
        return json.loads(row["context"]) if row and row["context"] else None

    async def due(
        self, now: float, limit: int, exclude_chats: Iterable[int] = ()
    ) -> tuple[list[aiosqlite.Row], float | None]:
        """Up to ``limit`` pending messages that may go now, each the next one of
        its chat (with ``more``, whether that chat has another pending); and
        when the earliest message deferred beyond ``now`` falls due, if any.

        Within a chat, replies to the person acting now go before a fan-out's
        bulk still queued for them (a preview does not wait behind the phase
        material), and otherwise messages go in the order they were owed, the
        parts of a long message among them. Across chats, replies go first too.
        A chat whose next message is deferred (a retry, the rest of a paste)
        waits whole.

        One statement, as the worker asks before its sends, and its cost does not
        grow with what is waiting: it walks the pending rows in the order they
        go (an index of pending rows only) and stops at ``limit``, each row
        checked against its own chat's (another index), so the chats the
        worker cannot serve now (``exclude_chats``: in flight, or their window
        full) are passed over rather than read.
        """
        chats = list(exclude_chats)
        excluded = f" AND o.chat_id NOT IN ({','.join('?' * len(chats))})" if chats else ""
        # The indexes are named: without statistics (ANALYZE), SQLite would
        # rather read every pending row and sort them, which is the cost this
        # query exists to avoid.
        # One row always comes back: the earliest deferral, with the first due
        # message beside it, or with nothing beside it when none is due.
        rows = await self._all(
            "SELECT d.at AS deferred, o.* FROM (SELECT MIN(not_before) AS at FROM outbox"
            " INDEXED BY outbox_deferred WHERE status = 'pending' AND not_before > ?) AS d"
            " LEFT JOIN (SELECT o.*, EXISTS (SELECT 1 FROM outbox AS n"
            " INDEXED BY outbox_chat_turns"
            " WHERE n.status = 'pending' AND n.chat_id = o.chat_id AND n.id != o.id) AS more"
            " FROM outbox AS o INDEXED BY outbox_turns"
            " WHERE o.status = 'pending' AND o.not_before <= ?"
            f"{excluded} AND NOT EXISTS (SELECT 1 FROM outbox AS e INDEXED BY outbox_chat_turns"
            " WHERE e.status = 'pending' AND e.chat_id = o.chat_id AND (e.priority < o.priority"
            " OR (e.priority = o.priority AND e.id < o.id)))"
            " ORDER BY o.priority, o.id LIMIT ?) AS o"
            " ORDER BY o.priority, o.id",
            (now, now, *chats, limit),
        )
        deferred = rows[0]["deferred"] if rows else None
        return [row for row in rows if row["id"] is not None], deferred

    async def mark_sent(self, outbox_id: int, message_id: int | None, *, forget: bool) -> None:
        """Record a delivery, in one statement. Its words, its buttons (whose labels
        may name people: "Remove NAME") and any file are dropped:
        once delivered they are not needed here, and people's words should live
        in one place. A message to someone who keeps no record with us (they
        declined; ``forget``, the row's ``forget_when_sent``) is not kept either:
        its times alone could tie them to the decline."""
        if forget:
            await self._run("DELETE FROM outbox WHERE id = ?", (outbox_id,))
            return
        await self._run(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, text = '',"
            " reply_markup = NULL, document = NULL, attempts = attempts + 1 WHERE id = ?",
            (self.now, message_id, outbox_id),
        )

    async def retry_later(self, outbox_id: int, not_before: float, error: str) -> None:
        await self._run(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ? WHERE id = ?",
            (not_before, error, outbox_id),
        )

    async def fail_chat(self, chat_id: int, error: str) -> int:
        """Give up on every pending message to a chat that refuses them. One to
        be forgotten once sent (to someone who keeps no record with us) is
        forgotten now: kept, its words and times could tie them to a decline."""
        forgotten = await self._count(
            "DELETE FROM outbox WHERE chat_id = ? AND status = 'pending' AND forget_when_sent",
            (chat_id,),
        )
        return forgotten + await self._count(
            "UPDATE outbox SET status = 'failed', error = ?, attempts = attempts + 1"
            " WHERE chat_id = ? AND status = 'pending'",
            ("unreachable: " + error, chat_id),
        )

    async def requeue_chat(self, chat_id: int) -> int:
        """Try again the messages set aside for a chat that could not be reached."""
        count = await self._count(
            "UPDATE outbox SET status = 'pending', not_before = 0 WHERE chat_id = ?"
            " AND status = 'failed' AND error LIKE 'unreachable:%'",
            (chat_id,),
        )
        self.added += count
        return count

    async def fail(self, outbox_id: int, error: str) -> None:
        """Give up on a message Telegram refused; one to be forgotten once sent
        is forgotten now (see ``fail_chat``)."""
        await self._run("DELETE FROM outbox WHERE id = ? AND forget_when_sent", (outbox_id,))
        await self._run(
            "UPDATE outbox SET status = 'failed', error = ?, attempts = attempts + 1 WHERE id = ?",
            (error, outbox_id),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}


class UpdateStore(Store):
    async def arrival(self, update_id: int, telegram_id: int | None) -> tuple[bool, str | None]:
        """What the gate asks of each update, in one query: whether it was handled
        already, and the chat status of the person it is from (None if unknown)."""
        row = await self._one(
            "SELECT EXISTS (SELECT 1 FROM handled_updates WHERE update_id = ?) AS handled,"
            " (SELECT chat_status FROM people WHERE telegram_id = ?) AS chat_status",
            (update_id, telegram_id),
        )
        assert row is not None  # a SELECT without FROM always answers one row
        return bool(row["handled"]), row["chat_status"]

    async def last_handled(self) -> int | None:
        """The newest update handled so far (None before the first)."""
        row = await self._one("SELECT MAX(update_id) AS last FROM handled_updates")
        return row["last"] if row else None

    async def was_handled(self, update_id: int) -> bool:
        return (
            await self._one("SELECT 1 FROM handled_updates WHERE update_id = ?", (update_id,))
            is not None
        )

    async def mark_handled(self, update_id: int) -> None:
        await self._run(
            "INSERT OR IGNORE INTO handled_updates (update_id, handled_at) VALUES (?, ?)",
            (update_id, self.now),
        )
