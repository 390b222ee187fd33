"""Application wiring: the one place where handlers are registered and
resources are opened (``post_init``) and closed (``post_stop``, ``post_shutdown``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import COMMANDS, Audience, group_menu, menu
from bot.config import Settings
from bot.delivery.limits import PersonLimiter
from bot.delivery.transport import AiohttpRequest
from bot.delivery.worker import Delivery, Limits, PacedRateLimiter, Pacer
from bot.services import Services
from bot.text import ENGLISH, LANGUAGES, Prompts
from handlers import buttons, commands, errors, gate, messages
from handlers import groups as team_groups
from storage.db import Database

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    limits: Limits | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Application:
    """The bot, configured from settings, with every handler registered.

    ``limits`` and ``clock`` are Telegram's limits and the real time unless a
    test gives its own.
    """
    limits = limits or Limits()
    pacer = Pacer(limits)
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .rate_limiter(PacedRateLimiter(pacer))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    transports: list[AiohttpRequest] = []
    if settings.http_client == "aiohttp":
        # Up to 8 sends in flight, and handlers answering people beside them.
        transports = [AiohttpRequest(connection_pool_size=32, pool_timeout=30), AiohttpRequest()]
        builder = builder.request(transports[0]).get_updates_request(transports[1])
    else:
        builder = builder.connection_pool_size(32).pool_timeout(30)
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    application = builder.build()
    application.bot_data.update(
        settings=settings,
        pacer=pacer,
        limiter=PersonLimiter(),
        clock=clock,
        transports=transports,
    )
    register(application)
    return application


def register(application: Application) -> None:
    """Every handler, in one place. Groups run in order; see the comments."""
    # New messages only: an edit of an earlier message is not a new command or
    # a new contribution (it would make a second team, or a second draft).
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    # Group -1 runs first for every update: an update handled before a restart
    # stops here, so nothing is recorded twice.
    application.add_handler(TypeHandler(Update, gate.skip_handled), group=-1)

    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    # Group 0: exactly one of these answers each update.
    for command in COMMANDS:
        chats = (
            private | groups
            if command.in_private and command.in_groups
            else private
            if command.in_private
            else groups
        )
        application.add_handler(
            CommandHandler(command.name, commands.HANDLERS[command.name], filters=chats)
        )
    application.add_handler(MessageHandler(private & filters.COMMAND, commands.unknown))
    application.add_handler(CallbackQueryHandler(buttons.pressed))
    application.add_handler(MessageHandler(private & filters.TEXT, messages.text))
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, messages.not_text))
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, messages.edited
        )
    )
    # In a group, a command for us or a reply to us is answered with the way to
    # the private chat; whatever else the bot may see there is not for it.
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, team_groups.migrated))
    application.add_handler(
        MessageHandler(groups & team_groups.ADDRESSED_TO_US, team_groups.elsewhere)
    )
    application.add_handler(
        ChatMemberHandler(team_groups.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_error_handler(errors.on_error)


async def _post_init(application: Application) -> None:
    """Open the database, start delivery, set the command menus."""
    settings: Settings = application.bot_data["settings"]
    db = Database(settings.database_path)
    await db.open()
    # At once, so that post_shutdown closes it even if what follows fails.
    application.bot_data["db"] = db
    prompts = Prompts(Path(settings.prompts_dir) if settings.prompts_dir else None)
    services = Services.build(
        db,
        prompts,
        settings.organiser_ids,
        application.bot.username,
        settings.zone,
        application.bot_data["clock"],
    )
    async with db.read() as tx:
        last = await tx.updates.last_handled()
        arrivals = gate.Arrivals(last if last is not None else -1, set(await tx.people.unreached()))
    application.bot_data["arrivals"] = arrivals
    delivery = Delivery(
        db,
        application.bot,
        pacer=application.bot_data["pacer"],
        on_group_lost=services.groups.lost,
        on_group_moved=services.groups.migrated,
        on_person_lost=arrivals.unreached.add,
    )
    db.on_outbox(delivery.wake)
    services.core.refusals = lambda: delivery.refused
    application.bot_data.update(services=services, delivery=delivery)
    await delivery.start()
    await _set_commands(application, prompts, settings)
    log.info(
        "Started as @%s with %d organiser(s); database schema %d",
        application.bot.username,
        len(settings.organiser_ids),
        await db.schema_version(),
    )
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _expire_drafts, interval=3600, first=1, name="expire-drafts"
        )
        services.scheduling.on_change = lambda: _wake_timetable(application)
        services.organising.on_change = lambda: _wake_timetable(application)
        _wake_timetable(application)


TIMETABLE = "timetable"
# The longest the timetable sleeps: a check that costs nothing, against a clock
# that jumped (a suspended machine, a corrected system time).
TIMETABLE_NAP = 3600.0


def _wake_timetable(application: Application, delay: float = 0) -> None:
    """Run the timetable's due jobs after ``delay``; it then sleeps until the next
    falls due. Any wake-up already waiting is replaced: one is enough."""
    queue = application.job_queue
    assert queue is not None
    for job in queue.get_jobs_by_name(TIMETABLE):
        job.schedule_removal()
    queue.run_once(_timetable, when=delay, name=TIMETABLE)


async def _timetable(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run every job of the timetable that is due, then sleep until the next one."""
    scheduling = context.bot_data["services"].scheduling
    try:
        await scheduling.tick()
    except Exception:
        log.exception("The timetable failed; trying again in a minute")
        delay = 60.0
    else:
        due = await scheduling.next_due()
        delay = (
            TIMETABLE_NAP
            if due is None
            else min(TIMETABLE_NAP, max(0.5, (due - scheduling.core.clock()).total_seconds()))
        )
    _wake_timetable(context.application, delay)


async def _expire_drafts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget drafts nobody confirmed within their lifetime."""
    count = await context.bot_data["services"].workshop.expire_drafts()
    if count:
        log.info("Forgot %d expired drafts", count)


async def _set_commands(application: Application, prompts: Prompts, settings: Settings) -> None:
    """Participants see their commands, in each language we have (Telegram picks
    the menu by the language of the person's app); each organiser sees theirs."""
    descriptions = prompts.table("commands")
    bot = application.bot
    try:
        for language in LANGUAGES:
            # The English menu is also the menu for every language we lack.
            code = None if language == ENGLISH else language
            words = prompts.in_language(language).table("commands")
            await bot.set_my_commands(
                [BotCommand(c, words[c]) for c in menu(Audience.MEMBER)],
                scope=BotCommandScopeDefault(),
                language_code=code,
            )
            await bot.set_my_commands(
                [BotCommand(c, words[c]) for c in group_menu()],
                scope=BotCommandScopeAllGroupChats(),
                language_code=code,
            )
        for organiser in sorted(settings.organiser_ids):
            await bot.set_my_commands(
                [BotCommand(c, descriptions[c]) for c in menu(Audience.ORGANISER)],
                scope=BotCommandScopeChat(organiser),
            )
    except TelegramError as exc:
        # An organiser who has not started the bot yet has no chat; the menu
        # is a convenience, not a reason to stop.
        log.warning("Could not set every command menu: %s", exc)


async def _post_stop(application: Application) -> None:
    delivery: Delivery | None = application.bot_data.get("delivery")
    if delivery is not None:
        await delivery.stop()


async def _post_shutdown(application: Application) -> None:
    # post_stop is skipped when the application never started (say the webhook
    # port was taken after post_init), and delivery must stop before the database closes.
    await _post_stop(application)
    db: Database | None = application.bot_data.get("db")
    if db is not None:
        await db.close()
    # A start that failed at getMe never shuts the bot down, nor so its sessions.
    for transport in application.bot_data.get("transports", ()):
        await transport.shutdown()
