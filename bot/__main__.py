"""``python -m bot``: run Dilemma Swap (long polling, or a webhook if WEBHOOK_URL is set)."""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings
from storage.db import DatabaseUnusable


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
        if record.exc_info and record.exc_info[1] is not None \
                and self.token in str(record.exc_info[1]):
            record.exc_info = None
            record.msg = str(record.msg) + " (details withheld: they held the token)"
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactToken(settings.token))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # httpx logs every request URL, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _check_database_path(settings: Settings) -> None:
    folder = Path(settings.database_path).expanduser().resolve().parent
    if not folder.is_dir():
        raise SettingsError(f"DATABASE_PATH is malformed: the folder {folder} does not exist")


def _stop(problem: str, code: int) -> NoReturn:
    """End the process with one line for a person, never a traceback."""
    print(f"dilemma-swap: {problem}", file=sys.stderr)
    raise SystemExit(code)


def main() -> None:
    """Read settings, then run until stopped. A setting that is wrong ends the
    process with code 2, a database it cannot use with code 1; either way in one line."""
    try:
        settings = load_settings()
        _check_database_path(settings)
    except SettingsError as problem:
        _stop(str(problem), 2)
    configure_logging(settings)
    try:
        _run(build_application(settings), settings)
    except DatabaseUnusable as problem:
        _stop(f"DATABASE_PATH {problem}", 1)


def _run(application: Application, settings: Settings) -> None:
    """Serve until stopped: a webhook if WEBHOOK_URL is set, else long polling."""
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            # Telegram sends this secret with every update, so nobody else can post to us.
            secret_token=secrets.token_urlsafe(32),
            allowed_updates=Update.ALL_TYPES)
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
