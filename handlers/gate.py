"""Runs before every other handler: skips updates already handled, and holds
back a person who sends far more than any workshop needs (``bot.delivery.limits``).

Telegram delivers again any update the bot did not confirm before it
stopped. The id of each handled update is recorded in the same transaction
as whatever the update changed (see ``storage.db.current_update_id``), so a
redelivered update is recognised here and nothing happens twice.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.delivery.limits import Verdict
from bot.model import ChatStatus
from handlers.common import services, who
from storage.db import current_update_id

log = logging.getLogger(__name__)

# How many update ids the gate remembers having seen (a webhook's repeats come
# within seconds; this is hours of a busy swap).
SEEN = 10_000


@dataclass
class Arrivals:
    """What the gate knows of arriving updates without a trip to SQLite.

    Telegram delivers an update again only when the bot did not confirm it
    before it stopped (or, to a webhook, when the bot's answer was lost). So an
    update newer than the newest one handled before this process started is a
    repeat only if this process has seen it already; only older ones are looked
    up in ``handled_updates``. The people the bot cannot reach (blocked, never
    started) are few: read at the start, added to by the delivery worker when a
    chat refuses it, taken off when they come back.
    """

    handled_before: int  # the newest update handled before this process (-1: none)
    unreached: set[int]
    _seen: dict[int, None] = field(default_factory=dict)  # in order of arrival

    def first_sight(self, update_id: int) -> bool:
        """Whether this process sees ``update_id`` for the first time."""
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > SEEN:
            del self._seen[next(iter(self._seen))]
        return True


async def skip_handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop a redelivered update; note the current one for the transaction."""
    # Cleared first: the fetcher's context carries the previous update's id.
    current_update_id.set(None)
    db = services(context).core.db
    arrivals: Arrivals = context.bot_data["arrivals"]
    user = update.effective_user
    if not arrivals.first_sight(update.update_id):
        handled, unreached = True, False
    elif update.update_id <= arrivals.handled_before:
        async with db.alone() as tx:  # one statement: no transaction needed around it
            handled, status = await tx.updates.arrival(
                update.update_id, user.id if user is not None else None
            )
        unreached = status is not None and status != ChatStatus.OK
    else:
        handled = False
        unreached = user is not None and user.id in arrivals.unreached
    if handled:
        log.info("Update %s was already handled; skipping it", update.update_id)
        raise ApplicationHandlerStop
    if user is not None and not services(context).core.is_organiser(who(update)):
        verdict = context.bot_data["limiter"].check(user.id, time.monotonic())
        if verdict is not Verdict.TAKE:
            log.info("Update %s over a person's limit: %s", update.update_id, verdict.value)
            if verdict is Verdict.WARN:
                await services(context).tell(who(update), "errors/slow_down")
            if update.callback_query is not None:
                # A press dropped is still answered, or its spinner would turn on.
                with contextlib.suppress(TelegramError):
                    await update.callback_query.answer()
            raise ApplicationHandlerStop
    if user is not None and unreached:
        # Someone who blocked the bot (or never started it) is back: what they
        # were owed goes out again. (Only then a write: most updates need none here.)
        async with db.transaction() as tx:
            await tx.people.set_chat_status(user.id, ChatStatus.OK)
            await tx.outbox.requeue_chat(user.id)
        arrivals.unreached.discard(user.id)
    current_update_id.set(update.update_id)
