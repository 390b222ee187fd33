"""What every handler needs: who is acting, and the services."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import Services
from bot.services.core import Who


def who(update: Update) -> Who:
    """The person behind an update."""
    user = update.effective_user
    assert user is not None
    name = user.full_name or user.username or str(user.id)
    query = update.callback_query
    pressed = query.message.message_id if query is not None and query.message else None
    return Who(telegram_id=user.id, name=name, pressed=pressed, language_code=user.language_code)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["services"]
