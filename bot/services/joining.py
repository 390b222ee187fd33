"""Joining a team by invite link, and consent before anything is stored."""

from __future__ import annotations

import logging
import re

from bot.model import (
    ChatStatus,
    Decision,
    Invite,
    Phase,
    Role,
    Swap,
    Team,
    Waiting,
)
from bot.services.core import Core, Mail, Reader, Refusal, Who, act
from bot.services.languages import sheet_buttons
from bot.services.phases import Phases
from bot.services.privacy import leave
from bot.services.sheets import Sheets, Shown
from storage.tx import Tx

log = logging.getLogger(__name__)

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class Joining:
    """``/start <token>``, the information sheet, agreeing and declining."""

    def __init__(self, core: Core, phases: Phases, sheets: Sheets) -> None:
        self.core = core
        # Sends a late joiner what their team has been sent so far.
        self.phases = phases
        # The information sheet in force in each swap.
        self.sheets = sheets

    @act
    async def start(self, tx: Tx, mail: Mail, who: Who, token: str | None) -> None:
        """``/start`` with or without an invite token."""
        core = self.core
        await tx.people.set_chat_status(who.telegram_id, ChatStatus.OK)
        if not token:
            member = await core.member_or_none(tx, who)
            if member is not None:
                await mail.send(
                    who.telegram_id,
                    "join/welcome_back",
                    team=member.team.name,
                    swap=member.swap.title,
                )
            elif core.is_organiser(who):
                await mail.send(who.telegram_id, "organiser/welcome")
            else:
                await mail.send(who.telegram_id, "join/how_to_join")
            return
        if not _TOKEN_SHAPE.match(token):
            raise Refusal("join/bad_token")
        invite = await tx.invites.by_token(token)
        if invite is None:
            raise Refusal("join/unknown_token")
        if invite.revoked:
            raise Refusal("join/revoked_token")
        team = await tx.teams.get(invite.team_id)
        assert team is not None
        swap = await tx.swaps.get(team.swap_id)
        assert swap is not None
        if swap.phase is Phase.CLOSED:
            raise Refusal("join/swap_closed", swap=swap.title)
        person = await tx.people.by_telegram_id(who.telegram_id)
        existing = await tx.memberships.in_swap(person.id, swap.id) if person else None
        if existing is not None:
            if existing.left_at is not None:
                # They left after the withdrawal cut-off: their words are in, they are not.
                raise Refusal("privacy/already_left")
            if existing.team_id == team.id and existing.role is invite.role:
                raise Refusal("join/already_joined", team=team.name, swap=swap.title)
            joined = await tx.teams.get(existing.team_id)
            raise Refusal(
                "join/already_in_swap",
                team=joined.name if joined else "",
                role=self.core.label(f"role_{existing.role.value}"),
                swap=swap.title,
            )
        if await self._lead_taken(tx, mail, invite, team, swap, who):
            return
        shown = await self.sheets.shown(tx, swap, team.name, invite.role)
        await tx.conversations.set(
            who.telegram_id,
            Waiting.PENDING_JOIN,
            invite_id=invite.id,
            sheet=shown.version,  # what they are shown is what they agree to
        )
        await mail.send_html(
            who.telegram_id,
            shown.html,
            buttons=sheet_buttons(core, invite.id, core.reading().language, swap.language),
        )

    async def _lead_taken(
        self, tx: Tx, mail: Mail, invite: Invite, team: Team, swap: Swap, who: Who
    ) -> bool:
        """A team has one lead. Someone else opening the lead link is refused,
        and the swap's organiser hears of it: the link may have leaked."""
        if invite.role is not Role.LEAD:
            return False
        if not any(m.role is Role.LEAD for m, _ in await tx.memberships.of_team(team.id)):
            return False
        await tx.conversations.clear(who.telegram_id)
        await mail.send(who.telegram_id, "join/team_has_lead", team=team.name)
        await self.core.tell_organisers(
            tx, mail, swap, "organiser/lead_link_reused", team=team.name, title=swap.title
        )
        return True

    @act
    async def decide(self, tx: Tx, mail: Mail, who: Who, invite_id: int, agree: bool) -> None:
        """The person pressed "I agree" or "Decline" under an information sheet."""
        conversation = await tx.conversations.get(who.telegram_id)
        if (
            conversation is None
            or conversation.state is not Waiting.PENDING_JOIN
            or conversation.data.get("invite_id") != invite_id
        ):
            raise Refusal("errors/stale_button")
        invite = await tx.invites.get(invite_id)
        if invite is None or invite.revoked:
            raise Refusal("join/revoked_token")
        team = await tx.teams.get(invite.team_id)
        assert team is not None
        swap = await tx.swaps.get(team.swap_id)
        assert swap is not None
        shown = await self.sheets.shown(tx, swap, team.name, invite.role)
        if conversation.data.get("sheet", shown.version) != shown.version:
            # The sheet's words changed (a new version of the bot, the swap's
            # own sheet, its settings) since it was shown: an answer to the old
            # words is not consent to the new ones.
            raise Refusal("join/sheet_changed_while_reading")
        if agree and swap.phase is Phase.CLOSED:
            # The sheet was opened before the swap closed: it can no longer be joined.
            raise Refusal("join/swap_closed", swap=swap.title)
        await tx.conversations.clear(who.telegram_id)
        # The language they read the sheet in: chosen under it, else their own.
        language = (
            swap.language or conversation.data.get("language") or self.core.reading().language
        )
        reader = self.core.reads(
            tx, mail, who.telegram_id, Reader(language, self.core.zone_of(team))
        )
        with self.core.reading_as(reader):
            await self._decided(tx, mail, who, invite, team, swap, shown, agree)

    async def _decided(
        self,
        tx: Tx,
        mail: Mail,
        who: Who,
        invite: Invite,
        team: Team,
        swap: Swap,
        shown: Shown,
        agree: bool,
    ) -> None:
        language = self.core.reading().language
        # The answer takes the place of the question under the sheet, whose
        # words stay in the chat: what the person agreed to, or declined.
        sheet = shown.kept
        if not agree:
            # A decline is kept without anything that could say whose it is: not
            # even the language (in a team, one Welsh speaker would be named by it).
            await tx.consents.record(None, team.id, invite.role, Decision.DECLINED, shown.version)
            # Someone with no record here keeps none: not even the times of
            # our messages, which could tie them to the decline.
            unknown = await tx.people.by_telegram_id(who.telegram_id) is None
            forget = unknown and not self.core.is_organiser(who)
            if forget:
                await tx.outbox.forget_chat(who.telegram_id)
            await mail.under_pressed(
                who.telegram_id,
                who.pressed,
                sheet,
                self.core.html("join/declined"),
                forget_when_sent=forget,
            )
            log.info("Someone declined to join team %d of swap %d", team.id, swap.id)
            return
        existing = await tx.people.by_telegram_id(who.telegram_id)
        if existing is not None and await tx.memberships.in_swap(existing.id, swap.id):
            raise Refusal("join/already_joined", team=team.name, swap=swap.title)
        if await self._lead_taken(tx, mail, invite, team, swap, who):
            return
        person = await tx.people.ensure(who.telegram_id, who.name)
        if person.language != language and not swap.language:
            await tx.people.set_language(person.id, language)
        membership = await tx.memberships.create(
            person.id, team.id, swap.id, invite.role, invite.id
        )
        await tx.people.set_current_swap(person.id, swap.id)
        when = await tx.consents.record(
            person.id, team.id, invite.role, Decision.AGREED, shown.version, language
        )
        log.info("A %s joined team %d of swap %d", invite.role.value, team.id, swap.id)
        receipt = self.core.html(
            "join/consented",
            team=team.name,
            role=self.core.label(f"role_{invite.role.value}"),
            swap=swap.title,
            when=self.core.local_time(when),
            sheet=shown.version,
            # What comes next, or the phase's opening, in the receipt: one message fewer.
            next=await self.phases.opening(tx, swap, invite.role),
        )
        await mail.under_pressed(who.telegram_id, who.pressed, sheet, receipt)
        await self.phases.catch_up(tx, mail, person, membership, team, swap)

    @act
    async def reconsent(
        self, tx: Tx, mail: Mail, who: Who, membership_id: int, agree: bool
    ) -> None:
        """The answer to a changed information sheet: agree and go on, or decline, which
        withdraws the person from that swap, as the sheet says."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        membership = await tx.memberships.get(membership_id)
        if person is None or membership is None or membership.person_id != person.id:
            raise Refusal("errors/stale_button")
        swap = await tx.swaps.get(membership.swap_id)
        assert swap is not None
        version = await self.sheets.version(tx, swap)
        if await tx.consents.latest_agreed(person.id, membership.team_id) == version:
            raise Refusal("errors/stale_button")
        if agree:
            when = await tx.consents.record(
                person.id,
                membership.team_id,
                membership.role,
                Decision.AGREED,
                version,
                self.core.reading().language,
            )
            await mail.send(
                who.telegram_id,
                "join/reconsented",
                swap=swap.title,
                when=self.core.local_time(when),
                sheet=version,
            )
            log.info(
                "A %s agreed to the changed information sheet in swap %d",
                membership.role.value,
                swap.id,
            )
            return
        count = len(
            [c for c in await tx.contributions.of_person(person.id) if c.swap_id == swap.id]
        )
        await tx.consents.record(
            None, membership.team_id, membership.role, Decision.DECLINED, version
        )
        await leave(self.core, tx, mail, person, [membership])
        await tx.audit.record(swap.id, None, "withdrawal_sheet", count=count)
        await mail.send(
            who.telegram_id,
            "join/reconsent_declined",
            swap=swap.title,
            count=count,
            forget_when_sent=await tx.people.by_telegram_id(who.telegram_id) is None,
        )
