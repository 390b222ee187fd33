"""Contributions: proposing, submitting, answering, reflecting — always previewed.

Whatever a person writes becomes a draft that only they can see; it counts,
and may be shared, only once they press Confirm. Until its phase closes a
confirmed contribution can be edited or withdrawn.
"""

from __future__ import annotations

from bot.model import Contribution, Kind, Phase, Role
from bot.procedure import REFLECTION_ROUNDS, NotAllowed, check_may_contribute, works_on
from bot.service import Buttons, Core, Mail, Member, Refusal, Who
from storage.stores import Tx

TEXT_LIMIT = 4000
_TEAM_KINDS = (Kind.DILEMMA, Kind.TEAM_RESPONSE)
_COMMAND_OF = {Kind.PROPOSAL: "propose", Kind.DILEMMA: "dilemma", Kind.TEAM_RESPONSE: "response"}


class Workshop:
    """What participants and leads write, from first words to confirmed."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def _check(self, member: Member, kind: Kind) -> None:
        try:
            check_may_contribute(kind, member.swap.phase, member.role)
        except NotAllowed as refusal:
            if member.swap.phase is Phase.CLOSED:
                raise Refusal("errors/closed") from None
            raise Refusal(f"errors/{refusal.reason}_{kind.value}",
                          phase=self.core.label(f"phase_{member.swap.phase.value}")) from None

    # -- starting to write -------------------------------------------------

    async def begin(self, who: Who, kind: Kind) -> None:
        """``/dilemma``, ``/propose`` or ``/response``: wait for the person's text."""

        async def action(tx: Tx, mail: Mail) -> None:
            member = await self.core.member(tx, who)
            self._check(member, kind)
            current = await tx.contributions.confirmed(team_id=member.team.id, kind=kind) \
                if kind in _TEAM_KINDS else []
            await tx.conversations.set(who.telegram_id, "awaiting", kind=kind.value)
            await mail.send(who.telegram_id, f"workshop/ask_{kind.value}",
                            current=current[-1].text if current else "",
                            replaces=self.core.html("workshop/will_replace") if current else "")

        await self.core.act(who, action)

    async def text(self, who: Who, text: str, reply_to: int | None) -> None:
        """The person wrote something: make it a draft and show the preview."""

        async def action(tx: Tx, mail: Mail) -> None:
            conversation = await tx.conversations.get(who.telegram_id)
            if conversation is not None and conversation.state == "pending_join":
                raise Refusal("join/please_decide")
            member = await self.core.member_or_none(tx, who)
            if member is None:
                if self.core.is_organiser(who):
                    raise Refusal("organiser/use_commands")
                raise Refusal("errors/not_joined")
            clean = text.strip()
            if not clean:
                raise Refusal("errors/empty")
            if len(clean) > TEXT_LIMIT:
                raise Refusal("errors/too_long", limit=TEXT_LIMIT, length=len(clean))
            editing: int | None = None
            if conversation is not None and conversation.state == "awaiting":
                kind = Kind(conversation.data["kind"])
                editing = conversation.data.get("editing")
            else:
                kind = self._default_kind(member)
            self._check(member, kind)
            round_ = None
            if kind is Kind.REFLECTION:
                round_ = await self._round_for(tx, who, member, reply_to, editing)
            await tx.conversations.clear(who.telegram_id)
            draft = await self._draft(tx, member, kind, clean, editing, round_)
            await self._preview(mail, who, member, draft)

        await self.core.act(who, action)

    def _default_kind(self, member: Member) -> Kind:
        """What simply writing means in this phase, for this role."""
        phase = member.swap.phase
        if phase is Phase.SETUP:
            raise Refusal("workshop/nothing_yet", team=member.team.name)
        if phase is Phase.CLOSED:
            raise Refusal("errors/closed")
        if phase is Phase.DILEMMA:
            return Kind.DILEMMA if member.role is Role.LEAD else Kind.PROPOSAL
        if phase is Phase.RESPONSE:
            return Kind.ANSWER
        return Kind.REFLECTION

    async def _round_for(self, tx: Tx, who: Who, member: Member, reply_to: int | None,
                         editing: int | None) -> int:
        """The reflection round a text answers: the prompt replied to, else the
        first released round this person has not answered, else the latest."""
        if editing is not None:
            original = await tx.contributions.get(editing)
            if original is not None and original.round:
                return original.round
        released = member.swap.rounds_released
        if released == 0:
            raise Refusal("workshop/no_round_yet")
        if reply_to is not None:
            context = await tx.outbox.context_of(who.telegram_id, reply_to)
            if context and context.get("round") and context["round"] <= released:
                return int(context["round"])
        mine = await tx.contributions.confirmed(person_id=member.person.id,
                                                swap_id=member.swap.id, kind=Kind.REFLECTION)
        answered = {c.round for c in mine}
        for round_ in range(1, min(released, REFLECTION_ROUNDS) + 1):
            if round_ not in answered:
                return round_
        return released

    async def _about_team(self, tx: Tx, member: Member) -> int:
        recipients = await tx.allocations.get(member.swap.id)
        if member.team.id not in recipients.values():
            raise Refusal("workshop/no_dilemma_received")
        return works_on(recipients, member.team.id)

    async def _draft(self, tx: Tx, member: Member, kind: Kind, text: str,
                     editing: int | None, round_: int | None) -> Contribution:
        about = await self._about_team(tx, member) \
            if kind in (Kind.ANSWER, Kind.TEAM_RESPONSE) else None
        if editing is not None:
            original = await tx.contributions.get(editing)
            if original is None or original.person_id != member.person.id:
                raise Refusal("errors/stale_button")
            if original.status == "draft":
                await tx.contributions.delete(original.id)
                editing = original.replaces_id
        return await tx.contributions.add_draft(
            member.swap.id, member.team.id, member.person.id, kind, text,
            about_team_id=about, round=round_, replaces_id=editing)

    async def _preview(self, mail: Mail, who: Who, member: Member, draft: Contribution) -> None:
        core = self.core
        buttons: Buttons = [
            [(core.label("confirm"), f"ok:{draft.id}")],
            [(core.label("edit"), f"ed:{draft.id}"), (core.label("discard"), f"dr:{draft.id}")],
        ]
        names = "names_shared_note" if member.swap.share_names else "names_hidden_note"
        await mail.send(who.telegram_id, f"workshop/preview_{draft.kind.value}",
                        contribution_id=draft.id, text=draft.text, round=draft.round or "",
                        names=core.html(f"workshop/{names}"), buttons=buttons)

    # -- the buttons under a preview or receipt -----------------------------

    async def _own(self, tx: Tx, who: Who, contribution_id: int,
                   status: str) -> tuple[Member, Contribution]:
        """The acting person's contribution in the given status, in its phase."""
        member = await self.core.member(tx, who)
        item = await tx.contributions.get(contribution_id)
        if (item is None or item.person_id != member.person.id or item.status != status
                or item.swap_id != member.swap.id):
            raise Refusal("errors/stale_button")
        self._check(member, item.kind)
        return member, item

    async def confirm(self, who: Who, draft_id: int) -> bool:
        """Confirm a draft: from now on it counts, and is shared as its kind says."""
        async def action(tx: Tx, mail: Mail) -> None:
            member, draft = await self._own(tx, who, draft_id, "draft")
            if draft.replaces_id is not None:
                original = await tx.contributions.get(draft.replaces_id)
                if original is None or original.status != "confirmed":
                    raise Refusal("errors/stale_button")
                await tx.contributions.replace_text(original.id, draft.text)
                await tx.contributions.delete(draft.id)
                item = await tx.contributions.get(original.id)
            else:
                await tx.contributions.confirm(draft.id)
                if draft.kind in _TEAM_KINDS:
                    await tx.contributions.supersede_team_item(member.team.id, draft.kind,
                                                               draft.id)
                item = await tx.contributions.get(draft.id)
            assert item is not None
            await self._after_confirm(tx, mail, who, member, item)

        return await self.core.act(who, action)

    async def _after_confirm(self, tx: Tx, mail: Mail, who: Who, member: Member,
                             item: Contribution) -> None:
        core = self.core
        manage: Buttons = [[(core.label("edit"), f"ed:{item.id}"),
                            (core.label("withdraw_item"), f"wd:{item.id}")]]
        if item.kind is Kind.PROPOSAL:
            await mail.send(who.telegram_id, "workshop/proposal_confirmed", buttons=manage)
            for membership, person in await tx.memberships.of_team(member.team.id):
                if person.id == member.person.id:
                    continue
                adopt = [[(core.label("adopt"), f"ad:{item.id}")]] \
                    if membership.role is Role.LEAD else None
                await mail.send(person.telegram_id, "workshop/proposal_shared",
                                contribution_id=item.id,
                                name=member.person.display_name, text=item.text,
                                buttons=adopt)
        elif item.kind in _TEAM_KINDS:
            await mail.send(who.telegram_id, f"workshop/{item.kind.value}_confirmed",
                            buttons=[[(core.label("edit"), f"ed:{item.id}")]])
            await core.tell_team(tx, mail, member.team.id,
                                 f"workshop/team_{item.kind.value}_confirmed",
                                 except_person=member.person.id, text=item.text,
                                 contribution_id=item.id)
        else:
            await mail.send(who.telegram_id, f"workshop/{item.kind.value}_confirmed",
                            round=item.round or "", buttons=manage)

    async def edit(self, who: Who, contribution_id: int) -> bool:
        """Wait for new words for a draft or a confirmed contribution."""
        async def action(tx: Tx, mail: Mail) -> None:
            item = await tx.contributions.get(contribution_id)
            status = item.status if item is not None else "draft"
            if status not in ("draft", "confirmed"):
                raise Refusal("errors/stale_button")
            _, item = await self._own(tx, who, contribution_id, status)
            await tx.conversations.set(who.telegram_id, "awaiting", kind=item.kind.value,
                                       editing=item.id)
            await mail.send(who.telegram_id, "workshop/send_new_text", text=item.text,
                            contribution_id=item.id)

        return await self.core.act(who, action)

    async def discard(self, who: Who, draft_id: int) -> bool:
        """Throw a draft away; nothing of it is kept."""
        async def action(tx: Tx, mail: Mail) -> None:
            _, draft = await self._own(tx, who, draft_id, "draft")
            await tx.contributions.delete(draft.id)
            await mail.send(who.telegram_id, "workshop/discarded")

        return await self.core.act(who, action)

    async def withdraw_item(self, who: Who, contribution_id: int) -> bool:
        """Delete one of the person's own confirmed contributions."""
        async def action(tx: Tx, mail: Mail) -> None:
            _, item = await self._own(tx, who, contribution_id, "confirmed")
            if item.kind in _TEAM_KINDS:
                raise Refusal("errors/stale_button")
            await tx.contributions.delete(item.id)
            await mail.send(who.telegram_id, "workshop/item_withdrawn")

        return await self.core.act(who, action)

    async def adopt(self, who: Who, proposal_id: int) -> bool:
        """A lead takes a team member's proposal as the draft of the team's dilemma."""
        async def action(tx: Tx, mail: Mail) -> None:
            member = await self.core.member(tx, who)
            proposal = await tx.contributions.get(proposal_id)
            if (proposal is None or proposal.kind is not Kind.PROPOSAL
                    or proposal.status != "confirmed" or proposal.team_id != member.team.id):
                raise Refusal("errors/stale_button")
            self._check(member, Kind.DILEMMA)
            draft = await tx.contributions.add_draft(member.swap.id, member.team.id,
                                                     member.person.id, Kind.DILEMMA,
                                                     proposal.text)
            await self._preview(mail, who, member, draft)

        return await self.core.act(who, action)

    async def cancel(self, who: Who) -> None:
        """Stop waiting for text; any unconfirmed drafts are thrown away."""

        async def action(tx: Tx, mail: Mail) -> None:
            conversation = await tx.conversations.get(who.telegram_id)
            person = await tx.people.by_telegram_id(who.telegram_id)
            await tx.conversations.clear(who.telegram_id)
            drafts = await tx.contributions.delete_drafts_of(person.id) if person else 0
            key = "workshop/cancelled" if conversation is not None or drafts \
                else "workshop/nothing_to_cancel"
            await mail.send(who.telegram_id, key)

        await self.core.act(who, action)

    async def not_text(self, who: Who) -> None:
        """A sticker, photo or other non-text message: say what is expected."""

        async def action(tx: Tx, mail: Mail) -> None:
            raise Refusal("errors/text_only")

        await self.core.act(who, action)
