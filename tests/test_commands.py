"""The command table (``bot.commands``) is the one place a command is declared:
its handler, its menu description, /help and the README all follow from it."""

from __future__ import annotations

import re
from pathlib import Path

from bot.commands import COMMANDS, Audience, menu, offered
from bot.model import Phase
from bot.text import Prompts
from handlers.commands import HANDLERS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_command_has_exactly_one_handler():
    assert set(HANDLERS) == {c.name for c in COMMANDS}
    assert len(COMMANDS) == len({c.name for c in COMMANDS})


def test_every_offered_command_has_a_menu_description():
    descriptions = Prompts().table("commands")
    for command in COMMANDS:
        if command.audience:
            assert 3 <= len(descriptions[command.name]) <= 256, command.name


def test_the_readme_names_every_command():
    text = README.read_text("utf-8")
    named = set(re.findall(r"`/([a-z]+)", text))
    missing = {c.name for c in COMMANDS if c.audience} - named
    assert not missing, f"README.md does not mention {sorted(missing)}"


def test_menus_and_help_follow_audience_and_phase():
    assert "newswap" in menu(Audience.ORGANISER) and "newswap" not in menu(Audience.MEMBER)
    assert "dilemma" in offered(Audience.LEAD, Phase.DILEMMA)
    assert "dilemma" not in offered(Audience.LEAD, Phase.RESPONSE)
    assert "dilemma" not in offered(Audience.MEMBER, Phase.DILEMMA)
    assert "response" in offered(Audience.LEAD, Phase.RESPONSE)
    assert "start" not in offered(Audience.MEMBER)
