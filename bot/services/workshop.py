"""Contributions: proposing, submitting, answering, reflecting — always previewed.

Whatever a person writes becomes a draft that only they can see; it counts,
and may be shared, only once they press Confirm. Until its phase closes a
confirmed contribution can be edited or withdrawn.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from bot import callbacks as cb
from bot.identifying import identifying_details
from bot.model import Contribution, Conversation, Kind, Phase, Role, Status, Waiting
from bot.procedure import (
    COMPLETES_A_STEP,
    REFLECTION_ROUNDS,
    NotAllowed,
    check_may_contribute,
    works_on,
)
from bot.services.core import Block, Buttons, Core, Mail, Member, Piece, Refusal, Who, act
from bot.services.export import note_export_outdated
from bot.services.phases import Phases
from bot.services.privacy import drop_adopted
from bot.services.sheets import Sheets
from bot.text import Html
from storage.tx import Tx

log = logging.getLogger(__name__)

# The longest text one contribution may hold: about three full Telegram
# messages, which is more than a workshop contribution needs.
TEXT_LIMIT = 12_000
# Telegram apps split a long paste into messages of up to 4,096 characters that
# arrive within a second or two. A message this long may be such a part: its
# preview waits PASTE_WINDOW seconds for the rest, and what arrives in that
# time is joined to it, so the whole paste becomes one draft.
LONG_PART = 3_500
PASTE_WINDOW = 3.0
# Drafts nobody confirmed are forgotten after this long.
DRAFT_LIFETIME = timedelta(days=7)
_TEAM_KINDS = (Kind.DILEMMA, Kind.TEAM_RESPONSE)
_COMMAND_OF = {Kind.PROPOSAL: "propose", Kind.DILEMMA: "dilemma", Kind.TEAM_RESPONSE: "response"}


class Workshop:
    """What participants and leads write, from first words to confirmed."""

    def __init__(self, core: Core, phases: Phases, sheets: Sheets) -> None:
        self.core = core
        # Tells the organiser when everything the next move needs is in.
        self.phases = phases
        # The information sheet in force, which a person must have agreed to.
        self.sheets = sheets

    def _check(self, member: Member, kind: Kind) -> None:
        try:
            check_may_contribute(kind, member.swap.phase, member.role)
        except NotAllowed as refusal:
            if member.swap.phase is Phase.CLOSED:
                raise Refusal("errors/closed") from None
            raise Refusal(
                f"errors/{refusal.reason}_{kind.value}",
                phase=self.core.label(f"phase_{member.swap.phase.value}"),
            ) from None

    # -- starting to write -------------------------------------------------

    @act
    async def begin(self, tx: Tx, mail: Mail, who: Who, kind: Kind) -> None:
        """``/dilemma``, ``/propose`` or ``/response``: wait for the person's text."""
        member = await self.core.member(tx, who)
        self._check(member, kind)
        current = (
            await tx.contributions.confirmed(team_id=member.team.id, kind=kind)
            if kind in _TEAM_KINDS
            else []
        )
        await tx.conversations.set(who.telegram_id, Waiting.AWAITING, kind=kind.value)
        pieces = await self._team_answers(tx, member) if kind is Kind.TEAM_RESPONSE else []
        ask = self.core.html(
            f"workshop/ask_{kind.value}",
            current=current[-1].text if current else "",
            replaces=self.core.html("workshop/will_replace") if current else "",
        )
        # The question comes last, under the material it asks the lead to draw on.
        pieces.append(Piece.of(ask, quotes=current[-1].id if current else None))
        await mail.fold(who.telegram_id, pieces)

    async def _team_answers(self, tx: Tx, member: Member) -> list[Piece]:
        """The team's confirmed answers to the partner's dilemma, for its lead to
        consolidate with the team's own words in front of them."""
        answers = await tx.contributions.confirmed(team_id=member.team.id, kind=Kind.ANSWER)
        core = self.core
        if not answers:
            return [Piece.of(core.html("workshop/team_answers_none"))]
        names = {
            person.id: person.display_name
            for _, person in await tx.memberships.of_team(member.team.id)
        }
        blocks = [Block(core.html("workshop/team_answers", count=len(answers)), keeps=False)]
        blocks.extend(
            Block(
                core.html(
                    "workshop/team_answer",
                    name=names.get(answer.person_id, core.label("someone_who_left")),
                    text=answer.text,
                ),
                answer.id,
            )
            for answer in answers
        )
        # One piece per answer after the heading, so that many fill several messages.
        return [Piece(tuple(blocks[:2]))] + [Piece((b,)) for b in blocks[2:]]

    @act
    async def text(self, tx: Tx, mail: Mail, who: Who, text: str, reply_to: int | None) -> None:
        """The person wrote something: make it a draft and show the preview."""
        conversation = await tx.conversations.get(who.telegram_id)
        if conversation is not None and conversation.state is Waiting.PENDING_JOIN:
            raise Refusal("join/please_decide")
        member = await self.core.member_or_none(tx, who)
        if member is None:
            if self.core.is_organiser(who):
                raise Refusal("organiser/use_commands")
            await self.core.member(tx, who)  # refused, saying why
        assert member is not None
        clean = text.strip()
        if not clean:
            raise Refusal("errors/empty")
        await self.check_consent(tx, member)
        if member.swap.phase is Phase.CLOSED and self._member_check_open(member):
            await self._comment(tx, mail, who, member, clean)
            return
        now = time.time()
        if (
            conversation is not None
            and self._pasting(conversation, now)
            and conversation.data.get("refused")
        ):
            # The rest of a paste already refused as too long: dropped quietly.
            await tx.conversations.set(who.telegram_id, Waiting.PASTING, refused=True, at=now)
            return
        earlier = await self._paste_so_far(tx, member, conversation, now)
        if earlier is not None:
            clean = earlier.text + "\n" + clean
        if len(clean) > TEXT_LIMIT:
            if earlier is not None:
                await tx.contributions.delete(earlier.id)
            await tx.conversations.set(who.telegram_id, Waiting.PASTING, refused=True, at=now)
            await mail.send(
                who.telegram_id,
                "errors/too_long",
                limit=f"{TEXT_LIMIT:,}",
                length=f"{len(clean):,}",
            )
            return
        editing: int | None = None
        replaced = False
        if earlier is not None:
            kind, editing, round_ = earlier.kind, earlier.replaces_id, earlier.round
            await tx.contributions.delete(earlier.id)
        else:
            if conversation is not None and conversation.state is Waiting.AWAITING:
                kind = Kind(conversation.data["kind"])
                editing = conversation.data.get("editing")
            else:
                kind = self._default_kind(member)
            self._check(member, kind)
            round_ = None
            if kind is Kind.REFLECTION:
                round_ = await self._round_for(tx, who, member, reply_to, editing)
            if editing is None:
                # One open draft per person and kind: the newest text wins.
                replaced = bool(
                    await tx.contributions.delete_drafts_of(member.person.id, kind, member.swap.id)
                )
        draft = await self._draft(tx, member, kind, clean, editing, round_)
        if len(text) >= LONG_PART:
            await tx.conversations.set(who.telegram_id, Waiting.PASTING, draft_id=draft.id, at=now)
        else:
            await tx.conversations.clear(who.telegram_id)
        await self._preview(
            mail,
            who,
            member,
            draft,
            replaced=replaced,
            not_before=now + PASTE_WINDOW if len(text) >= LONG_PART else 0.0,
        )

    async def check_consent(self, tx: Tx, member: Member) -> None:
        """Nothing more a person writes is stored until they agreed to the information
        sheet as it is now: if it changed since, they are shown it again."""
        shown = await self.sheets.shown(tx, member.swap, member.team.name, member.role)
        if await tx.consents.latest_agreed(member.person.id, member.team.id) == shown.version:
            return
        core = self.core
        raise Refusal(
            "join/sheet_changed",
            sheet=shown.kept,
            buttons=[
                [(core.label("agree"), cb.RECONSENT_AGREE.pack(member.membership.id))],
                [(core.label("decline"), cb.RECONSENT_DECLINE.pack(member.membership.id))],
            ],
        )

    # -- the member check: comments on the team's section of the report ----------

    def _member_check_open(self, member: Member) -> bool:
        until = member.swap.member_check_until
        return until is not None and self.core.clock() < datetime.fromisoformat(until)

    async def _comment(self, tx: Tx, mail: Mail, who: Who, member: Member, text: str) -> None:
        if len(text) > TEXT_LIMIT:
            raise Refusal("errors/too_long", limit=f"{TEXT_LIMIT:,}", length=f"{len(text):,}")
        comment = await tx.comments.add_draft(
            member.swap.id, member.team.id, member.person.id, text
        )
        core = self.core
        await mail.send(
            who.telegram_id,
            "membercheck/preview",
            text=text,
            identifying=self._identifying(text),
            until=core.local_when(datetime.fromisoformat(member.swap.member_check_until or "")),
            buttons=[
                [(core.label("confirm"), cb.COMMENT_CONFIRM.pack(comment))],
                [(core.label("discard"), cb.COMMENT_DISCARD.pack(comment))],
            ],
        )

    @act
    async def confirm_comment(self, tx: Tx, mail: Mail, who: Who, comment_id: int) -> None:
        """Keep a comment on the team's section, beside it in the final report."""
        member = await self.core.member(tx, who)
        draft = await tx.comments.draft(comment_id, member.person.id)
        if draft is None or not self._member_check_open(member):
            raise Refusal("errors/stale_button")
        await tx.comments.confirm(comment_id)
        # The preview becomes the receipt, the words kept.
        await mail.send(
            who.telegram_id, "membercheck/confirmed", text=draft[1], replace=who.pressed
        )

    @act
    async def discard_comment(self, tx: Tx, mail: Mail, who: Who, comment_id: int) -> None:
        member = await self.core.member(tx, who)
        if await tx.comments.draft(comment_id, member.person.id) is None:
            raise Refusal("errors/stale_button")
        await tx.comments.delete(comment_id)
        await mail.send(who.telegram_id, "workshop/discarded")

    @staticmethod
    def _pasting(conversation: Conversation | None, now: float) -> bool:
        """Whether a text now may be the next part of a paste."""
        return (
            conversation is not None
            and conversation.state is Waiting.PASTING
            and now - float(conversation.data.get("at", 0)) <= PASTE_WINDOW
        )

    async def _paste_so_far(
        self, tx: Tx, member: Member, conversation: Conversation | None, now: float
    ) -> Contribution | None:
        """The draft holding the first parts of a paste this text continues, if any."""
        if conversation is None or not self._pasting(conversation, now):
            return None
        draft = await tx.contributions.get(int(conversation.data.get("draft_id", 0)))
        if draft is None or draft.status is not Status.DRAFT or draft.person_id != member.person.id:
            return None
        return draft

    async def expire_drafts(self, older_than: timedelta = DRAFT_LIFETIME) -> int:
        """Forget drafts nobody confirmed for ``older_than`` (contributions and
        member-check comments); return how many."""
        before = (datetime.now(UTC) - older_than).replace(microsecond=0).isoformat()
        async with self.core.db.transaction() as tx:
            return await tx.contributions.delete_expired_drafts(
                before
            ) + await tx.comments.delete_expired_drafts(before)

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

    async def _round_for(
        self, tx: Tx, who: Who, member: Member, reply_to: int | None, editing: int | None
    ) -> int:
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
        mine = await tx.contributions.confirmed(
            person_id=member.person.id, swap_id=member.swap.id, kind=Kind.REFLECTION
        )
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

    async def _draft(
        self, tx: Tx, member: Member, kind: Kind, text: str, editing: int | None, round_: int | None
    ) -> Contribution:
        about = (
            await self._about_team(tx, member)
            if kind in (Kind.ANSWER, Kind.TEAM_RESPONSE)
            else None
        )
        adopted_from = None
        if editing is not None:
            original = await tx.contributions.get(editing)
            if original is None or original.person_id != member.person.id:
                raise Refusal("errors/stale_button")
            # Words adopted from a member stay theirs only while unchanged.
            if original.text == text:
                adopted_from = original.adopted_from
            if original.status is Status.DRAFT:
                await tx.contributions.delete(original.id)
                editing = original.replaces_id
        return await tx.contributions.add_draft(
            member.swap.id,
            member.team.id,
            member.person.id,
            kind,
            text,
            about_team_id=about,
            round=round_,
            replaces_id=editing,
            adopted_from=adopted_from,
        )

    async def _preview(
        self,
        mail: Mail,
        who: Who,
        member: Member,
        draft: Contribution,
        *,
        replaced: bool = False,
        not_before: float = 0.0,
    ) -> None:
        core = self.core
        buttons: Buttons = [
            [(core.label("confirm"), cb.CONFIRM.pack(draft.id))],
            [
                (core.label("edit"), cb.EDIT.pack(draft.id)),
                (core.label("discard"), cb.DISCARD.pack(draft.id)),
            ],
        ]
        names = "names_shared_note" if member.swap.share_names else "names_hidden_note"
        await mail.send(
            who.telegram_id,
            f"workshop/preview_{draft.kind.value}",
            contribution_id=draft.id,
            text=draft.text,
            round=draft.round or "",
            names=core.html(f"workshop/{names}"),
            identifying=self._identifying(draft.text),
            buttons=buttons,
            replaced=core.html("workshop/replaced_draft") if replaced else "",
            not_before=not_before,
        )

    def _identifying(self, text: str) -> Html | str:
        """One plain sentence when the text looks like it holds identifying details."""
        details = identifying_details(text)
        if not details:
            return ""
        core = self.core
        kinds = [core.label(f"detail_{d.value}") for d in details]
        what = (
            kinds[0]
            if len(kinds) == 1
            else core.label("list_and", items=", ".join(kinds[:-1]), last=kinds[-1])
        )
        return core.html("workshop/identifying", what=what)

    # -- the buttons under a preview or receipt -----------------------------

    async def _own(
        self, tx: Tx, who: Who, contribution_id: int, status: Status
    ) -> tuple[Member, Contribution]:
        """The acting person's contribution in the given status, in its phase."""
        member = await self.core.member(tx, who)
        item = await tx.contributions.get(contribution_id)
        if (
            item is None
            or item.person_id != member.person.id
            or item.status != status
            or item.swap_id != member.swap.id
        ):
            raise Refusal("errors/stale_button")
        self._check(member, item.kind)
        return member, item

    @act
    async def confirm(self, tx: Tx, mail: Mail, who: Who, draft_id: int) -> None:
        """Confirm a draft: from now on it counts, and is shared as its kind says."""
        member, draft = await self._own(tx, who, draft_id, Status.DRAFT)
        if draft.replaces_id is not None:
            original = await tx.contributions.get(draft.replaces_id)
            if original is None or original.status is not Status.CONFIRMED:
                raise Refusal("errors/stale_button")
            await tx.contributions.replace_text(
                original.id, draft.text, adopted_from=draft.adopted_from
            )
            await tx.contributions.delete(draft.id)
            item = await tx.contributions.get(original.id)
        else:
            item = await tx.contributions.confirm(draft.id)
            if draft.kind in _TEAM_KINDS:
                await self._tell_replaced(tx, mail, member, draft)
                await tx.contributions.supersede_team_item(member.team.id, draft.kind, draft.id)
        assert item is not None
        log.info(
            "A %s was confirmed in team %d of swap %d", item.kind.value, item.team_id, item.swap_id
        )
        await self._after_confirm(tx, mail, who, member, item, edited=draft.replaces_id is not None)
        if item.kind in COMPLETES_A_STEP:
            await self.phases.note_if_ready(tx, mail, member.swap)

    async def _tell_replaced(self, tx: Tx, mail: Mail, member: Member, draft: Contribution) -> None:
        """Whoever confirmed the team item this one replaces hears who replaced it."""
        for previous in await tx.contributions.confirmed(team_id=member.team.id, kind=draft.kind):
            if previous.id == draft.id or previous.person_id == member.person.id:
                continue
            author = await tx.people.get(previous.person_id)
            if author is not None:
                await mail.send(
                    author.telegram_id,
                    f"workshop/team_{draft.kind.value}_replaced",
                    name=member.person.display_name,
                    text=draft.text,
                    contribution_id=draft.id,
                )

    async def _after_confirm(
        self, tx: Tx, mail: Mail, who: Who, member: Member, item: Contribution, edited: bool
    ) -> None:
        core = self.core
        # A team item is the team's: its author may edit it, not withdraw it alone.
        manage: Buttons = [[(core.label("edit"), cb.EDIT.pack(item.id))]]
        if item.kind not in _TEAM_KINDS:
            manage[0].append((core.label("withdraw_item"), cb.WITHDRAW_ITEM.pack(item.id)))
        # The preview whose Confirm was pressed becomes the receipt.
        await mail.send(
            who.telegram_id,
            f"workshop/{item.kind.value}_confirmed",
            round=item.round or "",
            text=item.text,
            contribution_id=item.id,
            buttons=manage,
            replace=who.pressed,
        )
        if item.kind in (Kind.PROPOSAL, Kind.ANSWER):
            # Shared with the person's own team, with their name (the team's own
            # material; never the other team, never the team's group).
            team = await tx.memberships.of_team(member.team.id)
            await core.know_readers(
                tx, [p.telegram_id for _, p in team if p.id != member.person.id]
            )
            for membership, person in team:
                if person.id == member.person.id:
                    continue
                lead = membership.role is Role.LEAD
                adopt = (
                    [[(core.label("adopt"), cb.ADOPT.pack(item.id))]]
                    if lead and item.kind is Kind.PROPOSAL
                    else None
                )
                await mail.send(
                    person.telegram_id,
                    f"workshop/{item.kind.value}_shared",
                    contribution_id=item.id,
                    name=member.person.display_name,
                    text=item.text,
                    updated=core.html("workshop/shared_updated", name=member.person.display_name)
                    if edited
                    else "",
                    role_note=core.html(
                        f"workshop/{item.kind.value}_shared_{membership.role.value}"
                    ),
                    buttons=adopt,
                )
        if item.kind in _TEAM_KINDS:
            # A proposer whose words were adopted hears it in a message of its own.
            told = (
                await self._tell_adopted(tx, mail, member, item)
                if item.kind is Kind.DILEMMA and item.adopted_from is not None
                else None
            )
            await core.tell_team(
                tx,
                mail,
                member.team.id,
                f"workshop/team_{item.kind.value}_confirmed",
                except_people=(member.person.id, told) if told else (member.person.id,),
                text=item.text,
                contribution_id=item.id,
            )

    async def _tell_adopted(
        self, tx: Tx, mail: Mail, member: Member, dilemma: Contribution
    ) -> int | None:
        """A proposer hears, privately, that the lead took their words as the
        team's dilemma (once: an edit of the dilemma keeps the adoption quiet).
        Returns the proposer's person id if they were told."""
        proposal = await tx.contributions.get(dilemma.adopted_from or 0)
        if proposal is None or proposal.person_id == member.person.id:
            return None
        proposer = await tx.people.get(proposal.person_id)
        if proposer is None or not await tx.contributions.mark_adoption_told(proposal.id):
            return None
        await mail.send(
            proposer.telegram_id,
            "workshop/proposal_adopted",
            text=proposal.text,
            contribution_id=proposal.id,
        )
        return proposer.id

    @act
    async def edit(self, tx: Tx, mail: Mail, who: Who, contribution_id: int) -> None:
        """Wait for new words for a draft or a confirmed contribution."""
        item = await tx.contributions.get(contribution_id)
        status = item.status if item is not None else Status.DRAFT
        if status not in (Status.DRAFT, Status.CONFIRMED):
            raise Refusal("errors/stale_button")
        _, item = await self._own(tx, who, contribution_id, status)
        await tx.conversations.set(
            who.telegram_id, Waiting.AWAITING, kind=item.kind.value, editing=item.id
        )
        await mail.send(
            who.telegram_id, "workshop/send_new_text", text=item.text, contribution_id=item.id
        )

    @act
    async def discard(self, tx: Tx, mail: Mail, who: Who, draft_id: int) -> None:
        """Throw a draft away; nothing of it is kept."""
        _, draft = await self._own(tx, who, draft_id, Status.DRAFT)
        await tx.contributions.delete(draft.id)
        await mail.send(who.telegram_id, "workshop/discarded")

    @act
    async def withdraw_item(self, tx: Tx, mail: Mail, who: Who, contribution_id: int) -> None:
        """Delete one of the person's own confirmed contributions."""
        _, item = await self._own(tx, who, contribution_id, Status.CONFIRMED)
        if item.kind in _TEAM_KINDS:
            raise Refusal("errors/stale_button")
        await drop_adopted(self.core, tx, mail, item.person_id, [item.id])
        await tx.contributions.delete(item.id)
        # Written before the last export (even if confirmed or edited since): it may be in it.
        await note_export_outdated(self.core, tx, mail, item.swap_id, item.created_at)
        await mail.send(who.telegram_id, "workshop/item_withdrawn")

    @act
    async def adopt(self, tx: Tx, mail: Mail, who: Who, proposal_id: int) -> None:
        """A lead takes a team member's proposal as the draft of the team's dilemma."""
        member = await self.core.member(tx, who)
        proposal = await tx.contributions.get(proposal_id)
        if (
            proposal is None
            or proposal.kind is not Kind.PROPOSAL
            or proposal.status is not Status.CONFIRMED
            or proposal.team_id != member.team.id
        ):
            raise Refusal("errors/stale_button")
        self._check(member, Kind.DILEMMA)
        replaced = await tx.contributions.delete_drafts_of(
            member.person.id, Kind.DILEMMA, member.swap.id
        )
        draft = await tx.contributions.add_draft(
            member.swap.id,
            member.team.id,
            member.person.id,
            Kind.DILEMMA,
            proposal.text,
            adopted_from=proposal.id,
        )
        await self._preview(mail, who, member, draft, replaced=bool(replaced))

    @act
    async def cancel(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Stop waiting for text; any unconfirmed drafts are thrown away."""
        conversation = await tx.conversations.get(who.telegram_id)
        person = await tx.people.by_telegram_id(who.telegram_id)
        await tx.conversations.clear(who.telegram_id)
        drafts = await tx.contributions.delete_drafts_of(person.id) if person else 0
        key = (
            "workshop/cancelled"
            if conversation is not None or drafts
            else "workshop/nothing_to_cancel"
        )
        await mail.send(who.telegram_id, key)

    @act
    async def not_text(self, tx: Tx, mail: Mail, who: Who) -> None:
        """A sticker, photo or other non-text message: say what is expected."""
        raise Refusal("errors/text_only")
