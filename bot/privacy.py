"""A person's own data: ``/mydata`` to see it all, ``/withdraw`` to remove it.

Withdrawal deletes the person, their memberships and every contribution they
made (drafts included) and, through the database's cascades, every message
still waiting to carry their words to anyone. The consent records stay, with
the person's id removed: they say only that someone agreed and later left.
"""

from __future__ import annotations

import json

from bot.model import Kind
from bot.service import Core, Mail, Refusal, Who
from bot.text import Html
from storage.stores import Tx


class Privacy:
    """``/mydata`` and ``/withdraw``."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def my_data(self, who: Who) -> None:
        """Send the person everything stored about them, as a JSON file."""

        async def action(tx: Tx, mail: Mail) -> None:
            person = await tx.people.by_telegram_id(who.telegram_id)
            conversation = await tx.conversations.get(who.telegram_id)
            if person is None:
                raise Refusal("privacy/nothing_stored_pending" if conversation
                              else "privacy/nothing_stored")
            teams = {}
            memberships = []
            for m in await tx.memberships.of_person(person.id):
                team = await tx.teams.get(m.team_id)
                swap = await tx.swaps.get(m.swap_id)
                teams[m.team_id] = team.name if team else ""
                memberships.append({"swap": swap.title if swap else "", "team": teams[m.team_id],
                                    "role": m.role.value, "joined_at": m.joined_at})
            record = {
                "telegram_id": person.telegram_id,
                "name": person.display_name,
                "pseudonym": person.pseudonym,
                "memberships": memberships,
                "consents": [{k: c[k] for k in ("decision", "decided_at", "sheet_version",
                                                "role")}
                             for c in await tx.consents.of_person(person.id)],
                "contributions": [
                    {"kind": c.kind.value, "status": c.status, "round": c.round,
                     "text": c.text, "written_at": c.created_at,
                     "confirmed_at": c.confirmed_at, "delivered_at": c.delivered_at}
                    for c in await tx.contributions.of_person(person.id)],
                "waiting_for": conversation.state if conversation else None,
            }
            await mail.document(who.telegram_id, "my-data.json",
                                json.dumps(record, indent=2, ensure_ascii=False).encode(),
                                "privacy/mydata_caption",
                                count=len(record["contributions"]))

        await self.core.act(who, action)

    async def withdraw(self, who: Who) -> None:
        """Say what withdrawing removes and what was already delivered; ask to confirm."""

        async def action(tx: Tx, mail: Mail) -> None:
            person = await tx.people.by_telegram_id(who.telegram_id)
            if person is None:
                await tx.conversations.clear(who.telegram_id)
                raise Refusal("privacy/nothing_stored")
            items = await tx.contributions.of_person(person.id)
            await mail.send(
                who.telegram_id, "privacy/withdraw_confirm", count=len(items),
                delivered=await self._delivered(tx, items),
                buttons=[[(self.core.label("confirm_withdraw"), f"wdall:{person.id}")],
                         [(self.core.label("cancel"), "no")]])

        await self.core.act(who, action)

    async def _delivered(self, tx: Tx, items: list) -> Html:
        lines = []
        for item in items:
            if item.delivered_at is None or item.kind is Kind.PROPOSAL:
                continue
            team = await tx.teams.get(item.about_team_id) if item.about_team_id else None
            lines.append(self.core.html(f"privacy/delivered_{item.kind.value}",
                                        team=team.name if team else "",
                                        when=item.delivered_at[:10]))
        return Html("\n".join(lines)) if lines else self.core.html("privacy/nothing_delivered")

    async def withdraw_confirmed(self, who: Who, person_id: int) -> bool:
        """Delete the person and everything they contributed."""
        async def action(tx: Tx, mail: Mail) -> None:
            person = await tx.people.by_telegram_id(who.telegram_id)
            if person is None or person.id != person_id:
                raise Refusal("errors/stale_button")
            items = await tx.contributions.of_person(person.id)
            delivered = await self._delivered(tx, items)
            await tx.people.forget_messages_to(who.telegram_id)
            await tx.conversations.clear(who.telegram_id)
            await tx.people.delete(person.id)
            await mail.send(who.telegram_id, "privacy/withdrawn", count=len(items),
                            delivered=delivered)

        return await self.core.act(who, action)
