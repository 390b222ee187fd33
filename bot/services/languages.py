"""The language a person reads the bot in, and the one an organiser may fix for a swap.

A person's language is, in order: the one the swap fixed (``/settings language``),
the one they chose (under the information sheet, or ``/language``), Telegram's
``language_code`` when we have that language (often missing or ``en``), English.
Only our words change language: what people write reaches others as written.
"""

from __future__ import annotations

from bot import callbacks as cb
from bot.model import Waiting
from bot.services.core import Buttons, Core, Mail, Reader, Refusal, Who, act
from bot.services.sheets import Sheets
from bot.text import LANGUAGES
from storage.tx import Tx

# The word that, after /settings language, lets everyone choose again.
ANY = "off"


def language_buttons(core: Core, chosen: str, invite_id: int = 0) -> Buttons:
    """One button per language, each in its own name, the chosen one marked."""
    return [
        [
            (
                core.label("language_chosen", name=core.prompts.language_name(code))
                if code == chosen
                else core.prompts.language_name(code),
                cb.LANGUAGE.pack(code, invite_id),
            )
            for code in LANGUAGES
        ]
    ]


class Languages:
    """``/language``, the language buttons, and ``/settings language``."""

    def __init__(self, core: Core, sheets: Sheets) -> None:
        self.core = core
        self.sheets = sheets

    @act
    async def language(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """``/language``: the languages as buttons; ``/language cy``: that one."""
        if words:
            code = words[0].lower()
            if code not in LANGUAGES:
                raise Refusal("language/unknown", codes=", ".join(LANGUAGES))
            await self._set(tx, mail, who, code)
            return
        person = await tx.people.by_telegram_id(who.telegram_id)
        if person is None:
            raise Refusal("language/not_joined")
        fixed = await self._fixed(tx, who)
        if fixed:
            raise Refusal("language/fixed", name=self.core.prompts.language_name(fixed))
        reader = self.core.reading()
        await mail.send(
            who.telegram_id,
            "language/choose",
            buttons=language_buttons(self.core, reader.language),
        )

    @act
    async def chosen(self, tx: Tx, mail: Mail, who: Who, code: str, invite_id: int) -> None:
        """A language button: under an information sheet, the sheet again in that
        language (the choice kept with the join until they agree); else the choice."""
        if not invite_id:
            await self._set(tx, mail, who, code)
            return
        conversation = await tx.conversations.get(who.telegram_id)
        if (
            conversation is None
            or conversation.state is not Waiting.PENDING_JOIN
            or conversation.data.get("invite_id") != invite_id
        ):
            raise Refusal("errors/stale_button")
        invite = await tx.invites.get(invite_id)
        team = await tx.teams.get(invite.team_id) if invite is not None else None
        swap = await tx.swaps.get(team.swap_id) if team is not None else None
        if invite is None or invite.revoked or team is None or swap is None:
            raise Refusal("join/revoked_token")
        await tx.conversations.set(
            who.telegram_id, Waiting.PENDING_JOIN, **{**conversation.data, "language": code}
        )
        with self.core.reading_as(Reader(code, self.core.zone_of(team))):
            shown = await self.sheets.shown(tx, swap, team.name, invite.role)
            await mail.send_html(
                who.telegram_id,
                shown.html,
                buttons=sheet_buttons(self.core, invite.id, code, swap.language),
                replace=who.pressed,
            )

    async def _set(self, tx: Tx, mail: Mail, who: Who, code: str) -> None:
        person = await tx.people.by_telegram_id(who.telegram_id)
        if person is None:
            raise Refusal("language/not_joined")
        fixed = await self._fixed(tx, who)
        if fixed:
            raise Refusal("language/fixed", name=self.core.prompts.language_name(fixed))
        await tx.people.set_language(person.id, code)
        reader = self.core.reads(tx, mail, who.telegram_id, Reader(code, self.core.reading().zone))
        with self.core.reading_as(reader):
            await mail.send_html(
                who.telegram_id,
                self.core.html("language/set", name=self.core.prompts.language_name(code)),
                replace=who.pressed,
            )

    async def _fixed(self, tx: Tx, who: Who) -> str | None:
        found = await tx.people.reader(who.telegram_id)
        return found[0] if found is not None else None

    @act
    async def fix(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """``/settings language cy``: everyone in the swap reads it in Welsh;
        ``/settings language off``: each their own again."""
        swap = await self.core.current_swap(tx, who)
        code = words[1].lower() if len(words) == 2 else ""
        if code not in (*LANGUAGES, ANY):
            raise Refusal("organiser/bad_language", codes=", ".join(LANGUAGES), off=ANY)
        fixed = None if code == ANY else code
        await tx.swaps.update_settings(swap.id, language=fixed)
        self.core.forget_readers(tx)
        await tx.audit.record(swap.id, who.telegram_id, "setting", name="language", value=code)
        await mail.send(
            who.telegram_id,
            "organiser/language_fixed" if fixed else "organiser/language_free",
            title=swap.title,
            name=self.core.prompts.language_name(fixed) if fixed else "",
        )


def sheet_buttons(core: Core, invite_id: int, language: str, fixed: str | None) -> Buttons:
    """Agree and Decline under an information sheet, and, unless the swap fixed
    one, a row of languages to read it in."""
    buttons: Buttons = [
        [(core.label("agree"), cb.AGREE.pack(invite_id))],
        [(core.label("decline"), cb.DECLINE.pack(invite_id))],
    ]
    if fixed is None:
        buttons += language_buttons(core, language, invite_id)
    return buttons
