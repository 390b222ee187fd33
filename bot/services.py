"""The service objects the handlers call, built once the bot knows its username."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.export import Export
from bot.joining import Joining
from bot.organising import Organising
from bot.phases import Phases
from bot.privacy import Privacy
from bot.service import Core, Refusal, Who
from bot.text import Prompts
from bot.workshop import Workshop
from storage.db import Database


@dataclass
class Services:
    core: Core
    joining: Joining
    organising: Organising
    workshop: Workshop
    phases: Phases
    export: Export
    privacy: Privacy

    @classmethod
    def build(cls, db: Database, prompts: Prompts, organiser_ids: frozenset[int],
              bot_username: str, zone: ZoneInfo) -> Services:
        core = Core(db, prompts, organiser_ids, bot_username, zone)
        export = Export(core)
        phases = Phases(core, export)
        return cls(core=core, joining=Joining(core, phases.catch_up),
                   organising=Organising(core), workshop=Workshop(core), phases=phases,
                   export=export, privacy=Privacy(core))

    async def tell(self, who: Who, key: str) -> None:
        """Answer with a prompt and change nothing (a refusal in its own right)."""

        async def action(tx, mail) -> None:  # noqa: ANN001
            raise Refusal(key)

        await self.core.act(who, action)
