"""Turning the Markdown in ``prompts/`` into messages Telegram accepts.

A prompt is a Markdown file with ``{placeholders}``. It is rendered with the
``markdown`` library to HTML, then reduced to the small set of tags Telegram's
HTML parse mode knows (paragraphs become blank lines, list items bullets,
headings bold). Values are escaped before they are put into a placeholder, so
nothing a person writes is ever read as markup. Long messages are split at
paragraph, line or sentence boundaries, never inside a word, each part under
Telegram's 4096-character limit and with its formatting closed and reopened.

Why our own code for this: the ``markdown`` library already does the parsing;
what is left is a mapping onto Telegram's eight tags and a splitter. The
converters we looked at either pull in lxml and html5lib (sulguk) or a second
Markdown dialect with a Rust parser (telegramify-markdown), and none splits at
sentence boundaries while keeping tags balanced.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import string
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any
from zoneinfo import ZoneInfo

import markdown
from babel import Locale
from babel.dates import format_datetime

MESSAGE_LIMIT = 4096
# How much of a long message is read at a time to be split (see split_message).
_READ_AHEAD = 65536

# Tags Telegram's HTML parse mode accepts, with the attributes we keep.
_INLINE_TAGS = {
    "b": (),
    "i": (),
    "u": (),
    "s": (),
    "code": (),
    "a": ("href",),
    "pre": (),
    "blockquote": (),
    "tg-spoiler": (),
}
_ALIASES = {"strong": "b", "em": "i", "del": "s", "strike": "s", "ins": "u"}


class Html(str):
    """A value that is already Telegram HTML, to be inserted without escaping."""


class _Style(tuple):
    """An open tag: (name, ((attribute, value), ...))."""


class _TelegramHtml(HTMLParser):
    """Reduces the HTML that ``markdown`` writes to Telegram's subset.

    The result is kept as a list of (character, open tags) pairs, so that it
    can be split anywhere and written back with balanced tags.
    """

    def __init__(self, fold_newlines: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.fold_newlines = fold_newlines
        self.chars: list[tuple[str, tuple[_Style, ...]]] = []
        self.stack: list[_Style] = []
        self.lists: list[list[int]] = []  # per open list: [next number] or [] if bulleted
        self.just_marked = False  # a list marker was written and no text yet

    def _text(self, text: str) -> None:
        if text:
            self.just_marked = False
        styles = tuple(self.stack)
        self.chars.extend((c, styles) for c in text)

    def _newlines(self, count: int) -> None:
        """End the current block with at most ``count`` newlines in a row."""
        if not self.chars:
            return
        have = 0
        for c, _ in reversed(self.chars):
            if c != "\n":
                break
            have += 1
        self._text("\n" * max(0, count - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = _ALIASES.get(tag, tag)
        if tag in ("p", "div"):
            if not self.just_marked:
                self._newlines(2 if not self.lists else 1)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._newlines(2)
            self.stack.append(_Style(("b", ())))
        elif tag in ("ul", "ol"):
            self._newlines(1 if self.lists else 2)
            self.lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            self._newlines(1)
            depth = len(self.lists) - 1
            numbering = self.lists[-1] if self.lists else []
            if numbering:
                marker = f"{numbering[0]}. "
                numbering[0] += 1
            else:
                marker = "• " if depth == 0 else "◦ "
            self._text("   " * depth + marker)
            self.just_marked = True
        elif tag == "br":
            self._text("\n")
        elif tag == "hr":
            self._newlines(2)
            self._text("———")
            self._newlines(2)
        elif tag in _INLINE_TAGS:
            kept = tuple((k, v or "") for k, v in attrs if k in _INLINE_TAGS[tag])
            if tag == "pre" or tag == "blockquote":
                self._newlines(2)
            self.stack.append(_Style((tag, kept)))

    def handle_endtag(self, tag: str) -> None:
        tag = _ALIASES.get(tag, tag)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            tag = "b"
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newlines(2 if not self.lists else 1)
            return
        if tag in ("p", "div"):
            self._newlines(2 if not self.lists else 1)
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i]
                break

    def handle_data(self, data: str) -> None:
        if self.fold_newlines and all(s[0] != "pre" for s in self.stack):
            # markdown keeps source line breaks inside paragraphs; Telegram
            # would show them, so fold them as a browser would.
            data = re.sub(r"\s*\n\s*", " ", data) if data.strip() else data.replace("\n", "")
        self._text(data)


def _serialise(chars: list[tuple[str, tuple[_Style, ...]]]) -> str:
    """Write (character, styles) pairs back as balanced Telegram HTML."""
    out: list[str] = []
    open_styles: list[_Style] = []
    for c, styles in chars:
        if list(styles) != open_styles:
            keep = 0
            while (
                keep < len(open_styles) and keep < len(styles) and open_styles[keep] == styles[keep]
            ):
                keep += 1
            for style in reversed(open_styles[keep:]):
                out.append(f"</{style[0]}>")
            for style in styles[keep:]:
                attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in style[1])
                out.append(f"<{style[0]}{attrs}>")
            open_styles = list(styles)
        out.append(html.escape(c, quote=False))
    for style in reversed(open_styles):
        out.append(f"</{style[0]}>")
    return "".join(out)


def _strip(chars: list[tuple[str, tuple[_Style, ...]]]) -> list[tuple[str, tuple[_Style, ...]]]:
    start, end = _trimmed(chars, 0, len(chars))
    return chars[start:end]


def _trimmed(chars: list[tuple[str, tuple[_Style, ...]]], start: int, end: int) -> tuple[int, int]:
    """The range ``start:end`` of ``chars`` without white space at either end."""
    while start < end and chars[start][0].isspace():
        start += 1
    while end > start and chars[end - 1][0].isspace():
        end -= 1
    return start, end


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")


def _break_at(text: str, limit: int) -> int:
    """Where to cut ``text`` so the first part holds at most ``limit`` units.

    Prefers, in order, a paragraph break, a line break, the end of a sentence,
    any white space, in the second half of the window; a cut inside a word
    happens only for a "word" longer than the whole window.
    """
    # Find the longest prefix within the limit in UTF-16 units.
    window = 0
    units = 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if units + size > limit:
            break
        units += size
        window += 1
    if window >= len(text):
        return len(text)
    head = text[: window + 1]  # one more, to see a break right at the limit
    floor = window // 2
    for pattern in (r"\n\s*\n", r"\n", None, r"\s"):
        if pattern is None:
            ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() <= window]
        else:
            ends = [m.start() + 1 for m in re.finditer(pattern, head) if m.start() < window]
        ends = [e for e in ends if e > floor]
        if ends:
            return ends[-1]
    return window


def _take_parts(
    chars: list[tuple[str, tuple[_Style, ...]]], limit: int, parts: list[str], *, final: bool
) -> int:
    """Split styled text into Telegram HTML messages of at most ``limit`` units
    each, appended to ``parts``; return how many characters at the front are done.

    Unless ``final``, more text may follow, so only the parts whose whole window
    (``limit`` characters) is already there are taken: each is then the same as
    if all the text had been there at once. Each part is looked for only in its
    window, so a long message costs in proportion to its length.
    """
    plain = "".join(c for c, _ in chars)
    start, end = _trimmed(chars, 0, len(chars))
    while start < end and (final or start + limit + 1 < end):
        cut = start + _break_at(plain[start : min(end, start + limit + 1)], limit)
        head_start, head_end = _trimmed(chars, start, cut)
        if head_start < head_end:
            parts.append(_serialise(chars[head_start:head_end]))
        start, end = _trimmed(chars, cut, end)
    return start


def to_styled(
    source_html: str, fold_newlines: bool = False
) -> list[tuple[str, tuple[_Style, ...]]]:
    """Parse HTML into styled text; ``fold_newlines`` for HTML from ``markdown``."""
    parser = _TelegramHtml(fold_newlines)
    parser.feed(source_html)
    parser.close()
    return parser.chars


def markdown_to_telegram(source: str) -> str:
    """Render Markdown to Telegram HTML (one message, not split)."""
    return _serialise(_strip(to_styled(markdown.markdown(source), fold_newlines=True)))


def split_message(telegram_html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a rendered message into parts Telegram accepts.

    Nearly every message is short: when even its markup fits within the limit,
    its text certainly does, and it goes as it is, without the character by
    character rewriting a split needs (the most costly step of sending it).
    """
    short = telegram_html.strip()
    if _utf16_len(short) <= limit:
        return [short] if short else []
    # Read a piece at a time, and split off the parts each piece completes: a
    # very long message (/status of a big swap) never has all its characters
    # as (character, styles) pairs at once, about 70 bytes each.
    parser = _TelegramHtml(fold_newlines=False)
    parts: list[str] = []
    for offset in range(0, len(telegram_html), _READ_AHEAD):
        parser.feed(telegram_html[offset : offset + _READ_AHEAD])
        del parser.chars[: _take_parts(parser.chars, limit, parts, final=False)]
    parser.close()
    _take_parts(parser.chars, limit, parts, final=True)
    return parts


_GAPS = re.compile(r"\n{3,}")


class _Escaping(dict):
    """Placeholder values, escaped unless already HTML."""

    def __missing__(self, key: str) -> str:
        raise KeyError(f"prompt placeholder {{{key}}} was not given a value")


def _escape(value: Any) -> str:
    if isinstance(value, Html):
        return str(value)
    return html.escape(str(value), quote=False)


ENGLISH = "en"
# The languages a swap may run in: English, the reference, at the top of prompts/,
# and a folder per translation, named by its language code (prompts/cy/ mirrors
# prompts/). The names people see are each language's own, from CLDR (Babel).
LANGUAGES: tuple[str, ...] = (ENGLISH, "cy", "gd")

# A translated file's first line says it awaits review by a native speaker; it is
# for reviewers, so the bot never shows it (nor any other HTML comment line).
_COMMENT_LINE = re.compile(r"^\s*<!--.*-->\s*$\n?", re.MULTILINE)
REVIEW_MARK = "<!-- translation: awaiting review by a native speaker -->"
# An English prompt only organisers read starts with this line, and a label only
# they read sits under a heading saying "(organisers only)": a translation may
# leave those out (organisers' messages stay in English). Everything else,
# participants and leads read, and every translation must have it.
ORGANISERS_ONLY = "<!-- organisers only: a translation may leave this out -->"
ORGANISERS_ONLY_HEADING = "(organisers only)"

log = logging.getLogger(__name__)
# (language, prompt) pairs already logged as falling back to English: once each.
_fell_back: set[tuple[str, str]] = set()


def prompt_source(path: Traversable) -> str:
    """A prompt file as the bot reads it: without its comment lines (the marks
    for reviewers and translators)."""
    return _COMMENT_LINE.sub("", path.read_text("utf-8"))


class Prompts:
    """Every text a person reads, loaded from the ``prompts`` package, in one
    language; ``in_language(code)`` gives the same prompts in another. A prompt
    a translation lacks is read in English, and the gap logged once."""

    def __init__(
        self,
        root: Traversable | None = None,
        language: str = ENGLISH,
        english: Prompts | None = None,
    ) -> None:
        self.root = root if root is not None else resources.files("prompts")
        self.language = language
        self.english = english
        self.locale = Locale.parse(language)
        self._own = self.root if english is None else self.root.joinpath(language)
        labels = read_table(self._read_or_empty("buttons"))
        self._labels: dict[str, str] = (
            {**english._labels, **labels} if english is not None else labels
        )
        self._rendered: dict[str, str] = {}
        self._sources: dict[str, str] = {}
        self._translations: dict[str, Prompts] = {}

    def in_language(self, language: str | None) -> Prompts:
        """These prompts in ``language`` (English if it is not one we have)."""
        reference = self.english or self
        if not language or language == reference.language or language not in LANGUAGES:
            return reference
        if language == self.language:
            return self
        found = reference._translations.get(language)
        if found is None:
            found = reference._translations[language] = Prompts(reference.root, language, reference)
        return found

    def _read_or_empty(self, name: str) -> str:
        path = self._own.joinpath(name + ".md")
        return prompt_source(path) if path.is_file() else ""

    def _template(self, key: str) -> str:
        if key not in self._rendered:
            self._rendered[key] = markdown_to_telegram(prompt_source(self._path(key)))
        return self._rendered[key]

    def _own_path(self, key: str) -> Traversable:
        *folders, name = key.split("/")
        path = self._own
        for folder in folders:
            path = path.joinpath(folder)
        return path.joinpath(name + ".md")

    def _path(self, key: str) -> Traversable:
        path = self._own_path(key)
        if self.english is None or path.is_file():
            return path
        if (self.language, key) not in _fell_back:
            _fell_back.add((self.language, key))
            log.info("No %s translation of prompt %s: it is sent in English", self.language, key)
        return self.english._path(key)

    def html(self, key: str, **params: Any) -> Html:
        """The prompt ``key`` (a path under prompts/ without .md) as Telegram HTML."""
        template = self._template(key)
        values = _Escaping({k: _escape(v) for k, v in params.items()})
        # A placeholder left empty (no dates yet, say) leaves no gap behind.
        return Html(_GAPS.sub("\n\n", template.format_map(values)))

    def raw(self, key: str, **params: Any) -> str:
        """The prompt as Markdown with its placeholders filled, for files we write."""
        if key not in self._sources:
            self._sources[key] = prompt_source(self._path(key))
        return (
            self._sources[key].format_map(_Escaping({k: str(v) for k, v in params.items()})).strip()
            + "\n"
        )

    def as_asked(self, key: str, **params: Any) -> str:
        """The prompt as Markdown, as a person was shown it, for the export's methods:
        the placeholders given are filled, any others (what only that person saw) left
        out."""
        source = prompt_source(self._path(key))
        values = {
            name: str(params.get(name, ""))
            for _, name, _, _ in string.Formatter().parse(source)
            if name is not None
        }
        return _GAPS.sub("\n\n", source.format_map(values)).strip() + "\n"

    def messages(self, key: str, **params: Any) -> list[str]:
        """The prompt as one or more messages under Telegram's length limit."""
        return split_message(self.html(key, **params))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def label(self, key: str, **params: Any) -> str:
        """A button label (plain text, not HTML)."""
        if self.english is not None and key not in self._labels:
            return self.english.label(key, **params)
        return self._labels[key].format(**params)

    def plural(self, key: str, count: int, **params: Any) -> str:
        """The label ``key_<form>`` for ``count``, the form by the language's CLDR
        plural rule (English: one, other; Welsh: zero, one, two, few, many,
        other), falling back to ``key_other``."""
        form = self.locale.plural_form(count)
        chosen = f"{key}_{form}" if f"{key}_{form}" in self._labels else f"{key}_other"
        return self.label(chosen, count=count, **params)

    def when(self, moment: datetime, zone: ZoneInfo, *, weekday: bool = True) -> str:
        """An instant as a person reads it, in their language and zone, naming the zone."""
        pattern = "EEE dd MMM y, HH:mm" if weekday else "dd MMM y, HH:mm"
        local = format_datetime(moment, pattern, tzinfo=zone, locale=self.locale)
        return f"{local} ({zone.key})"

    def language_name(self, language: str, in_language: str | None = None) -> str:
        """A language's own name for itself (Cymraeg, Gàidhlig), or its name in
        ``in_language`` (Welsh), from CLDR."""
        return _language_name(language, in_language or language)

    def table(self, name: str) -> dict[str, str]:
        """A ``key: text`` table from ``prompts/<name>.md`` (English where a
        translation lacks a line)."""
        own = read_table(self._read_or_empty(name))
        if self.english is not None:
            return {**self.english.table(name), **own}
        return own


@functools.cache
def _language_name(language: str, in_language: str) -> str:
    # Babel parses a locale's CLDR data each time: a sheet names three languages.
    name = Locale.parse(language).get_display_name(in_language) or language
    return name[:1].upper() + name[1:]


def read_table(source: str) -> dict[str, str]:
    """Read ``- key: text`` lines; everything else in the file is commentary."""
    table: dict[str, str] = {}
    for line in source.splitlines():
        m = re.match(r"^[-*]\s+`?([a-z0-9_]+)`?\s*:\s*(.+?)\s*$", line)
        if m:
            table[m.group(1)] = m.group(2)
    return table


def opening_words(text: str, limit: int = 160) -> str:
    """The first line of someone's text, shortened at a word to about ``limit``
    characters: enough to recognise words the reader has just received in full."""
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= limit and first == text.strip():
        return first
    cut = first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + " …"


# Files read as ``- key: text`` tables rather than as one message.
TABLE_FILES = ("buttons", "commands", "trail/events")


def _fields(source: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(source) if name is not None}


def _prompt_keys(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    """Every prompt file under ``folder`` by key (``join/consented``), leaving out
    the translations' folders."""
    found: dict[str, Traversable] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and not (prefix == "" and entry.name in LANGUAGES):
            found.update(_prompt_keys(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(".md"):
            found[prefix + entry.name.removesuffix(".md")] = entry
    return found


@dataclass
class TranslationCheck:
    """What a translation leaves in English (allowed for what only organisers
    read) and what is wrong with it (never allowed: a prompt or label participants
    or leads read left out, a file or label English does not have, a placeholder
    English does not fill or one it fills left out, a file that does not render)."""

    in_english: dict[str, list[str]] = field(default_factory=dict)  # language: keys
    problems: list[str] = field(default_factory=list)


def _organisers_only(path: Traversable) -> bool:
    return path.read_text("utf-8").startswith(ORGANISERS_ONLY)


def _organiser_labels(source: str) -> set[str]:
    """The labels of a table that sit under an "(organisers only)" heading."""
    labels: set[str] = set()
    inside = False
    for line in source.splitlines():
        if line.startswith("#"):
            inside = ORGANISERS_ONLY_HEADING in line
        elif inside:
            labels.update(read_table(line))
    return labels


def check_translations(root: Traversable | None = None) -> TranslationCheck:
    """Hold every translation under ``root`` (prompts/) against English."""
    root = root if root is not None else resources.files("prompts")
    english = _prompt_keys(root)
    result = TranslationCheck()
    for language in LANGUAGES:
        folder = root.joinpath(language)
        if language == ENGLISH:
            continue
        translated = _prompt_keys(folder) if folder.is_dir() else {}
        forms = set(Locale.parse(language).plural_form.tags) | {"other"}
        in_english: list[str] = []
        for key, path in english.items():
            if key in translated:
                continue
            if _organisers_only(path):
                in_english.append(key)
            else:
                result.problems.append(
                    f"prompts/{language}/{key}.md is missing: participants or leads read it"
                )
        for key, path in translated.items():
            where = f"prompts/{language}/{key}.md"
            if key not in english:
                result.problems.append(f"{where}: English has no such prompt")
                continue
            source = prompt_source(path)
            reference = prompt_source(english[key])
            try:
                if key in TABLE_FILES:
                    ours, theirs = read_table(source), read_table(reference)
                    for label, text in ours.items():
                        base, _, form = label.rpartition("_")
                        if f"{base}_other" in theirs and form in forms:
                            # A plural form may say its number in words ("deuddydd"),
                            # but asks for nothing the English forms are not given.
                            given = _fields(theirs[f"{base}_other"]) | {"count"}
                            if not _fields(text) <= given:
                                result.problems.append(
                                    f"{where}: {label} asks for {sorted(_fields(text) - given)}"
                                )
                            continue
                        model = theirs.get(label)
                        if model is None:
                            result.problems.append(f"{where}: English has no line {label}")
                        elif _fields(text) != _fields(model):
                            result.problems.append(
                                f"{where}: {label} has {sorted(_fields(text))},"
                                f" English {sorted(_fields(model))}"
                            )
                    only_organisers = _organiser_labels(reference)
                    for label in theirs:
                        if label in ours:
                            continue
                        if label in only_organisers or _organisers_only(english[key]):
                            in_english.append(f"{key}: {label}")
                        else:
                            result.problems.append(
                                f"{where}: {label} is missing: participants or leads read it"
                            )
                else:
                    if _fields(source) != _fields(reference):
                        result.problems.append(
                            f"{where}: placeholders {sorted(_fields(source))},"
                            f" English {sorted(_fields(reference))}"
                        )
                    markdown_to_telegram(source)
            except ValueError as error:
                result.problems.append(f"{where}: {error}")
        result.in_english[language] = in_english
    return result
