"""The research trail: ``/share`` (co-organisers), ``/audit`` (what organisers
did, and when), and ``/membercheck`` (each team reads how it is represented in
the report, and may comment before it is final).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from bot.model import Kind, Person, Phase, Swap, Team
from bot.services.core import Block, Core, Mail, Owed, Piece, Refusal, Who, act
from bot.services.phases import Phases
from bot.text import Html
from storage.tx import Tx

log = logging.getLogger(__name__)


class _Leave(dict):
    """An event's details; one its words name but it lacks shows as a placeholder."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


MEMBER_CHECK_DAYS = (1, 60)
# What a person wrote in their own name (a team's dilemma and response are the team's).
_OWN_KINDS = (Kind.PROPOSAL, Kind.ANSWER, Kind.REFLECTION)


class Trail:
    """``/share``, ``/audit`` and ``/membercheck``."""

    def __init__(self, core: Core, phases: Phases) -> None:
        self.core = core
        self.phases = phases

    async def _own_words(self, tx: Tx, swap: Swap, person_id: int) -> list[Piece]:
        """A person's own contributions as the record keeps them (the team's items
        are in the team's part already); never anyone else's."""
        core = self.core
        own = [
            c
            for c in await tx.contributions.confirmed(swap_id=swap.id, person_id=person_id)
            if c.kind in _OWN_KINDS
        ]
        if not own:
            return []
        pieces = [Piece((Block(core.html("trail/membercheck_yours"), keeps=False),))]
        for item in own:
            heading = core.label(f"kind_{item.kind.value}", round=item.round or "")
            pieces.append(
                Piece.of(
                    core.html("trail/membercheck_item", kind=heading, text=item.text),
                    quotes=item.id,
                )
            )
        # The heading goes with the first of them, so it is never left alone.
        pieces[1] = Piece(pieces[0].blocks + pieces[1].blocks)
        return pieces[1:]

    @act
    async def share(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """Make another organiser a co-organiser of the current swap."""
        swap = await self.core.current_swap(tx, who)
        if len(words) != 1 or not words[0].isascii() or not words[0].isdigit():
            raise Refusal("trail/share_usage")
        other = int(words[0])
        if other not in self.core.organiser_ids:
            raise Refusal("trail/share_not_organiser", id=other)
        if other == swap.created_by or not await tx.shares.add(swap.id, other, who.telegram_id):
            raise Refusal("trail/share_already", title=swap.title)
        await tx.audit.record(swap.id, who.telegram_id, "co_organiser", id=other)
        await mail.send(who.telegram_id, "trail/shared", title=swap.title)
        await mail.send(other, "trail/shared_with_you", title=swap.title, name=who.name)

    @act
    async def audit(self, tx: Tx, mail: Mail, who: Who) -> None:
        """The trail of the current swap: who did what, and when; and the lines
        purges left of swaps this organiser organised, which outlive them."""
        try:
            swap: Swap | None = await self.core.current_swap(tx, who)
        except Refusal:
            swap = None
        purged = await tx.audit.purged_for(who.telegram_id) if self.core.is_organiser(who) else []
        if swap is None and not purged:
            await self.core.current_swap(tx, who)  # says why there is nothing
        if swap is not None:
            events = await tx.audit.of_swap(swap.id)
            await mail.send(
                who.telegram_id,
                "trail/audit",
                title=swap.title,
                lines=self._lines(who, events) or self.core.html("trail/audit_empty"),
            )
        if purged:
            await mail.send(who.telegram_id, "trail/audit_purged", lines=self._lines(who, purged))

    def _lines(self, who: Who, rows: list[dict]) -> Html:
        lines = []
        events = self.core.prompts.table("trail/events")
        for event in rows:
            by = event["by_telegram_id"]
            actor = (
                self.core.label("audit_you")
                if by == who.telegram_id
                else self.core.label("audit_purger")
                if event["event"] == "purged"  # the bot, or the server's operator
                else self.core.label("audit_someone")
                if by is None
                else self.core.label("audit_organiser", id=by)
            )
            lines.append(
                self.core.html(
                    "trail/audit_line",
                    at=self.core.local_time(event["at"]),
                    actor=actor,
                    event=self._event(events, event["event"], event["detail"]),
                )
            )
        return Html("\n".join(lines))

    @staticmethod
    def _event(events: dict[str, str], key: str, detail: str) -> str:
        """An audit event in words (``prompts/trail/events.md``). A row from
        before the events had keys holds its words already: shown as they are."""
        try:
            details = json.loads(detail) if detail else {}
        except ValueError:
            details = None
        if key not in events or not isinstance(details, dict):
            return events["as_stored"].format(event=key, detail=detail)
        return events[key].format_map(_Leave(details))

    @act
    async def member_check(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """Send each team its own section of the report; take comments for N days."""
        swap = await self.core.current_swap(tx, who)
        if swap.phase is not Phase.CLOSED:
            raise Refusal("trail/membercheck_not_closed", title=swap.title)
        low, high = MEMBER_CHECK_DAYS
        if (
            len(words) != 1
            or not words[0].isascii()
            or not words[0].isdigit()
            or not low <= int(words[0]) <= high
        ):
            raise Refusal("trail/membercheck_usage", low=low, high=high)
        until = self.core.clock() + timedelta(days=int(words[0]))
        await tx.swaps.update_settings(swap.id, member_check_until=until.isoformat())
        core = self.core
        owed = Owed()
        count = 0
        for team in await tx.teams.of_swap(swap.id):
            people = {p.telegram_id: p for _, p in await tx.memberships.of_team(team.id)}

            async def section(
                chat: int, team: Team = team, people: dict[int, Person] = people
            ) -> list[Piece]:
                # In each member's language and zone; their own words as written.
                return [
                    Piece.of(core.html("trail/membercheck_section", title=swap.title)),
                    *await self.phases.team_record(tx, swap, team),
                    *await self._own_words(tx, swap, people[chat].id),
                    Piece.of(core.html("trail/membercheck_end", until=core.local_when(until))),
                ]

            for chat, pieces in await core.in_each_language(tx, people, section, lambda c: c):
                for piece in pieces:
                    owed.add(chat, piece)
                count += 1
        # Each block quotes only the words it carries: a withdrawal takes out
        # those words from the messages still waiting, and nothing else.
        await owed.fold_into(core.mail(tx, bulk=True, notify_once=True))
        await tx.audit.record(
            swap.id, who.telegram_id, "member_check", count=count, until=f"{until:%Y-%m-%d %H:%M}"
        )
        log.info("Member check of swap %d sent to %d people", swap.id, count)
        await mail.send(
            who.telegram_id,
            "trail/membercheck_sent",
            title=swap.title,
            people=self.core.plural("people", count),
            until=self.core.local_when(until),
        )
