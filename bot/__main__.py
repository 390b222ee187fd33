"""``python -m bot``: run Dilemma Swap (long polling, or a webhook if WEBHOOK_URL is set).

Also ``python -m bot rehearse [DIR]`` (a whole swap against the built-in
stand-in, no token needed), ``check`` (the configuration, the database and the
prompts), ``backup PATH`` (a consistent copy of the database, while the bot
runs), ``export``, ``purge`` and ``datamap`` (what the database holds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.app import build_application
from bot.cli.checkup import check
from bot.cli.rehearsal import RehearsalRefused, rehearse
from bot.config import Settings, SettingsError, load_local_settings, load_settings
from bot.services.export import ExportError, export_to_folder
from bot.text import ENGLISH, LANGUAGES
from storage.backup import BackupError, backup
from storage.datamap import datamap
from storage.db import DatabaseUnusable
from storage.purge import PurgeError, purge

log = logging.getLogger("bot")

# PTB's description of its first call to Telegram (getMe), in its retry loop's log lines.
_START_UP_CALL = "(Bootstrap Initialize Application)"


class _RedactToken(logging.Filter):
    """Keeps the bot token out of every log line (URLs carry it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = None
        if (
            record.exc_info
            and record.exc_info[1] is not None
            and self.token in str(record.exc_info[1])
        ):
            record.exc_info = None
            record.msg = str(record.msg) + " (details withheld: they held the token)"
        return True


def _not_reported_by_main(record: logging.LogRecord) -> bool:
    """Drop PTB's report that its start-up call to Telegram failed. It carries a
    traceback (quoting the token when Telegram refused it), and main() reports the
    same failure in one line."""
    return not (record.levelno >= logging.ERROR and _START_UP_CALL in record.getMessage())


class _WithholdUpdates(logging.Filter):
    """python-telegram-bot logs a batch of updates it cannot parse (possible behind an
    older self-hosted Bot API server) raw, at CRITICAL: names, ids and words. On its
    logger, such a record keeps only that it happened and the kind of error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(_UNPARSED):
            error = record.exc_info[1] if record.exc_info else None
            record.msg = "Telegram sent updates python-telegram-bot could not read (%s): withheld"
            record.args = (type(error).__name__ if error is not None else "no details",)
            record.exc_info = None
        return True


# How python-telegram-bot's Bot begins that record.
_UNPARSED = "Error while parsing updates"


class _JsonLines(logging.Formatter):
    """One JSON object per line, for log shippers (``LOG_FORMAT=json``).

    Our own formatter rather than a library's: the four fields a shipper needs
    are a few lines of ``json.dumps``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Log lines say what happened, never what anyone wrote, who they are, or the token."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        _JsonLines()
        if settings.log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(_not_reported_by_main)
    handler.addFilter(_RedactToken(settings.token))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # httpx logs every request URL, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The Bot's logger (the application's bot is an ExtBot, and logs as that).
    for name in ("telegram.Bot", "telegram.ext.ExtBot"):
        parsing = logging.getLogger(name)
        if not any(isinstance(f, _WithholdUpdates) for f in parsing.filters):
            parsing.addFilter(_WithholdUpdates())


def _check_database_path(settings: Settings) -> None:
    folder = Path(settings.database_path).expanduser().resolve().parent
    if not folder.is_dir():
        raise SettingsError(f"DATABASE_PATH is malformed: the folder {folder} does not exist")


def _stop(problem: str, code: int) -> NoReturn:
    """End the process with one line for a person, never a traceback."""
    print(f"dilemma-swap: {problem}", file=sys.stderr)
    raise SystemExit(code)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    rehearse = commands.add_parser(
        "rehearse", help="play a whole two-team swap against a built-in stand-in (no token)"
    )
    rehearse.add_argument(
        "dir",
        nargs="?",
        default="rehearsal",
        help="where to write what everyone saw (default: rehearsal/)",
    )
    rehearse.add_argument(
        "--prompts",
        help="a folder of prompts to use instead of the built-in ones (to review your own wording)",
    )
    rehearse.add_argument(
        "--language",
        choices=LANGUAGES,
        default=ENGLISH,
        help="the participants' language (their Telegram app's); the organiser's stays English",
    )
    commands.add_parser("check", help="check the configuration, the database and the prompts")
    backup = commands.add_parser("backup", help="copy the database, consistently, while it runs")
    backup.add_argument("path", help="the file to write the copy to")
    export = commands.add_parser("export", help="write a swap's report and data, while it runs")
    export.add_argument("--swap", type=int, required=True, help="the swap's number (/swaps)")
    export.add_argument("--out", required=True, help="the folder to write the five files to")
    purge = commands.add_parser("purge", help="remove a closed swap's data for good")
    purge.add_argument("--swap", type=int, required=True, help="the swap's number (/swaps)")
    commands.add_parser(
        "datamap", help="print what each table and column of the database holds (Markdown)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Do what the command line asks: serve (the default), rehearse, check or back up."""
    args = _arguments(sys.argv[1:] if argv is None else argv)
    if args.command == "rehearse":
        prompts = Path(args.prompts) if args.prompts else None
        if prompts is not None and not (prompts / "buttons.md").is_file():
            _stop(f"--prompts {prompts} is not a folder of prompts (it has no buttons.md)", 2)
        try:
            rehearse(Path(args.dir), prompts, args.language)
        except RehearsalRefused as refused:
            _stop(str(refused), 2)
    elif args.command == "check":
        raise SystemExit(check())
    elif args.command == "backup":
        _backup(Path(args.path))
    elif args.command == "export":
        _export(args.swap, Path(args.out))
    elif args.command == "purge":
        _purge(args.swap)
    elif args.command == "datamap":
        try:
            print(datamap())
        except ValueError as problem:
            _stop(str(problem), 1)
    else:
        serve()


def _backup(path: Path) -> None:
    try:
        settings = load_local_settings()
        copied = asyncio.run(backup(settings.database_path, path))
    except (SettingsError, BackupError) as problem:
        _stop(str(problem), 2)
    print(f"backed up {settings.database_path} to {path} ({copied} pages)")


def _export(swap_id: int, folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        _stop(f"--out {folder} is a file, not a folder: give a folder to write the files to", 2)
    try:
        settings = load_local_settings()
        written = asyncio.run(export_to_folder(settings, swap_id, folder))
    except (SettingsError, ExportError) as problem:
        _stop(str(problem), 2)
    except OSError as problem:
        _stop(f"--out {folder}: {problem.strerror or problem}", 2)
    for path in written:
        print(f"wrote {path}")


def _purge(swap_id: int) -> None:
    try:
        settings = load_local_settings()
        gone = asyncio.run(purge(settings.database_path, swap_id))
    except (SettingsError, PurgeError) as problem:
        _stop(str(problem), 2)
    print(
        f"purged swap {swap_id}: {gone['contributions']} contributions and "
        f"{gone['people']} people who took part in no other swap"
    )


def serve() -> None:
    """Read settings, then run until stopped. A setting that is wrong ends the
    process with code 2, anything else that stops it with code 1; either way in
    one line, without the token."""
    try:
        settings = load_settings()
        _check_database_path(settings)
    except SettingsError as problem:
        _stop(str(problem), 2)
    configure_logging(settings)
    try:
        _run(build_application(settings), settings)
    except InvalidToken:
        # Not PTB's message: it quotes the token.
        _stop("TELEGRAM_BOT_TOKEN was refused by Telegram: check it with @BotFather", 2)
    except DatabaseUnusable as problem:
        _stop(f"DATABASE_PATH {problem}", 1)
    except TelegramError as problem:
        api = settings.telegram_api_base_url or "https://api.telegram.org/bot"
        _stop(f"the Telegram Bot API at {api} failed: {_redacted(problem, settings)}", 1)
    except Exception as problem:
        # Whatever else stops it (a webhook port in use, a bug): one line still,
        # the traceback only for those who ask.
        log.debug("The bot stopped on an error", exc_info=True)
        _stop(
            f"stopped by {type(problem).__name__}: {_redacted(problem, settings)} "
            "(LOG_LEVEL=DEBUG shows where)",
            1,
        )


def _redacted(problem: Exception, settings: Settings) -> str:
    """The error's message without the token: some quote the URL, which holds it."""
    return str(problem).replace(settings.token, "<token>")


class _Stopping:
    """SIGTERM or SIGINT: the first stops gracefully, a second at once.

    Gracefully: no new updates are taken, the handler under way finishes, the
    delivery worker stops between two sends (recording the one in flight), and
    the database is closed. At once: the process ends where it stands, which
    loses nothing either (every change is a committed transaction, and what was
    owed stays in the outbox), but a message in flight may go again at the next
    start.
    """

    def __init__(self, application: Application) -> None:
        self.application = application
        self.signalled = False

    def __call__(self) -> None:
        if self.signalled:
            log.warning("A second stop signal: stopping at once")
            logging.shutdown()
            os._exit(1)
        self.signalled = True
        log.info(
            "Stop signal: stopping; finishing what is under way (a second signal stops at once)"
        )
        self.application.stop_running()


def _run(application: Application, settings: Settings) -> None:
    """Serve until stopped: a webhook if WEBHOOK_URL is set, else long polling."""
    # Our own signal handlers (PTB's would stop twice as gently): installed on the
    # loop that run_polling and run_webhook then pick up.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stopping = _Stopping(application)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping)
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            # Telegram sends this secret with every update, so nobody else can post to us.
            secret_token=secrets.token_urlsafe(32),
            allowed_updates=Update.ALL_TYPES,
            stop_signals=None,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, stop_signals=None)


if __name__ == "__main__":
    main()
