"""The service objects the handlers call, built once the bot knows its username."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.model import Waiting
from bot.services.core import Core, Mail, Refusal, Who, act
from bot.services.export import Export
from bot.services.groups import Groups
from bot.services.guide import Guide
from bot.services.joining import Joining
from bot.services.languages import Languages
from bot.services.organising import Organising
from bot.services.phases import Phases
from bot.services.privacy import Privacy
from bot.services.scheduling import Scheduling
from bot.services.sheets import Sheets, sheet_file_wanted
from bot.services.trail import Trail
from bot.services.workshop import Workshop
from bot.text import Prompts
from storage.db import Database
from storage.tx import Tx


@dataclass(frozen=True)
class Document:
    """A document someone sent: its name and size, as Telegram gives them, and a way
    to download it (from Telegram, with ``getFile``; None if Telegram would not)."""

    name: str
    size: int
    fetch: Callable[[], Awaitable[bytes | None]]


@dataclass
class Services:
    core: Core
    joining: Joining
    organising: Organising
    workshop: Workshop
    phases: Phases
    export: Export
    privacy: Privacy
    guide: Guide
    scheduling: Scheduling
    trail: Trail
    groups: Groups
    sheets: Sheets
    languages: Languages

    @classmethod
    def build(
        cls,
        db: Database,
        prompts: Prompts,
        organiser_ids: frozenset[int],
        bot_username: str,
        zone: ZoneInfo,
        clock: Callable[[], datetime] | None = None,
    ) -> Services:
        core = Core(db, prompts, organiser_ids, bot_username, zone, clock)
        export = Export(core)
        sheets = Sheets(core)
        phases = Phases(core, export, sheets)
        return cls(
            core=core,
            joining=Joining(core, phases, sheets),
            organising=Organising(core, sheets),
            workshop=Workshop(core, phases, sheets),
            phases=phases,
            export=export,
            privacy=Privacy(core),
            guide=Guide(core, phases),
            scheduling=Scheduling(core, phases),
            trail=Trail(core, phases),
            groups=Groups(core),
            sheets=sheets,
            languages=Languages(core, sheets),
        )

    async def text(self, who: Who, text: str, reply_to: int | None) -> None:
        """Someone wrote: a team's new name if an organiser is renaming one, else a
        contribution. (Only an organiser is ever renaming a team or sending a
        sheet: for anyone else the conversation is not looked at twice.)"""
        conversation = None
        if self.core.is_organiser(who):
            async with self.core.db.read() as tx:
                conversation = await tx.conversations.get(who.telegram_id)
        if conversation is not None and conversation.state is Waiting.RENAMING_TEAM:
            await self.organising.rename_team(who, int(conversation.data["team_id"]), text)
        elif conversation is not None and conversation.state is Waiting.SHEET:
            await self.sheets.text(who, text)
        else:
            await self.workshop.text(who, text, reply_to)

    async def not_text(self, who: Who, document: Document | None, caption: str) -> None:
        """Someone sent something other than text: a sheet an organiser sends after
        ``/sheet`` (or with ``/sheet`` as its caption), else a kind explanation."""
        async with self.core.db.read() as tx:
            conversation = await tx.conversations.get(who.telegram_id)
        waiting = conversation is not None and conversation.state is Waiting.SHEET
        if document is not None and (waiting or caption.split()[:1] == ["/sheet"]):
            content = None
            # Only an organiser's file, and only one that could be a sheet, is fetched.
            if self.core.is_organiser(who) and sheet_file_wanted(document.name, document.size):
                content = await document.fetch()
            await self.sheets.document(who, document.name, document.size, content)
        elif waiting:
            await self.sheets.not_a_sheet(who)
        else:
            await self.workshop.not_text(who)

    async def list_swaps(self, who: Who) -> None:
        """``/swaps``: an organiser's swaps, or the swaps a participant belongs to."""
        if self.core.is_organiser(who):
            await self.organising.list_swaps(who)
        else:
            await self.privacy.list_swaps(who)

    async def settings(self, who: Who, words: list[str]) -> None:
        """``/settings``: show them (with buttons), or change reminder times or quiet hours."""
        key = words[0].lower() if words else ""
        if key in ("retention", "withdrawal"):
            await self.organising.change_governance(who, words)
        elif key == "language":
            await self.languages.fix(who, words)
        elif words:
            await self.scheduling.change_times(who, words)
        else:
            await self.organising.settings(who)

    @act
    async def tell(self, tx: Tx, mail: Mail, who: Who, key: str) -> None:
        """Answer with a prompt and change nothing (a refusal in its own right)."""
        raise Refusal(key)
