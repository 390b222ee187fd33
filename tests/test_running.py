"""``python -m bot`` as a real process: settings errors, packaging, a whole join flow."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.support.bot import ORGANISER_ID, TOKEN, clean_env
from tests.support.swapflow import create_swap, join

REPO = Path(__file__).resolve().parent.parent


# A token of the right shape that the stand-in does not know: Telegram answers 401.
REJECTED_TOKEN = "654321:AAH-a-token-telegram-does-not-know-42"


async def _run_to_end(tmp_path: Path, **settings: str) -> tuple[int, str]:
    """``python -m bot`` with these settings, expected to stop by itself; its code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=clean_env(**settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        pytest.fail(f"python -m bot was still running after 60s:\n{(out + err).decode()}")
    return process.returncode, (out + err).decode()


def _one_clear_line(code: int, output: str, *secrets: str) -> str:
    """The only non-empty line of a failed start's output, checked for what must not be there."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert code != 0
    assert len(lines) == 1, output
    assert "Traceback" not in output
    for secret in secrets:
        assert secret not in output
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token-secret-value"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ORGANISER_IDS": "12,abc"}, "ORGANISER_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "ftp://x"},
            "TELEGRAM_API_BASE_URL",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_PATH": "/no/such/folder/x.sqlite3"},
            "DATABASE_PATH",
        ),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
async def test_a_bad_setting_stops_with_one_clear_line(tmp_path, settings, names):
    code, output = await _run_to_end(tmp_path, **settings)
    assert names in _one_clear_line(code, output, "not-a-token-secret-value", TOKEN)


async def test_a_token_telegram_rejects_stops_with_one_clear_line(standin, tmp_path):
    """Telegram answers 401 to getMe: one line naming the setting, the token nowhere."""
    code, output = await _run_to_end(
        tmp_path, TELEGRAM_BOT_TOKEN=REJECTED_TOKEN, TELEGRAM_API_BASE_URL=standin.base_url
    )
    line = _one_clear_line(code, output, REJECTED_TOKEN, REJECTED_TOKEN.split(":")[1])
    assert "TELEGRAM_BOT_TOKEN" in line


async def test_telegram_out_of_reach_stops_with_one_clear_line(tmp_path):
    """Nothing listens at the Bot API address: one line saying so, no traceback."""
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        code, output = await _run_to_end(
            tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot"
        )
    line = _one_clear_line(code, output, TOKEN)
    assert "Telegram" in line


async def test_a_webhook_port_in_use_stops_with_one_clear_line(standin, tmp_path):
    """The port is taken after the bot has opened its database and started delivery."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = await _run_to_end(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=standin.base_url,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram-hook",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            LOG_LEVEL="WARNING",
        )  # no news of migrations
    line = _one_clear_line(code, output, TOKEN)
    assert "in use" in line


def _not_sqlite(folder: Path) -> str:
    path = folder / "notes.sqlite3"
    path.write_text("Not a database: somebody's notes.\n" * 20)
    return str(path)


def _read_only_folder(folder: Path) -> str:
    if os.geteuid() == 0:
        pytest.skip("root writes into a chmod 0o555 folder; the /proc case covers root")
    (folder / "locked").mkdir(mode=0o555)
    return str(folder / "locked" / "swap.sqlite3")


@pytest.mark.parametrize(
    ("database_path", "says"),
    [
        pytest.param(_not_sqlite, "not an SQLite database", id="a text file"),
        pytest.param(_read_only_folder, "writable", id="a read-only folder"),
        # A folder in which nobody, root included, may create a file.
        pytest.param(
            lambda folder: "/proc/dilemma_swap.sqlite3", "writable", id="a folder of /proc"
        ),
    ],
)
async def test_a_database_that_cannot_be_used_stops_with_one_clear_line(
    standin, tmp_path, database_path, says
):
    path = database_path(tmp_path)
    code, output = await _run_to_end(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=standin.base_url,
        DATABASE_PATH=path,
    )
    line = _one_clear_line(code, output, TOKEN)
    assert "DATABASE_PATH" in line and path in line and says in line


async def test_the_installed_package_carries_its_prompts(tmp_path):
    """``pip install .`` (not only editable) works from any directory."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import bot, prompts, importlib.resources as r;"
        "print(bot.__file__);"
        "print(sorted(p.name for p in r.files('prompts').iterdir()))",
        cwd=tmp_path,
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    location, listing = out.decode().splitlines()
    assert not location.startswith(str(REPO / "bot")), (
        "bot is imported from the repository, not from an installed package"
    )
    assert "buttons.md" in listing and "join" in listing


async def test_python_m_bot_serves_organiser_and_people(standin, tmp_path):
    """The done-when of issue 2, against the real process: a swap, links, four joins."""
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=clean_env(
                TELEGRAM_BOT_TOKEN=TOKEN,
                ORGANISER_IDS=str(ORGANISER_ID),
                TELEGRAM_API_BASE_URL=standin.base_url,
                LOG_LEVEL="DEBUG",
            ),
            stdout=log,
            stderr=log,
        )
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        tokens = await create_swap(organiser, "Angus and Moray", ["Angus", "Moray"])
        for team in ("Angus", "Moray"):
            for role in ("lead", "member"):
                await join(standin.user(first_name=f"{team}-{role}"), tokens[team][role])
        await organiser.send("/status")
        status = await organiser.expect("Angus and Moray")
        for name in ("Angus-lead", "Angus-member", "Moray-lead", "Moray-member"):
            assert name in status.text
        stranger = standin.user(first_name="Stan")
        await stranger.send("/start AAAAAAAAAAAAAAAAAAAAAA")
        unknown = await stranger.expect(lambda m: True)
        assert "I agree" not in unknown.text
        await stranger.send("/status")
        await stranger.expect(lambda m: "organiser" in m.text.lower())
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
    logged = log_path.read_text()
    assert TOKEN not in logged
    assert "<token>" in logged  # the URLs were logged, and redacted
    assert (tmp_path / "dilemma_swap.sqlite3").exists()


async def test_a_second_bot_on_the_same_database_refuses_and_leaves_the_first_alone(
    standin, tmp_path
):
    """Two bots on one file would both deliver every message: the second must not start."""
    settings = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "ORGANISER_IDS": str(ORGANISER_ID),
        "TELEGRAM_API_BASE_URL": standin.base_url,
        "DATABASE_PATH": str(tmp_path / "swap.sqlite3"),
    }
    with (tmp_path / "first.log").open("wb") as log:
        first = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=clean_env(**settings),
            stdout=log,
            stderr=log,
        )
    try:
        organiser = standin.user(user_id=ORGANISER_ID, first_name="Olivia")
        await organiser.send("/newswap Before the second start")
        await organiser.expect("Before the second start", timeout=30)

        code, output = await _run_to_end(tmp_path, **settings)
        line = _one_clear_line(code, output, TOKEN)
        assert "already running" in line or "in use" in line
        assert settings["DATABASE_PATH"] in line

        assert first.returncode is None
        await organiser.send("/newswap After the second start")
        await organiser.expect("After the second start")
    finally:
        first.terminate()
        await asyncio.wait_for(first.wait(), timeout=30)
    assert first.returncode == 0, (tmp_path / "first.log").read_text()


async def test_webhook_mode_answers_updates_posted_by_telegram(standin, tmp_path):
    """With WEBHOOK_URL set the bot registers its webhook and answers what is posted to it."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "ORGANISER_IDS": str(ORGANISER_ID),
        "TELEGRAM_API_BASE_URL": standin.base_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram-hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=clean_env(**settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await standin.wait_for(lambda: standin.webhook_url.endswith("/telegram-hook"), timeout=30)
        secret = next(
            params["secret_token"] for method, params in standin.calls if method == "setWebhook"
        )
        visitor = standin.user(first_name="Wendy")
        update = await visitor.send("/start")
        async with httpx.AsyncClient() as client:
            refused = await client.post(f"http://127.0.0.1:{port}/telegram-hook", json=update)
            assert refused.status_code == 403  # no secret: not from Telegram
            accepted = await client.post(
                f"http://127.0.0.1:{port}/telegram-hook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            )
            assert accepted.status_code == 200
        how = await visitor.expect(lambda m: "link" in m.text.lower(), timeout=20)
        assert "I agree" not in how.text

        # The database is locked in webhook mode too: a second start refuses
        # before it could set a webhook of its own.
        code, output = await _run_to_end(tmp_path, **settings)
        line = _one_clear_line(code, output, TOKEN)
        assert "DATABASE_PATH" in line and "in use" in line
        assert [method for method, _ in standin.calls].count("setWebhook") == 1
        assert process.returncode is None
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
