"""``python -m bot rehearse [DIR]``: a whole swap, played against the built-in stand-in.

No token and no network: the real bot runs against ``bot.standin`` on
127.0.0.1, and a script plays an organiser and two teams of three through
every phase, from ``/newswap`` to the export. Each person's chat is written to
DIR as they saw it (one Markdown file each, and one HTML page with everyone
side by side), with the files the organiser received. With ``--prompts`` the
organiser reviews their own wording before anyone is invited.

The script waits on the bot, never on the clock: after each thing a person
does, it waits until the bot has handled that update and sent everything it
owed. It presses buttons by the labels the chat contract fixes ("I agree",
"Confirm"), so edited prompts do not break it.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Update

from bot.app import build_application
from bot.config import Settings
from bot.delivery.worker import Limits
from bot.standin import BotAPIStandIn, SentMessage, TestUser
from bot.text import ENGLISH, Prompts
from storage.db import Database

TOKEN = "700000:rehearsal-token-for-the-built-in-stand-in"
BOT_USERNAME = "dilemma_swap_rehearsal_bot"
ORGANISER_ID = 1
TITLE = "Rehearsal: Northshire and Southvale"
STEP_TIMEOUT = 30.0

# Each team: its lead, then two participants. Words from the seeds' practitioners.
TEAMS = {
    "Northshire": ("Nadia", "Noah", "Nell"),
    "Southvale": ("Sami", "Sofia", "Seth"),
}
DILEMMAS = {
    "Northshire": "Our steering groups each own a piece of early help, so anything "
    "integrated is always owned by somebody, and that excludes somebody else. Who "
    "should hold the whole picture for a family?",
    "Southvale": "Head teachers are judged on attainment, so time spent with other "
    "professionals feels like time taken from results. How do we make joint work "
    "count for schools without adding another target?",
}
IDENTIFYING = (
    "The family at 14 Rowan Close, LS6 2QT (mum on 07700 900123) has had four "
    "plans in a year. Who should hold the whole picture?"
)
IDENTIFYING_EDITED = (
    "A family we know has had four plans in a year, one from each service. Who "
    "should hold the whole picture?"
)
_LINK = re.compile(r"\?start=([A-Za-z0-9_-]+)")
# How a transcript marks a message's versions and its arrival.
NOTE_BEFORE = "(this version was later replaced in place by the one below)"
NOTE_EDITED = "(edited in place)"
NOTE_QUIET = "(arrived without a notification)"
NOTE_BUTTONS_GONE = "[the message above, edited in place: its buttons are gone]"


def _shown(message: SentMessage) -> str:
    if message.is_document:
        return f"[file: {message.filename}] {message.caption or ''}"
    return message.text or ""


def _buttons(message: SentMessage) -> list[str]:
    return [b.get("text", "") for row in message.buttons for b in row]


@dataclass
class Person:
    """Someone the script plays: their chat, team and role."""

    user: TestUser
    team: str
    role: str  # "organiser", "lead" or "member"

    @property
    def label(self) -> str:
        if self.role == "organiser":
            return f"Organiser ({self.user.first_name})"
        return f"{self.team} {self.role} ({self.user.first_name})"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")


class Rehearsal:
    """The bot and the stand-in, and the script that plays the swap."""

    def __init__(
        self,
        folder: Path,
        prompts: Path | None,
        say: Callable[[str], None],
        language: str = ENGLISH,
    ) -> None:
        self.folder = folder
        self.prompts = prompts
        self.say = say
        # The participants' language (their Telegram app's, which the bot takes
        # up); the organiser's messages stay English.
        self.language = language
        self.words = Prompts(prompts).in_language(language)
        self.standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, enforce_limits=False)
        self.people: list[Person] = []
        # Each move, with the messages and notifications it gave each person.
        self.moves: list[tuple[str, dict[str, tuple[int, int]]]] = []
        self.withdrawn: list[Person] = []

    # -- running the bot ------------------------------------------------------

    async def run(self) -> None:
        """Play the whole swap, then write what everyone saw."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MARKER).write_text("Written by python -m bot rehearse.\n", "utf-8")
        database = self.folder / "rehearsal.sqlite3"
        for old in self.folder.glob("rehearsal.sqlite3*"):
            old.unlink()
        await self.standin.start()
        settings = Settings.model_validate(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "ORGANISER_IDS": str(ORGANISER_ID),
                "DATABASE_PATH": str(database),
                "TELEGRAM_API_BASE_URL": self.standin.base_url,
                "PROMPTS_DIR": str(self.prompts) if self.prompts else "",
                "LOG_LEVEL": "WARNING",
            }
        )
        application = build_application(settings, Limits.unpaced())
        await application.initialize()
        await application.post_init(application)  # type: ignore[misc]
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        try:
            self.db: Database = application.bot_data["db"]
            await self.play()
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_stop(application)  # type: ignore[misc]
            await application.shutdown()
            await application.post_shutdown(application)  # type: ignore[misc]
            await self.standin.stop()
        self.write()

    async def settled(self) -> None:
        """Wait until the bot has handled every update and sent everything it owes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_TIMEOUT
        last = self.standin.updates[-1]["update_id"] if self.standin.updates else None
        while True:
            async with self.db.read() as tx:
                handled = last is None or await tx.updates.was_handled(last)
                pending = (await tx.outbox.counts()).get("pending", 0)
            if handled and not pending and not self.standin.pending_updates():
                return
            if loop.time() > deadline:
                raise TimeoutError("the bot did not settle; see the transcripts written so far")
            await asyncio.sleep(0.02)

    async def send(self, person: Person, text: str) -> None:
        await person.user.send(text)
        await self.settled()

    async def press(self, person: Person, label: str) -> None:
        await person.user.press(label)
        await self.settled()

    async def tap(self, person: Person, key: str) -> None:
        """A participant presses the button ``key`` (of prompts/buttons.md), in their language."""
        await self.press(person, self.words.label(key))

    async def write_and_confirm(
        self, person: Person, text: str, command: str | None = None
    ) -> None:
        """What a participant does: (a command,) their words, then Confirm."""
        if command:
            await self.send(person, command)
        await self.send(person, text)
        await self.tap(person, "confirm")

    async def advance(self, step: str) -> None:
        """/advance, then Confirm on the preview (forced if the guard says so); note
        how many messages, and how many notifications, the move gave each person."""
        organiser = self.people[0]
        await self.send(organiser, "/advance")
        if not any("Confirm" in b for b in organiser.user.messages[-1].button_labels()):
            await self.send(organiser, "/advance force")
        before = len(self.standin.sent)
        await self.press(organiser, "Confirm")
        sent = self.standin.sent[before:]
        got = {}
        for person in self.people[1:]:
            mine = [m for m in sent if m.chat_id == person.user.id]
            if mine:
                got[person.label] = (len(mine), sum(not m.silent for m in mine))
        self.moves.append((step, got))

    # -- the script -----------------------------------------------------------

    async def play(self) -> None:
        organiser = Person(
            self.standin.user(user_id=ORGANISER_ID, first_name="Olivia"), "", "organiser"
        )
        self.people.append(organiser)
        await self.send(organiser, "/start")
        await self.send(organiser, f"/newswap {TITLE}")
        for team, names in TEAMS.items():
            await self.send(organiser, f"/addteam {team}")
            links = self.links(organiser.user.messages[-1])
            for name, role in zip(names, ("lead", "member", "member"), strict=True):
                user = self.standin.user(first_name=name, language_code=self.language)
                person = Person(user, team, role)
                self.people.append(person)
                await self.send(person, f"/start {links[role]}")
                await self.tap(person, "agree")
        await self.send(organiser, "/status")
        # A timetable a week ahead, so that everyone's messages show their dates.
        today = datetime.now(UTC).date()
        for what, days, hour in [
            ("workshop 1", 1, "10:00"),
            ("dilemma", 2, "17:00"),
            ("workshop 2", 3, "10:00"),
            ("response", 4, "17:00"),
            ("workshop 3", 5, "10:00"),
            ("reflection", 5, "16:00"),
        ]:
            await self.send(organiser, f"/schedule {what} {today + timedelta(days=days)} {hour}")
        self.say("setup: 2 teams, 6 people joined and agreed; a week's timetable set")

        await self.advance("workshop 1 opens")
        north_lead, north_member, north_other = self.team("Northshire")
        south_lead, south_member, south_other = self.team("Southvale")
        await self.write_and_confirm(north_member, DILEMMAS["Northshire"], "/propose")
        # A candidate that names a place and a phone number: the preview says so,
        # and the person edits it before it goes to the team.
        await self.send(north_other, "/propose")
        await self.send(north_other, IDENTIFYING)
        await self.tap(north_other, "edit")
        await self.write_and_confirm(north_other, IDENTIFYING_EDITED)
        await self.tap(north_lead, "adopt")
        await self.tap(north_lead, "confirm")
        await self.write_and_confirm(south_lead, DILEMMAS["Southvale"], "/dilemma")
        await self.send(south_member, "/help")
        self.say("workshop 1: both teams confirmed a dilemma; one proposal adopted")

        await self.advance("workshop 2 opens: the dilemmas are swapped")
        for team in TEAMS:
            lead, first, second = self.team(team)
            await self.write_and_confirm(
                first,
                f"From {team}: name one lead professional per family, and let the family say who.",
            )
        await self.send(organiser, "/remind")
        for team in TEAMS:
            lead, first, second = self.team(team)
            await self.write_and_confirm(
                second, f"From {team}: count joint work in the plan we are already judged on."
            )
            await self.write_and_confirm(
                lead,
                f"{team}'s consolidated response: one plan, one lead, and joint work that counts.",
                "/response",
            )
        await self.send(north_lead, "/status")
        self.say("workshop 2: answers and both consolidated responses confirmed; a reminder")

        await self.advance("workshop 3 opens: the responses return")
        for round_ in (1, 2, 3):
            for person in self.people[1:]:
                if person in self.withdrawn:
                    continue
                await self.write_and_confirm(
                    person,
                    f"Round {round_}, {person.user.first_name}: working on theirs "
                    "showed us what we take for granted in ours.",
                )
            if round_ == 1:
                # Someone leaves: their words go from the record and every later export.
                await self.send(south_other, "/withdraw")
                await self.tap(south_other, "confirm_withdraw")
                self.withdrawn.append(south_other)
            if round_ < 3:
                await self.advance(f"reflection round {round_ + 1} is released")
        self.say("workshop 3: three reflection rounds answered; one person withdrew")

        await self.advance("the swap closes")
        await self.send(organiser, "/export")
        await self.send(organiser, "/membercheck 7")
        await self.send(south_member, "Our view on schools was put more strongly than we meant.")
        await self.tap(south_member, "confirm")
        self.say("closed: the record went to everyone and to the organiser; a member check")

    def team(self, name: str) -> tuple[Person, Person, Person]:
        lead, first, second = (p for p in self.people if p.team == name)
        return lead, first, second

    @staticmethod
    def links(message: SentMessage) -> dict[str, str]:
        """The lead and member tokens in an /addteam answer, by the word on their line."""
        found = {}
        for line in (message.text or "").splitlines():
            match = _LINK.search(line)
            if match:
                found["lead" if "lead" in line.lower() else "member"] = match.group(1)
        return found

    # -- what everyone saw ----------------------------------------------------

    def entries(self, person: Person) -> list[tuple[str, str, list[str], str]]:
        """(who, text, buttons, note) for everything in a person's chat, in order:
        a message the bot edited shows each version it had (a preview, then its
        receipt in its place), and one that came without a notification says so."""
        out = []
        for chat, who, what in self.standin.timeline:
            if chat != person.user.id:
                continue
            if who == "bot":
                message: SentMessage = what
                versions = [*message.edits, message]
                for i, version in enumerate(versions):
                    notes = [NOTE_QUIET if i == 0 and message.silent else ""]
                    if i < len(versions) - 1:
                        notes.append(NOTE_BEFORE)
                    if i and _shown(version) == _shown(versions[i - 1]):
                        # Only the buttons went (the press was answered elsewhere).
                        out.append(("Dilemma Swap", NOTE_BUTTONS_GONE, _buttons(version), ""))
                        continue
                    if i:
                        notes.append(NOTE_EDITED)
                    out.append(
                        ("Dilemma Swap", _shown(version), _buttons(version), " ".join(notes))
                    )
            elif who == "user":
                out.append((person.user.first_name, str(what), [], ""))
            else:
                out.append((person.user.first_name, f"[pressed: {what}]", [], ""))
        return out

    def write(self) -> None:
        """One Markdown transcript per person, one HTML page, and the export files."""
        for person in self.people:
            lines = [f"# {person.label}", ""]
            for who, text, buttons, note in self.entries(person):
                lines.append(f"**{who}:**" + (f" _{note.strip()}_" if note.strip() else ""))
                lines.append("")
                lines.extend("> " + line if line else ">" for line in text.splitlines())
                if buttons:
                    lines.extend(["", "Buttons: " + " · ".join(f"[{b}]" for b in buttons)])
                lines.append("")
            (self.folder / f"{person.slug}.md").write_text("\n".join(lines), "utf-8")
        (self.folder / "everyone.html").write_text(self.page(), "utf-8")
        (self.folder / "moves.md").write_text(self.moves_table(), "utf-8")
        export = self.folder / "export"
        shutil.rmtree(export, ignore_errors=True)
        export.mkdir()
        for message in self.people[0].user.documents:
            if message.filename and message.content is not None:
                (export / message.filename).write_bytes(message.content)

    def moves_table(self) -> str:
        """What each phase move gave each person: messages, and notifications."""
        lines = [
            f"# {TITLE}: what each move sent each person",
            "",
            "Messages (notifications) per person; a move notifies each person at most once.",
            "",
            "| move | " + " | ".join(p.label for p in self.people[1:]) + " |",
            "|---" * (len(self.people)) + "|",
        ]
        for step, got in self.moves:
            cells = [
                f"{got[p.label][0]} ({got[p.label][1]})" if p.label in got else "–"
                for p in self.people[1:]
            ]
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def page(self) -> str:
        """Every person's chat in a column of its own, side by side."""
        columns = []
        for person in self.people:
            bubbles = []
            for who, text, buttons, note in self.entries(person):
                mine = who != "Dilemma Swap"
                keys = "".join(f"<span class=key>{html.escape(b)}</span>" for b in buttons)
                said = f"<div class=note>{html.escape(note.strip())}</div>" if note.strip() else ""
                bubbles.append(
                    f"<div class='msg {'me' if mine else 'bot'}'>{said}"
                    f"{html.escape(text)}{'<div>' + keys + '</div>' if keys else ''}"
                    "</div>"
                )
            columns.append(
                f"<section><h2>{html.escape(person.label)}</h2>{''.join(bubbles)}</section>"
            )
        return _PAGE.format(title=html.escape(TITLE), columns="".join(columns))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: what everyone saw</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #eef1f4; }}
h1 {{ font-size: 18px; padding: 12px 16px; margin: 0; background: #fff; }}
main {{ display: flex; gap: 12px; padding: 12px; overflow-x: auto; align-items: flex-start; }}
section {{ flex: 0 0 320px; background: #dfe7ee; border-radius: 8px; padding: 8px; }}
h2 {{ font-size: 14px; margin: 4px 4px 8px; }}
.msg {{ white-space: pre-wrap; background: #fff; border-radius: 8px; padding: 6px 8px;
        margin: 6px 0; }}
.me {{ background: #d9f7be; margin-left: 24px; }}
.note {{ font-size: 11px; color: #678; margin-bottom: 2px; }}
.key {{ display: inline-block; border: 1px solid #7aa; border-radius: 6px; padding: 1px 6px;
        margin: 4px 4px 0 0; font-size: 12px; }}
</style></head>
<body><h1>{title}: what everyone saw</h1><main>{columns}</main></body></html>
"""


# Left in a folder a rehearsal wrote: a later rehearsal may write there again.
MARKER = ".dilemma-swap-rehearsal"


class RehearsalRefused(Exception):
    """The rehearsal will not write there; the message is one line for a person."""


def rehearse(folder: Path, prompts: Path | None, language: str = ENGLISH) -> None:
    """Run the rehearsal, printing a line per phase and where the files are.

    It writes into a new or empty folder, or one an earlier rehearsal wrote
    (its files are replaced): never over files of someone's own."""
    if folder.exists() and not folder.is_dir():
        raise RehearsalRefused(f"{folder} is a file, not a folder: give a folder to write to")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise RehearsalRefused(
            f"{folder} is not empty and no rehearsal wrote it: give a new or empty folder"
        )
    asyncio.run(Rehearsal(folder, prompts, print, language).run())
    print(f"done: transcripts, everyone.html and the export are in {folder.resolve()}")
