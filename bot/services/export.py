"""The swap's record for the research team: a report, a dataset and a project for
qualitative-analysis software, five files.

- ``.md``: the report in Markdown. First its methods (team sizes and participation
  per workshop as "3 of 5", the settings, the phase moves with their dates, every
  question as people were asked it); then per team its proposals, the dilemma it
  posed, the responses it received (consolidated first), its own consolidated
  response, the workshop 3 side by side, its reflections by round, and the
  comments of the member check. Every contribution is a block of its own,
  labelled with its author's pseudonym (or name, when the swap shares names) and
  role.
- ``.html``: the same report rendered by the ``markdown`` library into one page
  with its style inline (nothing fetched), for phones and for print (A4, each
  team on a new page, no heading left at the foot of a page).
- ``.csv`` and ``.json``: one record per confirmed contribution and per
  member-check comment (``kind`` ``comment``), with an ``id`` that is the same in
  every export (``bot/research/ids.py``), ``adopted_from`` and ``responds_to``
  pointing at other records' ids, besides the contract's columns. The CSV starts
  with a byte-order mark, so that Excel reads it as UTF-8.
- ``.qdpx``: a REFI-QDA project (``bot/research/qdpx.py``): every contribution a
  text source coded with its kind (and round), teams and people as cases with
  variables, comments as notes on their team's case, and the participants table.

People's words are text, never markup: every character Markdown or HTML could
read as syntax is escaped, so a contribution holding ``<img src=...>`` or a
``javascript:`` link shows as written and fetches or runs nothing. A CSV cell
a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) is prefixed
with an apostrophe. People appear as pseudonyms (a random id stored with them,
the same in every export), never names or Telegram ids, unless the swap shares
names; member-check comments, promised "without your name", always carry the
pseudonym.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown

from bot.config import LocalSettings
from bot.model import Contribution, Kind, Role, Swap, Team
from bot.procedure import REFLECTION_ROUNDS, phase_of
from bot.research import qdpx
from bot.research.ids import Ids
from bot.services.core import Core, Mail, Who, act
from bot.text import ENGLISH, Prompts
from storage.db import Database, DatabaseUnusable
from storage.tx import Tx

COMMENT = "comment"  # the kind of a member-check comment in the data
# Records in the order the procedure makes them.
_KIND_ORDER = ["proposal", "dilemma", "answer", "team_response", "reflection", COMMENT]
COLUMNS = [
    "id",
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
    "adopted_from",
    "responds_to",
    "text",
    "confirmed_at",
    "language",
]
PARTICIPANT_COLUMNS = [
    "person",
    "team",
    "role",
    "joined_at",
    "consented_version",
    "left_at",
    *_KIND_ORDER,
]
# Which kinds count as taking part in each workshop (and the member check).
_TAKING_PART = [
    (Kind.PROPOSAL.value, Kind.DILEMMA.value),
    (Kind.ANSWER.value, Kind.TEAM_RESPONSE.value),
    (Kind.REFLECTION.value,),
    (COMMENT,),
]
# Every question people were asked, and where its words are: (label, prompt).
_QUESTIONS = [
    ("question_proposal", "workshop/ask_proposal"),
    ("question_dilemma", "workshop/ask_dilemma"),
    ("question_answer", "phase/response_member"),
    ("question_team_response", "workshop/ask_team_response"),
    *((f"question_round_{n}", f"reflection/round_{n}") for n in range(1, REFLECTION_ROUNDS + 1)),
    ("question_comment", "trail/membercheck_section"),
]
ORIGIN = "Dilemma Swap"
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
# Excel on Windows reads a CSV as UTF-8 only when it starts with this mark.
BOM = "\ufeff"


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


def quote_html(text: str) -> str:
    """A person's words as an HTML block quote, as ``quote`` shows them: escaped,
    line breaks kept, a blank line starting a new paragraph."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return (
        "<blockquote>\n"
        + "\n".join(
            "<p>"
            + "<br>\n".join(html.escape(line, quote=False) for line in p.splitlines())
            + "</p>"
            for p in paragraphs
        )
        + "\n</blockquote>"
    )


@dataclass(frozen=True)
class Entry:
    """A contribution in the report, as Markdown and as HTML written directly: people's
    words reach the page without passing through a Markdown parser (nothing in them
    can be read as syntax), and 10,000 of them render in a fraction of the time."""

    markdown: str
    html: str


Part = str | Entry  # a part of the report: Markdown to render, or a contribution


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (see ``_FORMULA_START``)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """RFC 4180 after a byte-order mark: a header, CRLF line ends, quotes where needed;
    formulas neutralised."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return out.getvalue()


@dataclass
class Participant:
    """Someone in the swap, as the research outputs show them."""

    person_id: int
    label: str  # pseudonym, or name when the swap shares names
    pseudonym: str
    team_id: int
    role: str  # lead or participant
    joined_at: str
    consented_version: str | None
    left_at: str | None = None  # left after the withdrawal cut-off, their words kept
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class Comment:
    id: int
    team_id: int
    person_id: int
    text: str
    confirmed_at: str


@dataclass
class Gathered:
    """Everything of a swap the five files show, read in a handful of queries."""

    swap: Swap
    ids: Ids
    teams: list[Team]
    recipients: dict[int, int]  # poser team → the team that works on its dilemma
    items: list[Contribution]  # confirmed, in the procedure's order
    comments: list[Comment]
    people: dict[int, Participant]
    transitions: list[dict[str, Any]]

    @property
    def names(self) -> dict[int, str]:
        return {t.id: t.name for t in self.teams}

    @property
    def multilingual(self) -> bool:
        """Whether the swap's contributions were written in more than one language."""
        return len({c.language for c in self.items}) > 1

    @property
    def dilemmas(self) -> dict[int, Contribution]:
        """Each team's dilemma as it stands (the latest confirmed), by team id."""
        return {c.team_id: c for c in self.items if c.kind is Kind.DILEMMA}

    def ordered_people(self) -> list[Participant]:
        """Everyone, team by team, leads first, in the order they joined."""
        position = {t.id: n for n, t in enumerate(self.teams)}
        return sorted(
            self.people.values(), key=lambda p: (position[p.team_id], p.role, p.joined_at)
        )

    def of(self, team_id: int, kind: Kind, **match: int | None) -> list[Contribution]:
        return [
            c
            for c in self.items
            if c.team_id == team_id
            and c.kind is kind
            and all(getattr(c, k) == v for k, v in match.items())
        ]


@dataclass
class Files:
    """The five files of an export, and the contributions they quote."""

    stem: str
    markdown: str
    html: str
    csv: str
    json: str
    qdpx: bytes
    quoted: list[int]

    def named(self) -> list[tuple[str, bytes]]:
        return [
            (f"{self.stem}.md", self.markdown.encode()),
            (f"{self.stem}.html", self.html.encode()),
            (f"{self.stem}.csv", self.csv.encode()),
            (f"{self.stem}.json", self.json.encode()),
            (f"{self.stem}.qdpx", self.qdpx),
        ]


class Export:
    """``/export``, and the files behind it (also for ``python -m bot export``)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._by_html: str | None = None

    @act
    async def export(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Send the organiser the current swap's record as five files."""
        swap = await self.core.current_swap(tx, who)
        await self.send_to(tx, mail, who.telegram_id, swap.id)

    async def send_to(self, tx: Tx, mail: Mail, chat_id: int, swap_id: int) -> None:
        """Owe ``chat_id`` the swap's record as files, and note when it was made (a
        withdrawal after it tells the organisers their copy is out of date)."""
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
        await tx.audit.record(swap.id, chat_id, "export")

    async def files(self, tx: Tx, swap_id: int) -> Files:
        g = await self.gather(tx, swap_id)
        records = self.records(g)
        parts = self.report_parts(g, tx.now)
        report = self.as_markdown(parts)
        slug = "".join(c if c.isalnum() else "-" for c in g.swap.title.lower()).strip("-")[:40]
        return Files(
            stem=f"dilemma-swap-{slug or g.swap.id}",
            markdown=report,
            html=self.page(g.swap, parts),
            csv=table_csv(COLUMNS, records),
            json=json.dumps(records, ensure_ascii=False, indent=2) + "\n",
            qdpx=qdpx.qdpx(self.project(g, records)),
            quoted=[c.id for c in g.items],
        )

    async def gather(self, tx: Tx, swap_id: int) -> Gathered:
        swap = await tx.swaps.get(swap_id)
        assert swap is not None
        teams = await tx.teams.of_swap(swap.id)
        position = {t.id: n for n, t in enumerate(teams)}
        items = await tx.contributions.confirmed(swap_id=swap.id)
        items.sort(
            key=lambda c: (
                position[c.team_id],
                _KIND_ORDER.index(c.kind.value),
                c.round or 0,
                c.id,
            )
        )
        people: dict[int, Participant] = {}
        for membership, person in await tx.memberships.of_swap(swap.id):
            # Someone who left after the cut-off was promised their words stay pseudonymised.
            named = swap.share_names and membership.left_at is None
            people[person.id] = Participant(
                person_id=person.id,
                label=person.display_name if named else person.pseudonym,
                pseudonym=person.pseudonym,
                team_id=membership.team_id,
                role="lead" if membership.role is Role.LEAD else "participant",
                joined_at=membership.joined_at,
                consented_version=await tx.consents.latest_agreed(person.id, membership.team_id),
                left_at=membership.left_at,
            )
        comments = [Comment(**c) for c in await tx.comments.confirmed_of_swap(swap.id)]
        authors = [(c.person_id, c.team_id) for c in items]
        authors += [(c.person_id, c.team_id) for c in comments]
        for person_id, team_id in authors:
            if person_id not in people:
                # Words whose author is no longer in the swap (leaving takes their words
                # with them, so this should not be): shown as a participant of the team.
                author = await tx.people.get(person_id)
                assert author is not None
                people[person_id] = Participant(
                    person_id=person_id,
                    label=author.display_name if swap.share_names else author.pseudonym,
                    pseudonym=author.pseudonym,
                    team_id=team_id,
                    role="participant",
                    joined_at=swap.created_at,
                    consented_version=None,
                )
        for item in items:
            people[item.person_id].counts[item.kind.value] += 1
        for comment in comments:
            people[comment.person_id].counts[COMMENT] += 1
        return Gathered(
            swap=swap,
            ids=Ids(swap.id, swap.created_at),
            teams=teams,
            recipients=await tx.allocations.get(swap.id),
            items=items,
            comments=comments,
            people=people,
            transitions=await tx.swaps.transitions(swap.id),
        )

    # -- the data ---------------------------------------------------------------

    def records(self, g: Gathered) -> list[dict[str, Any]]:
        """One record per confirmed contribution and per member-check comment."""
        names = g.names
        confirmed = {c.id for c in g.items}
        dilemmas = g.dilemmas
        records: list[dict[str, Any]] = []
        for item in g.items:
            person = g.people[item.person_id]
            about = (
                item.about_team_id
                if item.kind is not Kind.DILEMMA
                else g.recipients.get(item.team_id)
            )
            answered = (
                dilemmas.get(item.about_team_id)
                if item.kind in (Kind.ANSWER, Kind.TEAM_RESPONSE) and item.about_team_id
                else None
            )
            adopted = item.adopted_from if item.adopted_from in confirmed else None
            records.append(
                {
                    "id": g.ids.contribution(item.id),
                    "swap": g.swap.id,
                    "swap_title": g.swap.title,
                    "team": names[item.team_id],
                    "role": person.role,
                    "person": person.label,
                    "kind": item.kind.value,
                    "round": item.round,
                    "phase": phase_of(item.kind).value,
                    "prompt": self._prompt(item, names),
                    "about_team": names.get(about) if about else None,
                    "adopted_from": g.ids.contribution(adopted) if adopted else None,
                    "responds_to": g.ids.contribution(answered.id) if answered else None,
                    "text": item.text,
                    "confirmed_at": item.confirmed_at,
                    "language": item.language,
                }
            )
        for comment in g.comments:
            person = g.people[comment.person_id]
            team = names[comment.team_id]
            records.append(
                {
                    "id": g.ids.comment(comment.id),
                    "swap": g.swap.id,
                    "swap_title": g.swap.title,
                    "team": team,
                    "role": person.role,
                    # Comments were promised to be kept "without your name".
                    "person": person.pseudonym,
                    "kind": COMMENT,
                    "round": None,
                    "phase": "closed",
                    "prompt": self.core.label("prompt_comment", team=team),
                    "about_team": team,
                    "adopted_from": None,
                    # The team's part of the report: the team's case in the .qdpx.
                    "responds_to": g.ids.team(comment.team_id),
                    "text": comment.text,
                    "confirmed_at": comment.confirmed_at,
                    "language": None,
                }
            )
        # Comments go after their team's contributions, as in the report (a stable sort).
        position = {t.name: n for n, t in enumerate(g.teams)}
        records.sort(key=lambda r: position[r["team"]])
        return records

    def participants(self, g: Gathered) -> list[dict[str, Any]]:
        """One row per person in the swap: the denominators of participation."""
        names = g.names
        # Comments were promised "without your name": where the swap shows names, how
        # many each person wrote would say whose they are.
        counted = [k for k in _KIND_ORDER if k != COMMENT or not g.swap.share_names]
        return [
            {
                "person": p.label,
                "team": names[p.team_id],
                "role": p.role,
                "joined_at": p.joined_at,
                "consented_version": p.consented_version,
                "left_at": p.left_at,
                **{kind: p.counts[kind] if kind in counted else None for kind in _KIND_ORDER},
            }
            for p in g.ordered_people()
        ]

    def _prompt(self, item: Contribution, teams: dict[int, str]) -> str:
        """What the contribution answered, in words."""
        if item.kind is Kind.REFLECTION:
            return self.core.label(f"round_{item.round}")
        about = teams.get(item.about_team_id or 0, "")
        return self.core.label(f"prompt_{item.kind.value}", team=about)

    @staticmethod
    def csv(records: list[dict[str, Any]]) -> str:
        """The records as CSV (see ``table_csv``)."""
        return table_csv(COLUMNS, records)

    # -- the project for qualitative-analysis software ------------------------------

    def project(self, g: Gathered, records: list[dict[str, Any]]) -> qdpx.Project:
        """The REFI-QDA project: sources, cases, codebook, variables, notes."""
        ids, label = g.ids, self.core.label
        variables = {
            name: qdpx.Variable(ids.of("variable", name), name, kind)
            for name, kind in [
                ("swap", "Text"),
                ("team", "Text"),
                ("role", "Text"),
                ("kind", "Text"),
                ("phase", "Text"),
                ("round", "Integer"),
                ("joined_at", "DateTime"),
                ("consented_version", "Text"),
                ("left_at", "DateTime"),
                *((kind, "Integer") for kind in _KIND_ORDER),
            ]
        }
        # The codebook: each kind of contribution, and each reflection round within
        # its kind, described by the question people were asked.
        asked = {
            title: self.core.prompts.as_asked(key, title=g.swap.title, until=label("the_date"))
            for title, key in _QUESTIONS
        }
        rounds = tuple(
            qdpx.Code(
                ids.of("code", "round", n),
                label("qda_round", round=n, question=label(f"round_{n}")),
                asked[f"question_round_{n}"],
            )
            for n in range(1, REFLECTION_ROUNDS + 1)
        )
        codes = {
            kind: qdpx.Code(
                ids.of("code", kind),
                kind,
                asked.get(f"question_{kind}", label(f"question_{kind}")),
                rounds if kind == Kind.REFLECTION.value else (),
            )
            for kind in _KIND_ORDER
            if kind != COMMENT
        }
        record_of = {r["id"]: r for r in records}
        sources: list[qdpx.Source] = []
        notes: list[qdpx.Note] = []
        of_case: dict[str, list[str]] = {}
        items = [(ids.contribution(c.id), c.team_id, c.person_id) for c in g.items]
        items += [(ids.comment(c.id), c.team_id, c.person_id) for c in g.comments]
        names = qdpx.names_made_unique(
            label(
                "qda_source_round" if record_of[guid]["round"] else "qda_source",
                team=record_of[guid]["team"],
                kind=record_of[guid]["kind"],
                round=record_of[guid]["round"],
                person=record_of[guid]["person"],
            )
            for guid, _, _ in items
        )
        for (guid, team_id, person_id), name in zip(items, names, strict=True):
            record = record_of[guid]
            values: dict[str, qdpx.Value] = {
                "swap": g.swap.title,
                "team": record["team"],
                "role": record["role"],
                "kind": record["kind"],
                "phase": record["phase"],
            }
            if record["round"]:
                values["round"] = record["round"]
            if record["kind"] == COMMENT:
                notes.append(
                    qdpx.Note(
                        guid=guid,
                        name=name,
                        text=record["text"],
                        created=record["confirmed_at"],
                        about=ids.team(team_id),
                        link_guid=ids.of("link", guid),
                        link_name=label("qda_comment_on", team=record["team"]),
                        values=values,
                    )
                )
                continue
            coded = [codes[record["kind"]].guid]
            if record["round"]:
                coded.append(rounds[record["round"] - 1].guid)
            sources.append(
                qdpx.Source(
                    guid=guid,
                    name=name,
                    text=record["text"],
                    created=record["confirmed_at"],
                    codes=tuple(coded),
                    values=values,
                )
            )
            of_case.setdefault(ids.team(team_id), []).append(guid)
            of_case.setdefault(ids.person(g.people[person_id].pseudonym), []).append(guid)
        cases = [
            qdpx.Case(
                ids.team(t.id),
                t.name,
                {"swap": g.swap.title, "team": t.name},
                tuple(of_case.get(ids.team(t.id), [])),
            )
            for t in g.teams
        ]
        participants = self.participants(g)
        for row, p in zip(participants, g.ordered_people(), strict=True):
            case = ids.person(p.pseudonym)
            values = {"swap": g.swap.title, "team": row["team"], "role": p.role}
            values["joined_at"] = p.joined_at
            if p.consented_version:
                values["consented_version"] = p.consented_version
            if p.left_at:
                values["left_at"] = p.left_at
            values.update({kind: row[kind] for kind in _KIND_ORDER if row[kind] is not None})
            cases.append(qdpx.Case(case, p.label, values, tuple(of_case.get(case, []))))
        return qdpx.Project(
            name=g.swap.title,
            origin=ORIGIN,
            created=g.swap.created_at,
            description=self.core.prompts.raw(
                "export/names_shared" if g.swap.share_names else "export/names_hidden"
            ).strip(),
            variables=list(variables.values()),
            codes=list(codes.values()),
            cases=cases,
            sources=sources,
            notes=notes,
            extra_files={"participants.csv": table_csv(PARTICIPANT_COLUMNS, participants).encode()},
        )

    # -- the report ---------------------------------------------------------------

    async def report(self, tx: Tx, swap: Swap) -> str:
        """The report as Markdown."""
        return self.as_markdown(self.report_parts(await self.gather(tx, swap.id), tx.now))

    def _block(
        self, g: Gathered, person_id: int, text: str, confirmed_at: str | None, **extra: str
    ) -> Entry:
        """One contribution: a line saying who wrote it (their pseudonym, or name when
        names are shared) and their role, then their words as a block quote. (The line
        also keeps two contributions from running together: Markdown joins block
        quotes that follow each other into one.)"""
        person = g.people[person_id]
        values = {
            "person": extra.get("label", person.label),
            "role": self.core.label("role_lead" if person.role == "lead" else "role_member"),
            "when": self.core.local_time(confirmed_at) if confirmed_at else "",
            "note": extra.get("note", ""),
        }
        by = self.core.prompts.raw("export/by", **{**values, "person": md_text(values["person"])})
        by_html = self._by_template()
        for name, value in values.items():
            by_html = by_html.replace(f"zz{name}zz", html.escape(value, quote=False))
        by_html = by_html.replace(" </p>", "</p>")  # no note
        return Entry(f"{by.strip()}\n\n{quote(text)}", f"{by_html}\n{quote_html(text)}")

    def _by_template(self) -> str:
        """The line above a contribution as HTML, its values still to be put in."""
        if self._by_html is None:
            self._by_html = markdown.markdown(
                self.core.prompts.raw(
                    "export/by",
                    person="zzpersonzz",
                    role="zzrolezz",
                    when="zzwhenzz",
                    note="zznotezz",
                ).strip(),
                output_format="html",
            )
        return self._by_html

    def _item(self, g: Gathered, item: Contribution, note: str = "") -> Entry:
        if g.multilingual:
            # People wrote in more than one language: each says which (their words
            # are never translated).
            name = self.core.prompts.language_name(item.language, ENGLISH)
            note = " ".join(filter(None, [note, self.core.label("written_in", name=name)]))
        return self._block(g, item.person_id, item.text, item.confirmed_at, note=note)

    @staticmethod
    def as_markdown(parts: list[Part]) -> str:
        """The report as Markdown."""
        return (
            "\n\n".join(
                (part.markdown if isinstance(part, Entry) else part).strip() for part in parts
            )
            + "\n"
        )

    def report_parts(self, g: Gathered, now: str) -> list[Part]:
        """The report, part by part."""
        p = self.core.prompts
        swap = g.swap
        names = g.names
        out: list[Part] = [
            p.raw(
                "export/header",
                title=md_text(swap.title),
                when=self.core.local_time(now),
                phase=self.core.label(f"phase_{swap.phase.value}"),
                people=p.raw("export/names_shared" if swap.share_names else "export/names_hidden"),
            ),
            *self._methods(g),
        ]
        nothing = md_text(self.core.label("nothing_yet"))
        adopted = {c.adopted_from for c in g.items if c.adopted_from}
        for team in g.teams:
            name = md_text(team.name)
            out.append(p.raw("export/team", team=name))
            proposals = g.of(team.id, Kind.PROPOSAL)
            if proposals:
                out.append(p.raw("export/proposals", team=name))
                out.extend(
                    self._item(
                        g,
                        c,
                        note=self.core.label("adopted_note") if c.id in adopted else "",
                    )
                    for c in proposals
                )
            dilemma = g.dilemmas.get(team.id)
            out.append(p.raw("export/dilemma", team=name))
            out.append(self._item(g, dilemma) if dilemma else nothing)
            receiver = g.recipients.get(team.id)
            theirs = None
            if receiver is not None:
                out.append(p.raw("export/received", partner=md_text(names[receiver])))
                found = g.of(receiver, Kind.TEAM_RESPONSE, about_team_id=team.id)
                theirs = found[-1] if found else None
                if theirs is not None:
                    out.append(p.raw("export/team_response"))
                    out.append(self._item(g, theirs))
                answers = g.of(receiver, Kind.ANSWER, about_team_id=team.id)
                if answers:
                    out.append(p.raw("export/answers"))
                    out.extend(self._item(g, a) for a in answers)
            poser = next((p_ for p_, r in g.recipients.items() if r == team.id), None)
            if poser is not None:
                found = g.of(team.id, Kind.TEAM_RESPONSE, about_team_id=poser)
                ours = found[-1] if found else None
                out.append(p.raw("export/own_response", team=name, partner=md_text(names[poser])))
                out.append(self._item(g, ours) if ours else nothing)
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
            reflections = g.of(team.id, Kind.REFLECTION)
            if reflections:
                out.append(p.raw("export/reflections", team=name))
            for round_ in range(1, REFLECTION_ROUNDS + 1):
                items = [c for c in reflections if c.round == round_]
                if items:
                    out.append(
                        p.raw(
                            "export/round",
                            round=round_,
                            question=md_text(self.core.label(f"round_{round_}")),
                        )
                    )
                    out.extend(self._item(g, i) for i in items)
            comments = [c for c in g.comments if c.team_id == team.id]
            if comments:
                out.append(p.raw("export/comments", team=name))
                out.extend(
                    self._block(
                        g,
                        c.person_id,
                        c.text,
                        c.confirmed_at,
                        label=g.people[c.person_id].pseudonym,
                    )
                    for c in comments
                )
        return out

    def _methods(self, g: Gathered) -> list[str]:
        """How the record came about: who took part, the settings, the moves, the questions."""
        p, label, swap = self.core.prompts, self.core.label, g.swap
        rows = []
        for team in g.teams:
            members = [m for m in g.people.values() if m.team_id == team.id]

            def took_part(kinds: tuple[str, ...], members: list[Participant] = members) -> str:
                count = sum(any(m.counts[k] for k in kinds) for m in members)
                return label("count_of", count=count, total=len(members))

            rows.append(
                p.raw(
                    "export/participation_row",
                    team=md_text(team.name),
                    leads=sum(m.role == "lead" for m in members),
                    members=sum(m.role != "lead" for m in members),
                    workshop1=took_part(_TAKING_PART[0]),
                    workshop2=took_part(_TAKING_PART[1]),
                    workshop3=took_part(_TAKING_PART[2]),
                    comments=took_part(_TAKING_PART[3]),
                ).strip()
            )
        out = [
            p.raw("export/methods"),
            p.raw("export/participation", rows="\n".join(rows)),
            p.raw(
                "export/settings",
                allocation=label(f"allocation_{swap.allocation.value}"),
                release=label(f"release_{swap.reflection_release.value}"),
                names=label("names_shared" if swap.share_names else "names_hidden"),
                reminders=md_text(swap.reminders),
                quiet=md_text(swap.quiet.replace(" ", "–")),
                member_check=label(
                    "member_check_until", when=self.core.local_time(swap.member_check_until)
                )
                if swap.member_check_until
                else label("member_check_none"),
            ),
            p.raw("export/transitions"),
        ]
        moves = []
        for move in g.transitions:
            notes = []
            if move["forced"]:
                notes.append(
                    p.raw("export/forced", missing=md_text(", ".join(move["missing"]))).strip()
                )
            if move["automatic"]:
                notes.append(p.raw("export/automatic").strip())
            # A move within workshop 3 released the next reflection round(s).
            key = (
                "export/transition_round"
                if move["from_phase"] == move["to_phase"]
                else "export/transition"
            )
            moves.append(
                p.raw(
                    key,
                    at=self.core.local_time(move["at"]),
                    from_phase=label(f"phase_{move['from_phase']}"),
                    to_phase=label(f"phase_{move['to_phase']}"),
                    notes=" ".join(notes),
                ).strip()
            )
        out.append("\n".join(moves) or md_text(label("nothing_yet")))
        out.append(p.raw("export/questions"))
        for title, key in _QUESTIONS:
            asked = p.as_asked(key, title=md_text(swap.title), until=label("the_date"))
            out.append(
                p.raw(
                    "export/question",
                    question=label(title),
                    text="\n".join(f"> {line}" if line else ">" for line in asked.splitlines()),
                )
            )
        return out

    def page(self, swap: Swap, parts: list[Part]) -> str:
        """The report as one self-contained HTML page: its Markdown rendered by the
        ``markdown`` library a part at a time, its contributions as they are."""
        renderer = markdown.Markdown(extensions=["tables"], output_format="html")
        body = "\n".join(
            part.html if isinstance(part, Entry) else renderer.reset().convert(part)
            for part in parts
        )
        return _PAGE.format(title=html.escape(swap.title), body=body)


async def note_export_outdated(core: Core, tx: Tx, mail: Mail, swap_id: int, since: str) -> None:
    """Someone's part in a swap was deleted (a withdrawal, a removal). If the swap's
    last export holds it (it was there before the export was made), the organisers
    are told, once per export and without saying who, that their copy no longer
    matches the record."""
    last = await tx.audit.last_at(swap_id, "export")
    if last is None or since > last:
        return
    swap = await tx.swaps.get(swap_id)
    if swap is not None and await tx.schedule.mark_fired(
        swap_id, f"export_outdated:{last}", "sent"
    ):
        for organiser in await core.organisers_of(tx, swap):
            await mail.send(organiser, "organiser/export_outdated", title=swap.title)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
@page {{ size: A4; margin: 18mm 16mm 20mm; }}
body {{ font: 16px/1.5 Georgia, serif; max-width: 46em; margin: 0 auto; padding: 1em;
        color: #222; }}
h1, h2, h3, h4 {{ font-family: system-ui, sans-serif; line-height: 1.2;
                  break-after: avoid; page-break-after: avoid; }}
h2 {{ border-top: 3px solid #345; padding-top: .6em; margin-top: 2em; }}
h4 {{ margin-bottom: .4em; }}
p strong:first-child {{ font-family: system-ui, sans-serif; }}
blockquote {{ margin: .3em 0 1.2em; padding: .2em 1em; border-left: 4px solid #9ab;
              background: #f5f7f9; break-before: avoid; page-break-before: avoid; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
th, td {{ border: 1px solid #ccd; padding: .5em; vertical-align: top; text-align: left;
          overflow-wrap: anywhere; }}
th {{ background: #eef1f4; }}
@media (max-width: 30em) {{
  body {{ font-size: 15px; padding: .6em; }}
  table {{ display: block; overflow-x: auto; table-layout: auto; font-size: 14px; }}
  th, td {{ padding: .3em; overflow-wrap: normal; min-width: 4.5em; }}
}}
@media print {{
  body {{ max-width: none; font-size: 10.5pt; padding: 0; }}
  h2 {{ break-before: page; page-break-before: always; border-top: none; margin-top: 0; }}
  body > h2:first-of-type {{ break-before: auto; page-break-before: auto; }}
  blockquote, tr {{ break-inside: avoid; page-break-inside: avoid; }}
}}
</style></head>
<body>
{body}
</body></html>
"""


class ExportError(Exception):
    """The export cannot be made; the message is one line for a person."""


async def export_to_folder(settings: LocalSettings, swap_id: int, folder: Path) -> list[Path]:
    """``python -m bot export``: the five files of a swap, written to ``folder``.

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
