"""Contributions: what people write, from draft to confirmed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.model import Contribution, Kind, Status
from storage.store import Store


def _contribution(row: aiosqlite.Row) -> Contribution:
    return Contribution(
        id=row["id"],
        swap_id=row["swap_id"],
        team_id=row["team_id"],
        person_id=row["person_id"],
        kind=Kind(row["kind"]),
        about_team_id=row["about_team_id"],
        round=row["round"],
        text=row["text"],
        status=Status(row["status"]),
        replaces_id=row["replaces_id"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        delivered_at=row["delivered_at"],
        ever_delivered=bool(row["ever_delivered"]),
        adopted_from=row["adopted_from"],
        first_delivered_at=row["first_delivered_at"],
        language=row["language"] or "en",
    )


class ContributionStore(Store):
    async def add_draft(
        self,
        swap_id: int,
        team_id: int,
        person_id: int,
        kind: Kind,
        text: str,
        about_team_id: int | None = None,
        round: int | None = None,
        replaces_id: int | None = None,
        adopted_from: int | None = None,
    ) -> Contribution:
        row = await self._one(
            "INSERT INTO contributions (swap_id, team_id, person_id, kind, about_team_id,"
            " round, text, status, replaces_id, adopted_from, created_at, language)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?,"
            # The language the author reads the bot in: the report says it beside
            # their words, which are never translated.
            "  (SELECT COALESCE(s.language, p.language, 'en') FROM people p, swaps s"
            "   WHERE p.id = ?3 AND s.id = ?1)) RETURNING *",
            (
                swap_id,
                team_id,
                person_id,
                kind.value,
                about_team_id,
                round,
                text,
                replaces_id,
                adopted_from,
                self.now,
            ),
        )
        assert row is not None  # RETURNING answers the row inserted
        return _contribution(row)

    async def get(self, contribution_id: int) -> Contribution | None:
        row = await self._one("SELECT * FROM contributions WHERE id = ?", (contribution_id,))
        return _contribution(row) if row else None

    async def confirm(self, contribution_id: int) -> Contribution | None:
        """Confirm a draft; the contribution as it now is (one statement)."""
        row = await self._one(
            "UPDATE contributions SET status = 'confirmed', confirmed_at = ? WHERE id = ?"
            " RETURNING *",
            (self.now, contribution_id),
        )
        return _contribution(row) if row else None

    async def mark_adoption_told(self, proposal_id: int) -> bool:
        """Note that a proposal's author was told the lead adopted it; False if
        they were told already."""
        return bool(
            await self._count(
                "UPDATE contributions SET adoption_told_at = ? WHERE id = ?"
                " AND adoption_told_at IS NULL",
                (self.now, proposal_id),
            )
        )

    async def replace_text(self, contribution_id: int, text: str, adopted_from: int | None) -> None:
        """Give a confirmed contribution new words; it counts as not yet delivered."""
        await self._run(
            "UPDATE contributions SET text = ?, confirmed_at = ?, delivered_at = NULL,"
            " adopted_from = ? WHERE id = ?",
            (text, self.now, adopted_from, contribution_id),
        )

    async def supersede_team_item(self, team_id: int, kind: Kind, keep_id: int) -> None:
        """Mark the team's other confirmed items of this kind as replaced."""
        await self._run(
            "UPDATE contributions SET status = 'superseded' WHERE team_id = ? AND kind = ?"
            " AND status = 'confirmed' AND id != ?",
            (team_id, kind.value, keep_id),
        )

    async def delete(self, contribution_id: int) -> None:
        await self._run("DELETE FROM contributions WHERE id = ?", (contribution_id,))

    async def delete_drafts_of(
        self, person_id: int, kind: Kind | None = None, swap_id: int | None = None
    ) -> int:
        """Delete a person's drafts (of one kind, in one swap, if given)."""
        return await self._count(
            "DELETE FROM contributions WHERE person_id = ? AND status = 'draft'"
            " AND (? IS NULL OR kind = ?) AND (? IS NULL OR swap_id = ?)",
            (person_id, kind and kind.value, kind and kind.value, swap_id, swap_id),
        )

    async def delete_of(self, person_id: int, swap_id: int) -> int:
        """Delete everything a person contributed to one swap."""
        return await self._count(
            "DELETE FROM contributions WHERE person_id = ? AND swap_id = ?",
            (person_id, swap_id),
        )

    async def adopted(self, proposal_ids: Iterable[int]) -> list[Contribution]:
        """Team items that took these proposals' words as they were."""
        ids = list(proposal_ids)
        if not ids:
            return []
        rows = await self._all(
            f"SELECT * FROM contributions WHERE adopted_from IN ({','.join('?' * len(ids))})"
            " ORDER BY id",
            ids,
        )
        return [_contribution(r) for r in rows]

    async def delete_expired_drafts(self, before: str) -> int:
        """Forget drafts nobody confirmed, written before ``before``."""
        return await self._count(
            "DELETE FROM contributions WHERE status = 'draft' AND created_at < ?", (before,)
        )

    async def confirmed(
        self,
        *,
        swap_id: int | None = None,
        team_id: int | None = None,
        kind: Kind | None = None,
        person_id: int | None = None,
        about_team_id: int | None = None,
        round: int | None = None,
    ) -> list[Contribution]:
        clauses = ["status = 'confirmed'"]
        params: list[Any] = []
        for column, value in (
            ("swap_id", swap_id),
            ("team_id", team_id),
            ("kind", kind.value if kind else None),
            ("person_id", person_id),
            ("about_team_id", about_team_id),
            ("round", round),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        rows = await self._all(
            f"SELECT * FROM contributions WHERE {' AND '.join(clauses)} ORDER BY id", params
        )
        return [_contribution(r) for r in rows]

    async def confirmed_per_person(self, swap_id: int, kind: Kind) -> dict[int, int]:
        """How many confirmed contributions of ``kind`` each person has in a swap
        (people with none are left out)."""
        rows = await self._all(
            "SELECT person_id, COUNT(*) AS n FROM contributions WHERE swap_id = ? AND kind = ?"
            " AND status = 'confirmed' GROUP BY person_id",
            (swap_id, kind.value),
        )
        return {r["person_id"]: r["n"] for r in rows}

    async def contributors(
        self, swap_id: int, kinds: Iterable[Kind], reflection_round: int
    ) -> set[int]:
        """The people with a confirmed contribution of one of ``kinds`` in a swap;
        a reflection counts only in ``reflection_round``."""
        values = [k.value for k in kinds]
        rows = await self._all(
            "SELECT DISTINCT person_id FROM contributions WHERE swap_id = ?"
            " AND status = 'confirmed'"
            f" AND kind IN ({','.join('?' * len(values))}) AND (kind != ? OR round = ?)",
            (swap_id, *values, Kind.REFLECTION.value, reflection_round),
        )
        return {r["person_id"] for r in rows}

    async def team_response(self, by_team_id: int, about_team_id: int) -> Contribution | None:
        """A team's confirmed consolidated response to another team's dilemma."""
        found = await self.confirmed(
            team_id=by_team_id, kind=Kind.TEAM_RESPONSE, about_team_id=about_team_id
        )
        return found[-1] if found else None

    async def of_person(self, person_id: int) -> list[Contribution]:
        rows = await self._all(
            "SELECT * FROM contributions WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [_contribution(r) for r in rows]

    async def has_delivered_superseded(self, team_id: int, kind: Kind) -> bool:
        return (
            await self._one(
                "SELECT 1 FROM contributions WHERE team_id = ? AND kind = ? AND status ="
                " 'superseded' AND delivered_at IS NOT NULL LIMIT 1",
                (team_id, kind.value),
            )
            is not None
        )

    async def mark_delivered(self, contribution_ids: Iterable[int]) -> None:
        for cid in contribution_ids:
            await self._run(
                "UPDATE contributions SET delivered_at = ?, ever_delivered = 1,"
                " first_delivered_at = COALESCE(first_delivered_at, ?) WHERE id = ?",
                (self.now, self.now, cid),
            )
