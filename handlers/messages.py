"""Plain messages: text becomes a draft; anything else gets a kind explanation."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.services import Document
from handlers.common import services, who

log = logging.getLogger(__name__)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A person wrote something (perhaps as a reply to one of our prompts)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    await services(context).text(who(update), message.text, reply_to)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo, voice note, document or other non-text message."""
    message = update.effective_message
    document = message.document if message is not None else None
    sent = None
    if document is not None:
        file_id = document.file_id

        async def fetch() -> bytes | None:
            # getFile, then the download Telegram's answer points to.
            try:
                file = await context.bot.get_file(file_id)
                return bytes(await file.download_as_bytearray())
            except TelegramError as problem:
                log.info("Could not fetch a document: %s", problem)
                return None

        sent = Document(document.file_name or "", document.file_size or 0, fetch)
    caption = (message.caption or "") if message is not None else ""
    await services(context).not_text(who(update), sent, caption)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the bot takes new messages only, and says so."""
    await services(context).tell(who(update), "errors/edit_not_taken")
