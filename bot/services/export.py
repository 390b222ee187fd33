"""The swap's record for the research team: a report and a dataset, four files.

- ``.md``: the report in Markdown. Per team: the dilemma it posed, the responses
  it received (consolidated first), its own consolidated response to its
  partner's dilemma, the workshop 3 side by side, its reflections by round, and
  the comments of the member check; then the timeline of phase moves.
- ``.html``: the same report rendered by the ``markdown`` library into one page
  with its style inline (nothing fetched), for phones and for print (each team
  starts a new page).
- ``.csv`` and ``.json``: one record per confirmed contribution, with the
  contract's columns (``team``, ``role``, ``person``, ``kind``, ``round``,
  ``text``, ``confirmed_at``) and the swap, phase and prompt it answered.

People's words are text, never markup: every character Markdown or HTML could
read as syntax is escaped, so a contribution holding ``<img src=...>`` or a
``javascript:`` link shows as written and fetches or runs nothing. A CSV cell
a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) is prefixed
with an apostrophe. People appear as pseudonyms (a random id stored with them,
the same in every export), never names or Telegram ids, unless the swap shares
names.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markdown

from bot.config import LocalSettings
from bot.model import Contribution, Kind, Role, Swap
from bot.procedure import REFLECTION_ROUNDS, phase_of
from bot.services.core import Core, Mail, Who, act
from bot.text import Prompts
from storage.db import Database, DatabaseUnusable
from storage.tx import Tx

# Contributions in the order the procedure makes them.
_KIND_ORDER = [Kind.PROPOSAL, Kind.DILEMMA, Kind.ANSWER, Kind.TEAM_RESPONSE, Kind.REFLECTION]
COLUMNS = [
    "swap",
    "swap_title",
    "team",
    "role",
    "person",
    "kind",
    "round",
    "phase",
    "prompt",
    "about_team",
    "text",
    "confirmed_at",
]
# Markdown syntax anywhere in a line (``<``, ``>`` and ``&`` are HTML-escaped first)...
# (``~`` is none: neither the report's Markdown nor the chat's strikes through, and
# a backslash before it would stay, shown.)
_INLINE_SYNTAX = re.compile(r"([\\`*_{}\[\]|])")
# ...and at the start of a line: headings, list items, rules, setext underlines.
_LINE_START = re.compile(r"^(\s*)([#+\-=])", re.MULTILINE)
_ORDERED_ITEM = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)
# A first character a spreadsheet reads as the start of a formula (and the
# apostrophe itself, so that the neutralising one can always be taken off again).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def md_text(text: str) -> str:
    """Plain text as Markdown that shows exactly that text: nothing in it is syntax."""
    escaped = _INLINE_SYNTAX.sub(r"\\\1", html.escape(text, quote=False))
    escaped = _LINE_START.sub(r"\1\\\2", escaped)
    return _ORDERED_ITEM.sub(r"\1\\\2", escaped)


def quote(text: str) -> str:
    """A person's words as a Markdown block quote, line breaks kept, markup inert."""
    lines = [md_text(line) for line in text.strip().splitlines()]
    return "\n".join(f"> {line}  " if line.strip() else ">" for line in lines)


def cell(text: str) -> str:
    """A person's words in one table cell: inert, on one line (breaks as ``<br>``)."""
    return "<br>".join(md_text(line) for line in text.strip().splitlines()) or " "


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (see ``_FORMULA_START``)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass
class Files:
    """The four files of an export, and the contributions they quote."""

    stem: str
    markdown: str
    html: str
    csv: str
    json: str
    quoted: list[int]

    def named(self) -> list[tuple[str, bytes]]:
        return [
            (f"{self.stem}.md", self.markdown.encode()),
            (f"{self.stem}.html", self.html.encode()),
            (f"{self.stem}.csv", self.csv.encode()),
            (f"{self.stem}.json", self.json.encode()),
        ]


class Export:
    """``/export``, and the files behind it (also for ``python -m bot export``)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @act
    async def export(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Send the organiser the current swap's record as four files."""
        swap = await self.core.current_swap(tx, who)
        await self.send_to(tx, mail, who.telegram_id, swap.id)
        await tx.audit.record(swap.id, who.telegram_id, "export")

    async def send_to(self, tx: Tx, mail: Mail, chat_id: int, swap_id: int) -> None:
        """Owe ``chat_id`` the swap's record as files."""
        files = await self.files(tx, swap_id)
        swap = await tx.swaps.get(swap_id)
        assert swap is not None
        # The files quote everyone's words: a withdrawal before they go stops them.
        for name, content in files.named():
            await mail.document(
                chat_id,
                name,
                content,
                f"export/caption_{name.rsplit('.', 1)[1]}",
                quotes=files.quoted,
                title=swap.title,
            )

    async def files(self, tx: Tx, swap_id: int) -> Files:
        swap = await tx.swaps.get(swap_id)
        assert swap is not None
        records, quoted = await self.records(tx, swap)
        report = await self.report(tx, swap)
        slug = "".join(c if c.isalnum() else "-" for c in swap.title.lower()).strip("-")[:40]
        return Files(
            stem=f"dilemma-swap-{slug or swap.id}",
            markdown=report,
            html=self.page(swap, report),
            csv=self.csv(records),
            json=json.dumps(records, ensure_ascii=False, indent=2) + "\n",
            quoted=quoted,
        )

    # -- the data ---------------------------------------------------------------

    async def records(self, tx: Tx, swap: Swap) -> tuple[list[dict[str, Any]], list[int]]:
        """One record per confirmed contribution, and their ids."""
        teams = {t.id: t.name for t in await tx.teams.of_swap(swap.id)}
        recipients = await tx.allocations.get(swap.id)
        items = await tx.contributions.confirmed(swap_id=swap.id)
        items.sort(
            key=lambda c: (
                list(teams).index(c.team_id),
                _KIND_ORDER.index(c.kind),
                c.round or 0,
                c.id,
            )
        )
        people: dict[int, tuple[str, str]] = {}
        records = []
        for item in items:
            if item.person_id not in people:
                people[item.person_id] = await self._person(tx, swap, item.person_id)
            person, role = people[item.person_id]
            about = (
                item.about_team_id
                if item.kind is not Kind.DILEMMA
                else recipients.get(item.team_id)
            )
            records.append(
                {
                    "swap": swap.id,
                    "swap_title": swap.title,
                    "team": teams[item.team_id],
                    "role": role,
                    "person": person,
                    "kind": item.kind.value,
                    "round": item.round,
                    "phase": phase_of(item.kind).value,
                    "prompt": self._prompt(item, teams),
                    "about_team": teams.get(about) if about else None,
                    "text": item.text,
                    "confirmed_at": item.confirmed_at,
                }
            )
        return records, [c.id for c in items]

    async def _person(self, tx: Tx, swap: Swap, person_id: int) -> tuple[str, str]:
        """How a person appears in the data: pseudonym (or name), and lead or participant."""
        person = await tx.people.get(person_id)
        membership = await tx.memberships.in_swap(person_id, swap.id)
        assert person is not None
        role = "lead" if membership is not None and membership.role is Role.LEAD else "participant"
        return (person.display_name if swap.share_names else person.pseudonym), role

    def _prompt(self, item: Contribution, teams: dict[int, str]) -> str:
        """What the contribution answered, in words."""
        if item.kind is Kind.REFLECTION:
            return self.core.label(f"round_{item.round}")
        about = teams.get(item.about_team_id or 0, "")
        return self.core.label(f"prompt_{item.kind.value}", team=about)

    @staticmethod
    def csv(records: list[dict[str, Any]]) -> str:
        """RFC 4180: a header, CRLF line ends, quotes where needed; formulas neutralised."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for record in records:
            writer.writerow({k: spreadsheet_safe(v) for k, v in record.items()})
        return out.getvalue()

    # -- the report ---------------------------------------------------------------

    async def report(self, tx: Tx, swap: Swap) -> str:
        """The report as Markdown."""
        p = self.core.prompts
        teams = await tx.teams.of_swap(swap.id)
        names = {t.id: t.name for t in teams}
        recipients = await tx.allocations.get(swap.id)
        out = [
            p.raw(
                "export/header",
                title=md_text(swap.title),
                when=self.core.local_time(tx.now),
                phase=self.core.label(f"phase_{swap.phase.value}"),
                people=p.raw("export/names_shared" if swap.share_names else "export/names_hidden"),
            )
        ]
        nothing = md_text(self.core.label("nothing_yet"))
        for team in teams:
            name = md_text(team.name)
            out.append(p.raw("export/team", team=name))
            dilemma = await tx.contributions.confirmed(team_id=team.id, kind=Kind.DILEMMA)
            out.append(
                p.raw(
                    "export/dilemma",
                    team=name,
                    text=quote(dilemma[-1].text) if dilemma else nothing,
                )
            )
            receiver = recipients.get(team.id)
            theirs = None
            if receiver is not None:
                out.append(p.raw("export/received", partner=md_text(names[receiver])))
                theirs = await tx.contributions.team_response(receiver, team.id)
                if theirs is not None:
                    out.append(p.raw("export/team_response", text=quote(theirs.text)))
                answers = await tx.contributions.confirmed(
                    team_id=receiver, kind=Kind.ANSWER, about_team_id=team.id
                )
                out.extend(
                    p.raw("export/answer", number=n, text=quote(a.text))
                    for n, a in enumerate(answers, start=1)
                )
            poser = next((p_ for p_, r in recipients.items() if r == team.id), None)
            if poser is not None:
                ours = await tx.contributions.team_response(team.id, poser)
                out.append(
                    p.raw(
                        "export/own_response",
                        team=name,
                        partner=md_text(names[poser]),
                        text=quote(ours.text) if ours else nothing,
                    )
                )
                if receiver is not None:
                    out.append(
                        p.raw(
                            "export/side_by_side",
                            their_team=md_text(names[poser]),
                            partner=md_text(names[receiver]),
                            ours=cell(ours.text) if ours else nothing,
                            theirs=cell(theirs.text) if theirs else nothing,
                        )
                    )
            out.append(p.raw("export/reflections", team=name))
            for round_ in range(1, REFLECTION_ROUNDS + 1):
                items = await tx.contributions.confirmed(
                    team_id=team.id, kind=Kind.REFLECTION, round=round_
                )
                if items:
                    out.append(
                        p.raw(
                            "export/round",
                            round=round_,
                            question=md_text(self.core.label(f"round_{round_}")),
                        )
                    )
                    out.extend(quote(i.text) for i in items)
            comments = await tx.comments.confirmed(team.id)
            if comments:
                out.append(p.raw("export/comments", team=name))
                out.extend(quote(text) for text in comments)
        out.append(p.raw("export/transitions"))
        for move in await tx.swaps.transitions(swap.id):
            notes = []
            if move["forced"]:
                notes.append(
                    p.raw("export/forced", missing=md_text(", ".join(move["missing"]))).strip()
                )
            if move["automatic"]:
                notes.append(p.raw("export/automatic").strip())
            out.append(
                p.raw(
                    "export/transition",
                    at=self.core.local_time(move["at"]),
                    from_phase=self.core.label(f"phase_{move['from_phase']}"),
                    to_phase=self.core.label(f"phase_{move['to_phase']}"),
                    notes=" ".join(notes),
                )
            )
        return "\n\n".join(part.strip() for part in out) + "\n"

    def page(self, swap: Swap, report: str) -> str:
        """The report as one self-contained HTML page."""
        body = markdown.markdown(report, extensions=["tables"], output_format="html")
        return _PAGE.format(title=html.escape(swap.title), body=body)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.5 Georgia, serif; max-width: 46em; margin: 0 auto; padding: 1em;
        color: #222; }}
h1, h2, h3, h4 {{ font-family: system-ui, sans-serif; line-height: 1.2; }}
h2 {{ border-top: 3px solid #345; padding-top: .6em; margin-top: 2em; }}
blockquote {{ margin: .6em 0; padding: .2em 1em; border-left: 4px solid #9ab;
              background: #f5f7f9; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
th, td {{ border: 1px solid #ccd; padding: .5em; vertical-align: top; text-align: left;
          overflow-wrap: anywhere; }}
th {{ background: #eef1f4; }}
@media print {{
  body {{ max-width: none; font-size: 11pt; }}
  h2 {{ break-before: page; border-top: none; }}
  blockquote, tr {{ break-inside: avoid; }}
}}
</style></head>
<body>
{body}
</body></html>
"""


class ExportError(Exception):
    """The export cannot be made; the message is one line for a person."""


async def export_to_folder(settings: LocalSettings, swap_id: int, folder: Path) -> list[Path]:
    """``python -m bot export``: the four files of a swap, written to ``folder``.

    It reads the database without locking it, beside a running bot.
    """
    db = Database(settings.database_path)
    try:
        await db.open_read_only()
    except DatabaseUnusable as problem:
        raise ExportError(f"DATABASE_PATH {problem}") from None
    try:
        prompts = Prompts(Path(settings.prompts_dir) if settings.prompts_dir else None)
        core = Core(db, prompts, frozenset(), "", settings.zone)
        async with db.read() as tx:
            if await tx.swaps.get(swap_id) is None:
                raise ExportError(f"there is no swap {swap_id} (its number is in /swaps)")
            files = await Export(core).files(tx, swap_id)
    finally:
        await db.close()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.named():
        (folder / name).write_bytes(content)
        written.append(folder / name)
    return written
