"""A bare python-telegram-bot bot that answers each message with its text: the
baseline of CPU per update for ``python -m benchmarks``."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a message with its own text."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


def main() -> None:
    base = os.environ["TELEGRAM_API_BASE_URL"]
    application = (
        Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(base).build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
