"""Telegram-style message text processing for the Bot API stand-in.

Turns what a bot sends (``text`` + ``parse_mode``, or ``text`` + explicit ``entities``)
into what Telegram stores: plain text plus a list of MessageEntity dicts with UTF-16
offsets.  The rules follow Telegram's own server-side behaviour (tdlib's ``parse_html``
and ``fix_formatted_text``) closely enough that text accepted or rejected here is
accepted or rejected by Telegram with the same error wording:

* HTML is parsed strictly: only Telegram's tags are allowed, tags must nest, and a bare
  ``<`` that starts something tag-like is an error ("can't parse entities: ...").
* Only ``&lt; &gt; &amp; &quot;`` and numeric character references are decoded; any other
  ``&name;`` stays literal text, as on Telegram.
* Control characters become spaces, ``\\r`` is dropped, leading/trailing spaces and
  newlines are trimmed, whitespace-only entities are dropped.
* URLs, @mentions, #hashtags, /commands and e-mail addresses are detected automatically.

Markdown parse modes are not parsed: the text is kept literally (documented deviation).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Tags Telegram accepts in HTML parse mode.
ALLOWED_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
}

# tdlib's is_space(): the NUL that ends a C string counts as a space, which is what
# makes a tag running into the end of the text an "Unclosed start tag".
_SPACES = " \t\r\n\v\0"

# Sort priority of entity types at the same offset/length (from tdlib): smaller first.
_TYPE_PRIORITY = {
    "expandable_blockquote": 0,
    "blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
# Entities that carry their data outside the text; they survive whitespace-only content.
_HIDDEN_DATA = {"text_link", "text_mention", "custom_emoji"}
# Entities that must not overlap each other (bold & co. may overlap anything).
_CONTINUOUS = {
    "pre",
    "code",
    "text_link",
    "text_mention",
    "custom_emoji",
    "mention",
    "hashtag",
    "bot_command",
    "url",
    "email",
}
_SPLITTABLE = {"bold", "italic", "underline", "strikethrough", "spoiler"}

# Characters Telegram silently removes from message text.
_REMOVED_CHARS = {"\r", "\u0333", "\u033f", "\u030a"} | {chr(c) for c in range(0x2028, 0x202F)}

_LINK_SCHEMES = {"http", "https", "tg", "ton", "tonsite"}


class EntityParseError(ValueError):
    """The text could not be parsed; str(error) is Telegram's wording after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def format_text(
    text: str, parse_mode: str | None, entities: list | None = None, known_users: dict | None = None
) -> tuple[str, list[dict]]:
    """Parse and clean ``text`` like Telegram does; return (plain_text, entities).

    Raises EntityParseError for bad markup.  An empty result is returned as "" so that the
    caller can answer with the method's own "... is empty" error.
    """
    mode = (parse_mode or "").strip().lower()
    if entities:
        # Explicit entities win over parse_mode, as in the Bot API.
        plain, found = text, [dict(e) for e in entities if isinstance(e, dict)]
        _check_explicit_entities(plain, found)
    elif mode == "html":
        plain, found = parse_html(text, known_users or {})
    else:
        plain, found = text, []
    return fix_formatted_text(plain, found)


def _check_explicit_entities(text: str, entities: list[dict]) -> None:
    """Reject explicit entities that point outside the text (Telegram's wording)."""
    length = utf16_len(text)
    for entity in entities:
        offset, size = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size < 0:
            raise EntityParseError("Receive an entity with incorrect offset or length")
        if offset > length:
            raise EntityParseError(
                f"Entity begins after the end of the text at UTF-16 offset {offset}"
            )
        if offset + size > length:
            raise EntityParseError(
                f"Entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + size}"
            )


# --------------------------------------------------------------------------- HTML parsing


def _decode_char_reference(text: str, pos: int) -> tuple[str | None, int]:
    """Decode the ``&...`` reference at ``pos``; return (character or None, position after it)."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        code = 0
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                code = code * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and text[end] in "0123456789":
                code = code * 10 + int(text[end])
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[pos + 1 : end])
        if named is None:
            # Any other named reference (e.g. &nbsp;) stays literal text.
            return None, pos
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(source: str, known_users: dict | None = None) -> tuple[str, list[dict]]:
    """Parse Telegram HTML into (plain_text, entities); raise EntityParseError like Telegram."""
    n = len(source)

    def at(k: int) -> str:
        return source[k] if k < n else "\0"

    def byte_offset(k: int) -> int:
        return len(source[:k].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    utf16 = 0
    entities: list[dict] = []
    # Open tags: (tag_name, argument, utf16 offset at open, len(out) at open)
    stack: list[tuple[str, str, int, int]] = []
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            char, end = _decode_char_reference(source, i)
            if char is not None:
                out.append(char)
                utf16 += utf16_len(char)
                i = end
                continue
        if c != "<":
            out.append(c)
            utf16 += utf16_len(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # Start tag: name runs to the first space or '>'.
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = source[begin + 1 : i].lower()
            if tag not in ALLOWED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                name_begin = i
                # Stopping at '>' too is what lets "<blockquote expandable>" work.
                while at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                attr_name = source[name_begin:i]
                if not attr_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr_name.lower() == "expandable":
                        # The one value-less attribute Telegram accepts.
                        argument = "expandable"
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {byte_offset(begin)}"
                    )
                i += 1
                while i < n and at(i) in _SPACES:
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                if at(i) not in "'\"":
                    # Unquoted value: a name token of letters, digits, '.' and '-'.
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = source[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {byte_offset(token_begin)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    chars: list[str] = []
                    while i < n and source[i] != quote:
                        if source[i] == "&":
                            char, end = _decode_char_reference(source, i)
                            if char is not None:
                                chars.append(char)
                                i = end
                                continue
                        chars.append(source[i])
                        i += 1
                    if i < n:
                        i += 1  # the closing quote
                    value = "".join(chars)
                if i >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {byte_offset(begin)}"
                    )
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1  # the '>'
            continue

        # End tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = source[begin + 2 : i].lower()
        while i < n and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        tag, argument, start16, start_out = stack[-1]
        if end_name and end_name != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{tag}>", '
                f'found "</{end_name}>"'
            )
        if utf16 > start16:
            _close_entity(
                entities,
                tag,
                argument,
                start16,
                utf16 - start16,
                "".join(out[start_out:]),
                known_users or {},
            )
        stack.pop()
        i += 1  # the '>'

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    plain = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in plain):
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    for entity in entities:
        entity.pop("_language", None)
    return plain, entities


def _close_entity(
    entities: list[dict],
    tag: str,
    argument: str,
    offset: int,
    length: int,
    inner_text: str,
    known_users: dict,
) -> None:
    """Append the entity for a closed tag (or merge pre+code into pre with a language)."""
    simple = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
    }
    last: dict = entities[-1] if entities else {}
    same_span = bool(last) and last["offset"] == offset and last["length"] == length
    if tag in simple:
        entities.append({"offset": offset, "length": length, "type": simple[tag]})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        entities.append({"offset": offset, "length": length, "type": kind})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "offset": offset,
                "length": length,
                "type": "custom_emoji",
                "custom_emoji_id": argument,
            }
        )
    elif tag == "a":
        url = argument or inner_text
        user_match = re.fullmatch(r"tg://user\?id=(\d+)", url.strip(), re.IGNORECASE)
        if user_match:
            user = known_users.get(int(user_match.group(1)))
            if user is not None:
                entities.append(
                    {"offset": offset, "length": length, "type": "text_mention", "user": user}
                )
            return
        checked = checked_link(url)
        if checked:
            entities.append(
                {"offset": offset, "length": length, "type": "text_link", "url": checked}
            )
    elif tag == "pre":
        if same_span and last["type"] == "code" and last.get("_language"):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"offset": offset, "length": length, "type": "pre"})
    elif tag == "code":
        if same_span and last["type"] == "pre" and argument:
            last["language"] = argument
        else:
            entity = {"offset": offset, "length": length, "type": "code"}
            if argument:
                entity["_language"] = argument
            entities.append(entity)


def checked_link(url: str) -> str | None:
    """Validate and normalise a link like Telegram (adds http://, a trailing '/'); None if invalid."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    # "name:" is a scheme unless it is "host:port" (a digit follows the colon).
    if match and not url[match.end() : match.end() + 1].isdigit():
        scheme = match.group(1).lower()
        if scheme not in _LINK_SCHEMES:
            return None
    else:
        scheme = "http"
        url = "http://" + url
    if scheme not in ("http", "https"):
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if not host or ("." not in host and host != "localhost"):
        return None
    # Host names are case-insensitive; Telegram returns them lower-cased.
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    path = parts.path or "/"
    rebuilt = f"{scheme}://{netloc}{path}"
    if parts.query:
        rebuilt += "?" + parts.query
    if parts.fragment:
        rebuilt += "#" + parts.fragment
    return rebuilt


# ------------------------------------------------------------------ clean-up and trimming


def _sort_entities(entities: list[dict]) -> None:
    entities.sort(key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)))


def _merge_splittable(entities: list[dict]) -> list[dict]:
    """Join touching or overlapping bold/italic/... runs of one type, as Telegram does."""
    others = [e for e in entities if e["type"] not in _SPLITTABLE]
    merged: list[dict] = []
    for kind in sorted({e["type"] for e in entities if e["type"] in _SPLITTABLE}):
        runs = sorted(
            (e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] == kind
        )
        start, end = runs[0]
        for run_start, run_end in runs[1:]:
            if run_start <= end:
                end = max(end, run_end)
            else:
                merged.append({"offset": start, "length": end - start, "type": kind})
                start, end = run_start, run_end
        merged.append({"offset": start, "length": end - start, "type": kind})
    return others + merged


def _remove_overlaps(entities: list[dict]) -> list[dict]:
    """Drop continuous entities that overlap an earlier one and formatting inside ``pre``."""
    kept: list[dict] = []
    continuous: list[dict] = []
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if entity["type"] in _CONTINUOUS:
            if any(start < o["offset"] + o["length"] and o["offset"] < end for o in continuous):
                continue
            continuous.append(entity)
        elif entity["type"] in _SPLITTABLE and any(
            o["type"] == "pre" and o["offset"] <= start and end <= o["offset"] + o["length"]
            for o in continuous
        ):
            continue
        kept.append(entity)
    return kept


def fix_formatted_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Clean characters, trim whitespace and tidy entities the way Telegram stores messages."""
    # 1. Clean characters, mapping every old UTF-16 boundary to its new position.
    cleaned: list[str] = []
    new_pos = [0]
    pos16 = 0
    for ch in text:
        width = utf16_len(ch)
        if ch not in _REMOVED_CHARS:
            if ch != "\n" and ord(ch) < 32:
                ch = " "
            cleaned.append(ch)
            pos16 += width
        new_pos.extend([pos16] * width)
    text = "".join(cleaned)
    fixed = []
    for entity in entities:
        start = new_pos[min(entity["offset"], len(new_pos) - 1)]
        end = new_pos[min(entity["offset"] + entity["length"], len(new_pos) - 1)]
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    entities = fixed

    # 2. Work on UTF-16 units from here: entity offsets are in those units.
    units = _utf16_units(text)

    def is_ws(k: int) -> bool:
        return units[k] in (" ", "\n")

    trimmed = []
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if entity["type"] not in _HIDDEN_DATA:
            # Leading whitespace is cut from an entity; whitespace-only entities vanish.
            while start < end and is_ws(start):
                start += 1
            if start == end or all(is_ws(k) for k in range(start, end)):
                continue
        trimmed.append({**entity, "offset": start, "length": end - start})
    entities = trimmed

    last = len(units) - 1
    while last >= 0 and is_ws(last):
        last -= 1
    if last < 0:
        return "", []
    # Right trim, clipping entities to the new end.
    units = units[: last + 1]
    clipped = []
    for entity in entities:
        if entity["offset"] > last:
            continue
        length = min(entity["length"], last + 1 - entity["offset"])
        clipped.append({**entity, "length": length})
    entities = clipped
    # Left trim, but never past the start of the first entity.
    first_entity = min((e["offset"] for e in entities), default=len(units))
    cut = 0
    while cut < first_entity and is_ws(cut):
        cut += 1
    units = units[cut:]
    entities = [{**e, "offset": e["offset"] - cut} for e in entities]
    text = "".join(units)

    # 3. Automatically detected entities, unless they collide with explicit ones.
    entities = _merge_splittable(entities)
    _sort_entities(entities)
    entities = _remove_overlaps(entities)
    explicit_continuous = [e for e in entities if e["type"] in _CONTINUOUS]
    for found in find_entities(text):
        start, end = found["offset"], found["offset"] + found["length"]
        if any(
            start < e["offset"] + e["length"] and e["offset"] < end for e in explicit_continuous
        ):
            continue
        entities.append(found)
        explicit_continuous.append(found)
    _sort_entities(entities)
    return text, entities


def _utf16_units(text: str) -> list[str]:
    """Split text into UTF-16-sized pieces: astral characters become two entries (char, "")."""
    units: list[str] = []
    for ch in text:
        units.append(ch)
        if ord(ch) > 0xFFFF:
            units.append("")  # second half of the surrogate pair; joins back to nothing
    return units


# ------------------------------------------------------------------ automatic entities

_AUTO_PATTERNS = [
    # Order matters: earlier kinds win when matches overlap.
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>@])"),
    ),
    ("url", re.compile(r"(?<![\w@])(?:https?|tg)://[^\s<>\"]+", re.IGNORECASE)),
    (
        "email",
        re.compile(
            r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)"
        ),
    ),
    ("mention", re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<!\w)#\w{1,256}(?![\w#])")),
]


def find_entities(text: str) -> list[dict]:
    """Entities Telegram adds by itself: /commands, URLs, e-mails, @mentions and #hashtags."""
    found: list[dict] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            if kind == "url":
                # Trailing punctuation is not part of a URL.
                while end > start and text[end - 1] in ".,;:!?)]}'\"":
                    end -= 1
            if kind == "hashtag" and not any(ch.isalpha() for ch in text[start + 1 : end]):
                continue
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            offset = utf16_len(text[:start])
            found.append({"offset": offset, "length": utf16_len(text[start:end]), "type": kind})
    return found
