"""What happens in groups: linking a team's group, and what Telegram tells us about it."""

from __future__ import annotations

from telegram import ChatMember, Message, Update
from telegram.ext import ContextTypes, filters

from handlers.common import services, who


class _AddressedToUs(filters.MessageFilter):
    """A command for this bot (``/help`` or ``/help@this_bot``, not ``/help@other_bot``)
    or a reply to one of its messages: where the bot sees every message of a group
    (an admin, or privacy mode off), people talking to each other are left alone."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None:
            return replied.from_user.id == bot.id
        text = message.text or ""
        if not text.startswith("/"):
            return False
        _, _, target = text.split(maxsplit=1)[0].partition("@")
        return not target or target.lower() == (bot.username or "").lower()


ADDRESSED_TO_US = _AddressedToUs()


async def link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/linkgroup in a group: its team's lead asks to link it."""
    chat = update.effective_chat
    assert chat is not None
    await services(context).groups.link_requested(who(update), chat.id, chat.title or "")


async def unlink(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unlinkgroup, in the group or in private."""
    chat = update.effective_chat
    assert chat is not None
    await services(context).groups.unlink(who(update), chat.id if chat.id < 0 else None)


async def elsewhere(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command in a group, or a reply to the bot there: write in private."""
    chat = update.effective_chat
    assert chat is not None
    await services(context).groups.elsewhere(who(update), chat.id)


async def membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to or removed from a group (or lost the right to post)."""
    change = update.my_chat_member
    assert change is not None
    status = change.new_chat_member.status
    if status in (ChatMember.LEFT, ChatMember.BANNED):
        await services(context).groups.lost(change.chat.id, "removed")
    elif status == ChatMember.RESTRICTED and not getattr(
        change.new_chat_member, "can_send_messages", True
    ):
        await services(context).groups.lost(change.chat.id, "no_rights")


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The group became a supergroup, with a new id."""
    message = update.effective_message
    # Telegram posts two notes: "moved to" in the old group (the one to act on)
    # and "moved from" in the new supergroup.
    if message is None or message.migrate_to_chat_id is None:
        return
    await services(context).groups.migrated(message.chat.id, message.migrate_to_chat_id)
