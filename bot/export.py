"""The swap's record for the research team, as a Markdown file.

Per team: the dilemma it posed, the responses it received (consolidated
first) and its reflections by round; then the log of phase moves. No Telegram
ids, usernames or names: contributions carry their team only.
"""

from __future__ import annotations

from bot.core import Core, Mail, Who, act
from bot.model import Kind
from bot.procedure import REFLECTION_ROUNDS
from storage.tx import Tx


def quote(text: str) -> str:
    """A person's words as a Markdown block quote, so they cannot restructure the file."""
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


class Export:
    """``/export``: the record of the organiser's current swap."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @act
    async def export(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Send the organiser the current swap's record as a file."""
        swap = await self.core.current_swap(tx, who)
        await self.send_to(tx, mail, who.telegram_id, swap.id)

    async def send_to(self, tx: Tx, mail: Mail, chat_id: int, swap_id: int) -> None:
        """Owe ``chat_id`` the swap's record as files."""
        swap = await tx.swaps.get(swap_id)
        assert swap is not None
        quoted: list[int] = []
        record = await self.render(tx, swap_id, quoted)
        slug = "".join(c if c.isalnum() else "-" for c in swap.title.lower()).strip("-")[:40]
        # The file quotes everyone's words: a withdrawal before it goes stops it.
        await mail.document(
            chat_id,
            f"dilemma-swap-{slug or swap.id}.md",
            record.encode("utf-8"),
            "organiser/export_caption",
            quotes=quoted,
            title=swap.title,
        )

    async def render(self, tx: Tx, swap_id: int, quoted: list[int]) -> str:
        """The record as Markdown; the ids of the contributions it quotes go into ``quoted``."""
        p = self.core.prompts
        swap = await tx.swaps.get(swap_id)
        assert swap is not None
        teams = await tx.teams.of_swap(swap.id)
        names = {t.id: t.name for t in teams}
        recipients = await tx.allocations.get(swap.id)
        out = [
            p.raw(
                "export/header",
                title=swap.title,
                when=tx.now,
                phase=self.core.label(f"phase_{swap.phase.value}"),
            )
        ]
        for team in teams:
            out.append(p.raw("export/team", team=team.name))
            dilemma = await tx.contributions.confirmed(team_id=team.id, kind=Kind.DILEMMA)
            out.append(
                p.raw(
                    "export/dilemma",
                    team=team.name,
                    text=quote(dilemma[-1].text) if dilemma else self.core.label("nothing_yet"),
                )
            )
            quoted.extend(d.id for d in dilemma[-1:])
            receiver_id = recipients.get(team.id)
            if receiver_id is not None:
                out.append(p.raw("export/received", partner=names[receiver_id]))
                consolidated = await tx.contributions.team_response(receiver_id, team.id)
                if consolidated is not None:
                    out.append(p.raw("export/team_response", text=quote(consolidated.text)))
                    quoted.append(consolidated.id)
                answers = await tx.contributions.confirmed(
                    team_id=receiver_id, kind=Kind.ANSWER, about_team_id=team.id
                )
                for number, item in enumerate(answers, start=1):
                    out.append(p.raw("export/answer", number=number, text=quote(item.text)))
                    quoted.append(item.id)
            out.append(p.raw("export/reflections", team=team.name))
            for round_ in range(1, REFLECTION_ROUNDS + 1):
                items = await tx.contributions.confirmed(
                    team_id=team.id, kind=Kind.REFLECTION, round=round_
                )
                if items:
                    out.append(
                        p.raw(
                            "export/round",
                            round=round_,
                            question=self.core.label(f"round_{round_}"),
                        )
                    )
                    out.extend(quote(i.text) for i in items)
                    quoted.extend(i.id for i in items)
        out.append(p.raw("export/transitions"))
        for move in await tx.swaps.transitions(swap.id):
            out.append(
                p.raw(
                    "export/transition",
                    at=move["at"],
                    from_phase=self.core.label(f"phase_{move['from_phase']}"),
                    to_phase=self.core.label(f"phase_{move['to_phase']}"),
                    forced=p.raw("export/forced", missing=", ".join(move["missing"]))
                    if move["forced"]
                    else "",
                )
            )
        return "\n\n".join(part.strip() for part in out) + "\n"
