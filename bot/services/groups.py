"""Team groups: a team's Telegram group receives what is shared with the whole team.

A lead sends ``/linkgroup`` in the group (the bot added to it, where privacy
mode shows it only commands and replies), then confirms in private; from then
on the group gets the phase announcements, the partner's dilemma, what comes
back from the partner, the side by side and the reflection questions: never an
individual contribution of the team's own members, never a button. People
still write to the bot in private; the group messages say how.

What Telegram does to a group is followed here too: the bot removed (the link
ends, the lead is told), a group upgraded to a supergroup (its new id is
taken), and a group where the bot may not post (the lead is told).
"""

from __future__ import annotations

import logging
from typing import Any

from bot import callbacks as cb
from bot.model import Role, Team
from bot.services.core import Core, Mail, Refusal, Who, act
from storage.tx import Tx

log = logging.getLogger(__name__)


async def stop_group(tx: Tx, team: Team, event: str, by: int | None = None) -> int | None:
    """The team's group stops receiving: the link ends, and whatever was still
    waiting to go to the group is dropped with it, in the same transaction (a group
    is paced at 20 messages a minute, so a phase's material may still be queued);
    the audit records ``event``. Every way a link ends comes here (/unlinkgroup, a
    group lost or replaced, the lead who linked it leaving, an organiser). Returns
    the group's chat id (None if it had none)."""
    group = team.group_chat_id
    if group is None:
        return None
    await tx.teams.unlink_group(team.id)
    dropped = await tx.outbox.drop_pending(group)
    await tx.audit.record(team.swap_id, by, event, team=team.name)
    log.info("Team %d's group stops receiving (%s); %d messages dropped", team.id, event, dropped)
    return group


async def leaving_lead(tx: Tx, mail: Mail, telegram_id: int, team_ids: list[int]) -> None:
    """A person leaves these teams: a group they linked stops receiving (the link
    was theirs: a stranger who used a leaked lead link must not keep it)."""
    for team in await tx.teams.linked_by(telegram_id, team_ids):
        group = await stop_group(tx, team, "group_unlinked_lead_left")
        assert group is not None
        await mail.send(group, "group/unlinked_here", team=team.name)


class Groups:
    """``/linkgroup``, ``/unlinkgroup``, and what happens to linked groups."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def _lead_team(self, tx: Tx, who: Who) -> Team | None:
        """The team this person leads in the swap they act in, if they lead one."""
        member = await self.core.member_or_none(tx, who)
        if member is None or member.role is not Role.LEAD:
            return None
        return member.team

    async def _answer(
        self, tx: Tx, mail: Mail, who: Who, chat_id: int, key: str, **params: Any
    ) -> None:
        """Answer in private where we may write to the person; else in the group."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        target = who.telegram_id if person is not None or self.core.is_organiser(who) else chat_id
        await mail.send(target, key, link=self.core.link_private(), **params)

    @act
    async def link_requested(self, tx: Tx, mail: Mail, who: Who, chat_id: int, title: str) -> None:
        """``/linkgroup`` in a group: the lead confirms in private."""
        team = await self._lead_team(tx, who)
        if team is None:
            await self._answer(tx, mail, who, chat_id, "group/link_not_lead", group=title)
            return
        if await self._taken(tx, mail, who, chat_id, team):
            return
        link = await tx.teams.add_group_link(team.id, chat_id, title, who.telegram_id)
        replaces = (
            self.core.html("group/link_replaces", old=team.group_title)
            if team.group_chat_id not in (None, chat_id) and team.group_title
            else ""
        )
        await mail.send(
            who.telegram_id,
            "group/link_confirm",
            group=title,
            team=team.name,
            replaces=replaces,
            buttons=[
                [(self.core.label("confirm_link"), cb.GROUP_LINK.pack(link))],
                [(self.core.label("cancel"), cb.CANCEL.pack())],
            ],
        )
        await mail.send(chat_id, "group/link_asked", team=team.name)

    async def _taken(self, tx: Tx, mail: Mail, who: Who, chat_id: int, team: Team) -> bool:
        """A group is one team's: another team's lead cannot take it over."""
        owner = await tx.teams.by_group(chat_id)
        if owner is None or owner.id == team.id:
            return False
        await mail.send(who.telegram_id, "group/linked_elsewhere")
        return True

    @act
    async def link_confirmed(self, tx: Tx, mail: Mail, who: Who, link_id: int) -> None:
        """The lead confirmed: the group is the team's from now on."""
        link = await tx.teams.group_link(link_id)
        team = await self._lead_team(tx, who)
        if link is None or team is None or link[0] != team.id or link[3] != who.telegram_id:
            raise Refusal("errors/stale_button")
        _, chat_id, title, _ = link
        if await self._taken(tx, mail, who, chat_id, team):
            await tx.teams.drop_group_link(link_id)
            return
        if team.group_chat_id not in (None, chat_id):
            previous = await stop_group(tx, team, "group_unlinked")
            assert previous is not None
            await mail.send(previous, "group/unlinked_here", team=team.name)
        await tx.teams.link_group(team.id, chat_id, title, who.telegram_id)
        await tx.teams.drop_group_link(link_id)
        # A lead is a participant: the audit names organisers only.
        await tx.audit.record(team.swap_id, None, "group_linked", team=team.name)
        log.info("Team %d linked a group", team.id)
        await mail.send(who.telegram_id, "group/linked", group=title, team=team.name)
        await mail.send(chat_id, "group/linked_here", team=team.name, link=self.core.link_private())

    @act
    async def unlink(self, tx: Tx, mail: Mail, who: Who, chat_id: int | None) -> None:
        """``/unlinkgroup``, in the group or in private, by the team's lead."""
        team = await self._lead_team(tx, who)
        if (
            team is None
            or team.group_chat_id is None
            or (chat_id is not None and team.group_chat_id != chat_id)
        ):
            if chat_id is None:
                raise Refusal("group/unlink_nothing")
            await self._answer(tx, mail, who, chat_id, "group/unlink_not_lead")
            return
        group = await stop_group(tx, team, "group_unlinked")
        assert group is not None
        await mail.send(who.telegram_id, "group/unlinked", team=team.name)
        await mail.send(group, "group/unlinked_here", team=team.name)

    @act
    async def unlink_team(self, tx: Tx, mail: Mail, who: Who, team_id: int) -> None:
        """An organiser unlinks a team's group (``/teams``): whoever linked it."""
        team = await tx.teams.get(team_id)
        if team is None:
            raise Refusal("errors/stale_button")
        await self.core.organised_swap(tx, who, team.swap_id)
        group = await stop_group(tx, team, "group_unlinked_by_organiser", who.telegram_id)
        if group is None:
            raise Refusal("group/unlink_nothing_team", team=team.name)
        await mail.send(group, "group/unlinked_here", team=team.name)
        for membership, person in await tx.memberships.of_team(team.id):
            if membership.role is Role.LEAD:
                await mail.send(
                    person.telegram_id,
                    "group/unlinked_by_organiser",
                    team=team.name,
                    group=team.group_title or "",
                )
        await mail.send(who.telegram_id, "group/unlinked", team=team.name)

    @act
    async def elsewhere(self, tx: Tx, mail: Mail, who: Who, chat_id: int) -> None:
        """Any other command in a group: the bot works with people in private."""
        await mail.send(chat_id, "group/write_in_private", link=self.core.link_private())

    async def lost(self, chat_id: int, reason: str) -> None:
        """The bot was removed from a group, or may not post there: the link ends."""
        async with self.core.db.transaction() as tx:
            team = await tx.teams.by_group(chat_id)
            if team is None:
                return
            await stop_group(tx, team, f"group_lost_{reason}")
            mail = self.core.mail(tx)
            for membership, person in await tx.memberships.of_team(team.id):
                if membership.role is Role.LEAD:
                    await mail.send(
                        person.telegram_id,
                        f"group/lost_{reason}",
                        group=team.group_title or "",
                        team=team.name,
                    )
        log.info("Team %d lost its group (%s)", team.id, reason)

    async def migrated(self, old: int, new: int) -> None:
        """The group became a supergroup: follow it to its new id."""
        async with self.core.db.transaction() as tx:
            # What is owed to the group follows it, linked or not (a pointer to the
            # private chat, say), so nothing is retried at the old id for ever.
            moved = await tx.outbox.move_chat(old, new)
            await tx.teams.move_group(old, new)
        log.info("A group became a supergroup; %d messages follow it", moved)
