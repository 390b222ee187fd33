"""Button presses. The callback data is parsed here; every check of whether the
person may press it (a forged or stale button) is the service's."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.common import services, who

log = logging.getLogger(__name__)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route a button press to the service; remove the buttons once they are spent."""
    query = update.callback_query
    assert query is not None
    s = services(context)
    person = who(update)
    name, _, rest = (query.data or "").partition(":")
    args = rest.split(":") if rest else []
    numbers = [int(a) for a in args if a.isdigit()]
    done = False
    one = numbers[0] if len(numbers) == 1 and len(args) == 1 else None
    if name in ("agree", "decline") and one is not None:
        done = await s.joining.decide(person, one, agree=name == "agree")
    elif name == "swap" and one is not None:
        done = await s.organising.switch_swap(person, one)
    elif name == "rv" and one is not None:
        done = await s.organising.revoke_pressed(person, one)
    elif name == "set" and len(args) == 3 and args[0].isdigit():
        done = await s.organising.change_setting(person, int(args[0]), args[1], args[2])
    elif name == "adv" and len(args) == 4 and args[0].isdigit() and args[2].isdigit() \
            and args[3] in ("0", "1"):
        done = await s.phases.confirm_advance(person, int(args[0]), args[1], int(args[2]),
                                              force=args[3] == "1")
    elif name == "wdall" and one is not None:
        done = await s.privacy.withdraw_confirmed(person, one)
    elif name == "no" and not args:
        done = True
    elif name in ("ok", "ed", "dr", "wd", "ad") and one is not None:
        action = {"ok": s.workshop.confirm, "ed": s.workshop.edit, "dr": s.workshop.discard,
                  "wd": s.workshop.withdraw_item, "ad": s.workshop.adopt}[name]
        done = await action(person, one)
    else:
        await s.tell(person, "errors/stale_button")
    try:
        await query.answer()
        if done and query.message is not None:
            await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as exc:
        # The press was handled; only the spinner or old buttons remain.
        log.info("Could not tidy a pressed button: %s", exc)
