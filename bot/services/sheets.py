"""The information sheet a person reads before agreeing: the swap's own (``/sheet``),
or the built-in one, whose study fields then show as not filled in.

A swap's own sheet is sent by an organiser during setup, as text or as a
``.md`` or ``.txt`` document; it is previewed and goes into force on Confirm,
as the swap's next version. Everyone joining that swap reads it, and their
consent names that version; someone who agreed to an earlier one is asked
again before anything more they write is kept, as with a changed built-in
sheet. The built-in sheet's version is a fingerprint of its words as the swap
shows them (its retention and withdrawal cut-off filled in from the settings).
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot import callbacks as cb
from bot.model import Phase, Role, Sheet, Swap, Waiting
from bot.services.core import Core, Mail, Refusal, Who, act, below
from bot.text import Html, Prompts, markdown_to_telegram
from bot.timetable import ALWAYS, UNTIL_CLOSE, withdrawal_ends
from storage.tx import Tx

log = logging.getLogger(__name__)

# A sheet is read on a phone before agreeing: three messages at most.
SHEET_LIMIT = 10_000
# A document larger than this is not a sheet (a Word file saved as text, a book):
# refused before it is downloaded.
SHEET_FILE_LIMIT = 30 * 1024
SHEET_SUFFIXES = (".md", ".txt")
# Study fields only a swap's own sheet can fill: who runs it, whom to ask, the
# ethics approval. (Retention and the withdrawal cut-off come from /settings.)
_STUDY_FIELDS = ("field_runs", "field_contact", "field_ethics")


@dataclass(frozen=True)
class Shown:
    """An information sheet as a joining person reads it."""

    version: str  # what their consent records
    html: Html  # the sheet, and the question the buttons answer
    kept: Html  # what stays in the chat once they answered (the question goes)


def sheet_file_wanted(filename: str | None, size: int | None) -> bool:
    """Whether a document could be a sheet, before downloading it."""
    name = (filename or "").lower()
    return name.endswith(SHEET_SUFFIXES) and 0 < (size or 0) <= SHEET_FILE_LIMIT


def _words(label: str) -> str:
    """A button's label as words a sheet would say ("I agree"), without emoji."""
    kept = "".join(c for c in label if unicodedata.category(c)[0] in "LNZP")
    return " ".join(kept.split()).casefold()


def builtin_sheet(
    prompts: Prompts, zone: ZoneInfo, swap: Swap, *, team: str, role: str, swap_title: str
) -> Html:
    """The built-in sheet as ``swap`` shows it: the study fields only a sheet of
    the swap's own can fill are marked unfilled; retention and the withdrawal
    cut-off come from the swap's settings, or are marked unfilled too."""

    unfilled = prompts.html("join/unfilled")

    return prompts.html(
        "join/information_sheet",
        team=team,
        role=role,
        swap=swap_title,
        retention=retention_words(prompts, swap) or unfilled,
        withdrawal=withdrawal_words(prompts, zone, swap) or unfilled,
        **{key.removeprefix("field_"): unfilled for key in _STUDY_FIELDS},
    )


def builtin_version(prompts: Prompts, zone: ZoneInfo, swap: Swap) -> str:
    """A fingerprint of the built-in sheet as ``swap`` shows it: when its words
    change (a new version of the bot, or the swap's retention or withdrawal
    cut-off), so does this, and people are asked again.

    It covers the sheet and the question under it (which says what declining
    keeps), the words of each a paragraph apart, with the team, role and swap
    left empty. (Someone asked again after a change sees the sheet with a
    question of its own, ``join/sheet_changed``.)
    """
    sheet = below(
        builtin_sheet(prompts, zone, swap, team="", role="", swap_title=""),
        prompts.html("join/agree_or_decline"),
    )
    return hashlib.sha256(sheet.encode()).hexdigest()[:12]


def retention_words(prompts: Prompts, swap: Swap) -> str:
    """How long the swap is kept after it closes, in words ('' if not chosen)."""
    if not swap.retention_months:
        return ""
    return prompts.plural("retention_months", swap.retention_months)


def withdrawal_words(prompts: Prompts, zone: ZoneInfo, swap: Swap) -> str:
    """Until when people may withdraw, in words ('' if not chosen)."""
    if swap.withdrawal == ALWAYS:
        return prompts.label("withdrawal_always")
    if swap.withdrawal == UNTIL_CLOSE:
        return prompts.label("withdrawal_until_close")
    if swap.withdrawal is None or withdrawal_ends(swap.withdrawal, zone) is None:
        return ""
    day = datetime.fromisoformat(swap.withdrawal.removeprefix("until:"))
    return prompts.label(
        "withdrawal_until", day=format_date(day, "d MMMM y", locale=prompts.locale)
    )


def unfilled_fields(retention_months: int | None, withdrawal: str | None) -> list[str]:
    """The labels of the fields the built-in sheet leaves unfilled for a swap with
    these settings (a swap with a sheet of its own has none)."""
    keys = list(_STUDY_FIELDS)
    if not retention_months:
        keys.append("field_retention")
    if not withdrawal:
        keys.append("field_withdrawal")
    return keys


class Sheets:
    """``/sheet``, and the sheet in force for a swap."""

    def __init__(self, core: Core) -> None:
        self.core = core
        # The built-in sheet's fingerprint for each retention and cut-off: the
        # whole sheet is put together and hashed to find it, and every text a
        # person sends asks for it (their consent must be to the sheet in force).
        self._versions: dict[tuple[int | None, str | None], str] = {}

    # -- the sheet in force ----------------------------------------------------

    async def shown(self, tx: Tx, swap: Swap, team: str, role: Role) -> Shown:
        """The sheet a person joining ``team`` of ``swap`` as ``role`` reads."""
        own = await tx.sheets.in_force(swap.id)
        if own is not None:
            sheet = self._own(own, swap, team, role)
            return Shown(self.own_version(own), sheet, sheet)
        sheet = self._builtin(swap, team, role)
        question = self.core.html("join/agree_or_decline")
        return Shown(self.builtin_version(swap), below(sheet, question), sheet)

    async def version(self, tx: Tx, swap: Swap) -> str:
        """The version of the sheet in force in ``swap``, as consents record it."""
        own = await tx.sheets.in_force(swap.id)
        return self.own_version(own) if own is not None else self.builtin_version(swap)

    @staticmethod
    def own_version(sheet: Sheet) -> str:
        return f"swap{sheet.swap_id}-v{sheet.version}"

    def builtin_version(self, swap: Swap) -> str:
        key = (swap.retention_months, swap.withdrawal)
        if key not in self._versions:
            self._versions[key] = builtin_version(self.core.prompts, self.core.zone, swap)
        return self._versions[key]

    def withdrawal_words(self, swap: Swap) -> str:
        return withdrawal_words(self.core.prompts_now(), self.core.zone, swap)

    def _own(self, sheet: Sheet, swap: Swap, team: str, role: Role) -> Html:
        return below(
            self.core.html(
                "join/own_sheet_header",
                team=team,
                role=self.core.label(f"role_{role.value}"),
                swap=swap.title,
            ),
            Html(markdown_to_telegram(sheet.text)),
        )

    def _builtin(self, swap: Swap, team: str, role: Role) -> Html:
        return builtin_sheet(
            self.core.prompts_now(),
            self.core.zone,
            swap,
            team=team,
            role=self.core.label(f"role_{role.value}"),
            swap_title=swap.title,
        )

    async def unfilled(self, tx: Tx, swap: Swap) -> list[str]:
        """The study fields the swap's sheet leaves unfilled, in words."""
        if await tx.sheets.in_force(swap.id) is not None:
            return []
        keys = unfilled_fields(swap.retention_months, swap.withdrawal)
        return [self.core.label(key) for key in keys]

    async def warning(self, tx: Tx, swap: Swap) -> Html | str:
        """A warning for organisers while the swap's sheet has unfilled fields."""
        fields = await self.unfilled(tx, swap)
        if not fields:
            return ""
        return self.core.html(
            "sheet/unfilled_warning", fields=Html("\n".join(f"• {f}" for f in fields))
        )

    # -- /sheet ------------------------------------------------------------------

    @act
    async def sheet(self, tx: Tx, mail: Mail, who: Who, text: str) -> None:
        """``/sheet`` alone shows the sheet in force (and, in setup, waits for a new
        one); ``/sheet <text>`` offers that text as the new sheet."""
        swap = await self.core.current_swap(tx, who)
        if text.strip():
            await self._offer(tx, mail, who, swap, text)
            return
        own = await tx.sheets.in_force(swap.id)
        team, role = self.core.label("sheet_team_example"), Role.MEMBER
        if own is not None:
            body = self._own(own, swap, team, role)
        else:
            body = below(self._builtin(swap, team, role), await self.warning(tx, swap))
        await mail.send(
            who.telegram_id,
            "sheet/in_force",
            title=swap.title,
            version=await self.version(tx, swap),
            which=self.core.label("sheet_own" if own is not None else "sheet_builtin"),
        )
        await mail.send_html(who.telegram_id, body)
        if swap.phase is Phase.SETUP:
            await tx.conversations.set(who.telegram_id, Waiting.SHEET, swap_id=swap.id)
            await mail.send(who.telegram_id, "sheet/send_one")
        else:
            await mail.send(who.telegram_id, "sheet/fixed", title=swap.title)

    @act
    async def text(self, tx: Tx, mail: Mail, who: Who, text: str) -> None:
        """The organiser sent a sheet's text after ``/sheet``."""
        await self._offer(tx, mail, who, await self._waiting_swap(tx, who), text)

    @act
    async def document(
        self, tx: Tx, mail: Mail, who: Who, filename: str, size: int, content: bytes | None
    ) -> None:
        """The organiser sent a document as the sheet (``content`` is None when it was
        not downloaded: not a ``.md`` or ``.txt`` file, too large, or Telegram did not
        give it)."""
        swap = await self._waiting_swap(tx, who)
        if not (filename or "").lower().endswith(SHEET_SUFFIXES):
            raise Refusal("sheet/wrong_file", name=filename or "")
        if size > SHEET_FILE_LIMIT or (content is not None and len(content) > SHEET_FILE_LIMIT):
            raise Refusal(
                "sheet/file_too_big",
                size=f"{max(size, len(content or b'')) / 1024:,.0f}",
                limit=f"{SHEET_FILE_LIMIT // 1024}",
            )
        if not size and not content:
            raise Refusal("sheet/empty")
        if content is None:
            raise Refusal("sheet/not_downloaded", name=filename)
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Refusal("sheet/not_utf8", name=filename) from None
        await self._offer(tx, mail, who, swap, text)

    @act
    async def not_a_sheet(self, tx: Tx, mail: Mail, who: Who) -> None:
        """A photo, sticker or voice note where a sheet was expected."""
        await self._waiting_swap(tx, who)
        raise Refusal("sheet/not_a_file")

    async def _waiting_swap(self, tx: Tx, who: Who) -> Swap:
        """The swap whose sheet this organiser is sending: their current one, still
        in setup (the conversation was started by ``/sheet`` in it)."""
        swap = await self.core.current_swap(tx, who)
        if swap.phase is not Phase.SETUP:
            await tx.conversations.clear(who.telegram_id)
            raise Refusal("sheet/fixed", title=swap.title)
        return swap

    async def _offer(self, tx: Tx, mail: Mail, who: Who, swap: Swap, text: str) -> None:
        """Check a sheet's text; preview it as people will read it, with Confirm."""
        if swap.phase is not Phase.SETUP:
            raise Refusal("sheet/fixed", title=swap.title)
        clean = text.strip()
        if not clean:
            raise Refusal("sheet/empty")
        if len(clean) > SHEET_LIMIT:
            raise Refusal("sheet/too_long", limit=f"{SHEET_LIMIT:,}", length=f"{len(clean):,}")
        agree, decline = self.core.label("agree"), self.core.label("decline")
        said = " ".join(clean.split()).casefold()
        if _words(agree) not in said or _words(decline) not in said:
            raise Refusal("sheet/no_question", agree=agree, decline=decline)
        draft = await tx.sheets.add_draft(swap.id, clean, who.telegram_id)
        sheet = await tx.sheets.get(draft)
        assert sheet is not None
        await tx.conversations.clear(who.telegram_id)
        agreed = await tx.memberships.count_in_swap(swap.id)
        await mail.send(who.telegram_id, "sheet/preview_header", title=swap.title)
        await mail.send_html(
            who.telegram_id,
            below(
                self._own(sheet, swap, self.core.label("sheet_team_example"), Role.MEMBER),
                self.core.html(
                    "sheet/preview_question",
                    asked_again=self.core.html(
                        "sheet/asked_again", people=self.core.plural("people", agreed)
                    )
                    if agreed
                    else "",
                ),
            ),
            buttons=[
                [(self.core.label("confirm_sheet"), cb.SHEET.pack(draft))],
                [(self.core.label("cancel"), cb.CANCEL.pack())],
            ],
        )

    @act
    async def confirm(self, tx: Tx, mail: Mail, who: Who, sheet_id: int) -> None:
        """Put a previewed sheet in force, as the swap's next version."""
        sheet = await tx.sheets.get(sheet_id)
        if sheet is None or sheet.version is not None:
            raise Refusal("errors/stale_button")
        swap = await self.core.organised_swap(tx, who, sheet.swap_id)
        if swap.phase is not Phase.SETUP:
            raise Refusal("sheet/fixed", title=swap.title)
        version = await tx.sheets.confirm(sheet.id, swap.id)
        agreed = await tx.memberships.count_in_swap(swap.id)
        await tx.audit.record(swap.id, who.telegram_id, "sheet", version=version)
        log.info("Swap %d has its own information sheet, version %d", swap.id, version)
        await mail.send(
            who.telegram_id,
            "sheet/confirmed",
            title=swap.title,
            version=self.own_version(Sheet(sheet.id, swap.id, version, sheet.text)),
            asked_again=self.core.html(
                "sheet/asked_again", people=self.core.plural("people", agreed)
            )
            if agreed
            else "",
        )
