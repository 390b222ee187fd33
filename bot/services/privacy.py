"""A person's own data: ``/mydata`` to see it all, ``/withdraw`` to remove it,
and ``/swaps`` to choose which swap they act in when they belong to several.

Withdrawal is per swap: it deletes the person's membership and every
contribution they made there (drafts included), any team item that took a
proposal of theirs word for word, and every unsent message carrying those
words (a trigger in the schema sees to that, whoever deletes). Leaving the
last swap deletes the person and every message to or from their chat. The
consent records stay, with the person's id removed: they say only that
someone agreed and later left. Afterwards the database is checkpointed, so
the words are gone from the disk as well as from the tables.
"""

from __future__ import annotations

import json
import logging

from bot import callbacks as cb
from bot.model import Contribution, Kind, Membership, Person, Phase, Status
from bot.services.core import Buttons, Core, Mail, Refusal, Who, act
from bot.services.export import Export, note_export_outdated
from bot.services.groups import leaving_lead
from bot.services.sheets import withdrawal_words
from bot.text import Html
from bot.timetable import withdrawal_open
from storage.tx import Tx

log = logging.getLogger(__name__)


class Privacy:
    """``/mydata``, ``/withdraw`` and a participant's ``/swaps``."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @act
    async def my_data(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Send the person everything stored about them, as a JSON file."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        conversation = await tx.conversations.get(who.telegram_id)
        if person is None:
            raise Refusal(
                "privacy/nothing_stored_pending" if conversation else "privacy/nothing_stored"
            )
        teams = {}
        memberships = []
        for m in await tx.memberships.of_person(person.id, left=True):
            team = await tx.teams.get(m.team_id)
            swap = await tx.swaps.get(m.swap_id)
            teams[m.team_id] = team.name if team else ""
            memberships.append(
                {
                    "swap": swap.title if swap else "",
                    "team": teams[m.team_id],
                    "role": m.role.value,
                    "joined_at": m.joined_at,
                    "left_at": m.left_at,
                }
            )
        contributions = await tx.contributions.of_person(person.id)
        record = {
            "telegram_id": person.telegram_id,
            "name": person.display_name,
            "pseudonym": person.pseudonym,
            "memberships": memberships,
            "consents": [
                {k: c[k] for k in ("decision", "decided_at", "sheet_version", "role")}
                for c in await tx.consents.of_person(person.id)
            ],
            "contributions": [
                {
                    "kind": c.kind.value,
                    "status": c.status,
                    "round": c.round,
                    "text": c.text,
                    "written_at": c.created_at,
                    "confirmed_at": c.confirmed_at,
                    "first_delivered_at": c.first_delivered_at,
                }
                for c in contributions
            ],
            "member_check_comments": [
                {k: c[k] for k in ("status", "text", "created_at", "confirmed_at")}
                for c in await tx.comments.of_person(person.id)
            ],
            "waiting_for": conversation.state if conversation else None,
        }
        await mail.document(
            who.telegram_id,
            "my-data.json",
            json.dumps(record, indent=2, ensure_ascii=False).encode(),
            "privacy/mydata_caption",
            count=len(contributions),
        )

    # -- choosing a swap ------------------------------------------------------

    async def _titles(self, tx: Tx, memberships: list[Membership]) -> dict[int, str]:
        titles = {}
        for m in memberships:
            swap = await tx.swaps.get(m.swap_id)
            titles[m.swap_id] = swap.title if swap else ""
        return titles

    @act
    async def list_swaps(self, tx: Tx, mail: Mail, who: Who) -> None:
        """A participant's swaps, with buttons to choose the one they act in."""
        member = await self.core.member(tx, who)
        memberships = await tx.memberships.of_person(member.person.id)
        titles = await self._titles(tx, memberships)
        lines = [
            self.core.html(
                "privacy/swap_line",
                title=titles[m.swap_id],
                mark="▶️" if m.swap_id == member.swap.id else "•",
            )
            for m in memberships
        ]
        buttons = [
            [
                (
                    self.core.label("switch_swap", title=titles[m.swap_id][:40]),
                    cb.CURRENT_SWAP.pack(m.swap_id),
                )
            ]
            for m in memberships
            if m.swap_id != member.swap.id
        ]
        await mail.send(
            who.telegram_id, "privacy/swaps", lines=Html("\n".join(lines)), buttons=buttons or None
        )

    @act
    async def switch_swap(self, tx: Tx, mail: Mail, who: Who, swap_id: int) -> None:
        """A person in several swaps chose the one they act in from now on."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        membership = await tx.memberships.in_swap(person.id, swap_id) if person else None
        if person is None or membership is None:
            raise Refusal("errors/stale_button")
        await tx.people.set_current_swap(person.id, swap_id)
        await tx.conversations.clear(who.telegram_id)
        team = await tx.teams.get(membership.team_id)
        swap = await tx.swaps.get(swap_id)
        assert team is not None and swap is not None
        await mail.send(who.telegram_id, "privacy/swap_switched", title=swap.title, team=team.name)

    # -- withdrawal -----------------------------------------------------------

    @act
    async def withdraw(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Ask which swap to leave (if several), then say what goes and what was delivered."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        if person is None:
            conversation = await tx.conversations.get(who.telegram_id)
            await tx.conversations.clear(who.telegram_id)
            # An unanswered invitation is all there is: it goes now.
            await mail.send(
                who.telegram_id,
                "privacy/invitation_dropped" if conversation else "privacy/nothing_stored",
                forget_when_sent=not self.core.is_organiser(who),
            )
            return
        memberships = await tx.memberships.of_person(person.id)
        if not memberships:
            # They left every swap after its cut-off: their words stay, pseudonymised.
            raise Refusal("privacy/already_left")
        if len(memberships) > 1:
            titles = await self._titles(tx, memberships)
            buttons: Buttons = [
                [
                    (
                        self.core.label("withdraw_from", title=titles[m.swap_id][:40]),
                        cb.WITHDRAW_CHOOSE.pack(m.swap_id),
                    )
                ]
                for m in memberships
            ]
            buttons.append([(self.core.label("withdraw_from_all"), cb.WITHDRAW_CHOOSE.pack(0))])
            buttons.append([(self.core.label("cancel"), cb.CANCEL.pack())])
            await mail.send(
                who.telegram_id, "privacy/withdraw_which", count=len(memberships), buttons=buttons
            )
            return
        await self._ask(tx, mail, who, person, memberships, 0)

    @act
    async def withdraw_chosen(self, tx: Tx, mail: Mail, who: Who, swap_id: int) -> None:
        """The person chose a swap to leave (0: every swap)."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        if person is None:
            raise Refusal("errors/stale_button")
        leaving = await self._leaving(tx, person, swap_id)
        await self._ask(tx, mail, who, person, leaving, swap_id)

    async def _leaving(self, tx: Tx, person: Person, swap_id: int) -> list[Membership]:
        memberships = await tx.memberships.of_person(person.id)
        leaving = [m for m in memberships if swap_id in (0, m.swap_id)]
        if not leaving:
            raise Refusal("errors/stale_button")
        return leaving

    async def _ask(
        self, tx: Tx, mail: Mail, who: Who, person: Person, leaving: list[Membership], swap_id: int
    ) -> None:
        deleting, staying = await self._by_cutoff(tx, leaving)
        buttons = [
            [(self.core.label("confirm_withdraw"), cb.WITHDRAW.pack(person.id, swap_id))],
            [(self.core.label("cancel"), cb.CANCEL.pack())],
        ]
        items = await self._items(tx, person, deleting)
        titles = await self._titles(tx, deleting)
        if staying:
            await mail.send(
                who.telegram_id,
                "privacy/withdraw_after_cutoff",
                swaps=", ".join((await self._titles(tx, staying)).values()),
                cutoffs=await self._cutoffs(tx, staying, "privacy/cutoff_passed_line"),
                also=self.core.html(
                    "privacy/withdraw_also_deleting",
                    swaps=", ".join(titles.values()),
                    count=len(items),
                )
                if deleting
                else "",
                buttons=buttons,
            )
            return
        await mail.send(
            who.telegram_id,
            "privacy/withdraw_confirm",
            count=len(items),
            swaps=", ".join(titles.values()),
            delivered=await self._delivered(tx, items),
            adopted=await self._adopted_note(tx, items),
            cutoffs=await self._cutoffs(tx, deleting),
            buttons=buttons,
        )

    async def _by_cutoff(
        self, tx: Tx, memberships: list[Membership]
    ) -> tuple[list[Membership], list[Membership]]:
        """The memberships whose words withdrawing still deletes, and those whose
        swap's withdrawal cut-off has passed (the person may leave; words stay)."""
        deleting: list[Membership] = []
        staying: list[Membership] = []
        for m in memberships:
            swap = await tx.swaps.get(m.swap_id)
            assert swap is not None
            still = withdrawal_open(
                swap.withdrawal, swap.phase is Phase.CLOSED, self.core.zone, self.core.clock()
            )
            (deleting if still else staying).append(m)
        return deleting, staying

    async def _cutoffs(
        self, tx: Tx, memberships: list[Membership], key: str = "privacy/cutoff_line"
    ) -> Html:
        """Until when withdrawal deletes words, in each of these swaps that set it."""
        lines = []
        for m in memberships:
            swap = await tx.swaps.get(m.swap_id)
            assert swap is not None
            until = withdrawal_words(self.core.prompts_now(), self.core.zone, swap)
            if until:
                lines.append(self.core.html(key, title=swap.title, until=until))
        return Html("\n".join(lines))

    async def _items(self, tx: Tx, person: Person, leaving: list[Membership]) -> list[Contribution]:
        """The person's contributions in the swaps they are leaving, read once."""
        swaps = {m.swap_id for m in leaving}
        return [c for c in await tx.contributions.of_person(person.id) if c.swap_id in swaps]

    async def _delivered(self, tx: Tx, items: list[Contribution]) -> Html:
        """What of these already reached another team, when and which team: it
        cannot be unsent. Counted from the first delivery, so an edit since
        (which waits to be delivered again) does not hide it."""
        lines = []
        allocations: dict[int, dict[int, int]] = {}  # per swap, read once
        adopted = {
            c.adopted_from: c
            for c in await tx.contributions.adopted(c.id for c in items if c.kind is Kind.PROPOSAL)
        }
        for item in items:
            shown = adopted.get(item.id, item) if item.kind is Kind.PROPOSAL else item
            if shown.first_delivered_at is None or shown.kind is Kind.REFLECTION:
                continue
            if shown.kind is Kind.DILEMMA:
                if shown.swap_id not in allocations:
                    allocations[shown.swap_id] = await tx.allocations.get(shown.swap_id)
                receiver = allocations[shown.swap_id].get(shown.team_id)
            else:
                receiver = shown.about_team_id
            team = await tx.teams.get(receiver) if receiver else None
            if team is None:
                continue
            key = (
                "privacy/delivered_adopted"
                if shown is not item
                else f"privacy/delivered_{item.kind.value}"
            )
            lines.append(
                self.core.html(
                    key, team=team.name, when=self.core.local_time(shown.first_delivered_at)
                )
            )
        return Html("\n".join(lines)) if lines else self.core.html("privacy/nothing_delivered")

    async def _adopted_note(self, tx: Tx, items: list[Contribution]) -> Html | str:
        adopted = await tx.contributions.adopted(c.id for c in items if c.kind is Kind.PROPOSAL)
        return self.core.html("privacy/adopted_goes_too") if adopted else ""

    @act
    async def withdraw_confirmed(
        self, tx: Tx, mail: Mail, who: Who, person_id: int, swap_id: int
    ) -> None:
        """Delete the person's part in the chosen swap (0: every swap)."""
        person = await tx.people.by_telegram_id(who.telegram_id)
        if person is None or person.id != person_id:
            raise Refusal("errors/stale_button")
        leaving = await self._leaving(tx, person, swap_id)
        deleting, staying = await self._by_cutoff(tx, leaving)
        items = await self._items(tx, person, deleting)
        delivered = await self._delivered(tx, items)
        if deleting:
            await leave(self.core, tx, mail, person, deleting)
        for membership in deleting:
            # Who withdrew is not recorded: only that someone did.
            count = sum(c.swap_id == membership.swap_id for c in items)
            await tx.audit.record(membership.swap_id, None, "withdrawal", count=count)
        for membership in staying:
            await tx.memberships.mark_left(membership.id)
            await tx.audit.record(membership.swap_id, None, "withdrawal_after_cutoff")
            swap = await tx.swaps.get(membership.swap_id)
            assert swap is not None
            # Without saying who: whoever insists tells the organisers, who
            # can still remove them, with their words (/remove).
            for organiser in await self.core.organisers_of(tx, swap):
                await mail.send(organiser, "privacy/left_after_cutoff", title=swap.title)
        if staying:
            # They leave their team all the same: a group they linked stops receiving.
            await leaving_lead(tx, mail, person.telegram_id, [m.team_id for m in staying])
            await tx.teams.drop_group_links_of(person.telegram_id)
            await tx.conversations.clear(person.telegram_id)
        log.info(
            "Someone withdrew from %d swap(s), with %d contributions; left %d after the cut-off",
            len(deleting),
            len(items),
            len(staying),
        )
        if deleting:
            await mail.send(
                who.telegram_id,
                "privacy/withdrawn",
                count=len(items),
                swaps=", ".join((await self._titles(tx, deleting)).values()),
                delivered=delivered,
                # Someone with no record left keeps none: not even this message's times.
                forget_when_sent=await tx.people.by_telegram_id(who.telegram_id) is None,
            )
        if staying:
            await mail.send(
                who.telegram_id,
                "privacy/left",
                swaps=", ".join((await self._titles(tx, staying)).values()),
            )


async def leave(
    core: Core, tx: Tx, mail: Mail, person: Person, memberships: list[Membership]
) -> None:
    """Delete a person's part in these memberships' swaps (withdrawal, or removal
    by the organiser); the person too, and every message to them, if nothing is left.
    A group the person linked for a team they leave stops receiving."""
    await leaving_lead(tx, mail, person.telegram_id, [m.team_id for m in memberships])
    everything = await tx.contributions.of_person(person.id)  # read once, for every swap
    for membership in memberships:
        items = [c for c in everything if c.swap_id == membership.swap_id]
        await drop_adopted(
            core, tx, mail, person.id, [c.id for c in items if c.kind is Kind.PROPOSAL]
        )
        # An export still waiting to go quotes these words, and goes with them:
        # whoever asked for it gets it again, made without them, and is told why.
        exports = await tx.outbox.awaiting_files_quoting(c.id for c in items)
        await tx.contributions.delete_of(person.id, membership.swap_id)
        await tx.comments.delete_of(person.id, membership.swap_id)
        await tx.consents.detach(person.id, membership.team_id)
        await tx.memberships.delete(membership.id)
        swap = await tx.swaps.get(membership.swap_id)
        assert swap is not None
        if not exports:
            # An export already sent since they joined holds them (its participants
            # table, if nothing else): its organisers are told it is out of date.
            await note_export_outdated(core, tx, mail, swap.id, membership.joined_at)
        # Made again once nothing of them is left (their comments and their line in
        # the participants table go too).
        for chat in exports:
            if chat in await core.organisers_of(tx, swap):
                await mail.send(chat, "export/rebuilt", title=swap.title)
                await Export(core).send_to(tx, mail, chat, swap.id)
    await tx.teams.drop_group_links_of(person.telegram_id)
    await tx.conversations.clear(person.telegram_id)
    # Memberships left after a withdrawal cut-off count: their words are still there.
    remaining = await tx.memberships.of_person(person.id, left=True)
    if remaining:
        # The swap they chose to act in stays theirs, unless they just left it.
        if await tx.people.current_swap_id(person.id) not in {m.swap_id for m in remaining}:
            await tx.people.set_current_swap(person.id, remaining[-1].swap_id)
    else:
        await tx.outbox.forget_chat(person.telegram_id)
        await tx.people.delete(person.id)


async def drop_adopted(
    core: Core, tx: Tx, mail: Mail, author_id: int, proposal_ids: list[int]
) -> None:
    """A team item that took a proposal word for word holds its author's words:
    when the proposal goes, it goes too, and whoever submitted it is told why."""
    for adopted in await tx.contributions.adopted(proposal_ids):
        submitter = await tx.people.get(adopted.person_id)
        if (
            adopted.person_id != author_id
            and submitter is not None
            and adopted.status is Status.CONFIRMED
        ):
            await mail.send(
                submitter.telegram_id,
                "privacy/adopted_withdrawn",
                delivered=core.html("privacy/adopted_was_delivered")
                if adopted.first_delivered_at
                else "",
            )
        await tx.contributions.delete(adopted.id)
