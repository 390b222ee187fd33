"""Issue 10: the research outputs, and the trail that shows the ethics rules held."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import sqlite3
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from tests.support.bot import ORGANISER_ID, RunningBot, execute, rows, run_cli
from tests.support.fanout import wait_drained
from tests.support.purged import assert_purged
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    set_up,
    withdraw,
    write_and_confirm,
)

HOSTILE = (
    '<img src="https://tracker.example/x.png"> [click](javascript:alert(1)) '
    '<script>alert(2)</script> **not bold** =HYPERLINK("https://evil.example")'
)
OTHER_ORGANISER = 900002


async def finished_swap(standin, organiser, title="Research swap"):
    """A two-team swap taken through every phase and closed, with a hostile text."""
    people = await set_up(standin, organiser, title, ["North", "South"])
    await advance(organiser)
    for team in ("North", "South"):
        await write_and_confirm(people[team, "lead"], DILEMMAS[team], "/dilemma")
    await advance(organiser)
    await write_and_confirm(people["North", "member"], HOSTILE)
    await write_and_confirm(people["South", "member"], "=1+1 is how we count joint work.")
    await write_and_confirm(people["North", "lead"], "North's view: make it count.", "/response")
    await advance(organiser, force=True)  # South's consolidated response is missing
    for (team, role), user in people.items():
        await write_and_confirm(user, f"Round one, as the {team} {role} saw it.")
    await organiser.send("/settings")
    await organiser.expect("Settings")
    await organiser.press("Release all rounds at once")
    await organiser.expect("Settings")
    await advance(organiser)
    await advance(organiser)
    return people


async def export(organiser) -> dict[str, bytes]:
    """/export, and the five files by their extension."""
    organiser.skip_all()
    await organiser.send("/export")
    files = {}
    for _ in range(5):
        document = await organiser.expect_document(timeout=20)
        files[document.filename.rsplit(".", 1)[1]] = document.content
    return files


def readable(name: str, content: bytes) -> bytes:
    """A file's bytes as a reader sees them: the .qdpx's entries unzipped, one after another."""
    if name != "qdpx":
        return content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return b"\n".join(archive.read(entry) for entry in archive.namelist())


def unneutralised(value: str) -> str:
    return value[1:] if value.startswith("'") else value


async def test_the_five_files_of_a_finished_swap(bot, standin, organiser):
    people = await finished_swap(standin, organiser)
    files = await export(organiser)
    assert set(files) == {"md", "html", "csv", "json", "qdpx"}

    records = json.loads(files["json"])
    kinds = {r["kind"] for r in records}
    assert kinds == {"dilemma", "answer", "team_response", "reflection"}
    for record in records:
        assert record["role"] in ("lead", "participant")
        assert record["confirmed_at"].endswith("+00:00")
        assert record["person"].startswith("P-")
    # Every CSV row parses back to its JSON record; a byte-order mark comes first.
    assert files["csv"].startswith(b"\xef\xbb\xbf")
    text = files["csv"].decode("utf-8-sig")
    assert text.startswith("id,swap,swap_title,team,role,person,kind,round")
    assert "\r\n" in text
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(parsed) == len(records)
    for row, record in zip(parsed, records, strict=True):
        assert {k: unneutralised(v) for k, v in row.items()} == {
            k: "" if v is None else str(v) for k, v in record.items()
        }
    hostile_row = next(row for row in parsed if "HYPERLINK" in row["text"])
    assert hostile_row["text"].startswith("<img")  # as written, not a formula
    formula = next(row for row in parsed if "how we count joint work" in row["text"])
    assert formula["text"].startswith("'=1+1")  # a spreadsheet shows it, never runs it
    assert any(r["text"].startswith("=1+1") for r in records)

    # No Telegram id, username or name anywhere, by default.
    for name, content in files.items():
        decoded = readable(name, content).decode("utf-8")
        for user in [*people.values(), organiser]:
            assert str(user.id) not in decoded, (name, user)
            assert user.first_name not in decoded, (name, user.first_name)
        assert "olivia_res" not in decoded

    # People's words are text, never markup.
    page = files["html"].decode()
    assert (
        "<img" not in page
        and "<script" not in page
        and "javascript:alert" not in page.replace("[click](javascript:alert(1))", "")
    )
    assert "href=" not in page
    assert "&lt;img src=" in page and "**not bold**" in page
    assert "src=" not in page.replace("&lt;img src=", "")
    report = files["md"].decode()
    assert "&lt;script&gt;" in report and "\\[click\\]" in report and "\\*\\*not" in report


async def test_the_html_report_has_every_section(bot, standin, organiser):
    await finished_swap(standin, organiser)
    page = (await export(organiser))["html"].decode()
    for section in (
        "<h1>Dilemma swap: Research swap</h1>",
        "<h2>Team North</h2>",
        "<h2>Team South</h2>",
        "The dilemma North posed",
        "Responses it received, from South",
        "Consolidated response",
        "Individual responses",
        "North's consolidated response to South's",
        "Side by side (workshop 3)",
        "What South said about ours",
        "Reflections of North",
        "Round 1:",
        "Phase moves",
        "forced; missing at the time: team_response",
    ):
        assert section in page, section
    assert "<table>" in page and "@media print" in page and "break-before: page" in page
    assert "http" not in page.replace("https://tracker.example/x.png", "").replace(
        "https://evil.example", ""
    )  # nothing fetched from anywhere


async def test_pseudonyms_are_the_same_in_every_export_and_after_a_restart(bot, standin, organiser):
    await finished_swap(standin, organiser)
    first = json.loads((await export(organiser))["json"])
    await bot.restart()
    second = json.loads((await export(organiser))["json"])
    assert [r["person"] for r in first] == [r["person"] for r in second]
    assert len({r["person"] for r in first}) == 4


async def test_after_withdrawal_none_of_the_words_remain_anywhere(bot, standin, organiser):
    people = await finished_swap(standin, organiser)
    member = people["North", "member"]
    await withdraw(member)
    files = await export(organiser)
    for name, packed in files.items():
        content = readable(name, packed)
        assert b"tracker.example" not in content
        assert b"as the North member saw it" not in content
        assert b"as the North lead saw it" in content
    other = people["South", "member"]
    await other.send("/mydata")
    mine = await other.expect_document()
    assert b"tracker.example" not in mine.content
    assert await rows(
        bot,
        "SELECT COUNT(*) FROM outbox WHERE status != 'sent' AND"
        " (text LIKE '%tracker.example%' OR CAST(document AS TEXT)"
        " LIKE '%tracker.example%')",
    ) == [(0,)]


async def restart_with_a_changed_sheet(bot: RunningBot, tmp_path: Path) -> None:
    """A new version of the bot, whose information sheet has a new paragraph
    ("your words may be quoted in a book")."""
    mine = tmp_path / "prompts"
    shutil.copytree(str(resources.files("prompts")), mine)
    sheet = mine / "join" / "information_sheet.md"
    sheet.write_text(sheet.read_text() + "\n\nNew: your words may be quoted in a book.\n")
    await bot.stop()
    bot.prompts_dir = str(mine)
    await bot.start()


async def test_an_answer_to_a_sheet_that_changed_meanwhile_is_not_consent(
    bot, standin, organiser, tmp_path
):
    tokens = await create_swap(organiser, "Consent swap", ["North", "South"])
    vera = standin.user(first_name="Vera")
    await vera.send(f"/start {tokens['North']['member']}")
    await vera.expect(lambda m: "I agree" in " ".join(m.button_labels()))
    # A new version of the bot, with new words in the sheet, while she reads.
    await restart_with_a_changed_sheet(bot, tmp_path)
    await vera.press("I agree")
    await vera.expect("changed since I showed it")
    assert await rows(bot, "SELECT COUNT(*) FROM consents") == [(0,)]
    assert await rows(bot, "SELECT COUNT(*) FROM people") == [(0,)]
    # Opening the link again shows the new words; agreeing to them counts.
    await join(vera, tokens["North"]["member"])
    assert "quoted in a book" in vera.texts[-1].text
    async with bot.db.read() as tx:
        swap = await tx.swaps.get(1)
        assert swap is not None
        version = await bot.services.sheets.version(tx, swap)
    assert await rows(bot, "SELECT sheet_version FROM consents WHERE decision = 'agreed'") == [
        (version,)
    ]


async def test_a_changed_information_sheet_is_agreed_again_or_withdraws(
    bot, standin, organiser, tmp_path
):
    people = await set_up(standin, organiser, "Consent swap", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "member"], "A first candidate.", "/propose")
    await restart_with_a_changed_sheet(bot, tmp_path)
    member, lead = people["North", "member"], people["North", "lead"]
    await member.send("A second candidate, after the change.")
    asked = await member.expect(lambda m: "I agree" in m.button_labels())
    assert "quoted in a book" in "".join(m.text for m in member.texts[-3:])
    assert await rows(bot, "SELECT COUNT(*) FROM contributions WHERE text LIKE '%second%'") == [
        (0,)
    ]
    await member.expect_answer(
        await member.press_data(asked.buttons[0][0]["callback_data"], message=asked)
    )
    await member.expect("Thank you: you agreed")
    await write_and_confirm(member, "A second candidate, after agreeing.")
    await lead.send("Our dilemma, after the change.")
    asked = await lead.expect(lambda m: "Decline" in m.button_labels())
    await lead.press("Decline")
    await lead.expect("declined the changed information sheet")
    assert await rows(
        bot,
        "SELECT COUNT(*) FROM memberships m JOIN people p"
        " ON p.id = m.person_id WHERE p.telegram_id = ?",
        lead.id,
    ) == [(0,)]
    versions = await rows(
        bot, "SELECT DISTINCT sheet_version FROM consents WHERE decision = 'agreed'"
    )
    assert len(versions) == 2


async def test_member_check_comments_go_beside_the_section(bot, standin, organiser):
    people = await finished_swap(standin, organiser)
    await organiser.send("/membercheck 7")
    await organiser.expect("comments are taken until")
    member = people["South", "member"]
    section = await member.expect("How your team appears")
    assert "The dilemma your team posed" in section.text and "North" in section.text
    await member.send("Our view on records was put more strongly than we meant.")
    preview = await member.expect(lambda m: "Confirm" in m.button_labels())
    await member.expect_answer(await member.press("Confirm"))
    await member.expect_edit(preview, lambda m: "kept beside" in m.text)
    report = (await export(organiser))["md"].decode()
    south = report.split("## Team South")[1]
    assert "put more strongly than we meant" in south
    assert "Comments of South" in south


async def test_co_organisers_and_the_audit(standin, organiser, tmp_path):
    bot = RunningBot(standin, str(tmp_path / "swap.sqlite3"), {ORGANISER_ID, OTHER_ORGANISER})
    await bot.start()
    try:
        people = await set_up(standin, organiser, "Shared swap", ["North", "South"])
        colleague = standin.user(user_id=OTHER_ORGANISER, first_name="Omar")
        await colleague.send("/start")
        await colleague.expect(lambda m: True)
        await organiser.send(f"/share {OTHER_ORGANISER}")
        await organiser.expect("now shared")
        await colleague.expect("co-organiser of Shared swap")
        await colleague.send("/swaps")
        await colleague.expect("Shared swap")
        await colleague.press("Shared swap")
        await colleague.expect(lambda m: "Shared swap" in m.text and not m.buttons)
        await advance(colleague)
        await organiser.send("/revoke")
        await organiser.expect(lambda m: m.buttons)
        await organiser.press("member link: North")
        await organiser.expect("start=")
        await organiser.send("/settings reminders 3h")
        await organiser.expect("Done")
        await organiser.send("/schedule response 2099-01-10 17:00")
        await organiser.expect("Timetable")
        await organiser.send("/announce Room 4 tomorrow.")
        await organiser.expect(lambda m: "Confirm" in " ".join(m.button_labels()))
        await organiser.expect_answer(await organiser.press("Confirm and send"))
        await organiser.expect("on its way")
        await export(organiser)
        member = people["South", "member"]
        await withdraw(member)
        await organiser.send("/audit")
        audit = await organiser.expect("Audit of Shared swap")
        for event in (
            "co-organiser added",
            "transition",
            "link revoked",
            "setting",
            "schedule",
            "announcement",
            "export",
            "withdrawal",
        ):
            assert event in audit.text, event
        assert f"organiser {OTHER_ORGANISER} · transition, setup → dilemma" in audit.text
        assert "withdrawal, contributions deleted: 0" in audit.text
        assert member.first_name not in audit.text and str(member.id) not in audit.text
        # An event recorded before events had keys shows in the words it was stored with.
        await execute(
            bot,
            "INSERT INTO audit (swap_id, by_telegram_id, event, detail, at)"
            " SELECT swap_id, NULL, 'group linked', 'by the lead of North', at FROM audit LIMIT 1",
        )
        await organiser.send("/audit")
        audit = await organiser.expect("Audit of Shared swap")
        assert "group linked: by the lead of North" in audit.text
    finally:
        await bot.stop()


async def test_export_from_the_command_line_while_the_bot_runs(bot, standin, organiser, tmp_path):
    await finished_swap(standin, organiser)
    [(swap_id,)] = await rows(bot, "SELECT id FROM swaps")
    code, output = await run_cli(
        tmp_path, "export", "--swap", str(swap_id), "--out", "out", DATABASE_PATH=bot.db_path
    )
    assert code == 0, output
    written = {p.suffix for p in (tmp_path / "out").iterdir()}
    assert written == {".md", ".html", ".csv", ".json", ".qdpx"}
    records = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    sent = await export(organiser)
    assert json.loads(sent["json"]) == records
    assert next((tmp_path / "out").glob("*.qdpx")).read_bytes() == sent["qdpx"]
    code, output = await run_cli(
        tmp_path, "export", "--swap", "99", "--out", "out", DATABASE_PATH=bot.db_path
    )
    assert code == 2 and "no swap 99" in output


@pytest.mark.parametrize("running", [True, False])
async def test_purge_leaves_nothing_of_the_swap(bot, standin, organiser, tmp_path, running):
    await finished_swap(standin, organiser, title="Purged swap")
    [(swap_id,)] = await rows(bot, "SELECT id FROM swaps")
    if not running:
        await bot.stop()
    code, output = await run_cli(
        tmp_path, "purge", "--swap", str(swap_id), DATABASE_PATH=bot.db_path
    )
    assert code == 0, output
    if running:
        await bot.stop()
    line = assert_purged(bot.db_path, swap_id, [b"Purged swap", b"steering groups"])
    assert line["reason"] == "command" and line["organisers"] == [ORGANISER_ID]
    await bot.start()  # the bot fixture stops it again


async def test_backup_while_the_bot_is_writing_is_a_valid_database(
    bot, standin, organiser, tmp_path
):
    await organiser.send("/newswap Busy swap")
    await organiser.expect("Busy swap")

    async def keep_writing() -> None:
        for n in range(30):
            await organiser.send(f"/addteam Team {n}")
            await organiser.expect(f"Team {n}")

    writing = asyncio.create_task(keep_writing())
    await standin.wait_for(lambda: sum("start=" in (m.text or "") for m in organiser.texts) >= 3)
    code, output = await run_cli(
        tmp_path, "backup", str(tmp_path / "copy.sqlite3"), DATABASE_PATH=bot.db_path
    )
    await writing
    assert code == 0, output
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = copy.execute("SELECT COUNT(*) FROM teams").fetchone()[0]
        invites = copy.execute("SELECT COUNT(*) FROM invites").fetchone()[0]
    copy.close()
    # A snapshot of one moment: every team it holds has both its links.
    assert 3 <= copied <= 30
    assert invites == 2 * copied


async def test_each_team_gets_its_own_part_whatever_the_names(bot, standin, organiser):
    people = await set_up(standin, organiser, "Named swap", ["North East", "North"])
    await advance(organiser)
    await write_and_confirm(people["North East", "lead"], "North East's own dilemma.", "/dilemma")
    await write_and_confirm(people["North", "lead"], "North's own dilemma.", "/dilemma")
    for _ in range(5):
        await advance(organiser, force=True)
    await organiser.send("/membercheck 3")
    await organiser.expect("comments are taken until")
    section = await people["North", "member"].expect("How your team appears")
    assert "North's own dilemma" in section.text
    assert "The dilemma North East posed" not in section.text


async def test_a_tilde_in_someones_words_shows_as_written_in_the_report(bot, standin, organiser):
    """Issue 19, item 12 (the report): ``~`` is no syntax of the report's Markdown, so
    escaping it left ``\\~`` in the HTML: people's words were altered."""
    people = await set_up(standin, organiser, "Tilde swap", ["North", "South"])
    await advance(organiser)
    words = "It costs ~£40k a year, and ~~nobody~~ everybody pays."
    await write_and_confirm(people["North", "lead"], words, "/dilemma")
    while await rows(bot, "SELECT phase FROM swaps") != [("closed",)]:
        await advance(organiser, force=True)
    files = await export(organiser)
    page = files["html"].decode()
    assert "\\~" not in page
    assert "It costs ~£40k a year, and ~~nobody~~ everybody pays." in page
    assert words in files["md"].decode().replace("\\", "")


async def test_an_export_held_up_by_a_withdrawal_is_made_again_without_their_words(
    bot, standin, organiser
):
    """Issue 19, item 15: an /export still on its way when someone withdraws quotes
    their words and is not sent; the organiser gets it again without them, and is told."""
    people = await set_up(standin, organiser, "Held swap", ["North", "South"])
    await advance(organiser)
    await write_and_confirm(people["North", "member"], "Quokka budgets are the real issue.")
    await write_and_confirm(people["North", "lead"], DILEMMAS["North"], "/dilemma")
    # Telegram holds the first file back for a few seconds: the export waits.
    standin.fail_next("sendDocument", 429, retry_after=3)
    organiser.skip_all()
    await organiser.send("/export")
    for _ in range(400):
        if standin.injected_failures:
            break
        await asyncio.sleep(0.01)
    await withdraw(people["North", "member"])
    await organiser.expect("made without them")
    await wait_drained(bot)
    assert organiser.documents, "the export never came"
    names = [d.filename for d in organiser.documents]
    assert len(names) == len(set(names))  # once, the new one only
    for document in organiser.documents:
        assert b"Quokka" not in readable(document.filename.rsplit(".", 1)[1], document.content)
    assert any(b"steering groups" in d.content for d in organiser.documents)
    # Made once nothing of them is left: not even their line among the participants.
    [project] = [d for d in organiser.documents if d.filename.endswith(".qdpx")]
    with zipfile.ZipFile(io.BytesIO(project.content)) as archive:
        participants = archive.read("participants.csv").decode("utf-8-sig").splitlines()
    assert len(participants) == 1 + 3  # the header, and the three who stay
