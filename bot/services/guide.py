"""``/help``: what this person can do now, for their role and the swap's phase.

The words around the list are prompts (``prompts/help/``); the list itself
comes from the command table (``bot.commands``), so a new command shows up in
``/help`` for the right people without anyone editing a help text.
"""

from __future__ import annotations

from bot.commands import Audience, offered
from bot.model import Phase, Waiting
from bot.services.core import Core, Mail, Who, act
from bot.services.phases import Phases
from bot.text import Html
from storage.tx import Tx


class Guide:
    """``/help``."""

    def __init__(self, core: Core, phases: Phases) -> None:
        self.core = core
        self.phases = phases  # for the dates that concern a person now

    def commands(self, audience: Audience, phase: Phase | None = None) -> Html:
        """The commands for this audience and phase, one line each."""
        descriptions = self.core.prompts_now().table("commands")
        return Html(
            "\n".join(
                self.core.html("help/command", name=name, description=descriptions[name])
                for name in offered(audience, phase)
            )
        )

    @act
    async def help(self, tx: Tx, mail: Mail, who: Who) -> None:
        """What this person can do now, for their role and the swap's phase."""
        core = self.core
        member = await core.member_or_none(tx, who)
        if core.is_organiser(who):
            swap_id = await tx.organisers.current_swap_id(who.telegram_id)
            swap = await tx.swaps.get(swap_id) if swap_id else None
            current = (
                core.html(
                    "help/organiser_current",
                    title=swap.title,
                    phase=core.label(f"phase_{swap.phase.value}"),
                )
                if swap
                else core.html("help/organiser_no_swap")
            )
            also = core.html("help/organiser_also_member", team=member.team.name) if member else ""
            await mail.send(
                who.telegram_id,
                "help/organiser",
                current=current,
                also=also,
                commands=self.commands(Audience.ORGANISER),
            )
            return
        if member is None:
            conversation = await tx.conversations.get(who.telegram_id)
            key = (
                "join/please_decide"
                if conversation and conversation.state is Waiting.PENDING_JOIN
                else "help/stranger"
            )
            await mail.send(who.telegram_id, key)
            return
        await mail.send(
            who.telegram_id,
            f"help/{member.role.value}_{member.swap.phase.value}",
            team=member.team.name,
            title=member.swap.title,
            commands=self.commands(Audience.of(member.role), member.swap.phase),
            dates=await self.phases.dates(tx, member.swap, member.swap.phase),
        )
