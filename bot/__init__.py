"""Dilemma Swap: a Telegram bot for comparative learning between teams."""

import os

# Opt in now to python-telegram-bot's coming change: durations (such as a 429's
# retry_after) as timedelta. Our code reads both; this avoids the warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")
