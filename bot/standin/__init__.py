"""A local stand-in for the Telegram Bot API: real HTTP, Telegram's limits and faults.

The tests run the real bot against it, and ``python -m bot rehearse`` plays a
whole swap against it with no token and no network, which is why it ships
inside the package rather than in ``tests/``. Usage::

    standin = BotAPIStandIn(token="123456:ABC-test", bot_username="dilemma_swap_test_bot")
    await standin.start()
    bot = telegram.Bot(token=standin.token, base_url=standin.base_url)
    alice = standin.user(first_name="Alice", username="alice")
    await alice.send("/start")
    await alice.expect("Welcome")
    await standin.stop()
"""

from .formatting import EntityParseError, format_text, parse_html, utf16_len
from .models import CallbackAnswer, InjectedFailure, LimitViolation, SentMessage, UploadedFile
from .server import BotAPIStandIn
from .users import TestGroup, TestUser

__all__ = [
    "BotAPIStandIn",
    "CallbackAnswer",
    "EntityParseError",
    "InjectedFailure",
    "LimitViolation",
    "SentMessage",
    "TestGroup",
    "TestUser",
    "UploadedFile",
    "format_text",
    "parse_html",
    "utf16_len",
]
