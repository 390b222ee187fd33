"""Moving a swap through its phases, and everything each move delivers.

``/advance`` first rehearses the move inside a transaction that is always
rolled back (``Database.rehearsal``), so the organiser sees exactly how many
messages would go to how many people; the real move then repeats it and
commits state and messages together.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import callbacks as cb
from bot.model import Contribution, Kind, Membership, Person, Phase, Release, Role, Swap, Team
from bot.procedure import (
    REFLECTION_ROUNDS,
    Missing,
    NotAllowed,
    SwapProgress,
    TeamProgress,
    allocate,
    can_reopen,
    missing_for_advance,
    next_step,
    works_on,
)
from bot.services.core import Block, Core, Mail, Owed, Piece, Refusal, Who, act
from bot.services.export import Export
from bot.services.sheets import Sheets
from bot.text import Html, opening_words
from storage.tx import Tx

log = logging.getLogger(__name__)

People = list[tuple[Membership, Person]]


class Phases:
    """``/advance``, ``/reopen``, and delivery of each phase's material."""

    def __init__(self, core: Core, exporter: Export, sheets: Sheets) -> None:
        self.core = core
        self.exporter = exporter
        # The preview from setup warns of an information sheet left unfilled.
        self.sheets = sheets

    # -- what is missing ----------------------------------------------------

    async def _progress(self, tx: Tx, swap: Swap) -> SwapProgress:
        teams = [
            TeamProgress(
                name=team.name,
                people=n["people"],
                leads=n["leads"],
                has_dilemma=n["dilemmas"] > 0,
                has_team_response=n["team_responses"] > 0,
                reflections=n["reflections"],
            )
            for team, n in await tx.teams.tallies(swap.id)
        ]
        return SwapProgress(
            phase=swap.phase,
            teams=teams,
            rounds_released=swap.rounds_released,
            all_at_once=swap.reflection_release is Release.ALL_AT_ONCE,
        )

    async def _missing(self, tx: Tx, swap: Swap) -> tuple[Phase, int, list[Missing]]:
        progress = await self._progress(tx, swap)
        try:
            target, rounds = next_step(progress)
        except NotAllowed:
            raise Refusal("organiser/already_closed", title=swap.title) from None
        missing = missing_for_advance(progress)
        if target is Phase.RESPONSE and not await tx.allocations.get(swap.id):
            try:
                allocate([t.id for t in await tx.teams.of_swap(swap.id)], swap.allocation)
            except NotAllowed as problem:
                missing.insert(0, Missing(problem.reason))
        return target, rounds, missing

    def _missing_lines(self, missing: list[Missing]) -> Html:
        return Html(
            "\n".join(self.core.html(f"missing/{m.what}", team=m.team or "") for m in missing)
        )

    def _step_name(self, swap: Swap, target: Phase, rounds: int) -> str:
        if target is Phase.REFLECTION and swap.phase is Phase.REFLECTION:
            return self.core.label("step_release_round", round=rounds)
        return self.core.label(f"phase_{target.value}")

    # -- /advance -----------------------------------------------------------

    async def advance(self, who: Who, force: bool) -> None:
        """Show what the next move would send, with a Confirm button."""
        async with self.core.db.rehearsal() as tx:
            try:
                preview: dict[str, Any] | Refusal = await self._rehearse(tx, who, force)
            except Refusal as refusal:
                preview = refusal
        await self._show_preview(who, preview)

    @act
    async def _show_preview(
        self, tx: Tx, mail: Mail, who: Who, preview: dict[str, Any] | Refusal
    ) -> None:
        if isinstance(preview, Refusal):
            raise preview
        await mail.send(who.telegram_id, "organiser/advance_preview", **preview)

    async def _rehearse(self, tx: Tx, who: Who, force: bool) -> dict[str, Any]:
        """Make the move in a transaction that will be rolled back; say what it sent."""
        core = self.core
        swap = await core.current_swap(tx, who)
        target, rounds, missing = await self._missing(tx, swap)
        step = self._step_name(swap, target, rounds)
        if missing and not force:
            raise Refusal(
                "organiser/advance_blocked",
                title=swap.title,
                step=step,
                missing=self._missing_lines(missing),
            )
        sheet = await self.sheets.warning(tx, swap) if swap.phase is Phase.SETUP else ""
        summary = await self._move(tx, swap, target, rounds)
        # The button names the state it was made for, so a stale one is refused.
        data = cb.ADVANCE.pack(swap.id, swap.phase.value[:3], swap.rounds_released, int(force))
        return {
            "title": swap.title,
            "step": step,
            "what": Html("\n".join(summary["what"])),
            "messages": summary["messages"],
            "notifying": summary["notifying"],
            "people": summary["people"],
            "forced": core.html(
                "organiser/advance_forced_note", missing=self._missing_lines(missing)
            )
            if missing
            else "",
            # Read before the move was rehearsed: the phase it starts from.
            "sheet": sheet,
            "buttons": [
                [(core.label("confirm_advance"), data)],
                [(core.label("cancel"), cb.CANCEL.pack())],
            ],
        }

    @act
    async def confirm_advance(
        self,
        tx: Tx,
        mail: Mail,
        who: Who,
        swap_id: int,
        phase_prefix: str,
        rounds: int,
        force: bool,
    ) -> None:
        """The organiser confirmed a move; make it, unless something changed since."""
        core = self.core
        swap = await core.organised_swap(tx, who, swap_id)
        if swap.phase.value[:3] != phase_prefix or swap.rounds_released != rounds:
            raise Refusal("organiser/advance_stale")
        target, new_rounds, missing = await self._missing(tx, swap)
        if missing and not force:
            raise Refusal(
                "organiser/advance_blocked",
                title=swap.title,
                step=self._step_name(swap, target, new_rounds),
                missing=self._missing_lines(missing),
            )
        await self._make_move(tx, mail, swap, target, new_rounds, missing, who.telegram_id)

    async def _make_move(
        self,
        tx: Tx,
        mail: Mail,
        swap: Swap,
        target: Phase,
        rounds: int,
        missing: list[Missing],
        by: int,
        automatic: bool = False,
    ) -> None:
        """Move the swap, record it, and tell the organiser ``by`` what went out (an
        automatic move: every organiser of the swap now; they get the export too)."""
        core = self.core
        summary = await self._move(tx, swap, target, rounds)
        await tx.swaps.record_transition(
            swap.id,
            swap.phase,
            target,
            by,
            forced=bool(missing),
            missing=[f"{m.what}:{m.team}" if m.team else m.what for m in missing],
            automatic=automatic,
        )
        await tx.audit.record(
            swap.id,
            by,
            "transition" + ("_forced" if missing else "") + ("_automatic" if automatic else ""),
            before=swap.phase.value,
            after=target.value,
            missing=", ".join(m.what for m in missing),
        )
        log.info(
            "Swap %d moved from %s to %s (round %d)%s%s",
            swap.id,
            swap.phase.value,
            target.value,
            rounds,
            " forced" if missing else "",
            " at its deadline" if automatic else "",
        )
        told = await core.organisers_of(tx, swap) if automatic else [by]
        for organiser in told:
            await mail.send(
                organiser,
                "organiser/advanced_automatically" if automatic else "organiser/advanced",
                title=swap.title,
                step=self._step_name(swap, target, rounds),
                messages=summary["messages"],
                people=summary["people"],
                forced=core.html("organiser/advanced_forced") if missing else "",
            )
        if target is Phase.CLOSED:
            # Retention counts from here, by the bot's clock.
            await tx.swaps.update_settings(swap.id, closed_at=core.clock().isoformat())
            for organiser in told:
                await self.exporter.send_to(tx, mail, organiser, swap.id)

    async def close_at_deadline(self, tx: Tx, mail: Mail, swap: Swap, by: int) -> bool:
        """The automatic advance at a phase's deadline, with the guards of /advance:
        when something is missing nothing moves, and the swap's organisers are told what.
        ``by`` is whom the move is recorded as made by.

        The reflection deadline closes the swap, whatever rounds are still to come.
        Returns whether the swap moved.
        """
        if swap.phase is Phase.REFLECTION:
            progress = await self._progress(tx, swap)
            progress.rounds_released = REFLECTION_ROUNDS
            target, rounds, missing = (
                Phase.CLOSED,
                swap.rounds_released,
                missing_for_advance(progress),
            )
        else:
            target, rounds, missing = await self._missing(tx, swap)
        if missing:
            await self.core.tell_organisers(
                tx,
                mail,
                swap,
                "schedule/auto_blocked",
                title=swap.title,
                step=self._step_name(swap, target, rounds),
                missing=self._missing_lines(missing),
            )
            return False
        await self._make_move(tx, mail, swap, target, rounds, [], by, automatic=True)
        return True

    async def dates(self, tx: Tx, swap: Swap, phase: Phase) -> Html | str:
        """The dates that concern people in ``phase``: its workshop and its deadline."""
        lines = [
            self.core.html(
                "schedule/date_line",
                what=self.core.label(f"when_{e.what}"),
                when=self.core.local_when(e.instant(self.core.zone)),
            )
            for e in await tx.schedule.entries(swap.id)
            if e.phase is phase
        ]
        return Html("\n".join(lines)) if lines else ""

    async def note_if_ready(self, tx: Tx, mail: Mail, swap: Swap) -> None:
        """Tell the organiser, once per workshop, when everything the next move needs is
        in (setup is left out: people join over days, and workshop 1 opens on its date)."""
        if swap.phase in (Phase.SETUP, Phase.CLOSED):
            return
        target, rounds, missing = await self._missing(tx, swap)
        if missing or (swap.phase is Phase.REFLECTION and target is Phase.REFLECTION):
            return
        if await tx.schedule.mark_fired(swap.id, f"ready:{swap.phase.value}:{rounds}", "sent"):
            await self.core.tell_organisers(
                tx,
                mail,
                swap,
                "schedule/ready",
                title=swap.title,
                step=self._step_name(swap, target, rounds),
            )

    async def _move(self, tx: Tx, swap: Swap, target: Phase, rounds: int) -> dict:
        """Change the phase and owe everyone its material; return a summary.

        Everything the move owes a person is folded into as few messages as fit,
        and only the first of them notifies (``Mail.notify_once``).
        """
        before, notifying = tx.outbox.added, tx.outbox.notifying
        chats_before = set(tx.outbox.chats)
        teams = await tx.teams.of_swap(swap.id)
        members = {t.id: await tx.memberships.of_team(t.id) for t in teams}
        entered = swap.phase is not target
        # After /reopen the phase is entered again: only what is new goes out.
        first_time = entered and not any(
            t["to_phase"] == target.value for t in await tx.swaps.transitions(swap.id)
        )
        previous_rounds = swap.rounds_released
        rounds = max(rounds, previous_rounds)
        await tx.swaps.set_phase(swap.id, target)
        await tx.swaps.set_rounds_released(swap.id, rounds)
        moved = await tx.swaps.get(swap.id)
        assert moved is not None
        what: list[str] = []
        if target is Phase.RESPONSE:
            recipients = await tx.allocations.get(swap.id)
            if not recipients:
                try:
                    recipients = allocate([t.id for t in teams], swap.allocation)
                except NotAllowed as problem:
                    # Forcing cannot make an impossible allocation possible.
                    raise Refusal(
                        "organiser/advance_blocked",
                        title=swap.title,
                        step=self._step_name(swap, target, rounds),
                        missing=self._missing_lines([Missing(problem.reason)]),
                    ) from None
                await tx.allocations.save(swap.id, recipients)
            names = {t.id: t.name for t in teams}
            what.extend(
                self.core.html("organiser/what_swap", poser=names[p], receiver=names[r])
                for p, r in recipients.items()
            )
        elif target is Phase.REFLECTION and entered:
            what.append(self.core.html("organiser/what_return"))
        new_rounds = (
            range(previous_rounds + 1, rounds + 1) if target is Phase.REFLECTION else range(0)
        )
        owed = Owed()
        for team in teams:
            people = members[team.id]
            # The team's group, if linked, gets what is shared with the whole team.
            group = team.group_chat_id
            if first_time:
                await self._announce(tx, owed, moved, target, people, group)
            if target is Phase.RESPONSE:
                await self._deliver_dilemma(tx, owed, moved, team, people, True, group)
            if target is Phase.REFLECTION and entered:
                await self._deliver_returns(tx, owed, moved, team, people, True, group)
            if target is Phase.REFLECTION and previous_rounds == 0:
                await self._side_by_side(tx, owed, moved, team, people, group)
            for round_ in new_rounds:
                await self._send_round(tx, owed, moved, people, round_, group)
            if target is Phase.CLOSED and first_time:
                await self._record(tx, owed, moved, team, people)
        await owed.fold_into(self.core.mail(tx, bulk=True, notify_once=True))
        if new_rounds:
            what.append(
                self.core.html(
                    "organiser/what_rounds", rounds=", ".join(str(r) for r in new_rounds)
                )
            )
        if target in (Phase.DILEMMA, Phase.CLOSED):
            what.append(self.core.html(f"organiser/what_{target.value}"))
        if entered and not first_time:
            what.append(self.core.html("organiser/what_only_new"))
        return {
            "messages": tx.outbox.added - before,
            "notifying": tx.outbox.notifying - notifying,
            "people": len(tx.outbox.chats - chats_before),
            "what": what,
        }

    # -- what each phase delivers -------------------------------------------

    async def opening(self, tx: Tx, swap: Swap, role: Role) -> Html:
        """What someone joining now is to read first: before workshop 1, what comes
        next; later, the prompt that opened the current phase for their role (a
        closed swap's last, the reflection), with its dates."""
        if swap.phase is Phase.SETUP:
            return self.core.html("phase/setup_wait", title=swap.title)
        shown = Phase.REFLECTION if swap.phase is Phase.CLOSED else swap.phase
        return self._opening(swap, shown, role, await self.dates(tx, swap, shown))

    def _opening(self, swap: Swap, phase: Phase, role: Role, dates: Html | str) -> Html:
        """The prompt that opens ``phase``, worded for ``role``."""
        return self.core.html(f"phase/{phase.value}_{role.value}", title=swap.title, dates=dates)

    async def _announce(
        self,
        tx: Tx,
        owed: Owed,
        swap: Swap,
        phase: Phase,
        people: People,
        group: int | None = None,
    ) -> None:
        """The prompt that opens a phase, worded for each role, with its dates, in
        each person's language and time zone."""

        roles = {person.telegram_id: membership.role for membership, person in people}

        async def opening(chat: int) -> Piece:
            role = roles[chat]
            return Piece.of(self._opening(swap, phase, role, await self.dates(tx, swap, phase)))

        for chat, piece in await self.core.in_each_language(tx, roles, opening, roles.get):
            owed.add(chat, piece)

        async def for_group(_: int) -> Piece:
            return Piece.of(
                self.core.html(
                    f"group/phase_{phase.value}",
                    title=swap.title,
                    dates=await self.dates(tx, swap, phase),
                    link=self.core.link_private(),
                )
            )

        if group is not None and phase is not Phase.SETUP:
            for chat, piece in await self.core.in_each_language(tx, [group], for_group):
                owed.add(chat, piece, quiet=True)

    async def _deliver_dilemma(
        self,
        tx: Tx,
        owed: Owed,
        swap: Swap,
        team: Team,
        people: People,
        only_new: bool,
        group: int | None = None,
    ) -> None:
        """Give a team the dilemma it is to work on (workshop 2)."""
        recipients = await tx.allocations.get(swap.id)
        if team.id not in recipients.values():
            return
        poser = await tx.teams.get(works_on(recipients, team.id))
        assert poser is not None
        dilemmas = await tx.contributions.confirmed(team_id=poser.id, kind=Kind.DILEMMA)
        if not dilemmas:

            async def none_yet(_: int) -> Piece:
                return Piece.of(self.core.html("phase/no_dilemma_yet", team=poser.name))

            chats = [person.telegram_id for _, person in people]
            for chat, piece in await self.core.in_each_language(tx, chats, none_yet):
                owed.add(chat, piece)
            return
        dilemma = dilemmas[-1]
        if only_new and dilemma.delivered_at is not None:
            return
        # Replaced after the swap (via /reopen): say this one supersedes the first.
        updated = only_new and (
            dilemma.ever_delivered
            or await tx.contributions.has_delivered_superseded(poser.id, Kind.DILEMMA)
        )

        def shown(how: Html, lead: Html | str = "") -> Piece:
            return Piece.of(
                self.core.html(
                    "phase/dilemma_for_you",
                    team=poser.name,
                    text=dilemma.text,
                    updated=self.core.html("phase/updated_note") if updated else "",
                    how=how,
                    lead=lead,
                ),
                quotes=dilemma.id,
            )

        # The dilemma as its team wrote it, in our words of each reader's language.
        roles = {person.telegram_id: membership.role for membership, person in people}

        async def for_role(chat: int) -> Piece:
            role = roles[chat]
            lead = self.core.html("phase/lead_response_note") if role is Role.LEAD else ""
            return shown(self.core.html("phase/answer_here"), lead)

        for chat, piece in await self.core.in_each_language(tx, roles, for_role, roles.get):
            owed.add(chat, piece)

        async def for_group(_: int) -> Piece:
            return shown(self.core.html("group/answer_in_private", link=self.core.link_private()))

        if group is not None:
            for chat, piece in await self.core.in_each_language(tx, [group], for_group):
                owed.add(chat, piece, quiet=True)
        if only_new:
            await tx.contributions.mark_delivered([dilemma.id])

    async def _returned(
        self,
        tx: Tx,
        swap: Swap,
        team: Team,
        only_new: bool,
        nothing: str = "phase/nothing_returned",
    ) -> tuple[list[Piece], list[Contribution]]:
        """What came back to a team from the team that worked on its dilemma: the
        consolidated response first, then the individual ones, each a piece (so
        that a withdrawn one is taken out alone); and the items in them. If
        nothing came back, the prompt ``nothing`` says so."""
        recipients = await tx.allocations.get(swap.id)
        receiver = await tx.teams.get(recipients[team.id]) if team.id in recipients else None
        if receiver is None:
            return [], []
        consolidated = await tx.contributions.team_response(receiver.id, team.id)
        answers = await tx.contributions.confirmed(
            team_id=receiver.id, kind=Kind.ANSWER, about_team_id=team.id
        )
        everything = ([consolidated] if consolidated else []) + answers
        # After /reopen only what is new goes.
        items = [c for c in everything if c.delivered_at is None] if only_new else everything
        if not everything:
            return [Piece.of(self.core.html(nothing, team=receiver.name))], []
        authors = await self._authors(tx, swap, items)
        pieces: list[Piece] = []
        number = 0
        params: dict[str, Any]
        for item in items:
            if item.kind is Kind.TEAM_RESPONSE:
                key, params = "phase/returned_team_response", {}
            else:
                number += 1
                key, params = "phase/returned_answer", {"number": number}
            html = self.core.html(
                key, team=receiver.name, text=item.text, author=authors.get(item.id, ""), **params
            )
            pieces.append(Piece.of(html, quotes=item.id))
        return pieces, items

    async def _deliver_returns(
        self,
        tx: Tx,
        owed: Owed,
        swap: Swap,
        team: Team,
        people: People,
        only_new: bool,
        group: int | None = None,
    ) -> None:
        """Give a team the responses to its own dilemma: consolidated first."""
        _, items = await self._returned(tx, swap, team, only_new)
        chats = [person.telegram_id for _, person in people]

        async def returned(_: int) -> list[Piece]:
            return (await self._returned(tx, swap, team, only_new))[0]

        for chat, pieces in await self.core.in_each_language(
            tx, chats + ([group] if group is not None else []), returned
        ):
            for piece in pieces:
                owed.add(chat, piece, quiet=chat == group)
        if only_new:
            await tx.contributions.mark_delivered(c.id for c in items)

    async def _authors(self, tx: Tx, swap: Swap, items: list[Contribution]) -> dict[int, Html]:
        """Authors' names for shared material: only when the swap's settings say so."""
        if not swap.share_names:
            return {}
        names: dict[int, Html] = {}
        for item in items:
            person = await tx.people.get(item.person_id)
            if person is not None:
                names[item.id] = self.core.html("phase/author", name=person.display_name)
        return names

    async def _side_by_side(
        self,
        tx: Tx,
        owed: Owed,
        swap: Swap,
        team: Team,
        people: People,
        group: int | None = None,
    ) -> None:
        """What we said about theirs, beside what they said about ours."""
        chats = [person.telegram_id for _, person in people]
        for chat, piece in await self.core.in_each_language(
            tx,
            chats + ([group] if group is not None else []),
            lambda _: self._side_by_side_piece(tx, swap, team, reflecting=True),
        ):
            if piece is not None:
                owed.add(chat, piece, quiet=chat == group)

    async def _side_by_side_piece(
        self, tx: Tx, swap: Swap, team: Team, reflecting: bool = False
    ) -> Piece | None:
        """The side by side: our team's response in full, theirs by its opening
        words, since it came in full just before. Each half goes if it is
        withdrawn; the headings alone are not sent."""
        recipients = await tx.allocations.get(swap.id)
        if team.id not in recipients or team.id not in recipients.values():
            return None
        theirs = await tx.teams.get(works_on(recipients, team.id))
        ours_to = await tx.teams.get(recipients[team.id])
        assert theirs is not None and ours_to is not None
        said_by_us = await tx.contributions.team_response(team.id, theirs.id)
        said_by_them = await tx.contributions.team_response(ours_to.id, team.id)
        core = self.core
        none = core.label("nothing_yet")
        return Piece(
            (
                Block(core.html("reflection/side_by_side", partner=ours_to.name), keeps=False),
                Block(
                    core.html(
                        "reflection/side_by_side_ours",
                        their_team=theirs.name,
                        text=said_by_us.text if said_by_us else none,
                    ),
                    said_by_us.id if said_by_us else None,
                ),
                Block(
                    core.html(
                        "reflection/side_by_side_theirs",
                        partner=ours_to.name,
                        opening=opening_words(said_by_them.text),
                    ),
                    said_by_them.id,
                )
                if said_by_them
                else Block(
                    core.html(
                        "reflection/side_by_side_theirs_none", partner=ours_to.name, none=none
                    )
                ),
            )
            # In workshop 3, a word on what the two are for.
            + (
                (Block(core.html("reflection/side_by_side_end"), keeps=False),)
                if reflecting
                else ()
            )
        )

    async def _send_round(
        self,
        tx: Tx,
        owed: Owed,
        swap: Swap,
        people: People,
        round_: int,
        group: int | None = None,
    ) -> None:
        """A reflection round's question, ending with what comes after it."""

        async def question(_: int) -> Piece:
            if round_ >= REFLECTION_ROUNDS:
                after = self.core.html("reflection/after_last")
            elif swap.reflection_release is Release.ALL_AT_ONCE:
                after = self.core.html("reflection/after_next_below", next=round_ + 1)
            else:
                after = self.core.html("reflection/after_next_later", next=round_ + 1)
            return Piece.of(
                self.core.html(f"reflection/round_{round_}", after=after),
                context={"round": round_},
            )

        chats = [person.telegram_id for _, person in people]
        for chat, piece in await self.core.in_each_language(tx, chats, question):
            owed.add(chat, piece)

        async def for_group(_: int) -> Piece:
            return Piece.of(
                self.core.html(
                    "group/round",
                    round=round_,
                    question=self.core.label(f"round_{round_}"),
                    link=self.core.link_private(),
                )
            )

        if group is not None:
            for chat, piece in await self.core.in_each_language(tx, [group], for_group):
                owed.add(chat, piece, quiet=True)

    async def _record(self, tx: Tx, owed: Owed, swap: Swap, team: Team, people: People) -> None:
        """At the close, each member's copy of their team's part of the record:
        the dilemma it posed, what came back, and the side by side (its own team
        response beside the partner's); never a teammate's own words."""
        chats = [person.telegram_id for _, person in people]
        owed_pieces = await self.core.in_each_language(
            tx, chats, lambda _: self.team_record(tx, swap, team)
        )
        # Piece by piece, as before: each chat gets the record in order.
        for index in range(max((len(p) for _, p in owed_pieces), default=0)):
            for chat, pieces in owed_pieces:
                if index < len(pieces):
                    owed.add(chat, pieces[index])

    async def team_record(self, tx: Tx, swap: Swap, team: Team) -> list[Piece]:
        """A team's part of the record as pieces of messages (each quoting what
        it carries, so that a withdrawal takes out only its own words)."""
        pieces: list[Piece] = []
        dilemmas = await tx.contributions.confirmed(team_id=team.id, kind=Kind.DILEMMA)
        if dilemmas:
            pieces.append(
                Piece.of(
                    self.core.html("phase/record_dilemma", text=dilemmas[-1].text),
                    quotes=dilemmas[-1].id,
                )
            )
        returned, _ = await self._returned(
            tx, swap, team, only_new=False, nothing="phase/record_nothing_returned"
        )
        pieces.extend(returned)
        # The dilemma the team worked on, above what it said about it.
        recipients = await tx.allocations.get(swap.id)
        if team.id in recipients.values():
            poser = await tx.teams.get(works_on(recipients, team.id))
            theirs = (
                await tx.contributions.confirmed(team_id=poser.id, kind=Kind.DILEMMA)
                if poser
                else []
            )
            if poser is not None and theirs:
                pieces.append(
                    Piece.of(
                        self.core.html(
                            "phase/record_their_dilemma", team=poser.name, text=theirs[-1].text
                        ),
                        quotes=theirs[-1].id,
                    )
                )
        side_by_side = await self._side_by_side_piece(tx, swap, team)
        if side_by_side is not None:
            pieces.append(side_by_side)
        return pieces

    async def catch_up(
        self, tx: Tx, mail: Mail, person: Person, membership: Membership, team: Team, swap: Swap
    ) -> None:
        """A late joiner gets what their team was already sent, and the current
        prompts beyond the phase's opening, which their receipt carries (``opening``).

        Before workshop 1 there is nothing yet: the receipt says what comes next.
        """
        people: People = [(membership, person)]
        phase = swap.phase
        if phase is Phase.SETUP:
            return
        owed = Owed()
        if phase is Phase.CLOSED:
            await self._record(tx, owed, swap, team, people)
        if phase in (Phase.RESPONSE, Phase.REFLECTION):
            await self._deliver_dilemma(tx, owed, swap, team, people, only_new=False)
        if phase is Phase.REFLECTION:
            await self._deliver_returns(tx, owed, swap, team, people, only_new=False)
            await self._side_by_side(tx, owed, swap, team, people)
            for round_ in range(1, swap.rounds_released + 1):
                await self._send_round(tx, owed, swap, people, round_)
        # One notification for all of it, after the receipt (an edit, which has none).
        await owed.fold_into(self.core.mail(tx, notify_once=True))

    # -- /reopen ------------------------------------------------------------

    @act
    async def reopen(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Take the swap back one phase so late contributions can still come in."""
        core = self.core
        swap = await core.current_swap(tx, who)
        try:
            target = can_reopen(swap.phase)
        except NotAllowed:
            raise Refusal(
                "organiser/cannot_reopen", phase=core.label(f"phase_{swap.phase.value}")
            ) from None
        await tx.swaps.set_phase(swap.id, target)
        await tx.swaps.record_transition(
            swap.id, swap.phase, target, who.telegram_id, forced=False, missing=[]
        )
        await tx.audit.record(
            swap.id, who.telegram_id, "reopen", before=swap.phase.value, after=target.value
        )
        log.info("Swap %d reopened: back from %s to %s", swap.id, swap.phase.value, target.value)
        count = 0
        bulk = core.mail(tx, bulk=True)
        for team in await tx.teams.of_swap(swap.id):
            count += await core.tell_team(
                tx, bulk, team.id, f"phase/reopened_{target.value}", title=swap.title
            )
        await mail.send(
            who.telegram_id,
            "organiser/reopened",
            title=swap.title,
            phase=core.label(f"phase_{target.value}"),
            people=count,
        )
