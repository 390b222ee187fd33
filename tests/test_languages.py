"""Issue 23: swaps in more than one language.

English is the reference; a translation (prompts/cy/, prompts/gd/) must have
every prompt and label participants and leads read, may leave out what only
organisers read (marked so in English), which then goes in English, and may never
have a prompt or a placeholder English does not. At run time a prompt a
translation lacks goes in English, logged once. A person reads the bot in their language; what
people write reaches others as written.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from bot.text import LANGUAGES, ORGANISERS_ONLY, REVIEW_MARK, Prompts, check_translations
from tests.support.bot import rows, run_cli
from tests.support.swapflow import create_swap, join

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"


def test_every_translation_holds_to_english():
    found = check_translations()
    assert found.problems == []
    assert set(found.in_english) == set(LANGUAGES) - {"en"}
    # What stays in English is only what organisers read.
    assert all(
        key.startswith(("organiser/", "export/", "trail/", "buttons: ", "commands: "))
        or key.split("/")[0] in {"announce", "help", "missing", "retention", "schedule", "sheet"}
        or key in {"status/no_teams", "status/refusals", "privacy/left_after_cutoff"}
        for language in found.in_english
        for key in found.in_english[language]
    ), found.in_english


def test_every_translated_file_awaits_review_by_a_native_speaker_unseen():
    translated = [p for code in LANGUAGES if code != "en" for p in (PROMPTS / code).rglob("*.md")]
    assert translated
    for path in translated:
        assert path.read_text("utf-8").startswith(REVIEW_MARK + "\n"), path
    welsh = Prompts().in_language("cy")
    assert "review" not in welsh.html("join/declined") and "<!--" not in welsh.html("join/declined")


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS, root)
    return root


async def test_the_check_refuses_an_unknown_prompt_and_a_wrong_placeholder(tmp_path):
    root = _copy(tmp_path)
    (root / "cy" / "join" / "nonsense.md").write_text("Dim byd.\n")
    welcome = root / "cy" / "join" / "welcome_back.md"
    welcome.write_text(welcome.read_text().replace("{team}", "{teem}"))
    declined = root / "cy" / "join" / "declined.md"
    declined.unlink()
    labels = root / "cy" / "buttons.md"
    text = labels.read_text().replace("- decline:", "-- decline:")
    labels.write_text(text + "- no_such_label: Dim\n- in_days_few: {days}\n")
    # A prompt only organisers read may be left out; take its mark away and it may not.
    (root / "cy" / "organiser").mkdir()
    english = (root / "organiser" / "addteam_usage.md").read_text()
    (root / "cy" / "organiser" / "addteam_usage.md").write_text(english)
    marked = root / "organiser" / "newswap_usage.md"
    marked.write_text(marked.read_text().replace(ORGANISERS_ONLY + "\n", ""))
    found = check_translations(root)
    assert sorted(found.problems) == sorted(
        [
            "prompts/cy/join/nonsense.md: English has no such prompt",
            "prompts/cy/join/welcome_back.md: placeholders ['swap', 'teem'], English ['swap', 'team']",
            "prompts/cy/buttons.md: English has no line no_such_label",
            "prompts/cy/buttons.md: in_days_few asks for ['days']",
            "prompts/cy/join/declined.md is missing: participants or leads read it",
            "prompts/cy/buttons.md: decline is missing: participants or leads read it",
            "prompts/cy/organiser/newswap_usage.md is missing: participants or leads read it",
            "prompts/gd/organiser/newswap_usage.md is missing: participants or leads read it",
        ]
    )
    # What only organisers read stays in English, and is listed.
    assert "organiser/newswap_usage" not in found.in_english["cy"]
    assert "organiser/advance_blocked" in found.in_english["cy"]
    assert "buttons: confirm_advance" in found.in_english["cy"]
    assert "organiser/addteam_usage" not in found.in_english["cy"]
    code, output = await run_cli(tmp_path, "check", PROMPTS_DIR=str(root))
    assert code == 1
    assert "problem: prompts/cy/join/nonsense.md: English has no such prompt" in output
    assert "problem: prompts/cy/join/declined.md is missing" in output
    # As shipped, only what organisers read stays in English, and that is no problem.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, output = await run_cli(elsewhere, "check")
    assert "problem: prompts/" not in output, output
    assert "prompts/gd: everything participants and leads read is translated;" in output


def test_a_prompt_not_translated_goes_in_english_and_is_logged_once(tmp_path, caplog):
    root = _copy(tmp_path)
    (root / "cy" / "join" / "declined.md").unlink()
    welsh = Prompts(root).in_language("cy")
    with caplog.at_level(logging.INFO, logger="bot.text"):
        first = welsh.html("join/declined")
        again = Prompts(root).in_language("cy").html("join/declined")
    assert first == again == Prompts(root).html("join/declined")
    said = [r.getMessage() for r in caplog.records if "join/declined" in r.getMessage()]
    assert said == ["No cy translation of prompt join/declined: it is sent in English"]
    # What is translated is read in Welsh.
    assert "Croeso" in welsh.html("join/welcome_back", team="A", swap="B")


def test_plurals_follow_each_language(tmp_path):
    english, welsh = Prompts(), Prompts().in_language("cy")
    assert [english.plural("in_days", n) for n in (1, 2, 3)] == [
        "in one day",
        "in 2 days",
        "in 3 days",
    ]
    assert [welsh.plural("in_days", n) for n in (1, 2, 3)] == [
        "mewn diwrnod",
        "mewn deuddydd",
        "mewn 3 diwrnod",
    ]


def test_an_organisers_counts_agree_with_their_number():
    english = Prompts()
    assert [english.plural("people", n) for n in (1, 2)] == ["1 person", "2 people"]
    assert [english.plural("times", n) for n in (1, 3)] == ["once", "3 times"]
    assert english.plural("new_comments", 1) == "1 new comment"
    # Organisers' words stay English: a Welsh reader's count is in English too.
    assert Prompts().in_language("cy").plural("people", 3) == "3 people"


async def test_a_welsh_speaker_joins_in_welsh_and_can_change_language(bot, standin, organiser):
    tokens = await create_swap(organiser, "Cymru a'r Alban", ["Ceredigion", "Fife"])
    # Telegram says her app is in Welsh: the sheet comes in Welsh.
    ceri = standin.user(first_name="Ceri", language_code="cy")
    await ceri.send(f"/start {tokens['Ceredigion']['member']}")
    sheet = await ceri.expect(lambda m: "Rwy'n cytuno" in " ".join(m.button_labels()))
    assert "gwybodaeth i gyfranogwyr" in sheet.text
    assert {"✓ Cymraeg", "English", "Gàidhlig"} <= set(sheet.button_labels())
    # She reads it in English, then goes back to Welsh: the sheet itself changes.
    await ceri.press("English")
    await ceri.expect_edit(sheet, lambda m: "information for participants" in m.text)
    assert "✓ English" in sheet.button_labels()
    await ceri.press("Cymraeg")
    await ceri.expect_edit(sheet, lambda m: "gwybodaeth i gyfranogwyr" in m.text)
    await ceri.press("Rwy'n cytuno")
    receipt = await ceri.expect_edit(sheet, lambda m: "rydych wedi ymuno" in m.text)
    # The date in Welsh, in the team's zone, named.
    assert "(Europe/London)" in receipt.text
    assert [tuple(r) for r in await rows(bot, "SELECT language FROM consents")] == [("cy",)]
    assert [tuple(r) for r in await rows(bot, "SELECT language FROM people")] == [("cy",)]
    await ceri.send("/help")
    await ceri.expect(lambda m: "Paratoi" in m.text and "/language" in m.text)
    # /language: one button per language; English from now on.
    await ceri.send("/language")
    choose = await ceri.expect(lambda m: "Cymraeg" in " ".join(m.button_labels()))
    await ceri.press("English")
    await ceri.expect_edit(choose, lambda m: "From now on I write to you in English" in m.text)
    await ceri.send("/help")
    await ceri.expect(lambda m: "Setup" in m.text)
    await ceri.send("/language xx")
    await ceri.expect("I don't have that language")

    # Someone whose Telegram is in English joins in English (the usual case).
    fiona = standin.user(first_name="Fiona")
    await join(fiona, tokens["Fife"]["member"])

    # An organiser fixes Welsh for the whole swap: everyone reads it in Welsh.
    await organiser.send("/settings language cy")
    await organiser.expect("now reads the bot in Cymraeg")
    await fiona.send("/help")
    await fiona.expect("Paratoi")
    await fiona.send("/language en")
    await fiona.expect("rhedeg y cyfnewid hwn yn Cymraeg")
    await organiser.send("/settings language klingon")
    await organiser.expect("Give one language code")
    await organiser.send("/settings language off")
    await organiser.expect("each person reads the bot in their own language")
    await fiona.send("/help")
    await fiona.expect("Setup")


async def test_command_menus_in_each_language(bot, standin):
    await standin.wait_for(lambda: standin.commands_for(None, "cy") is not None)
    welsh = {c["command"]: c["description"] for c in standin.commands_for(None, "cy")}
    english = {c["command"]: c["description"] for c in standin.commands_for(None, "")}
    assert welsh["help"].startswith("Beth y gallwch") and english["help"].startswith("What you")
    assert "language" in welsh and set(welsh) == set(english)
    # Gaelic has no command words yet: its menu is the English one.
    gaelic = {c["command"]: c["description"] for c in standin.commands_for(None, "gd")}
    assert set(gaelic) == set(english)


async def test_rehearse_in_welsh_writes_the_transcripts_in_welsh(tmp_path):
    code, output = await run_cli(tmp_path, "rehearse", "out", "--language", "cy")
    assert code == 0, output
    member = (tmp_path / "out" / "southvale-member-seth.md").read_text("utf-8")
    for welsh in ("Rwy'n cytuno", "Mae gweithdy 1 wedi dechrau", "Rhagolwg", "Myfyrio, rownd 1"):
        assert welsh in member, welsh
    assert "Workshop 1 has begun" not in member
    # The organiser's own messages stay in English.
    organiser = (tmp_path / "out" / "organiser-olivia.md").read_text("utf-8")
    assert "Timetable" in organiser


def test_the_chat_contract_s_button_words_hold_in_every_language():
    """The contract promises a button containing "I agree" under the sheet and one
    containing "Confirm" under a preview: a translation keeps the English word too."""
    for code in LANGUAGES:
        prompts = Prompts().in_language(code)
        assert "I agree" in prompts.label("agree"), code
        assert "Confirm" in prompts.label("confirm"), code
        assert "Confirm" in prompts.label("confirm_link"), code
