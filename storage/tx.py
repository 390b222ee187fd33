"""``Tx``: every store, bound to one connection inside one transaction."""

from __future__ import annotations

import aiosqlite

from storage.contributions import ContributionStore
from storage.outbox import OutboxStore, UpdateStore
from storage.people import ConsentStore, ConversationStore, MembershipStore, PersonStore
from storage.schedule import ScheduleStore
from storage.swaps import (
    AllocationStore,
    InviteStore,
    OrganiserStore,
    SheetStore,
    SwapStore,
    TeamStore,
)
from storage.trail import AuditStore, CommentStore, OrganiserShareStore


class Tx:
    """Every store, bound to one connection inside one transaction."""

    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self.now = now
        self._conn = conn
        self.swaps = SwapStore(conn, now)
        self.organisers = OrganiserStore(conn, now)
        self.teams = TeamStore(conn, now)
        self.invites = InviteStore(conn, now)
        self.people = PersonStore(conn, now)
        self.memberships = MembershipStore(conn, now)
        self.consents = ConsentStore(conn, now)
        self.conversations = ConversationStore(conn, now)
        self.contributions = ContributionStore(conn, now)
        self.outbox = OutboxStore(conn, now)
        self.allocations = AllocationStore(conn, now)
        self.updates = UpdateStore(conn, now)
        self.schedule = ScheduleStore(conn, now)
        self.audit = AuditStore(conn, now)
        self.shares = OrganiserShareStore(conn, now)
        self.comments = CommentStore(conn, now)
        self.sheets = SheetStore(conn, now)

    def changes(self) -> int:
        """How many rows this connection has changed so far: when it has not moved,
        nothing was written in between (SQLite's ``total_changes``, read without a
        trip to aiosqlite's thread)."""
        return self._conn.total_changes
