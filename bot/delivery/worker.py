"""The delivery worker: drains the outbox into Telegram without losing anything.

Messages are written to the outbox in the same transaction as the change that
owes them; this worker sends them, oldest first and in order within each chat.
A row is marked sent only after Telegram accepted it, so a crash can at worst
send the messages that were in flight once more (a window of at most
``MAX_WINDOW``, sized from the round trip, never two to one chat). If writing a
delivery down fails (a full disk, say), the worker remembers it and retries the
record, never the send.

Pacing: ``Pacer`` counts every call the bot makes in sliding windows, as
Telegram does (overall, per chat, per group). This worker starts a send only
when the windows have room, and takes its place at once, so it never waits on a
chat, and a chat or group waiting for its window holds up no one else.

Nothing that goes wrong inside the worker stops it: a failure is logged and the
loop tries again after a pause that doubles up to a cap, and a loop that ends
anyway while the bot is running is started again.
"""

from __future__ import annotations

import asyncio
import bisect
import html
import json
import logging
import math
import random
import re
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.warnings import PTBUserWarning

from bot.model import ChatStatus
from storage.db import Database

log = logging.getLogger(__name__)

# The longest the worker sleeps with nothing to wake it: a safety net only, as
# new rows and finished sends wake it at once.
IDLE_WAIT = 5.0

# The most sends in flight at once (see ``Delivery.window``).
MAX_WINDOW = 8

# Seconds for Telegram's flood budgets to refill completely after a burst.
BUDGET_REFILL = 1.0

# After a failure (the database, say, refusing a read) the worker pauses this
# long, doubling with each failure in a row up to RETRY_MAX.
RETRY_MIN = 0.5
RETRY_MAX = 30.0


def _backoff(failures: int) -> float:
    """The pause after ``failures`` failures in a row (at least one)."""
    return min(RETRY_MAX, RETRY_MIN * 2 ** (failures - 1))


@dataclass(frozen=True)
class Limits:
    """How fast the bot writes: Telegram's limits, as sliding windows, with a little
    to spare. Telegram counts in windows (30 in any second overall, a short burst
    but no more than about one a second per chat, 20 in any minute per group), so
    a token bucket that refills while it sends would overdraw them.

    A parameter of the application so that tests which are not about pacing
    can run without waiting a second per message; the bot itself always runs
    with the defaults.
    """

    overall_per_second: float = 28  # Telegram: 30 in any second
    chat_per_window: float = 3  # Telegram tolerates 3 at once in a chat...
    chat_window: float = 3.0  # ...but no more than 3 in any 3 seconds
    group_per_minute: float = 19  # Telegram: 20 in any minute...
    group_window: float = 60.0  # ...the minute (a test may shrink any window)
    # Windows are counted from when a send starts; Telegram counts from when it
    # arrives, a little later. This much more between sends to one chat covers it.
    margin: float = 0.25

    @classmethod
    def unpaced(cls) -> Limits:
        """No pacing worth the name: for tests about something else."""
        return cls(overall_per_second=10_000, chat_per_window=10_000, group_per_minute=10_000)


class Pacer:
    """The bot's recent sends, overall and per chat, as sliding windows.

    The delivery worker asks which chats are ``crowded`` (their window full)
    before it looks at the outbox, and passes them over; it takes a send's
    place at once (``take``), so its sends never wait in the rate limiter and a
    chat or group waiting for its window never holds up the others. Calls the
    handlers make (answering a button, removing it) take their place too.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._overall: deque[float] = deque()
        self._chats: dict[int, deque[float]] = {}
        # The chats whose window was full when a send was last counted: the
        # few that ``crowded`` has to look at, however many chats there are.
        self._full: set[int] = set()

    def _limit(self, chat_id: int) -> tuple[int, float]:
        if chat_id < 0:
            return int(self.limits.group_per_minute), self.limits.group_window + self.limits.margin
        return int(self.limits.chat_per_window), self.limits.chat_window + self.limits.margin

    @staticmethod
    def _prune(sent: deque[float], span: float, now: float) -> deque[float]:
        while sent and sent[0] <= now - span:
            sent.popleft()
        return sent

    def overall_wait(self, now: float) -> float:
        """Seconds until one more message fits in the overall second."""
        sent = self._prune(self._overall, 1.0, now)
        limit = int(self.limits.overall_per_second)
        return 0.0 if len(sent) < limit else sent[-limit] + 1.0 - now

    def spread_wait(self, now: float) -> float:
        """Seconds until a send keeps the bot's sends spread over the second,
        once it is half full: half the interval the overall limit allows after
        the last one. Sends made in a burst reach Telegram in a burst, and a
        moment's delay on the way can then put more than its limit into one
        second; a few replies at once still go at once."""
        limit = self.limits.overall_per_second
        sent = self._prune(self._overall, 1.0, now)
        if not sent or len(sent) < limit // 2:
            return 0.0
        return max(0.0, self._overall[-1] + 0.5 / limit - now)

    def crowded(self, now: float) -> dict[int, float]:
        """The chats whose own window is full now, each with the seconds until
        it has room again."""
        waits = {}
        for chat_id in list(self._full):
            limit, span = self._limit(chat_id)
            sent = self._prune(self._chats.get(chat_id, deque()), span, now)
            if len(sent) < limit:
                self._full.discard(chat_id)
            else:
                waits[chat_id] = sent[-limit] + span - now
        return waits

    def _counted(self, chat_id: int, sent: deque[float]) -> None:
        if len(sent) >= self._limit(chat_id)[0]:
            self._full.add(chat_id)

    def restamp(self, chat_id: int, taken: float, now: float) -> None:
        """A send that took its place at ``taken`` is made only ``now``: count
        it from now. Telegram counts a message when it arrives, so a send held
        up in between (a busy moment of the process) must not let the next
        second's sends crowd in behind it. A place taken once and restamped
        already (a second call for the same message) is counted anew."""
        for sent in (self._overall, self._chats.setdefault(chat_id, deque())):
            with suppress(ValueError):
                sent.remove(taken)
            bisect.insort(sent, now)
        self._counted(chat_id, self._chats[chat_id])

    def take(self, chat_id: int | None, now: float) -> None:
        """Count a message sent now (to a chat, or an API call with none)."""
        self._overall.append(now)
        if chat_id is None:
            return
        sent = self._chats.setdefault(chat_id, deque())
        sent.append(now)
        self._counted(chat_id, sent)
        if len(self._chats) > 10_000:
            # Forget chats with nothing in their window: they are as good as new.
            self._chats = {
                c: d for c, d in self._chats.items() if self._prune(d, self._limit(c)[1], now)
            }


# What python-telegram-bot says when ``do_api_request`` names a method it has a
# typed call for: the calls the worker makes untyped (see ``Delivery._api``).
_TYPED_CALL_EXISTS = r"Please use 'Bot\.(sendMessage|editMessageText|editMessageReplyMarkup)'"


@dataclass(frozen=True)
class Paced:
    """What the worker's calls carry for the rate limiter: the place the send
    took in the windows (its chat, and when), to be counted from when it is made."""

    chat_id: int
    taken: float


class PacedRateLimiter(AIORateLimiter):
    """Every call the bot makes counted in the ``Pacer``'s windows.

    The worker's sends have taken their place before they start (``Paced``),
    and are counted again from the moment they are made. Any
    other call (a handler answering a button press) waits only for the overall
    window, never for a chat's: updates are handled one at a time, and one
    person's chat must not hold up everyone else. A 429 is not retried here: it
    reaches the worker, which waits what Telegram asks and counts it.
    """

    def __init__(self, pacer: Pacer) -> None:
        super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=0)
        self.pacer = pacer

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Any,
    ) -> Any:
        if isinstance(rate_limit_args, Paced):
            self.pacer.restamp(rate_limit_args.chat_id, rate_limit_args.taken, time.monotonic())
        else:
            # Time fills the window up again, not an event: sleeping is the wait.
            while (wait := self.pacer.overall_wait(time.monotonic())) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            chat_id = data.get("chat_id")
            self.pacer.take(chat_id if isinstance(chat_id, int) else None, time.monotonic())
        # AIORateLimiter reads rate_limit_args as a number of retries: none, here.
        return await super().process_request(callback, args, kwargs, endpoint, data, None)


def _plain(html_text: str) -> str:
    """Telegram HTML as plain text, for the rare message Telegram cannot parse."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


class Delivery:
    """Sends what the outbox holds; call ``wake()`` when rows were added."""

    def __init__(
        self,
        db: Database,
        bot: ExtBot,
        *,
        max_window: int = MAX_WINDOW,
        pacer: Pacer | None = None,
        max_backoff: float = 300.0,
        on_group_lost: Callable[[int, str], Awaitable[None]] | None = None,
        on_group_moved: Callable[[int, int], Awaitable[None]] | None = None,
        on_person_lost: Callable[[int], None] | None = None,
    ) -> None:
        # A window of sends in flight, sized from the measured round trip: one
        # while a send takes under about 1.5/28 s (one at a time then reaches the
        # overall limit), more over a slower link (Telegram's own is about 100 ms
        # from Europe), never more than ``max_window`` and never two to one chat.
        # The bound after a crash: every send in flight may be one Telegram
        # accepted and nobody wrote down, so at most ``max_window`` messages (one
        # per send in flight) arrive twice.
        self.db = db
        self.bot = bot
        # What to do when a team's group is lost ("removed", "no_rights") or moved
        # (it became a supergroup): the service that knows about teams decides.
        self.on_group_lost = on_group_lost
        self.on_group_moved = on_group_moved
        # And when a person is (blocked, never started): the gate keeps the list.
        self.on_person_lost = on_person_lost
        self.max_window = max_window
        self.pacer = pacer or Pacer()
        # _api's untyped calls are meant: not a warning to show on each.
        warnings.filterwarnings("ignore", message=_TYPED_CALL_EXISTS, category=PTBUserWarning)
        self._round_trip: float | None = None  # seconds a send takes, smoothed
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._inflight: dict[int, asyncio.Task] = {}  # chat -> the send under way
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._failures = 0  # failures of the loop in a row
        self._quiet_until = 0.0  # monotonic time before which nothing is sent
        # Messages Telegram accepted whose acceptance could not be written down
        # yet: outbox id -> (Telegram's message id, whether the row is to be
        # forgotten). Their rows are still pending, and nothing new is sent
        # until they are recorded.
        self._unrecorded: dict[int, tuple[int, bool]] = {}
        self._record_failures = 0  # failed tries in a row to record them
        self.refused = 0  # 429s since the start: the pacing aims at none
        # The last look at the outbox started every pending row, each the last
        # of its chat, with nothing deferred and nothing in flight: a send
        # ending then leaves nothing to look for. New rows, and a send that
        # ended any other way than recorded, make it false.
        self._all_started = False
        self._record_at = 0.0  # monotonic time of the next try

    def wake(self) -> None:
        """New rows are in the outbox: look at once."""
        self._all_started = False
        self._wake.set()

    async def start(self) -> None:
        """Start sending; after a stop with messages still owed, wait a moment first."""
        self._stopping.clear()
        async with self.db.read() as tx:
            backlog = (await tx.outbox.counts()).get("pending", 0)
        if backlog:
            # The process before this one may have been sending until a moment ago,
            # and Telegram's budgets (overall and per chat) are about a second deep:
            # a full-speed start could overdraw what it spent in its last second.
            self._quiet_until = time.monotonic() + BUDGET_REFILL
        self._failures = 0
        self._launch()

    async def stop(self) -> None:
        """Stop taking new rows; let the sends under way finish; record what was sent.

        Never raises for the loop: whatever ended it has been logged already.
        """
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.wait([task])
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        if self._unrecorded:
            await self._record_owed()
        if self._unrecorded:
            log.warning(
                "%d delivered messages could not be recorded; they will be sent "
                "again after a restart",
                len(self._unrecorded),
            )

    def _launch(self, pause: float = 0.0) -> None:
        self._task = asyncio.create_task(self._run(pause), name="outbox-delivery")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        """Log an error that ended the loop; if it ended while running, start it again.

        ``_run`` catches what its work raises, so this is a last resort. A
        cancellation is someone's decision to end the loop (the event loop
        closing, say), so it is not undone.
        """
        if task.cancelled():
            if not self._stopping.is_set():
                log.error("The delivery loop was cancelled; nothing is sent until a restart")
            return
        error = task.exception()
        if error is not None:
            log.error("The delivery loop ended with an error", exc_info=error)
        if self._stopping.is_set() or task is not self._task:
            return
        self._failures += 1
        pause = _backoff(self._failures)
        log.error("The delivery loop ended while running; starting it again in %.1fs", pause)
        self._launch(pause)

    async def _run(self, pause: float = 0.0) -> None:
        await self._rest(pause)
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                delay = await self._dispatch()
            except Exception:
                # Never the end of delivery: the database may be busy or briefly
                # unwell. Wait, unmoved by wake(), and try again.
                self._failures += 1
                pause = _backoff(self._failures)
                log.exception("Delivery failed; trying again in %.1fs", pause)
                await self._rest(pause)
                continue
            self._failures = 0
            if self._stopping.is_set():
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _rest(self, seconds: float) -> None:
        """Sleep for ``seconds``, or until stopped."""
        if seconds > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _dispatch(self) -> float:
        """Start every send that may go now; return how long to sleep at most.

        A finished send and new rows wake the loop early, so the time returned
        only has to cover what nothing else wakes it for: a deferred retry
        falling due, a chat's pacing letting its next message go, or the next
        try at recording deliveries.
        """
        self._all_started = False
        now = time.monotonic()
        if self._unrecorded and now >= self._record_at:
            await self._record_owed()
        soonest = IDLE_WAIT
        if self._unrecorded:
            # Nothing new goes while a delivery is owed its record: the database
            # that refused it would likely refuse the next one too, and every
            # delivery not written down is one that a crash would send twice.
            return max(0.0, min(soonest, self._record_at - now))
        free = self.window() - len(self._inflight)
        if free <= 0:
            return soonest
        if now < self._quiet_until:
            return min(soonest, self._quiet_until - now)
        if (wait := max(self.pacer.overall_wait(now), self.pacer.spread_wait(now))) > 0:
            return min(soonest, wait)  # the second is full: nobody goes
        # Only chats that may have a message now are looked at: not those with
        # a send in flight, nor those whose window is full (the look passes
        # them over, so its cost stays the same whatever waits for them).
        crowded = self.pacer.crowded(now)
        if crowded:
            soonest = min(soonest, *crowded.values())
        wall = time.time()
        excluded = bool(self._inflight) or bool(crowded)
        async with self.db.alone() as tx:  # one statement
            rows, deferred = await tx.outbox.due(
                wall, limit=free, exclude_chats=[*self._inflight, *crowded]
            )
        if deferred is not None:
            soonest = min(soonest, deferred - wall)
        started = 0
        for row in rows:
            now = time.monotonic()
            if (wait := max(self.pacer.overall_wait(now), self.pacer.spread_wait(now))) > 0:
                return min(soonest, wait)  # the second is full: nobody else goes either
            taken = now
            self.pacer.take(row["chat_id"], taken)
            paced = Paced(row["chat_id"], taken)
            self._inflight[row["chat_id"]] = asyncio.create_task(self._send(dict(row), paced))
            started += 1
        self._all_started = (
            not excluded
            and deferred is None
            and started == len(rows) < free
            and not any(row["more"] for row in rows)
        )
        return soonest

    def _done(self, chat_id: int, recorded: bool) -> None:
        """A send has ended: look again, unless the last look showed that
        nothing else was pending and this row is now recorded as sent (about
        one query in three the worker would otherwise make)."""
        self._inflight.pop(chat_id, None)
        if not recorded:
            self._all_started = False
        if not self._all_started:
            self._wake.set()

    async def _send(self, row: dict, paced: Paced) -> None:
        """Send one row and write down the outcome; never raises."""
        recorded = False
        try:
            recorded = await self._attempt(row, paced)
        except Exception:
            # Writing down a refusal or a retry failed: the row stays pending and
            # goes again later, which is safe, as Telegram did not accept it.
            log.exception("Could not record the outcome for outbox message %s", row["id"])
        finally:
            self._done(row["chat_id"], recorded)

    def window(self) -> int:
        """How many sends may be in flight: enough to reach the overall limit."""
        if self._round_trip is None:
            return 1
        need = self._round_trip * self.pacer.limits.overall_per_second
        return 1 if need <= 1.5 else min(self.max_window, math.ceil(need))

    async def _attempt(self, row: dict, paced: Paced) -> bool:
        """Send a row; True if Telegram took it and that is written down."""
        chat_id = row["chat_id"]
        started = time.monotonic()
        try:
            message_id = await self._call(row, paced)
            took = time.monotonic() - started
            self._round_trip = (
                took if self._round_trip is None else 0.8 * self._round_trip + 0.2 * took
            )
        except RetryAfter as exc:
            wait = (
                exc.retry_after
                if isinstance(exc.retry_after, (int, float))
                else exc.retry_after.total_seconds()
            )
            self.refused += 1
            log.warning(
                "Telegram asked the bot to slow down (429, %d so far); waiting %ss",
                self.refused,
                wait,
            )
            await self._later(row, float(wait), f"429 retry after {wait}")
        except ChatMigrated as exc:
            # The group became a supergroup: its team, and what is owed to it,
            # follow it to the new id; the message goes again there.
            if self.on_group_moved is not None:
                await self.on_group_moved(chat_id, exc.new_chat_id)
        except Forbidden as exc:
            await self._unreachable(chat_id, str(exc))
        except BadRequest as exc:
            text = str(exc).lower()
            if "chat not found" in text or "user not found" in text:
                await self._unreachable(chat_id, str(exc))
            elif chat_id < 0 and "rights" in text:
                await self._unreachable(chat_id, str(exc), reason="no_rights")
            elif "parse entities" in text:
                log.error("Telegram could not parse outbox message %s: %s", row["id"], exc)
                await self._resend_plain(row, paced)
            else:
                log.error("Telegram refused outbox message %s: %s", row["id"], exc)
                async with self.db.transaction() as tx:
                    await tx.outbox.fail(row["id"], str(exc))
        except (NetworkError, TelegramError) as exc:
            backoff = min(self.max_backoff, 2 ** min(row["attempts"], 10))
            await self._later(row, backoff * (0.5 + random.random() / 2), str(exc))
        except Exception:
            log.exception("Unexpected error delivering outbox message %s", row["id"])
            await self._later(row, self.max_backoff, "unexpected error")
        else:
            return await self._record(row, message_id)
        return False

    async def _call(self, row: dict, paced: Paced, *, plain: bool = False) -> int:
        """Send a row as HTML, or as plain text with ``plain``; return Telegram's message id.

        Plain or not, the message keeps its buttons and its file: only the
        formatting is given up.
        """
        text = _plain(row["text"]) if plain else row["text"]
        parse_mode = None if plain else ParseMode.HTML.value
        markup = row["reply_markup"] or None  # JSON, as Telegram takes it
        if row["edit_message_id"] is not None:
            edited = await self._edit(row, paced, text, parse_mode, markup)
            if edited is not None:
                return edited
            if not text:
                return row["edit_message_id"]
        if row["document"] is not None:
            message = await self.bot.send_document(
                row["chat_id"],
                InputFile(bytes(row["document"]), filename=row["document_name"]),
                caption=text,
                parse_mode=parse_mode,
                reply_markup=InlineKeyboardMarkup.de_json(json.loads(markup), self.bot)
                if markup
                else None,
                disable_notification=bool(row["silent"]) or None,
                rate_limit_args=paced,
            )
            return message.message_id
        answer = await self._api(
            "sendMessage",
            paced,
            chat_id=row["chat_id"],
            text=text,
            parse_mode=parse_mode,
            reply_markup=markup,
            # A phase move notifies each person once; the rest comes quietly.
            disable_notification=bool(row["silent"]) or None,
        )
        return int(answer["message_id"])

    async def _api(self, endpoint: str, paced: Paced, **params: Any) -> Any:
        """A Bot API call made with a row as the outbox keeps it: the buttons
        already JSON, and of Telegram's answer only the message id read.

        python-telegram-bot's typed calls (``send_message``) would build the
        buttons into objects only to turn them back into JSON, and read the
        whole Message Telegram answers with: together half the CPU of a
        delivery. ``do_api_request`` is its public untyped call, with the same
        transport, rate limiter and errors. (It warns that a typed call exists:
        see ``__init__``.)
        """
        given = {key: value for key, value in params.items() if value is not None}
        return await self.bot.do_api_request(endpoint, given, rate_limit_args=paced)

    async def _edit(
        self, row: dict, paced: Paced, text: str, parse_mode: str | None, markup: str | None
    ) -> int | None:
        """Edit a message already sent; None if it can no longer be edited.

        An edit done twice (after a crash) is refused as "not modified", which
        means it is done. A message Telegram will not edit any more (too old,
        or deleted) is left as it is: its new words are sent as a new message.
        """
        chat_id, message_id = row["chat_id"], row["edit_message_id"]
        try:
            if text:
                await self._api(
                    "editMessageText",
                    paced,
                    chat_id=chat_id,
                    message_id=message_id,
                    text=text,
                    parse_mode=parse_mode,
                    reply_markup=markup,
                )
            else:
                # Without reply_markup: the buttons go.
                await self._api(
                    "editMessageReplyMarkup", paced, chat_id=chat_id, message_id=message_id
                )
        except BadRequest as exc:
            reason = str(exc).lower()
            if "not modified" in reason:
                return message_id
            if "message to edit not found" in reason or "can't be edited" in reason:
                log.info("Outbox message %s could not edit its message: %s", row["id"], exc)
                return None
            raise
        return message_id

    async def _resend_plain(self, row: dict, paced: Paced) -> None:
        """Send a message Telegram could not parse once more, as plain text."""
        try:
            message_id = await self._call(row, paced, plain=True)
        except TelegramError as exc:
            await self._later(row, 5.0, str(exc))
            return
        await self._record(row, message_id)

    async def _record(self, row: dict, message_id: int) -> bool:
        """Write down that Telegram accepted a message: one statement, which SQLite
        makes atomic without a transaction around it. True if it is written.

        If that fails, the message must not go again: it is remembered, and the
        record, not the send, is tried again (see ``_record_owed``).
        """
        outbox_id, forget = row["id"], bool(row["forget_when_sent"])
        try:
            async with self.db.alone() as tx:
                await tx.outbox.mark_sent(outbox_id, message_id, forget=forget)
        except Exception:
            log.exception("Could not record delivered outbox message %s; will try again", outbox_id)
            if not self._unrecorded:
                self._record_failures = 1
                self._record_at = time.monotonic() + _backoff(1)
            self._unrecorded[outbox_id] = (message_id, forget)
            return False
        return True

    async def _record_owed(self) -> None:
        """Try again to record the deliveries whose record failed, backing off if it fails."""
        owed = dict(self._unrecorded)
        try:
            async with self.db.transaction() as tx:
                for outbox_id, (message_id, forget) in owed.items():
                    await tx.outbox.mark_sent(outbox_id, message_id, forget=forget)
        except Exception as exc:
            self._record_failures += 1
            self._record_at = time.monotonic() + _backoff(self._record_failures)
            log.warning("Could not record %d delivered messages yet: %s", len(owed), exc)
            return
        for outbox_id in owed:
            del self._unrecorded[outbox_id]
        self._record_failures = 0
        log.info("Recorded %d delivered messages after all", len(owed))

    async def _later(self, row: dict, seconds: float, error: str) -> None:
        log.warning("Delivery to a chat deferred %.1fs: %s", seconds, error)
        async with self.db.transaction() as tx:
            await tx.outbox.retry_later(row["id"], time.time() + seconds, error)

    async def _unreachable(self, chat_id: int, error: str, reason: str = "removed") -> None:
        if chat_id < 0:
            # A group that no longer takes the bot's messages: they are dropped
            # (the team's members got their own copies), and the link ends.
            async with self.db.transaction() as tx:
                count = await tx.outbox.fail_chat(chat_id, error)
            if self.on_group_lost is not None:
                await self.on_group_lost(chat_id, reason)
            log.info("A group cannot be reached (%s); %d messages set aside", reason, count)
            return
        status = ChatStatus.BLOCKED if "blocked" in error.lower() else ChatStatus.NOT_STARTED
        async with self.db.transaction() as tx:
            count = await tx.outbox.fail_chat(chat_id, error)
            await tx.people.set_chat_status(chat_id, status)
        if self.on_person_lost is not None:
            self.on_person_lost(chat_id)
        log.info("A chat cannot be reached (%s); %d messages set aside", status, count)
