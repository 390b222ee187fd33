"""The command line beside serving: ``rehearse``, ``check`` and ``backup``, as real
processes of the installed package."""

from __future__ import annotations

import shutil
import sqlite3
from importlib import resources

from storage.db import Database
from storage.migrations import MIGRATIONS
from tests.support.bot import ORGANISER_ID, TOKEN, run_cli
from tests.support.swapflow import create_swap

PHASE_OPENINGS = (
    "Workshop 1 has begun",
    "Workshop 2 has begun",
    "Workshop 3 has begun",
    "is now closed",
)


async def test_rehearse_writes_every_person_s_transcript_the_page_and_the_export(tmp_path):
    code, output = await run_cli(tmp_path, "rehearse", "out")
    assert code == 0, output
    for phase in ("setup", "workshop 1", "workshop 2", "workshop 3", "closed"):
        assert f"{phase}:" in output
    folder = tmp_path / "out"
    transcripts = sorted(p for p in folder.glob("*.md") if p.name != "moves.md")
    assert len(transcripts) == 7  # the organiser and two teams of three
    for transcript in transcripts:
        if "organiser" in transcript.name:
            continue
        text = transcript.read_text()
        # Seth withdraws in workshop 3: the close is not his to receive.
        for opening in PHASE_OPENINGS[:3] if "seth" in transcript.name else PHASE_OPENINGS:
            assert opening in text, (transcript.name, opening)
        assert "[pressed: I agree]" in text
        # Every version of a message: the preview, then the receipt in its place.
        assert "Preview: your" in text and "later replaced in place" in text
    nell = (folder / "northshire-member-nell.md").read_text()
    assert "looks like it holds a phone number, a street address and a postcode" in nell
    organiser = (folder / "organiser-olivia.md").read_text()
    assert "Reminder sent" in organiser and "comments are taken until" in organiser
    assert "You have withdrawn" in (folder / "southvale-member-seth.md").read_text()
    sofia = (folder / "southvale-member-sofia.md").read_text()
    assert "How your team appears" in sofia and "Your comment, kept" in sofia
    # What each move sent each person: at most one notification each.
    moves = (folder / "moves.md").read_text()
    assert "| the swap closes |" in moves
    cells = [c.strip() for line in moves.splitlines()[6:] for c in line.split("|")[2:-1]]
    assert cells and all(c == "–" or c.endswith("(1)") for c in cells), cells
    page = (folder / "everyone.html").read_text()
    for name in ("Olivia", "Nadia", "Noah", "Nell", "Sami", "Sofia", "Seth"):
        assert name in page
    exported = list((folder / "export").iterdir())
    assert exported
    assert any(b"Northshire" in f.read_bytes() for f in exported)
    # A folder a rehearsal wrote may be written again.
    code, output = await run_cli(tmp_path, "rehearse", "out")
    assert code == 0, output


async def test_rehearse_never_writes_over_a_folder_of_someone_s_own(tmp_path):
    """Issue 19, item 13: DIR/export was deleted without asking."""
    mine = tmp_path / "notes" / "export"
    mine.mkdir(parents=True)
    (mine / "budget.xlsx").write_bytes(b"mine")
    code, output = await run_cli(tmp_path, "rehearse", "notes")
    assert code == 2
    assert output.strip().splitlines() == [
        "dilemma-swap: notes is not empty and no rehearsal wrote it: give a new or empty folder"
    ]
    assert (mine / "budget.xlsx").read_bytes() == b"mine"


async def test_export_to_a_file_is_one_line_not_a_traceback(tmp_path):
    """Issue 19, item 14: --out names an existing file, not a folder."""
    (tmp_path / "report.html").write_text("mine")
    db = Database(tmp_path / "swap.sqlite3")
    await db.open()
    async with db.transaction() as tx:
        await tx.swaps.create("Exported", ORGANISER_ID)
    await db.close()
    code, output = await run_cli(
        tmp_path,
        "export",
        "--swap",
        "1",
        "--out",
        "report.html",
        DATABASE_PATH=str(tmp_path / "swap.sqlite3"),
    )
    assert code == 2
    assert "Traceback" not in output
    assert output.strip().splitlines() == [
        "dilemma-swap: --out report.html is a file, not a folder: give a folder to write the files to"
    ]
    assert (tmp_path / "report.html").read_text() == "mine"


async def test_rehearse_uses_the_organiser_s_own_prompts(tmp_path):
    mine = tmp_path / "my-prompts"
    shutil.copytree(str(resources.files("prompts")), mine)
    opening = mine / "phase" / "dilemma_member.md"
    opening.write_text(
        "**Our first workshop starts now: {title}**\n\n" + opening.read_text().split("\n", 2)[2]
    )
    code, output = await run_cli(tmp_path, "rehearse", "out", "--prompts", str(mine))
    assert code == 0, output
    assert (
        "Our first workshop starts now"
        in (tmp_path / "out" / "northshire-member-noah.md").read_text()
    )


async def test_without_a_token_the_bot_suggests_the_rehearsal(tmp_path):
    code, output = await run_cli(tmp_path)
    assert code == 2
    assert "python -m bot rehearse" in output


async def test_check_passes_a_good_configuration_and_calls_get_me(standin, tmp_path):
    code, output = await run_cli(
        tmp_path,
        "check",
        TELEGRAM_BOT_TOKEN=TOKEN,
        ORGANISER_IDS=str(ORGANISER_ID),
        TELEGRAM_API_BASE_URL=standin.base_url,
    )
    assert code == 0, output
    assert "@dilemma_swap_test_bot" in output
    assert "problem" not in output
    assert any(method == "getMe" for method, _ in standin.calls)
    assert TOKEN not in output


async def test_check_reports_each_problem_and_fails(tmp_path):
    (tmp_path / "notes.txt").write_text("not a database")
    mine = tmp_path / "my-prompts"
    shutil.copytree(str(resources.files("prompts")), mine)
    (mine / "join" / "declined.md").write_text("Goodbye {name_of_someone}.")
    (mine / "organiser" / "welcome.md").unlink()
    code, output = await run_cli(
        tmp_path, "check", DATABASE_PATH=str(tmp_path / "notes.txt"), PROMPTS_DIR=str(mine)
    )
    assert code == 1
    problems = [line for line in output.splitlines() if line.startswith("problem:")]
    assert any("TELEGRAM_BOT_TOKEN" in p for p in problems)
    assert any("not an SQLite database" in p for p in problems)
    assert any("name_of_someone" in p for p in problems)
    assert any("organiser/welcome.md" in p and "missing" in p for p in problems)


async def test_check_rehearses_pending_migrations_without_applying_them(tmp_path):
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as conn:  # a database from the first release
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    code, output = await run_cli(tmp_path, "check", DATABASE_PATH=str(old))
    assert f"{len(MIGRATIONS) - 1} migration(s) pending; they apply cleanly" in output
    assert "ids of swaps, teams, invites, people, memberships" in output
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox_quotes'"
            ).fetchone()[0]
            == 0
        )
    conn.close()
    assert code == 1  # the token is missing: that is still a problem


async def test_backup_copies_the_database_of_a_running_bot(bot, organiser, tmp_path):
    await create_swap(organiser, "Backed up", ["North", "South"])
    copy = tmp_path / "copy.sqlite3"
    code, output = await run_cli(tmp_path, "backup", str(copy), DATABASE_PATH=bot.db_path)
    assert code == 0, output
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT title FROM swaps").fetchall() == [("Backed up",)]
        assert conn.execute("SELECT COUNT(*) FROM teams").fetchone()[0] == 2
    conn.close()
    code, output = await run_cli(tmp_path, "backup", str(copy), DATABASE_PATH=bot.db_path)
    assert code == 2
    assert "already exists" in output
