"""Flood limits of the Bot API stand-in.

Telegram refuses a bot that sends too fast with 429 "Too Many Requests: retry after N".
The documented limits are roughly 30 messages per second overall, about one message per
second in a private chat (short bursts allowed) and 20 messages per minute in a group.
They are modelled here as token buckets (global and per private chat) and a sliding
window (per group chat).  ``retry_after`` is the whole number of seconds, at least 1,
until the refused message would have been allowed.
"""

from __future__ import annotations

import math
from collections import deque


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled continuously at ``rate`` tokens per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Use one token (call only after wait_time() returned 0)."""
        self._refill(now)
        self.tokens -= 1


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.events: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits in the window."""
        while self.events and self.events[0] <= now - self.window:
            self.events.popleft()
        if len(self.events) < self.limit:
            return 0.0
        return self.events[0] + self.window - now

    def take(self, now: float) -> None:
        """Record one event."""
        self.events.append(now)


class FloodControl:
    """All flood limits of one bot: a global bucket plus one limiter per chat.

    With ``rolling``, the global limit and each private chat's are sliding windows
    instead of buckets (``global_capacity`` in any second; ``chat_capacity`` in any
    ``chat_capacity / chat_rate`` seconds): the strictest reading of Telegram's
    limits, which no burst after a refill can pass.
    """

    def __init__(
        self,
        global_capacity: float = 30,
        global_rate: float = 30,
        chat_capacity: float = 3,
        chat_rate: float = 1,
        group_limit: int = 20,
        group_window: float = 60,
        rolling: bool = False,
    ) -> None:
        self.global_capacity = global_capacity
        self.global_rate = global_rate
        self.chat_capacity = chat_capacity
        self.chat_rate = chat_rate
        self.group_limit = group_limit
        self.group_window = group_window
        self.rolling = rolling
        self._global: TokenBucket | SlidingWindow | None = None
        self._chats: dict[int, TokenBucket | SlidingWindow] = {}

    def _chat_limiter(self, chat_id: int, now: float) -> TokenBucket | SlidingWindow:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            # Negative ids are groups and channels; positive ids are private chats.
            if chat_id < 0:
                limiter = SlidingWindow(self.group_limit, self.group_window)
            elif self.rolling:
                limiter = SlidingWindow(
                    int(self.chat_capacity), self.chat_capacity / self.chat_rate
                )
            else:
                limiter = TokenBucket(self.chat_capacity, self.chat_rate, now)
            self._chats[chat_id] = limiter
        return limiter

    def acquire(self, chat_id: int, now: float, counts_globally: bool = True) -> int:
        """Take the tokens for one message; return 0 if allowed, else retry_after in seconds.

        Nothing is taken when the message is refused, so refusals don't extend the wait.
        """
        if self._global is None:
            self._global = (
                SlidingWindow(int(self.global_capacity), self.global_capacity / self.global_rate)
                if self.rolling
                else TokenBucket(self.global_capacity, self.global_rate, now)
            )
        limiters = [self._chat_limiter(chat_id, now)]
        if counts_globally:
            limiters.append(self._global)
        wait = max(limiter.wait_time(now) for limiter in limiters)
        if wait > 0:
            return max(1, math.ceil(wait - 1e-9))
        for limiter in limiters:
            limiter.take(now)
        return 0
