"""Button presses: ``bot.callbacks`` parses the data, one service method per kind.

Whether the person may press it (a forged, stale or someone else's button) is
the service's to check; data that is no button of ours is refused here. The
press is always answered, so the spinner stops whatever happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot.services import Services
from bot.services.core import Who
from handlers.common import services, who

log = logging.getLogger(__name__)

Press = Callable[[Services, Who, tuple], Awaitable[bool]]


async def _cancel(s: Services, person: Who, values: tuple) -> bool:
    return await s.core.spend(person)


PRESSES: dict[cb.Button, Press] = {
    cb.AGREE: lambda s, p, v: s.joining.decide(p, v[0], agree=True),
    cb.DECLINE: lambda s, p, v: s.joining.decide(p, v[0], agree=False),
    cb.SWITCH_SWAP: lambda s, p, v: s.organising.switch_swap(p, v[0]),
    cb.REVOKE: lambda s, p, v: s.organising.revoke_pressed(p, v[0]),
    cb.SETTING: lambda s, p, v: s.organising.change_setting(p, *v),
    cb.ADVANCE: lambda s, p, v: s.phases.confirm_advance(p, v[0], v[1], v[2], force=v[3] == "1"),
    cb.WITHDRAW_CHOOSE: lambda s, p, v: s.privacy.withdraw_chosen(p, v[0]),
    cb.WITHDRAW: lambda s, p, v: s.privacy.withdraw_confirmed(p, v[0], v[1]),
    cb.CANCEL: _cancel,
    cb.LANGUAGE: lambda s, p, v: s.languages.chosen(p, v[0], v[1]),
    cb.CONFIRM: lambda s, p, v: s.workshop.confirm(p, v[0]),
    cb.EDIT: lambda s, p, v: s.workshop.edit(p, v[0]),
    cb.DISCARD: lambda s, p, v: s.workshop.discard(p, v[0]),
    cb.WITHDRAW_ITEM: lambda s, p, v: s.workshop.withdraw_item(p, v[0]),
    cb.ADOPT: lambda s, p, v: s.workshop.adopt(p, v[0]),
    cb.REMOVE_PERSON: lambda s, p, v: s.organising.remove_person_asked(p, v[0]),
    cb.REMOVE_PERSON_CONFIRM: lambda s, p, v: s.organising.remove_person(p, v[0]),
    cb.RENAME_TEAM: lambda s, p, v: s.organising.rename_team_asked(p, v[0]),
    cb.REMOVE_TEAM: lambda s, p, v: s.organising.remove_team_asked(p, v[0]),
    cb.UNLINK_TEAM_GROUP: lambda s, p, v: s.groups.unlink_team(p, v[0]),
    cb.REMOVE_TEAM_CONFIRM: lambda s, p, v: s.organising.remove_team(p, v[0]),
    cb.CURRENT_SWAP: lambda s, p, v: s.privacy.switch_swap(p, v[0]),
    cb.ANNOUNCE: lambda s, p, v: s.scheduling.announce_confirmed(p, v[0]),
    cb.RECONSENT_AGREE: lambda s, p, v: s.joining.reconsent(p, v[0], agree=True),
    cb.RECONSENT_DECLINE: lambda s, p, v: s.joining.reconsent(p, v[0], agree=False),
    cb.COMMENT_CONFIRM: lambda s, p, v: s.workshop.confirm_comment(p, v[0]),
    cb.COMMENT_DISCARD: lambda s, p, v: s.workshop.discard_comment(p, v[0]),
    cb.GROUP_LINK: lambda s, p, v: s.groups.link_confirmed(p, v[0]),
    cb.SHEET: lambda s, p, v: s.sheets.confirm(p, v[0]),
}


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route a button press to its service, and answer it."""
    query = update.callback_query
    assert query is not None
    s = services(context)
    person = who(update)
    try:
        parsed = cb.parse(query.data)
        if parsed is None:
            await s.tell(person, "errors/stale_button")
        else:
            button, values = parsed
            # Done, the action also owes the pressed message the loss of its
            # buttons, or its replacement (Core.act).
            await PRESSES[button](s, person, values)
    finally:
        try:
            await query.answer()
        except TelegramError as exc:
            # The press was handled; only the spinner remains.
            log.info("Could not answer a button press: %s", exc)
