"""``python -m bot check``: is everything in place to run? Said in plain words.

It reads the configuration, looks at the database (and rehearses the pending
migrations without applying them), reads every prompt, and, with a token, asks
Telegram who the bot is. Each finding is one line; the exit code is non-zero
if any is a problem. It can run beside the bot: it takes none of its locks.
"""

from __future__ import annotations

import asyncio
import string
from collections import Counter
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings, SettingsError, load_local_settings, load_settings
from bot.services.sheets import unfilled_fields
from bot.text import LANGUAGES, Prompts, check_translations, markdown_to_telegram, read_table
from storage.db import DatabaseUnusable, rehearse_migrations
from storage.governance import swaps_on_builtin_sheet

Say = Callable[[str], None]


def check() -> int:
    """Run every check, print a line for each, and return the exit code."""
    problems = 0

    def ok(line: str) -> None:
        print(f"ok: {line}")

    def problem(line: str) -> None:
        nonlocal problems
        problems += 1
        print(f"problem: {line}")

    try:
        local = load_local_settings()
    except SettingsError as error:
        problem(str(error))
        return 1
    ok(f"time zone {local.timezone}, log level {local.log_level}")
    settings: Settings | None = None
    try:
        settings = load_settings()
        ok(f"{len(settings.organiser_ids)} organiser(s) in ORGANISER_IDS")
        if not settings.organiser_ids:
            problem("ORGANISER_IDS is empty: nobody can create a swap")
    except SettingsError as error:
        problem(str(error))

    def warning(line: str) -> None:
        print(f"warning: {line}")

    root: Traversable = Path(local.prompts_dir) if local.prompts_dir else resources.files("prompts")
    if _check_database(local.database_path, ok, problem):
        _check_sheets(local.database_path, Prompts(root), warning)
    found = prompt_problems(root)
    for line in found:
        problem(line)
    if not found:
        ok(f"prompts in {root} read and render")
    translations = check_translations(root)
    for line in translations.problems:
        problem(line)
    for language, in_english in translations.in_english.items():
        # What only organisers read may stay in English (they run the swap in it);
        # said, with the list a translator would need.
        if in_english:
            folders = Counter(key.split("/")[0].split(":")[0] for key in in_english)
            ok(
                f"prompts/{language}: everything participants and leads read is translated;"
                f" {len(in_english)} prompt(s) only organisers read stay in English ("
                + ", ".join(f"{folder} {n}" for folder, n in sorted(folders.items()))
                + ")"
            )
        else:
            ok(f"prompts/{language}: every prompt translated")

    if settings is not None:
        try:
            me = asyncio.run(_get_me(settings))
            ok(f"Telegram knows the token: the bot is @{me}")
        except TelegramError as error:
            problem(
                "Telegram refused or could not be reached: "
                + str(error).replace(settings.token, "<token>")
            )
    print("all good" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


def _check_database(path: str, ok: Say, problem: Say) -> bool:
    """Say whether the database is usable; True when it is there and up to date."""
    file = Path(path).expanduser()
    if not file.exists():
        if file.parent.is_dir():
            ok(f"DATABASE_PATH {file} does not exist yet: it is created at the first start")
        else:
            problem(f"DATABASE_PATH {file}: the folder {file.parent} does not exist")
        return False
    try:
        rehearsal = rehearse_migrations(file)
    except DatabaseUnusable as error:
        problem(f"DATABASE_PATH {error}")
        return False
    ok(
        f"DATABASE_PATH {file}: schema version {rehearsal.version}"
        + (
            f", {rehearsal.pending} migration(s) pending; they apply cleanly (tried on a copy)"
            if rehearsal.pending
            else ", up to date"
        )
    )
    fixed = [t for t in rehearsal.reusable_before if t not in rehearsal.reusable_after]
    if fixed:
        ok(
            f"DATABASE_PATH {file}: ids of {', '.join(fixed)} could be given again to new"
            " rows (a stale button could act on a newer one); the pending migrations"
            " rebuild those tables so that they never are"
        )
    if rehearsal.reusable_after:
        problem(
            f"DATABASE_PATH {file}: ids of {', '.join(rehearsal.reusable_after)} could"
            " be given again to new rows, and no migration changes that"
        )
    return not rehearsal.pending


def _check_sheets(path: str, prompts: Prompts, warning: Say) -> None:
    """A warning, never a problem, for each swap whose information sheet still has
    unfilled study fields: the built-in sheet, without the swap's own."""
    for swap in swaps_on_builtin_sheet(path):
        keys = unfilled_fields(swap["retention_months"], swap["withdrawal"])
        fields = [prompts.label(key) for key in keys]
        warning(
            f"swap {swap['id']} ({swap['title']}) uses the built-in information sheet, "
            f"which leaves unfilled: {'; '.join(fields)}. Send the approved sheet with /sheet"
        )


def _placeholders(source: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(source) if name}


def prompt_problems(root: Traversable) -> list[str]:
    """What is wrong with the prompts in ``root``: files that fail to render,
    broken placeholders, and (for a folder of one's own) files missing beside
    the built-in ones or asking for values the code never gives."""
    found: list[str] = []
    builtin = resources.files("prompts")
    for path, built in _prompt_files(builtin):
        mine = root
        for part in path.split("/"):
            mine = mine.joinpath(part)
        if not mine.is_file():
            found.append(f"prompt {path} is missing from {root}")
            continue
        source = mine.read_text("utf-8")
        try:
            names = _placeholders(source)
            if path.endswith(".md") and path not in ("buttons.md", "commands.md"):
                markdown_to_telegram(source)
        except ValueError as error:
            found.append(f"prompt {path}: {error}")
            continue
        unknown = names - _placeholders(built.read_text("utf-8"))
        if unknown:
            found.append(f"prompt {path} asks for {sorted(unknown)}, which the bot never gives")
    for table in ("buttons", "commands"):
        missing = set(read_table(builtin.joinpath(f"{table}.md").read_text("utf-8"))) - set(
            read_table(root.joinpath(f"{table}.md").read_text("utf-8"))
            if root.joinpath(f"{table}.md").is_file()
            else ""
        )
        if missing:
            found.append(f"{table}.md in {root} lacks {sorted(missing)}")
    return found


def _prompt_files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    files = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if prefix == "" and entry.name in LANGUAGES:
                continue  # a translation: held against English by check_translations
            files += _prompt_files(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".md"):
            files.append((prefix + entry.name, entry))
    return files


async def _get_me(settings: Settings) -> str:
    base = (settings.telegram_api_base_url or "https://api.telegram.org/bot").rstrip("/")
    async with Bot(settings.token, base_url=base) as bot:
        return (await bot.get_me()).username or str(bot.id)
