"""A local stand-in for the Telegram Bot API, served over HTTP with aiohttp.web.

Tests start it on 127.0.0.1 (random port) in their own event loop and point the real
python-telegram-bot ``Application``/``Bot`` at ``standin.base_url``, either in-process
or in a bot subprocess: everything the bot does goes over HTTP, exactly as with Telegram.

The stand-in keeps the state Telegram keeps (users, chats, messages, pending updates,
commands) and answers with Telegram's JSON shapes and error descriptions, including
flood limits (429 with retry_after), 403s for users who never wrote or who blocked the
bot, and strict HTML parsing.  Tests drive simulated users (see users.py), inject faults
(``fail_next``, ``drop_next``, ``fail_rate``, ``drop_rate``) and wait on conditions; the
stand-in wakes every waiter whenever anything happens, so no test needs fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NoReturn

from aiohttp import web

from .formatting import EntityParseError, find_entities, format_text, utf16_len
from .limits import FloodControl
from .models import (
    ApiError,
    CallbackAnswer,
    InjectedFailure,
    LimitViolation,
    SentMessage,
    UploadedFile,
)
from .users import TestGroup, TestUser, _Chat

_log = logging.getLogger(__name__)

# Update types delivered when the bot does not choose (Telegram's default).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "purchased_paid_media",
        "chat_boost",
        "removed_chat_boost",
    }
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOCUMENT_LIMIT = 50 * 1024 * 1024
# The largest file a bot may download with getFile.
DOWNLOAD_LIMIT = 20 * 1024 * 1024

# When the request being handled arrives, as Telegram would count it (set only
# when the stand-in adds a round trip; see ``_handle``).
_ARRIVAL: contextvars.ContextVar[float | None] = contextvars.ContextVar("arrival", default=None)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Fault:
    """One injected fault: an error answer, or (status None) a dropped connection."""

    status: int | None
    retry_after: int | None = None
    description: str | None = None


@dataclass
class _RateFault:
    """Faults injected at random for a fraction of calls, reproducibly seeded."""

    fault: _Fault
    fraction: float
    rng: random.Random


# Implemented methods; each is served by BotAPIStandIn._api_<name>.
API_METHODS = (
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setMyDescription",
    "getMyDescription",
    "setMyShortDescription",
    "getMyShortDescription",
    "setMyName",
    "getMyName",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendDocument",
    "sendChatAction",
    "getFile",
    "getChat",
    "close",
    "logOut",
    # Accepted and ignored: they only change how the bot looks in Telegram's apps.
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
)

# The methods that put a message in a chat or change one.
MESSAGE_WRITES = frozenset(
    {"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)


class BotAPIStandIn:
    """A fake Telegram Bot API server for one bot token."""

    def __init__(
        self,
        token: str = "123456:ABC-test",
        bot_username: str = "dilemma_swap_test_bot",
        bot_first_name: str = "Dilemma Swap",
        *,
        enforce_limits: bool = True,
        global_capacity: float = 30,
        global_rate: float = 30,
        chat_capacity: float = 3,
        chat_rate: float = 1,
        group_limit: int = 20,
        group_window: float = 60,
        rolling: bool = False,
        latency: float = 0.0,
        first_update_id: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.enforce_limits = enforce_limits
        self.host = host
        self.port = port
        self._clock = clock
        self._flood = FloodControl(
            global_capacity,
            global_rate,
            chat_capacity,
            chat_rate,
            group_limit,
            group_window,
            rolling,
        )
        # Seconds each answer takes, as a real network's round trip would (benchmarks).
        self.latency = latency

        # Record of everything, for tests to inspect.
        self.calls: list[tuple[str, dict]] = []
        self.sent: list[SentMessage] = []
        # Everything in every chat, in the order it happened: (chat id, who, what),
        # who being "bot" (a SentMessage), "user" (the text she sent) or "press"
        # (the label of the button she pressed). Transcripts are read from it.
        self.timeline: list[tuple[int, str, Any]] = []
        self.updates: list[dict] = []
        self.limit_violations: list[LimitViolation] = []
        self.injected_failures: list[InjectedFailure] = []
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.internal_errors: list[Exception] = []  # stand-in bugs (answered with 500)
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook_url = ""

        # getUpdates state: every update with id < confirmed_offset has been confirmed.
        self._first_update_id = first_update_id
        self.confirmed_offset = first_update_id
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_serial = 0

        self._chats: dict[int, _Chat] = {}
        self._user_messages: dict[tuple[int, int], dict] = {}  # (chat, message_id) -> JSON
        self._bot_messages: dict[tuple[int, int], SentMessage] = {}
        self._callback_queries: dict[str, int] = {}  # id -> user id
        self._next_user_id = 700_000_001
        self._next_group_id = -4_000_000_001
        self._file_counter = 0
        self._query_counter = 0
        # Files users sent, by file_id: (file_unique_id, content, file_path once
        # getFile gave one). Downloads are served from /file/bot<token>/<file_path>.
        self._user_files: dict[str, tuple[str, bytes, str | None]] = {}
        self.downloads: list[str] = []  # the file_path of each download, in order

        self._faults: dict[str, deque[_Fault]] = {}
        self._rate_faults: dict[str, list[_RateFault]] = {}

        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._hangs: dict[str, int] = {}  # method -> calls still to leave unanswered
        self.hanging = 0  # calls being left unanswered now

        # Telegram matches method names case-insensitively: lower-case name -> (name, handler).
        self._methods: dict[str, tuple[str, Callable[[dict, dict], Any]]] = {
            name.lower(): (name, getattr(self, "_api_" + name)) for name in API_METHODS
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """URL prefix for PTB's ``base_url``: PTB appends ``{token}/{method}``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def bot_user(self) -> dict:
        """The bot's User JSON as in ``message.from``."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    async def start(self) -> BotAPIStandIn:
        """Start serving on host:port (port 0 picks a free one); returns self."""
        self._stopping = False
        # Uploads up to Telegram's 50 MB document limit must reach the handler.
        app = web.Application(client_max_size=DOCUMENT_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Release held long polls at once and shut the server down."""
        self._stopping = True
        self._notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> BotAPIStandIn:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        """Wake everyone waiting for a change (held polls, expect(), wait_for())."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_until(self, probe: Callable[[], Any], timeout: float) -> Any:
        """Re-evaluate ``probe`` after every change until it returns non-None; return that (None on timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = probe()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy, re-checking whenever anything happens; return its value."""

        def probe() -> Any:
            value = predicate()
            return value if value else None

        result = await self._wait_until(probe, timeout)
        if result is None:
            raise AssertionError(f"condition {predicate!r} not met within {timeout}s")
        return result

    # ------------------------------------------------------------------ users and chats

    def user(
        self,
        first_name: str = "Test",
        username: str | None = None,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        language_code: str = "en",
    ) -> TestUser:
        """Create a simulated user (a fresh positive id unless ``user_id`` is given)."""
        if user_id is None:
            while self._next_user_id in self._chats:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id in self._chats:
            raise ValueError(f"user {user_id} already exists")
        user = TestUser(self, user_id, first_name, username, last_name, language_code)
        self._chats[user_id] = user
        return user

    def group(self, title: str = "Test group", *, chat_id: int | None = None) -> TestGroup:
        """Create a group chat the bot can write to (negative id; 20 messages/minute limit)."""
        if chat_id is None:
            chat_id = self._next_group_id
            self._next_group_id -= 1
        if chat_id >= 0 or chat_id in self._chats:
            raise ValueError(f"bad or duplicate group id {chat_id}")
        group = TestGroup(self, chat_id, title)
        self._chats[chat_id] = group
        return group

    def get_user(self, user_id: int) -> TestUser:
        """The TestUser with that id."""
        chat = self._chats[user_id]
        assert isinstance(chat, TestUser)
        return chat

    def block(self, user_id: int | TestUser) -> None:
        """The user blocks the bot: sends to her now fail with 403."""
        user = self.get_user(user_id.id if isinstance(user_id, TestUser) else user_id)
        if not user.blocked:
            user.blocked = True
            self._push_member_update(user, old="member", new="kicked")

    def unblock(self, user_id: int | TestUser) -> None:
        """The user unblocks the bot."""
        user = self.get_user(user_id.id if isinstance(user_id, TestUser) else user_id)
        if user.blocked:
            user.blocked = False
            self._push_member_update(user, old="kicked", new="member")

    # ------------------------------------------------------------------ updates

    def _push_update(self, payload: dict) -> dict:
        update = {"update_id": self._first_update_id + len(self.updates), **payload}
        self.updates.append(update)
        self._notify()
        return update

    def writes_to(self, chat_id: int, since: int = 0) -> list[str]:
        """The methods that sent or edited a message in one chat, from call ``since`` on."""
        return [
            method
            for method, params in self.calls[since:]
            if method in MESSAGE_WRITES and str(params.get("chat_id")) == str(chat_id)
        ]

    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot."""
        start = max(0, self.confirmed_offset - self._first_update_id)
        return self.updates[start:]

    def unconfirm(self, from_update_id: int) -> None:
        """Make updates with id >= from_update_id pending again, as if the bot never confirmed them."""
        self.confirmed_offset = max(
            self._first_update_id, min(self.confirmed_offset, from_update_id)
        )
        self._notify()

    def _confirm(self, offset: int) -> None:
        next_id = self._first_update_id + len(self.updates)
        if offset > 0:
            new = offset
        elif offset < 0:
            # A negative offset keeps only the last -offset updates.
            new = max(self._first_update_id, next_id + offset)
        else:
            return
        new = min(new, next_id)
        if new > self.confirmed_offset:
            self.confirmed_offset = new
            self._notify()

    def _push_member_update(self, user: TestUser, old: str, new: str) -> None:
        """my_chat_member update, sent by Telegram when a user blocks or unblocks the bot."""
        if not user.started:
            return
        bot = self.bot_user
        self._push_update(
            {
                "my_chat_member": {
                    "chat": user.chat_json(),
                    "from": user.user_json(),
                    "date": int(time.time()),
                    # Telegram gives a "kicked" member its until_date, old or new.
                    "old_chat_member": {
                        "user": bot,
                        "status": old,
                        **({"until_date": 0} if old == "kicked" else {}),
                    },
                    "new_chat_member": {
                        "user": bot,
                        "status": new,
                        **({"until_date": 0} if new == "kicked" else {}),
                    },
                }
            }
        )

    def _user_message(
        self,
        user: TestUser,
        text: str | None = None,
        sticker_emoji: str | None = None,
        reply_to: SentMessage | dict | None = None,
        attachment: dict | None = None,
        caption: str | None = None,
    ) -> dict:
        """Store a message from ``user`` and push it as an update. ``attachment``
        is a document or photo (``_attach``), sent with an optional caption."""
        if text is not None and not text:
            raise ValueError("Telegram users cannot send empty messages")
        if user.blocked:
            # A blocked bot can't be written to; Telegram clients unblock it first.
            self.unblock(user)
        user.started = True
        message: dict[str, Any] = {
            "message_id": user._allocate_message_id(),
            "from": user.user_json(),
            "chat": user.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            reply_json = reply_to.to_json() if isinstance(reply_to, SentMessage) else dict(reply_to)
            reply_json.pop("reply_to_message", None)  # Telegram nests replies one level only
            message["reply_to_message"] = reply_json
        if text is not None:
            message["text"] = text
            entities = find_entities(text)
            if entities:
                message["entities"] = entities
        elif attachment is not None:
            message.update(attachment)
            if caption:
                message["caption"] = caption
                entities = find_entities(caption)
                if entities:
                    message["caption_entities"] = entities
        else:
            self._file_counter += 1
            message["sticker"] = {
                "file_id": f"CAACAgIAAxkBAAI{self._file_counter:08d}",
                "file_unique_id": f"AgADst{self._file_counter:06d}",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": sticker_emoji or "👍",
            }
        self._user_messages[(user.id, message["message_id"])] = message
        shown = text if text is not None else caption or sticker_emoji or "👍"
        if attachment is not None:
            shown = f"[{next(iter(attachment))}] {caption or ''}".strip()
        self.timeline.append((user.id, "user", shown))
        return self._push_update({"message": message})

    def _user_file(self, content: bytes, prefix: str) -> tuple[str, str]:
        """Keep a file a user sends; its (file_id, file_unique_id) as Telegram gives them."""
        self._file_counter += 1
        file_id = f"{prefix}AgIAAxkBAAI{self._file_counter:08d}"
        unique_id = f"AgADu{self._file_counter:06d}"
        self._user_files[file_id] = (unique_id, content, None)
        return file_id, unique_id

    def _attach_document(self, filename: str, content: bytes, mime_type: str) -> dict:
        file_id, unique_id = self._user_file(content, "BQAC")
        return {
            "document": {
                "file_name": filename,
                "mime_type": mime_type,
                "file_id": file_id,
                "file_unique_id": unique_id,
                "file_size": len(content),
            }
        }

    def _attach_photo(self, content: bytes, width: int, height: int) -> dict:
        """A photo as Telegram sends it: a list of sizes (here one, the original)."""
        file_id, unique_id = self._user_file(content, "AgAC")
        return {
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(content),
                }
            ]
        }

    def _group_message(
        self, user: TestUser, group: TestGroup, text: str, reply_to: dict | None = None
    ) -> dict:
        """A message ``user`` sent in ``group`` (replying to the message ``reply_to``,
        as Telegram shows it), pushed as an update."""
        message: dict[str, Any] = {
            "message_id": group._allocate_message_id(),
            "from": user.user_json(),
            "chat": group.chat_json(),
            "date": int(time.time()),
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        entities = find_entities(text)
        if entities:
            message["entities"] = entities
        self.timeline.append((group.id, "user", text))
        return self._push_update({"message": message})

    def remove_bot(self, group: TestGroup, by: TestUser) -> None:
        """Someone removes the bot from a group: Telegram tells it (my_chat_member)."""
        group.bot_status = "kicked"
        self._push_group_member_update(group, by, "member", "kicked")

    def restrict_bot(self, group: TestGroup, by: TestUser) -> None:
        """The bot may no longer post in a group."""
        group.bot_status = "restricted"

    def migrate(self, group: TestGroup, by: TestUser) -> TestGroup:
        """The group becomes a supergroup with a new id; Telegram says so in the old one."""
        supergroup = self.group(group.title, chat_id=-1_000_000_000_000 + group.id)
        supergroup.kind = "supergroup"
        group.bot_status, group.migrated_to = "migrated", supergroup.id
        self._push_update(
            {
                "message": {
                    "message_id": group._allocate_message_id(),
                    "from": by.user_json(),
                    "chat": group.chat_json(),
                    "date": int(time.time()),
                    "migrate_to_chat_id": supergroup.id,
                }
            }
        )
        return supergroup

    def _push_group_member_update(self, group: TestGroup, by: TestUser, old: str, new: str) -> None:
        bot = self.bot_user
        self._push_update(
            {
                "my_chat_member": {
                    "chat": group.chat_json(),
                    "from": by.user_json(),
                    "date": int(time.time()),
                    "old_chat_member": {"user": bot, "status": old},
                    "new_chat_member": {
                        "user": bot,
                        "status": new,
                        **({"until_date": 0} if new == "kicked" else {}),
                    },
                }
            }
        )

    def _user_edit(self, user: TestUser, message_id: int, text: str) -> dict:
        """Change the text of a message ``user`` sent, and push ``edited_message``."""
        original = self._user_messages.get((user.id, message_id))
        if original is None:
            raise ValueError(f"{user.first_name} sent no message {message_id}")
        edited = {k: v for k, v in original.items() if k not in ("text", "entities")}
        edited["text"] = text
        entities = find_entities(text)
        if entities:
            edited["entities"] = entities
        edited["edit_date"] = int(time.time())
        self._user_messages[(user.id, message_id)] = edited
        return self._push_update({"edited_message": edited})

    def _user_callback(self, user: TestUser, message: SentMessage, data: str) -> str:
        """Push a callback query from ``user`` on ``message``; return its id."""
        self._query_counter += 1
        query_id = str(4_000_000_000_000_000 + user.id * 1000 + self._query_counter)
        self._callback_queries[query_id] = user.id
        user.started = True
        label = next(
            (
                b.get("text", data)
                for row in message.buttons
                for b in row
                if b.get("callback_data") == data
            ),
            data,
        )
        self.timeline.append((user.id, "press", label))
        self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.user_json(),
                    "message": message.to_json(),
                    # Stable per chat, as on Telegram.
                    "chat_instance": str(-(message.chat_id * 7919 + 104729) % (2**63)),
                    "data": data,
                }
            }
        )
        return query_id

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` ("*" = any) with this error."""
        fault = _Fault(status, retry_after if status != 429 else (retry_after or 1), description)
        self._faults.setdefault(method.lower(), deque()).extend([fault] * count)

    def hang_next(self, method: str, count: int = 1) -> None:
        """Leave the next ``count`` calls of ``method`` unanswered until the client
        gives up (its timeout) or the stand-in stops: a Telegram that is slow to answer."""
        self._hangs[method.lower()] = self._hangs.get(method.lower(), 0) + count

    def drop_next(self, method: str, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``method`` without answering."""
        self._faults.setdefault(method.lower(), deque()).extend([_Fault(None)] * count)

    def fail_rate(
        self,
        method: str,
        status: int = 502,
        fraction: float = 0.1,
        seed: int = 0,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer a random (seeded, reproducible) ``fraction`` of calls of ``method`` with an error."""
        fault = _Fault(status, retry_after if status != 429 else (retry_after or 1), description)
        self._rate_faults.setdefault(method.lower(), []).append(
            _RateFault(fault, fraction, random.Random(seed))
        )

    def drop_rate(self, method: str, fraction: float, seed: int = 0) -> None:
        """Drop the connection for a random (seeded, reproducible) ``fraction`` of calls."""
        self._rate_faults.setdefault(method.lower(), []).append(
            _RateFault(_Fault(None), fraction, random.Random(seed))
        )

    def clear_faults(self) -> None:
        """Remove all pending and random fault injection."""
        self._faults.clear()
        self._rate_faults.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        for key in (method.lower(), "*"):
            for rule in self._rate_faults.get(key, []):
                if rule.rng.random() < rule.fraction:
                    return rule.fault
        return None

    @staticmethod
    def _fault_error(fault: _Fault) -> ApiError:
        status = fault.status or 500
        if fault.description:
            description = fault.description
        elif status == 429:
            description = f"Too Many Requests: retry after {fault.retry_after}"
        else:
            description = _DEFAULT_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
        return ApiError(status, description, fault.retry_after)

    # ------------------------------------------------------------------ HTTP layer

    async def _handle(self, request: web.Request) -> web.Response:
        if self.latency and request.match_info.get("method", "").lower() != "getupdates":
            # Telegram counts a message when it arrives: the end of its trip,
            # reckoned from when it reached us, not from whenever this process
            # next gets round to it (a busy moment here would otherwise count
            # a row of requests at once, a burst nobody sent).
            _ARRIVAL.set(self._clock() + self.latency)
            await asyncio.sleep(self.latency)
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        raw_method = request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)
        method, handler = self._methods.get(raw_method.lower(), (raw_method, None))
        self.calls.append((method, {**params, **files}))
        self._notify()
        if handler is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)

        if self._hangs.get(method.lower()):
            self._hangs[method.lower()] -= 1
            self.hanging += 1
            self._notify()
            try:
                while not self._stopping:
                    await self._wait_until(lambda: True if self._stopping else None, 3600)
            finally:
                self.hanging -= 1
            self._drop(request)

        fault = self._take_fault(method)
        if fault is not None:
            self.injected_failures.append(
                InjectedFailure(
                    method,
                    _maybe_int(params.get("chat_id")),
                    self._clock(),
                    fault.status,
                    None if fault.status is None else self._fault_error(fault).description,
                )
            )
            self._notify()
            if fault.status is None:
                self._drop(request)
            injected = self._fault_error(fault)
            return web.json_response(injected.body(), status=injected.status)

        try:
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)
        except Exception as exc:  # a bug in the stand-in: keep it visible to the test
            self.internal_errors.append(exc)
            _log.exception("stand-in failed on %s", method)
            bug = ApiError(500, f"Internal Server Error: stand-in bug: {exc!r}")
            return web.json_response(bug.body(), status=500)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _drop(request: web.Request) -> NoReturn:
        """Abort the TCP connection so the client gets no HTTP response at all."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        # Leaving the handler by cancellation makes aiohttp close quietly without
        # trying to write a response to the aborted connection.
        raise asyncio.CancelledError()

    async def _read_params(self, request: web.Request) -> tuple[dict, dict]:
        """Parameters from the query string and a form, multipart or JSON body."""
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if not request.body_exists:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON encoded request") from None
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "Request Entity Too Large") from None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                else:
                    params[key] = value
        return params, files

    # ------------------------------------------------------------------ parameter helpers

    @staticmethod
    def _int(params: dict, name: str, default: int | None = None) -> int | None:
        value = params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    @staticmethod
    def _json(params: dict, name: str, what: str | None = None) -> Any:
        # PTB JSON-encodes every non-string value; plain JSON bodies may carry real objects.
        value = params.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(
                    400, f"Bad Request: can't parse {what or name} JSON object"
                ) from None
        return value

    @staticmethod
    def _bool(params: dict, name: str) -> bool:
        return params.get(name) in (True, "true", "True", "1", 1)

    def _chat(self, params: dict) -> _Chat:
        """The chat named by chat_id, if the bot may write to it (else 400/403 like Telegram)."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(_maybe_int(raw))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if isinstance(chat, TestGroup):
            if chat.bot_status == "kicked":
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            if chat.bot_status == "migrated":
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=chat.migrated_to,
                )
            if chat.bot_status == "restricted":
                raise ApiError(
                    400, "Bad Request: not enough rights to send text messages to the chat"
                )
        if isinstance(chat, TestUser):
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _known_users(self) -> dict[int, dict]:
        return {
            c.id: {k: v for k, v in c.user_json().items() if k != "language_code"}
            for c in self._chats.values()
            if isinstance(c, TestUser)
        }

    def _formatted(
        self,
        params: dict,
        field: str,
        entities_field: str,
        limit: int,
        empty_error: str | None,
        long_error: str,
    ) -> tuple[str, list[dict]]:
        """Parse ``field`` with parse_mode; enforce Telegram's empty and length rules."""
        raw = params.get(field)
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        parse_mode = params.get("parse_mode") or None
        if parse_mode and parse_mode.lower() not in ("html", "markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        entities = self._json(params, entities_field)
        try:
            plain, found = format_text(text, parse_mode, entities, self._known_users())
        except EntityParseError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        if not plain and empty_error:
            raise ApiError(400, empty_error)
        if utf16_len(plain) > limit:
            raise ApiError(400, long_error)
        return plain, found

    def _reply_markup(self, params: dict) -> dict | None:
        """Decode and validate reply_markup like Telegram."""
        markup = self._json(params, "reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "InlineKeyboardButton must be an Object",
                )
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        return markup

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "InlineKeyboardButton must be an Object",
            )
        if not isinstance(button.get("text"), str):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                'Field "text" must be of type String',
            )
        if not button["text"].strip():
            raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        elif "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url, re.IGNORECASE):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        elif not any(
            key in button
            for key in (
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            )
        ):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard",
            )

    def _flood_check(self, method: str, chat_id: int, counts_globally: bool) -> None:
        """Refuse with 429 (and record it) when the bot exceeds a flood limit."""
        if not self.enforce_limits:
            return
        now = _ARRIVAL.get() or self._clock()
        retry_after = self._flood.acquire(chat_id, now, counts_globally)
        if retry_after:
            self.limit_violations.append(LimitViolation(method, chat_id, now, retry_after))
            self._notify()
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _reply_target(self, chat: _Chat, params: dict) -> dict | None:
        """JSON of the message the bot replies to (reply_parameters or reply_to_message_id)."""
        reply = self._json(params, "reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = self._int(params, "reply_to_message_id")
        if message_id is None:
            return None
        message_id = int(message_id)
        allow_missing = (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        ) or self._bool(params, "allow_sending_without_reply")
        target = self._message_json(chat.id, message_id)
        if target is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        target.pop("reply_to_message", None)
        return target

    def _message_json(self, chat_id: int, message_id: int) -> dict | None:
        bot_message = self._bot_messages.get((chat_id, message_id))
        if bot_message is not None:
            return None if bot_message.deleted else bot_message.to_json()
        user_message = self._user_messages.get((chat_id, message_id))
        return dict(user_message) if user_message is not None else None

    def _deliver(self, chat: _Chat, message: SentMessage) -> None:
        self._bot_messages[(chat.id, message.message_id)] = message
        chat.messages.append(message)
        self.sent.append(message)
        self.timeline.append((chat.id, "bot", message))
        self._notify()

    def _editable(self, params: dict) -> tuple[_Chat, SentMessage]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat(params)
        message_id = self._int(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = self._bot_messages.get((chat.id, message_id))
        if message is None or message.deleted:
            if (chat.id, message_id) in self._user_messages:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    def _apply_edit(self, chat: _Chat, message: SentMessage, **changes: Any) -> dict:
        message.edits.append(message.snapshot())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        # Waiters re-check on every change, so expect() also sees edits of unread messages.
        self._notify()
        return message.to_json()

    # ------------------------------------------------------------------ Bot API methods

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: dict, files: dict) -> list[dict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = self._int(params, "offset", 0) or 0
        limit = min(100, max(1, self._int(params, "limit", 100) or 100))
        try:
            timeout = max(0.0, float(params.get("timeout") or 0))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid timeout specified") from None
        allowed = self._json(params, "allowed_updates")
        if isinstance(allowed, list):
            # The choice sticks until changed; an empty list means the default set.
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        self._confirm(offset)

        # A newer getUpdates call terminates an older one that is still held.
        self._poll_serial += 1
        serial = self._poll_serial
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if serial != self._poll_serial:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = [
                u
                for u in self.pending_updates()
                if next(k for k in u if k != "update_id") in self._allowed_updates
            ][:limit]
            remaining = deadline - loop.time()
            if batch or self._stopping or remaining <= 0:
                return batch
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        self.webhook_url = ""
        if self._bool(params, "drop_pending_updates"):
            self._confirm(self._first_update_id + len(self.updates))
        return True

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        # Only recorded: the stand-in never calls webhooks, but getUpdates then answers 409.
        self.webhook_url = params.get("url") or ""
        if self._bool(params, "drop_pending_updates"):
            self._confirm(self._first_update_id + len(self.updates))
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates()),
        }

    def _command_key(self, params: dict) -> tuple[str, str]:
        scope = self._json(params, "scope", "bot command scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        if "chat_id" in scope:
            scope = {**scope, "chat_id": _maybe_int(scope["chat_id"])}
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return json.dumps(scope, sort_keys=True, separators=(",", ":")), language

    def commands_for(self, scope: dict | None = None, language_code: str = "") -> list[dict] | None:
        """Commands set for that scope (default scope if None) and language, or None."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))
        return self.commands.get((key, language_code))

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        commands = self._json(params, "commands", "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._command_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        self._notify()
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list[dict]:
        return [dict(c) for c in self.commands.get(self._command_key(params), [])]

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        self.commands.pop(self._command_key(params), None)
        self._notify()
        return True

    def _set_text_setting(self, params: dict, kind: str, field: str, limit: int) -> bool:
        value = params.get(field) or ""
        if len(value) > limit:
            raise ApiError(400, f"Bad Request: {kind} is too long")
        self.descriptions[(kind, params.get("language_code") or "")] = value
        return True

    def _api_setMyDescription(self, params: dict, files: dict) -> bool:
        return self._set_text_setting(params, "description", "description", 512)

    def _api_setMyShortDescription(self, params: dict, files: dict) -> bool:
        return self._set_text_setting(params, "short_description", "short_description", 120)

    def _api_setMyName(self, params: dict, files: dict) -> bool:
        return self._set_text_setting(params, "name", "name", 64)

    def _api_getMyDescription(self, params: dict, files: dict) -> dict:
        return {
            "description": self.descriptions.get(
                ("description", params.get("language_code") or ""), ""
            )
        }

    def _api_getMyShortDescription(self, params: dict, files: dict) -> dict:
        return {
            "short_description": self.descriptions.get(
                ("short_description", params.get("language_code") or ""), ""
            )
        }

    def _api_getMyName(self, params: dict, files: dict) -> dict:
        return {
            "name": self.descriptions.get(
                ("name", params.get("language_code") or ""), self.bot_first_name
            )
        }

    def _api_setChatMenuButton(self, params: dict, files: dict) -> bool:
        return True

    def _api_setMyDefaultAdministratorRights(self, params: dict, files: dict) -> bool:
        return True

    def _api_close(self, params: dict, files: dict) -> bool:
        return True

    def _api_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _api_getChat(self, params: dict, files: dict) -> dict:
        raw = params.get("chat_id")
        chat = self._chats.get(_maybe_int(raw)) if raw not in (None, "") else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return {
            **chat.chat_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
            },
        }

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        text, entities = self._formatted(
            params,
            "text",
            "entities",
            TEXT_LIMIT,
            "Bad Request: message text is empty",
            "Bad Request: message is too long",
        )
        markup = self._reply_markup(params)
        chat = self._chat(params)
        reply_to = self._reply_target(chat, params)
        self._flood_check("sendMessage", chat.id, counts_globally=True)
        message = SentMessage(
            message_id=chat._allocate_message_id(),
            chat_id=chat.id,
            date=int(time.time()),
            chat=chat.chat_json(),
            sender=self.bot_user,
            text=text,
            html=params.get("text") if isinstance(params.get("text"), str) else None,
            parse_mode=params.get("parse_mode") or None,
            entities=entities,
            reply_markup=markup,
            reply_to_message=reply_to,
            silent=_flag(params.get("disable_notification")),
        )
        self._deliver(chat, message)
        return message.to_json()

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        caption, caption_entities = self._formatted(
            params,
            "caption",
            "caption_entities",
            CAPTION_LIMIT,
            None,
            "Bad Request: message caption is too long",
        )
        markup = self._reply_markup(params)
        chat = self._chat(params)
        upload = files.get("document")
        if upload is None:
            # A string document: the file_id of a document sent before (URLs aren't fetched).
            reference = params.get("document")
            if not reference:
                raise ApiError(400, "Bad Request: there is no document in the request")
            earlier = next((m for m in self.sent if m.file_id == reference), None)
            if earlier is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            upload = UploadedFile(earlier.filename, earlier.content or b"", earlier.mime_type)
            file_id, unique_id = earlier.file_id, earlier.file_unique_id
        else:
            if not upload.content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(upload.content) > DOCUMENT_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            self._file_counter += 1
            file_id = f"BQACAgIAAxkDAAI{self._file_counter:08d}"
            unique_id = f"AgADdoc{self._file_counter:06d}"
        reply_to = self._reply_target(chat, params)
        self._flood_check("sendDocument", chat.id, counts_globally=True)
        message = SentMessage(
            message_id=chat._allocate_message_id(),
            chat_id=chat.id,
            date=int(time.time()),
            chat=chat.chat_json(),
            sender=self.bot_user,
            reply_markup=markup,
            reply_to_message=reply_to,
            filename=upload.filename or "document",
            content=upload.content,
            mime_type=upload.content_type,
            file_id=file_id,
            file_unique_id=unique_id,
            caption=caption or None,
            caption_html=params.get("caption") if isinstance(params.get("caption"), str) else None,
            caption_entities=caption_entities,
            parse_mode=params.get("parse_mode") or None,
            silent=_flag(params.get("disable_notification")),
        )
        self._deliver(chat, message)
        return message.to_json()

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        text, entities = self._formatted(
            params,
            "text",
            "entities",
            TEXT_LIMIT,
            "Bad Request: message text is empty",
            "Bad Request: message is too long",
        )
        markup = self._reply_markup(params)
        chat, message = self._editable(params)
        if message.is_document:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        self._flood_check("editMessageText", chat.id, counts_globally=False)
        return self._apply_edit(
            chat,
            message,
            text=text,
            entities=entities,
            reply_markup=markup,
            html=params.get("text"),
            parse_mode=params.get("parse_mode") or None,
        )

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        markup = self._reply_markup(params)
        chat, message = self._editable(params)
        if markup == message.reply_markup or (not markup and not message.reply_markup):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        self._flood_check("editMessageReplyMarkup", chat.id, counts_globally=False)
        return self._apply_edit(chat, message, reply_markup=markup)

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        chat = self._chat(params)
        message_id = self._int(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (chat.id, message_id)
        if key in self._bot_messages and not self._bot_messages[key].deleted:
            self._bot_messages[key].deleted = True
        elif key in self._user_messages:
            # Bots may delete incoming messages in private chats.
            del self._user_messages[key]
        else:
            raise ApiError(400, "Bad Request: message to delete not found")
        self._notify()
        return True

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text") or None
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=self._bool(params, "show_alert"),
            url=params.get("url") or None,
            cache_time=self._int(params, "cache_time", 0) or 0,
        )
        self._notify()
        return True

    def _api_getFile(self, params: dict, files: dict) -> dict:
        """A file a user sent: its size and the path to download it from, as Telegram
        answers (files the bot sent are not kept for download here)."""
        file_id = params.get("file_id")
        if not file_id:
            raise ApiError(400, "Bad Request: file_id is empty")
        known = self._user_files.get(str(file_id))
        if known is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        unique_id, content, path = known
        if len(content) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        if path is None:
            folder = "photos" if str(file_id).startswith("AgAC") else "documents"
            path = f"{folder}/file_{unique_id[5:]}"
            self._user_files[str(file_id)] = (unique_id, content, path)
        return {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(content),
            "file_path": path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        """``GET /file/bot<token>/<file_path>``: a file's bytes, once getFile named it."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        for _, content, known in self._user_files.values():
            if known == path:
                self.downloads.append(path)
                self._notify()
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._chat(params)
        return True


def _flag(value: Any) -> bool:
    """A Boolean parameter as Telegram reads it: JSON true, or "true" in a form."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _maybe_int(value: Any) -> Any:
    """Chat ids arrive as strings in forms; keep non-numeric ones (like "@name") as they are."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value
