"""Command handlers: parse the command, call the service. Nothing else."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.model import Kind
from handlers import groups as team_groups
from handlers.common import services, who

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def _argument(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or [])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [token]: join a team, or learn how to."""
    await services(context).joining.start(who(update), context.args[0] if context.args else None)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what this person can do now."""
    await services(context).guide.help(who(update))


async def new_swap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/newswap <title>."""
    await services(context).organising.new_swap(who(update), _argument(context))


async def swaps(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/swaps: list swaps, switch the current one."""
    await services(context).list_swaps(who(update))


async def add_team(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addteam <team name>."""
    await services(context).organising.add_team(who(update), _argument(context))


async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke [link or token]."""
    await services(context).organising.revoke(who(update), _argument(context) or None)


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove: take someone out of a team."""
    await services(context).organising.remove_people(who(update))


async def teams(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/teams: list teams; rename or remove them during setup."""
    await services(context).organising.teams(who(update), list(context.args or []))


async def sheet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sheet [text]: show the swap's information sheet, or offer a new one."""
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    # The text as written, line breaks and all (context.args would fold them).
    parts = text.split(None, 1)
    await services(context).sheets.sheet(who(update), parts[1] if len(parts) > 1 else "")


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status."""
    await services(context).organising.status(who(update))


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings [reminders 24h 2h | quiet 21:00 08:00]."""
    await services(context).settings(who(update), list(context.args or []))


async def schedule(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/schedule [<phase> <date> <time> [auto] | workshop <N> <date> <time> | clear ...]."""
    await services(context).scheduling.schedule(who(update), list(context.args or []))


async def remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind: remind those who have not contributed in this phase, now."""
    await services(context).scheduling.remind(who(update))


def after_command(text: str) -> str:
    """What follows the command, as written: after a space or a line break alike."""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def announce(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/announce <text>: preview, then send to every member."""
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    # The text as written, line breaks included (context.args would fold them).
    await services(context).scheduling.announce(who(update), after_command(text))


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/advance [force]."""
    force = _argument(context).strip().lower() == "force"
    await services(context).phases.advance(who(update), force)


async def reopen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reopen."""
    await services(context).phases.reopen(who(update))


async def share(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/share <Telegram user id>: make another organiser a co-organiser."""
    await services(context).trail.share(who(update), list(context.args or []))


async def audit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/audit: what organisers did in the current swap, and when."""
    await services(context).trail.audit(who(update))


async def member_check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/membercheck <days>: each team reads its section of the report and may comment."""
    await services(context).trail.member_check(who(update), list(context.args or []))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export."""
    await services(context).export.export(who(update))


async def dilemma(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/dilemma: the lead submits the team's dilemma."""
    await services(context).workshop.begin(who(update), Kind.DILEMMA)


async def propose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/propose: a participant offers a candidate dilemma to their team."""
    await services(context).workshop.begin(who(update), Kind.PROPOSAL)


async def response(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/response: the lead submits the team's consolidated response."""
    await services(context).workshop.begin(who(update), Kind.TEAM_RESPONSE)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel."""
    await services(context).workshop.cancel(who(update))


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: everything stored about me."""
    await services(context).privacy.my_data(who(update))


async def withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/withdraw: leave, and remove what I contributed."""
    await services(context).privacy.withdraw(who(update))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language [code]: the language the bot speaks to this person in."""
    await services(context).languages.language(who(update), list(context.args or []))


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know."""
    await services(context).tell(who(update), "errors/unknown_command")


# The handler of each command in ``bot.commands.COMMANDS``, by name.
HANDLERS: dict[str, Callback] = {
    "start": start,
    "help": help_command,
    "dilemma": dilemma,
    "propose": propose,
    "response": response,
    "newswap": new_swap,
    "swaps": swaps,
    "addteam": add_team,
    "teams": teams,
    "sheet": sheet,
    "status": status,
    "advance": advance,
    "reopen": reopen,
    "settings": settings,
    "revoke": revoke,
    "remove": remove,
    "export": export,
    "schedule": schedule,
    "share": share,
    "audit": audit,
    "membercheck": member_check,
    "linkgroup": team_groups.link,
    "unlinkgroup": team_groups.unlink,
    "remind": remind,
    "announce": announce,
    "cancel": cancel,
    "mydata": my_data,
    "withdraw": withdraw,
    "language": language,
}
