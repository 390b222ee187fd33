"""Fixtures: the Bot API stand-in, and the real bot polling it with a real SQLite file.

The code they use lives in ``tests/support/``.
"""

from __future__ import annotations

import pytest

from bot.standin import BotAPIStandIn
from tests.support.bot import (
    BOT_USERNAME,
    MONDAY,
    ORGANISER_ID,
    TOKEN,
    UNPACED,
    FakeClock,
    RunningBot,
)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "paced: runs at Telegram's real limits, in the bot and in the stand-in "
        "(tests about pacing, flood limits and restarts); all others run unpaced",
    )
    config.addinivalue_line(
        "markers",
        "timed: the bot's clock is the test's ``clock`` (a FakeClock from MONDAY),"
        " moved only by the test",
    )


@pytest.fixture
async def standin(request):
    """The stand-in: with Telegram's limits for ``paced`` tests, else with limits so
    high that no test waits on them (they are still enforced, and a breach fails)."""
    if request.node.get_closest_marker("paced"):
        server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME)
    else:
        server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, **UNPACED)
    server.paced = request.node.get_closest_marker("paced") is not None
    await server.start()
    yield server
    await server.stop()
    assert server.internal_errors == [], "the stand-in itself failed"


@pytest.fixture
def clock():
    """Time under the test's control, from a Monday morning in term time."""
    return FakeClock(MONDAY)


@pytest.fixture
async def bot(standin, tmp_path, request):
    """The bot; in a ``timed`` test, on the test's ``clock``."""
    timed = request.node.get_closest_marker("timed") is not None
    clock = request.getfixturevalue("clock") if timed else None
    running = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID}, clock=clock)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def organiser(standin):
    return standin.user(user_id=ORGANISER_ID, first_name="Olivia", username="olivia_res")
