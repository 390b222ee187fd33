"""The error handler: log first, then apologise without details."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import services, who

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception; tell the person something went wrong, never the traceback."""
    log.error("Error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_user is not None:
        try:
            await services(context).tell(who(update), "errors/internal")
        except Exception:  # the database itself may be what failed
            log.exception("Could not tell the person about the error")
