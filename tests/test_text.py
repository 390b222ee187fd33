"""Markdown to Telegram HTML, escaping, and splitting long messages."""

import re

from bot import text
from bot.text import Html, markdown_to_telegram, split_message

ALLOWED = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"}


def tags(html: str) -> set[str]:
    return set(re.findall(r"</?([a-z-]+)", html))


def visible(html: str) -> str:
    import html as h

    return h.unescape(re.sub(r"<[^>]+>", "", html))


def test_markdown_becomes_telegram_tags_only():
    out = markdown_to_telegram(
        "# Title\n\nSome *em* and **strong**.\n\n- one\n- two\n\nThen:\n\n1. a\n2. b"
    )
    assert tags(out) <= ALLOWED
    assert "<b>Title</b>" in out
    assert "• one\n• two" in out
    assert "1. a\n2. b" in out
    assert "<p>" not in out


def test_user_text_is_escaped_in_prompts(tmp_path):
    from bot.text import Prompts

    (tmp_path / "buttons.md").write_text("- ok: OK\n")
    (tmp_path / "hello.md").write_text("Hello **{name}**, you wrote:\n\n{text}\n")
    prompts = Prompts(tmp_path)
    out = prompts.html("hello", name="<b>Bob</b> & co", text="a < b\n\nsecond para")
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in out
    assert "a &lt; b\n\nsecond para" in out
    assert prompts.html("hello", name=Html("<i>x</i>"), text="").count("<i>x</i>") == 1


def test_long_text_splits_at_sentences_under_limit():
    sentence = "We share responsibility for children across agencies. "
    text = "<b>Dilemma</b>\n\n" + sentence * 160  # about 8,800 characters
    parts = split_message(text)
    assert len(parts) == 3
    for part in parts:
        assert len(visible(part)) <= 4096
        assert visible(part).rstrip().endswith(".")
    assert (
        " ".join(visible(p).replace("\n", " ") for p in parts).split()
        == visible(text).replace("\n", " ").split()
    )


def test_split_never_cuts_a_word_and_keeps_tags_balanced():
    words = " ".join(f"word{i}" for i in range(2000))  # no sentence ends at all
    parts = split_message(f"<i>{words}</i>")
    assert len(parts) >= 3
    for part in parts:
        assert part.startswith("<i>") and part.endswith("</i>")
        assert len(visible(part)) <= 4096
    rebuilt = " ".join(visible(p) for p in parts).split()
    assert rebuilt == words.split()


def test_split_prefers_paragraphs():
    para = "x" * 3000
    parts = split_message(f"{para}\n\n{para}")
    assert [visible(p) for p in parts] == [para, para]


def test_split_counts_utf16_units():
    emoji = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_message(emoji)
    assert len(parts) == 2
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)


def test_a_very_long_message_is_split_a_piece_at_a_time_as_if_read_whole(monkeypatch):
    # /status of a big swap: far longer than what is read at a time, with
    # formatting across the pieces' edges.
    line = "- <b>Person {n}</b>, member, agreed 2 Dec 10:00. <i>Nothing confirmed yet.</i>"
    block = "\n".join(line.format(n=n) for n in range(3000))
    message = f"<b>Status</b>\n\n{block}\n\n<i>{block}</i>"
    monkeypatch.setattr(text, "_READ_AHEAD", len(message) + 1)
    whole = split_message(message)
    monkeypatch.undo()
    assert len(message) > 3 * text._READ_AHEAD
    assert split_message(message) == whole
    assert len(whole) > 40
