"""Issue 20: research outputs that open in NVivo, ATLAS.ti, MAXQDA and QualCoder.

A finished two-team swap (a proposal adopted, answers, team responses, two
reflection rounds, member-check comments, one withdrawal) is exported, and the
five files are read as the research team's tools would read them: the ``.qdpx``
against the REFI-QDA schema and with a kept REFI-QDA reader (``pyrefiqda``), the
CSV and JSON for their ids and links, the report for its labels and methods.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

from pyrefiqda import RefiProject

from tests.support.bot import rows
from tests.support.swapflow import (
    DILEMMAS,
    advance,
    create_swap,
    join,
    labels,
    withdraw,
    write_and_confirm,
)
from tests.test_research import export, readable

SCHEMA = Path(__file__).resolve().parent.parent.parent / "shared" / "refi-qda" / "Project.xsd"
PROPOSAL = "Nobody owns the whole picture of a family: who should hold it?"
LEAVERS_WORDS = "The leaver's own words, which must go with them."


async def adopt(lead) -> None:
    """The lead adopts the proposal shared with them and confirms it as the dilemma."""
    await lead.expect(lambda m: "Adopt as team dilemma" in labels(m))
    await lead.press("Adopt as team dilemma")
    preview = await lead.expect(lambda m: "Confirm" in labels(m))
    confirm = next(
        b["callback_data"] for row in preview.buttons for b in row if "Confirm" in b["text"]
    )
    await lead.expect_answer(await lead.press_data(confirm, message=preview))
    await lead.expect_edit(preview, lambda m: "Confirm" not in labels(m))


async def comment(user, text: str) -> None:
    await user.expect("How your team appears")
    await user.send(text)
    preview = await user.expect(lambda m: "Confirm" in m.button_labels())
    await user.expect_answer(await user.press("Confirm"))
    await user.expect_edit(preview, lambda m: "kept beside" in m.text)


async def complete_swap(standin, organiser):
    """Everything a swap can hold, closed, commented on; one person then withdraws."""
    tokens = await create_swap(organiser, "Outputs swap", ["North", "South"])
    people = {}
    for team in ("North", "South"):
        for role in ("lead", "member"):
            user = standin.user(first_name=f"{team}{role.title()}Person", username=f"{team}_{role}")
            await join(user, tokens[team][role])
            people[team, role] = user
    leaver = standin.user(first_name="LeavingPerson", username="leaving_one")
    await join(leaver, tokens["North"]["member"])
    await advance(organiser)
    await write_and_confirm(people["North", "member"], PROPOSAL, "/propose")
    await adopt(people["North", "lead"])
    await write_and_confirm(leaver, "A candidate from the one who leaves.", "/propose")
    await write_and_confirm(people["South", "lead"], DILEMMAS["South"], "/dilemma")
    await advance(organiser)
    await write_and_confirm(people["North", "member"], "North member: make it count.")
    await write_and_confirm(leaver, LEAVERS_WORDS)
    await write_and_confirm(people["South", "member"], "South member: one plan, one lead.")
    await write_and_confirm(people["North", "lead"], "North's consolidated view.", "/response")
    await write_and_confirm(people["South", "lead"], "South's consolidated view.", "/response")
    await advance(organiser)
    for n, user in enumerate(people.values()):
        await write_and_confirm(user, f"Round one, reflection {n}.")
    await advance(organiser)
    for n, user in enumerate((people["North", "lead"], people["South", "member"])):
        await write_and_confirm(user, f"Round two, reflection {n}.")
    await advance(organiser, force=True)  # round 3 opens, round 2 is incomplete
    await advance(organiser, force=True)  # closes: the export goes to the organiser
    for _ in range(5):
        await organiser.expect_document(timeout=20)
    await organiser.send("/membercheck 7")
    await organiser.expect("comments are taken until")
    await comment(people["South", "member"], "South member: put more strongly than we meant.")
    await comment(people["North", "lead"], "North lead: fair, as far as it goes.")
    await withdraw(leaver)
    return people, leaver


def unzip(qdpx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(qdpx)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


async def test_a_finished_swap_exports_as_the_research_team_needs_it(
    bot, standin, organiser, tmp_path
):
    people, leaver = await complete_swap(standin, organiser)
    # The withdrawal came after the closing export: the organiser is told, not who.
    notice = await organiser.expect("out of date")
    assert leaver.first_name not in notice.text and "/export" in notice.text
    files = await export(organiser)
    assert set(files) == {"md", "html", "csv", "json", "qdpx"}
    records = json.loads(files["json"])
    by_id = {r["id"]: r for r in records}
    assert len(by_id) == len(records)
    assert Counter(r["kind"] for r in records) == {
        "proposal": 1,
        "dilemma": 2,
        "answer": 2,
        "team_response": 2,
        "reflection": 6,
        "comment": 2,
    }

    # adopted_from and responds_to point at the right records.
    dilemma = {r["team"]: r for r in records if r["kind"] == "dilemma"}
    [proposal] = [r for r in records if r["kind"] == "proposal"]
    assert dilemma["North"]["adopted_from"] == proposal["id"]
    assert proposal["text"] == dilemma["North"]["text"] == PROPOSAL
    assert dilemma["South"]["adopted_from"] is None
    for record in records:
        if record["kind"] in ("answer", "team_response"):
            assert record["responds_to"] == dilemma[record["about_team"]]["id"], record
            assert record["about_team"] != record["team"]
        elif record["kind"] != "comment":
            assert record["responds_to"] is None
    # The CSV holds the same records, ids and links.
    parsed = read_csv(files["csv"])
    assert [(r["id"], r["adopted_from"], r["responds_to"]) for r in parsed] == [
        (r["id"], r["adopted_from"] or "", r["responds_to"] or "") for r in records
    ]

    # The .qdpx: valid against the schema, and read back by a REFI-QDA reader.
    entries = unzip(files["qdpx"])
    if SCHEMA.is_file():
        import xmlschema

        xmlschema.XMLSchema(str(SCHEMA)).validate(entries["project.qde"].decode())
    (tmp_path / "swap.qdpx").write_bytes(files["qdpx"])
    extracted = tmp_path / "extracted"
    project = RefiProject.load(tmp_path / "swap.qdpx", extract_dir=str(extracted))
    sources = project.sources.text_source
    contributions = {r["id"]: r for r in records if r["kind"] != "comment"}
    assert {s.guid for s in sources} == set(contributions)
    codes = {c.guid: c for c in project.code_book.codes.code}
    round_codes = {c.guid: c.name for c in codes_named(codes, "reflection").code}
    for source in sources:
        path = RefiProject.resolve_source_path(source.plain_text_path, extracted)
        record = contributions[source.guid]
        assert path.read_text("utf-8") == record["text"]  # every text exactly
        assert record["team"] in source.name and record["kind"] in source.name
        assert record["person"] in source.name
        [selection] = source.plain_text_selection
        assert (selection.start_position, selection.end_position) == (0, len(record["text"]))
        coded = {coding.code_ref.target_guid for coding in selection.coding}
        assert codes[next(iter(coded & set(codes)))].name == record["kind"]
        if record["kind"] == "reflection":
            [round_code] = coded - set(codes)
            assert round_codes[round_code].startswith(f"round {record['round']}:")
    # "All reflections of round 2" is one code away.
    round_2 = next(guid for guid, name in round_codes.items() if name.startswith("round 2:"))
    coded_round_2 = {
        s.guid
        for s in sources
        for c in s.plain_text_selection[0].coding
        if c.code_ref.target_guid == round_2
    }
    assert coded_round_2 == {
        r["id"] for r in records if r["kind"] == "reflection" and r["round"] == 2
    }
    # Teams and people are cases; comments are notes on their team's case.
    cases = {c.name: c for c in project.cases.case}
    for team in ("North", "South"):
        assert {ref.target_guid for ref in cases[team].source_ref} == {
            r["id"] for r in contributions.values() if r["team"] == team
        }
    pseudonyms = {r["person"] for r in records}
    assert pseudonyms <= set(cases)
    notes = {n.guid: n for n in project.notes.note}
    comments = [r for r in records if r["kind"] == "comment"]
    assert {g: n.plain_text_content for g, n in notes.items()} == {
        r["id"]: r["text"] for r in comments
    }
    links = {link.origin_guid: link.target_guid for link in project.links.link}
    for record in comments:
        assert links[record["id"]] == cases[record["team"]].guid == record["responds_to"]

    # The participants table: its counts are the records' counts.
    participants = read_csv(entries["participants.csv"])
    assert len(participants) == 4  # the leaver is gone
    for row in participants:
        mine = Counter(r["kind"] for r in records if r["person"] == row["person"])
        for kind in ("proposal", "dilemma", "answer", "team_response", "reflection", "comment"):
            assert int(row[kind]) == mine[kind], (row, kind)
        assert row["consented_version"] and row["joined_at"].endswith("+00:00")

    # Nothing of the leaver; no Telegram id, username or name in any file.
    for name, content in files.items():
        text = readable(name, content).decode("utf-8")
        assert LEAVERS_WORDS not in text and "one who leaves" not in text, name
        for user in [*people.values(), leaver, organiser]:
            assert str(user.id) not in text, (name, user)
            assert user.first_name not in text, (name, user.first_name)
            assert user.username not in text, (name, user.username)

    # The report: every pseudonym, a labelled block each, the methods, A4.
    page = files["html"].decode()
    for pseudonym in {r["person"] for r in parsed}:
        assert pseudonym in page, pseudonym
    for section in (
        "<h2>Methods</h2>",
        "Teams and participation",
        "| North | 1 | 1 | 2 of 2 |",
        "Settings",
        "Phase moves",
        "the next reflection round opened",
        "The questions as asked",
        "Putting yourselves in their shoes",  # round 1's question, in full
        "Proposals in North",
        "(adopted as the team's dilemma)",
        "team lead",
    ):
        assert section in (page if not section.startswith("|") else files["md"].decode()), section
    assert "@page { size: A4" in page
    assert "reflection → workshop 3: reflection" not in page
    north_round_1 = page.split("Round 1:")[1].split("Round 2:")[0]
    assert north_round_1.count("<blockquote>") == 2  # one block per contribution

    # The same ids and GUIDs in every export, and after a restart.
    again = await export(organiser)
    await bot.restart()
    restarted = await export(organiser)
    assert again["qdpx"] == restarted["qdpx"] == files["qdpx"]
    assert json.loads(restarted["json"]) == records


def codes_named(codes, name):
    return next(c for c in codes.values() if c.name == name)


async def test_the_organiser_is_told_once_an_export_is_out_of_date(bot, standin, organiser):
    tokens = await create_swap(organiser, "Notice swap", ["North", "South"])
    users = [standin.user(first_name=f"Person{n}") for n in range(4)]
    for user in users:
        await join(user, tokens["North"]["member"])
    # A withdrawal before any export tells nobody anything.
    await withdraw(users[0])
    await export(organiser)
    # Someone who joined after the export is not in it: their leaving changes no copy.
    late = standin.user(first_name="Late")
    await join(late, tokens["South"]["member"])
    await withdraw(late)
    await withdraw(users[1])
    await organiser.expect("out of date")
    await withdraw(users[2])  # the same export: no second notice
    await organiser.send("/status")
    await organiser.expect("Notice swap")
    assert sum("out of date" in m.text for m in organiser.texts) == 1
    assert await rows(bot, "SELECT COUNT(*) FROM fired WHERE key LIKE 'export_outdated:%'") == [
        (1,)
    ]


async def test_names_appear_only_when_the_swap_shares_them(bot, standin, organiser):
    tokens = await create_swap(organiser, "Named outputs", ["North", "South"])
    lead = standin.user(first_name="Nadia", username="nadia_lead")
    await join(lead, tokens["North"]["lead"])
    await organiser.send("/settings")
    await organiser.expect("Settings")
    await organiser.press("Share names")
    await organiser.expect("Settings")
    files = await export(organiser)
    entries = unzip(files["qdpx"])
    [nadia] = read_csv(entries["participants.csv"])
    assert "Nadia" in nadia["person"]
    assert nadia["comment"] == ""  # comments were promised "without your name"
    assert b"Nadia" in entries["project.qde"]
    for name, content in files.items():
        assert str(lead.id).encode() not in readable(name, content), name
        assert b"nadia_lead" not in readable(name, content), name


async def test_someone_who_left_after_the_cut_off_stays_pseudonymised(bot, standin, organiser):
    tokens = await create_swap(organiser, "Cut-off outputs", ["North", "South"])
    for setting, answer in (("withdrawal until-close", "until the swap closes"),):
        await organiser.send(f"/settings {setting}")
        await organiser.expect(answer)
    await organiser.send("/settings")
    await organiser.expect("Settings")
    await organiser.press("Share names")
    await organiser.expect("Settings")
    member = standin.user(first_name="Maeve", username="maeve_m")
    await join(member, tokens["North"]["member"])
    await advance(organiser, force=True)
    await write_and_confirm(member, PROPOSAL, "/propose")
    for _ in range(5):
        await advance(organiser, force=True)
    for _ in range(5):
        await organiser.expect_document(timeout=20)  # the record at the close
    await member.send("/withdraw")
    await member.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    await member.expect_answer(await member.press("Confirm withdrawal"))
    await member.expect("You have left")
    files = await export(organiser)
    [record] = json.loads(files["json"])
    assert record["text"] == PROPOSAL and record["person"].startswith("P-")
    [row] = read_csv(unzip(files["qdpx"])["participants.csv"])
    assert row["person"] == record["person"] and row["left_at"] and row["proposal"] == "1"
    for name, content in files.items():
        assert b"Maeve" not in readable(name, content), name
    # Their words stay: the export made at the close still matches the record.
    assert not [m for m in organiser.texts if "out of date" in m.text]
