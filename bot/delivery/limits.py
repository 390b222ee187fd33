"""How much one person may send the bot: enough for any real workshop, not a flood.

Everything a person sends costs a transaction and usually a reply; someone
pasting 500 messages would fill the store and queue minutes of replies for
their own chat. A token bucket per person lets a burst through (a long text
that Telegram split into parts, a quick run of button presses), then a steady
pace; beyond it the first update gets one answer and the rest are dropped,
until the bucket refills. Organisers are not limited: they are configured by
hand, and their commands move whole swaps.
"""

from __future__ import annotations

from enum import Enum


class Verdict(Enum):
    TAKE = "take"
    WARN = "warn"  # the first update over the limit: answer it once
    DROP = "drop"


class PersonLimiter:
    """``burst`` updates at once, then ``per_minute`` a minute, per person."""

    def __init__(self, burst: int = 20, per_minute: float = 20) -> None:
        self.burst = burst
        self.rate = per_minute / 60
        self._buckets: dict[int, tuple[float, float, bool]] = {}  # tokens, at, warned

    def check(self, person: int, now: float) -> Verdict:
        """Count one update from ``person`` at ``now`` (seconds) and say what to do."""
        tokens, at, warned = self._buckets.get(person, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1:
            self._buckets[person] = (tokens - 1, now, False)
            return Verdict.TAKE
        self._buckets[person] = (tokens, now, True)
        if len(self._buckets) > 10_000:
            # Forget people whose buckets are full again: they are as good as new.
            self._buckets = {
                p: b
                for p, b in self._buckets.items()
                if b[0] + (now - b[1]) * self.rate < self.burst
            }
        return Verdict.DROP if warned else Verdict.WARN
