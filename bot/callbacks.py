"""Every button's callback data: built and parsed in this one place.

Telegram gives callback data back exactly as a client sends it, and any client
can send any data, so it is untrusted input: a kind is a prefix and typed
fields, and ``parse`` accepts only ASCII digits in range for ids and only the
listed words for choices. Whether the presser may act on what the data names
is the service's to check, every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import LANGUAGES

# Telegram's limit on callback data, in bytes.
DATA_LIMIT = 64
# SQLite row ids are positive 64-bit integers; ours never come near this.
_MAX_ID = 2**53
_DIGITS = re.compile(r"[0-9]{1,16}")


@dataclass(frozen=True)
class Number:
    """A whole number written in ASCII digits, ``low`` or more."""

    low: int = 1

    def parse(self, text: str) -> int | None:
        if not _DIGITS.fullmatch(text):
            return None
        value = int(text)
        return value if self.low <= value <= _MAX_ID else None


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of words."""

    words: frozenset[str]

    def parse(self, text: str) -> str | None:
        return text if text in self.words else None


Field = Number | Choice


@dataclass(frozen=True)
class Button:
    """A kind of button: its prefix and the fields after it."""

    prefix: str
    fields: tuple[Field, ...] = ()

    def pack(self, *values: object) -> str:
        """The callback data for these values (checked, so a bug shows at once)."""
        data = ":".join([self.prefix, *(str(v) for v in values)])
        if self.parse(data) is None or len(data.encode()) > DATA_LIMIT:
            raise ValueError(f"values {values!r} do not fit button {self.prefix!r}")
        return data

    def parse(self, data: str) -> tuple | None:
        """The typed values in ``data``, or None if it is not this kind of button."""
        prefix, *parts = data.split(":")
        if prefix != self.prefix or len(parts) != len(self.fields):
            return None
        values = tuple(f.parse(p) for f, p in zip(self.fields, parts, strict=True))
        return None if any(v is None for v in values) else values


ID = Number()
_SETTINGS = frozenset({"allocation", "reflection_release", "share_names"})
_SETTING_VALUES = frozenset({"auto", "pairs", "ring", "one_at_a_time", "all_at_once", "0", "1"})
_PHASE_PREFIXES = frozenset({"set", "dil", "res", "ref", "clo"})

AGREE = Button("agree", (ID,))
DECLINE = Button("decline", (ID,))
SWITCH_SWAP = Button("swap", (ID,))
REVOKE = Button("rv", (ID,))
SETTING = Button("set", (ID, Choice(_SETTINGS), Choice(_SETTING_VALUES)))
# swap, the phase it was made in (3 letters), rounds released then, forced or not
ADVANCE = Button("adv", (ID, Choice(_PHASE_PREFIXES), Number(0), Choice(frozenset("01"))))
WITHDRAW_CHOOSE = Button("wdc", (Number(0),))  # a swap id, or 0 for every swap
WITHDRAW = Button("wdall", (ID, Number(0)))  # person, swap (0: every swap)
CANCEL = Button("no")
CONFIRM = Button("ok", (ID,))
EDIT = Button("ed", (ID,))
DISCARD = Button("dr", (ID,))
WITHDRAW_ITEM = Button("wd", (ID,))
ADOPT = Button("ad", (ID,))
REMOVE_PERSON = Button("rmp", (ID,))  # a membership
REMOVE_PERSON_CONFIRM = Button("rmpok", (ID,))
RENAME_TEAM = Button("rnt", (ID,))
REMOVE_TEAM = Button("rmt", (ID,))
REMOVE_TEAM_CONFIRM = Button("rmtok", (ID,))
CURRENT_SWAP = Button("cur", (ID,))  # a person in several swaps chooses one
ANNOUNCE = Button("ann", (ID,))  # an announcement, previewed
RECONSENT_AGREE = Button("rca", (ID,))  # a membership, to a changed information sheet
RECONSENT_DECLINE = Button("rcd", (ID,))
COMMENT_CONFIRM = Button("cmok", (ID,))  # a member-check comment
COMMENT_DISCARD = Button("cmdr", (ID,))
GROUP_LINK = Button("grp", (ID,))  # a group link waiting for the lead's Confirm
SHEET = Button("sheet", (ID,))  # a swap's information sheet, previewed
UNLINK_TEAM_GROUP = Button("ugr", (ID,))  # a team whose group an organiser unlinks
# A language chosen: under the information sheet (the invite being read), or after
# /language (0).
LANGUAGE = Button("lang", (Choice(frozenset(LANGUAGES)), Number(0)))

ALL: tuple[Button, ...] = (
    AGREE,
    DECLINE,
    SWITCH_SWAP,
    REVOKE,
    SETTING,
    ADVANCE,
    WITHDRAW_CHOOSE,
    WITHDRAW,
    CANCEL,
    CONFIRM,
    EDIT,
    DISCARD,
    WITHDRAW_ITEM,
    ADOPT,
    REMOVE_PERSON,
    REMOVE_PERSON_CONFIRM,
    RENAME_TEAM,
    REMOVE_TEAM,
    REMOVE_TEAM_CONFIRM,
    CURRENT_SWAP,
    ANNOUNCE,
    RECONSENT_AGREE,
    RECONSENT_DECLINE,
    COMMENT_CONFIRM,
    COMMENT_DISCARD,
    GROUP_LINK,
    SHEET,
    UNLINK_TEAM_GROUP,
    LANGUAGE,
)


def parse(data: str | None) -> tuple[Button, tuple] | None:
    """Which button this is and its values, or None for anything else."""
    if not data or len(data.encode()) > DATA_LIMIT:
        return None
    for button in ALL:
        values = button.parse(data)
        if values is not None:
            return button, values
    return None
