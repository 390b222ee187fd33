"""What the bot does for a person, free of Telegram.

Handlers call these methods with who is acting and what they sent. Every
method runs in one database transaction; everything the bot owes anyone as a
result goes into the outbox inside that same transaction, so a crash can
neither lose a message nor deliver one for a change that did not happen.
When an action is refused, the transaction is rolled back and only the
refusal is written, so bad input changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from bot.model import Membership, Person, Role, Swap, Team
from bot.text import ENGLISH, LANGUAGES, Html, Prompts, split_message
from storage.db import Database
from storage.tx import Tx

Buttons = list[list[tuple[str, str]]]  # rows of (label, callback data)


@dataclass(frozen=True)
class Block:
    """Part of a message: its words, the contribution they quote (withdrawn, the
    block goes and the message is rebuilt without it), and whether the block
    alone is worth sending (a heading is not)."""

    html: str
    quotes: int | None = None
    keeps: bool = True


@dataclass(frozen=True)
class Piece:
    """One thing owed to a chat, made of blocks; a reply to the message that
    ends with it carries ``context`` (a reflection round, say)."""

    blocks: tuple[Block, ...]
    context: dict | None = None

    @staticmethod
    def of(html: str, quotes: int | None = None, context: dict | None = None) -> Piece:
        return Piece((Block(html, quotes),), context)


class Owed:
    """What a move owes each chat, in order, to be folded into as few messages
    as Telegram allows (``Mail.fold``)."""

    def __init__(self) -> None:
        self.pieces: dict[int, list[Piece]] = {}
        # Chats owed everything without a notification: a team's group, whose
        # members were each notified in private already.
        self.quiet: set[int] = set()

    def add(self, chat_id: int, piece: Piece, *, quiet: bool = False) -> None:
        self.pieces.setdefault(chat_id, []).append(piece)
        if quiet:
            self.quiet.add(chat_id)

    async def fold_into(self, mail: Mail) -> None:
        for chat_id, pieces in self.pieces.items():
            await mail.fold(chat_id, pieces, silent=chat_id in self.quiet)
        self.pieces.clear()


@dataclass(frozen=True)
class Who:
    """The person acting: their Telegram id (also their private chat) and name."""

    telegram_id: int
    name: str
    # The message whose button was pressed, when the action is a press.
    pressed: int | None = None
    # Telegram's guess at their language (often missing, often "en"): used only
    # while they have chosen none, and only if we have that language.
    language_code: str | None = None


# A person, their acting membership, its team and its swap (any may be missing).
ActingMember = tuple[Person | None, Membership | None, Team | None, Swap | None]


@dataclass(frozen=True)
class Reader:
    """Whom words are being put together for: the language and time zone they
    read in. Someone's own words are never translated; only ours are."""

    language: str
    zone: ZoneInfo


# The reader of the words being put together now: the person acting, or, while a
# message for someone else is built (``Core.reading_as``), that person.
_reading: ContextVar[Reader | None] = ContextVar("reading", default=None)

Readers = Callable[[int], Awaitable[Reader]]


class Refusal(Exception):
    """The action cannot be done; the person is told ``key`` and nothing changes."""

    def __init__(self, key: str, buttons: Buttons | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.buttons = buttons
        self.params = params


class Mail:
    """Writes messages into the outbox of the current transaction."""

    def __init__(
        self,
        tx: Tx,
        prompts: Prompts,
        bulk: bool = False,
        notify_once: bool = False,
        readers: Readers | None = None,
    ) -> None:
        self.tx = tx
        self.prompts = prompts
        # Each chat's reader, so that a prompt is sent in its reader's language;
        # those already found (the acting person's, one who just chose).
        self.readers = readers
        self.known: dict[int, Reader] = {}
        # Bulk mail (a phase's fan-out) waits behind replies to people acting now.
        self.bulk = bulk
        # A phase move notifies each chat once: the rest of what it owes a chat
        # goes without a notification.
        self.notify_once = notify_once
        self.notified: set[int] = set()
        # Messages already sent that a message of this mail takes the place of.
        self.replaced: set[int] = set()
        # Chats owed a message to be forgotten once sent: people who keep no
        # record with us (they declined, or withdrew from everything).
        self.forgetting: set[int] = set()

    async def send(
        self,
        chat_id: int,
        key: str,
        *,
        buttons: Buttons | None = None,
        contribution_id: int | None = None,
        context: dict | None = None,
        quotes: Iterable[int] = (),
        forget_when_sent: bool = False,
        not_before: float = 0.0,
        replace: int | None = None,
        **params: Any,
    ) -> None:
        """Owe ``chat_id`` the prompt ``key``, split as Telegram needs.

        ``contribution_id`` and ``quotes`` name the contributions whose words
        the message carries: if they are withdrawn before it goes, it does not.
        ``replace`` is a message already sent to the chat (the one whose button
        was pressed) that this one takes the place of.
        """
        prompts = self.prompts.in_language((await self.reader(chat_id)).language)
        await self.send_html(
            chat_id,
            prompts.html(key, **params),
            buttons=buttons,
            contribution_id=contribution_id,
            context=context,
            quotes=quotes,
            forget_when_sent=forget_when_sent,
            not_before=not_before,
            replace=replace,
        )

    async def reader(self, chat_id: int) -> Reader:
        """Who reads ``chat_id``: its language and zone (English and the bot's
        zone for mail that knows no readers)."""
        if chat_id not in self.known:
            if self.readers is None:
                return Reader(self.prompts.language, ZoneInfo("UTC"))
            self.known[chat_id] = await self.readers(chat_id)
        return self.known[chat_id]

    async def send_html(
        self,
        chat_id: int,
        html: str,
        *,
        buttons: Buttons | None = None,
        contribution_id: int | None = None,
        context: dict | None = None,
        quotes: Iterable[int] = (),
        forget_when_sent: bool = False,
        not_before: float = 0.0,
        replace: int | None = None,
        silent: bool = False,
        blocks: tuple[Block, ...] = (),
    ) -> None:
        """Owe ``chat_id`` an already rendered message.

        With ``replace``, a message that fits in one is edited into the
        replaced one: one edit instead of a new message and a button removal.
        A longer one is sent, and the replaced message only loses its buttons.
        The parts of a long message after the first, and with ``notify_once``
        whatever follows a chat's first message, go without a notification.
        ``blocks`` are what a message of one part was made of (``fold``).
        """
        parts = split_message(html)
        markup = keyboard(buttons) if buttons else None
        quoted = list(quotes)
        if replace is not None:
            self.replaced.add(replace)
        if forget_when_sent:
            self.forgetting.add(chat_id)
        if replace is not None and len(parts) > 1:
            # Too long to edit in: the replaced message only loses its buttons.
            await self.tx.outbox.add(
                chat_id,
                "",
                bulk=self.bulk,
                forget_when_sent=forget_when_sent,
                not_before=not_before,
                edit_message_id=replace,
            )
            replace = None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            quiet = silent or i > 0 or (self.notify_once and chat_id in self.notified)
            if self.notify_once:
                self.notified.add(chat_id)
            await self.tx.outbox.add(
                chat_id,
                part,
                markup if last else None,
                contribution_id=contribution_id,
                context=context if last else None,
                bulk=self.bulk,
                # A message of blocks is rebuilt without a withdrawn one, not dropped.
                quotes=() if blocks and len(parts) == 1 else quoted,
                forget_when_sent=forget_when_sent,
                not_before=not_before,
                # Left only for a message of one part.
                edit_message_id=replace,
                silent=quiet,
                blocks=[(b.html, b.quotes, b.keeps) for b in blocks] if len(parts) == 1 else (),
            )

    async def fold(self, chat_id: int, pieces: list[Piece], *, silent: bool = False) -> None:
        """Owe ``chat_id`` these pieces in as few messages as fit: each message
        holds pieces while they fit in one Telegram message, and ends at a piece
        a reply is for (its context). A piece too long for one message is broken
        into its blocks; a single block too long for one goes on its own, split,
        quoting its contribution whole."""
        messages: list[list[Piece]] = []
        for piece in _smaller(pieces):
            if (
                messages
                and messages[-1][-1].context is None
                and len(split_message(_joined([*messages[-1], piece]))) == 1
            ):
                messages[-1].append(piece)
            else:
                messages.append([piece])
        for group in messages:
            blocks = _blocks(group)
            await self.send_html(
                chat_id,
                "".join(b.html for b in blocks),
                context=group[-1].context,
                quotes=[b.quotes for b in blocks if b.quotes is not None],
                blocks=blocks,
                silent=silent,
            )

    async def under_pressed(
        self, chat_id: int, pressed: int | None, kept: str, html: str, **kwargs: Any
    ) -> None:
        """Owe ``html`` as the answer to a press on a message whose words
        ``kept`` stay (its buttons and the question they answered go).

        When both fit in one message, the pressed message is edited into them:
        one call instead of a button removal and a new message. Otherwise
        ``html`` is sent on its own and the pressed message loses its buttons.
        """
        both = below(kept, html)
        if pressed is not None and len(split_message(both)) == 1:
            await self.send_html(chat_id, both, replace=pressed, **kwargs)
        else:
            await self.send_html(chat_id, html, **kwargs)

    async def document(
        self,
        chat_id: int,
        filename: str,
        content: bytes,
        caption_key: str,
        *,
        quotes: Iterable[int] = (),
        **params: Any,
    ) -> None:
        """Owe ``chat_id`` a file with a caption."""
        prompts = self.prompts.in_language((await self.reader(chat_id)).language)
        await self.tx.outbox.add(
            chat_id,
            prompts.html(caption_key, **params),
            document_name=filename,
            document=content,
            quotes=quotes,
        )


async def _nothing(tx: Tx, mail: Mail) -> None:
    return None


def _blocks(pieces: list[Piece]) -> tuple[Block, ...]:
    """The blocks of pieces shown one after another, a paragraph apart: each
    block but the first carries the gap before it, so that whichever blocks a
    withdrawal leaves, they still read a paragraph apart."""
    flat = [b for piece in pieces for b in piece.blocks]
    return tuple(
        Block(b.html.strip() if i == 0 else f"\n\n{b.html.strip()}", b.quotes, b.keeps)
        for i, b in enumerate(flat)
    )


def _smaller(pieces: list[Piece]) -> list[Piece]:
    """The pieces, each too long for one message broken into its blocks (the
    context going with the last), so that only a single block longer than a
    message is ever split and made to quote its words whole."""
    out: list[Piece] = []
    for piece in pieces:
        if len(piece.blocks) > 1 and len(split_message(_joined([piece]))) > 1:
            last = len(piece.blocks) - 1
            out.extend(
                Piece((block,), piece.context if i == last else None)
                for i, block in enumerate(piece.blocks)
            )
        else:
            out.append(piece)
    return out


def _joined(pieces: list[Piece]) -> str:
    return "".join(b.html for b in _blocks(pieces))


def below(first: str, second: str) -> Html:
    """Two rendered messages as one, a paragraph apart."""
    return Html(f"{first}\n\n{second}")


class HasCore(Protocol):
    """A service: anything that acts through a ``Core``."""

    core: Core


P = ParamSpec("P")
S = TypeVar("S", bound=HasCore)
T = TypeVar("T")
Action = Callable[Concatenate[S, Tx, Mail, Who, P], Awaitable[None]]
Acting = Callable[Concatenate[S, Who, P], Awaitable[bool]]


def act(method: Action[S, P]) -> Acting[S, P]:
    """Make ``method(self, tx, mail, who, ...)`` one action of ``who``: callers
    call ``method(who, ...)``, and it runs in one transaction with its mail; on
    ``Refusal`` nothing changes and the person is told. Returns whether it was done."""

    @functools.wraps(method)
    async def run(self: S, who: Who, *args: P.args, **kwargs: P.kwargs) -> bool:
        return await self.core.act(
            who, lambda tx, mail: method(self, tx, mail, who, *args, **kwargs)
        )

    return run


def keyboard(buttons: Buttons) -> dict:
    """An inline keyboard in the shape of the Bot API."""
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": data} for label, data in row] for row in buttons
        ]
    }


@dataclass
class Member:
    """A person acting inside a swap: who they are, their team and role."""

    person: Person
    membership: Membership
    team: Team
    swap: Swap

    @property
    def role(self) -> Role:
        return self.membership.role


class Core:
    """What every part of the service shares."""

    def __init__(
        self,
        db: Database,
        prompts: Prompts,
        organiser_ids: frozenset[int],
        bot_username: str,
        zone: ZoneInfo,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.prompts = prompts
        self.organiser_ids = organiser_ids
        self.bot_username = bot_username
        self.zone = zone
        # Each open transaction's readers, found once (``reader``).
        self._readers: WeakKeyDictionary[Tx, dict[int, Reader]] = WeakKeyDictionary()
        # The acting person's membership as an action's transaction found it, with
        # the transaction's count of changed rows then (``_acting_member``).
        self._acting: WeakKeyDictionary[Tx, tuple[int, int, ActingMember]] = WeakKeyDictionary()
        # What time it is, as an aware UTC datetime; tests of the timetable give
        # their own, so that a week passes without waiting for it.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        # How many times Telegram refused a send with 429 since the start (the
        # delivery worker's count, for /status).
        self.refusals: Callable[[], int] = lambda: 0

    def reading(self) -> Reader:
        """Whom the words being put together now are for (``Reader``)."""
        return _reading.get() or Reader(ENGLISH, self.zone)

    @contextmanager
    def reading_as(self, reader: Reader) -> Iterator[Reader]:
        """Put words together for ``reader`` inside the block."""
        token = _reading.set(reader)
        try:
            yield reader
        finally:
            _reading.reset(token)

    def prompts_now(self) -> Prompts:
        """The prompts in the present reader's language."""
        return self.prompts.in_language(self.reading().language)

    async def reader(self, tx: Tx, telegram_id: int, guess: str | None = None) -> Reader:
        """The language and time zone of the person (or team group) ``telegram_id``:
        the swap's fixed language, else their own choice, else Telegram's ``guess``
        if we have it, else English; their team's zone, else the bot's."""
        # Found once a transaction: a move owing 1,000 people asks for each several times.
        known = self._readers.setdefault(tx, {})
        if telegram_id in known and guess is None:
            return known[telegram_id]
        found = await tx.people.reader(telegram_id)
        reader = self._reader_of(*(found or (None, None, None)), guess=guess)
        if guess is None:
            known[telegram_id] = reader
        return reader

    def _reader_of(
        self, swap_language: str | None, own: str | None, zone: str | None, guess: str | None = None
    ) -> Reader:
        """The swap's fixed language, else the person's own, else Telegram's guess if
        we have it, else English; the team's zone, else the bot's."""
        language = swap_language or own or (guess if guess in LANGUAGES else None) or ENGLISH
        return Reader(language, ZoneInfo(zone) if zone else self.zone)

    async def _acting_member(self, tx: Tx, telegram_id: int) -> ActingMember:
        """``MembershipStore.acting_member``, asked once an action: an action asks
        it first for the reader's language and zone, and again (``member``) for
        the membership itself, unless something was written in between."""
        found = self._acting.get(tx)
        if found is not None and found[0] == telegram_id and found[1] == tx.changes():
            return found[2]
        acting = await tx.memberships.acting_member(telegram_id)
        self._acting[tx] = (telegram_id, tx.changes(), acting)
        return acting

    async def _acting_reader(self, tx: Tx, who: Who) -> Reader:
        """The acting person's reader (as ``reader`` finds it), from their membership."""
        person, _, team, swap = await self._acting_member(tx, who.telegram_id)
        return self._reader_of(
            swap.language if swap else None,
            person.language if person else None,
            team.timezone if team else None,
            guess=who.language_code,
        )

    async def know_readers(self, tx: Tx, chats: Iterable[int]) -> None:
        """Find the readers of many chats at once (a team owed a message each),
        so that ``reader`` asks nothing more for them in this transaction."""
        known = self._readers.setdefault(tx, {})
        unknown = list(dict.fromkeys(chat for chat in chats if chat not in known))
        if len(unknown) < 2:
            return  # one is found as cheaply by ``reader``
        for chat, found in (await tx.people.readers(unknown)).items():
            known[chat] = self._reader_of(*found)

    def reads(self, tx: Tx, mail: Mail, chat_id: int, reader: Reader) -> Reader:
        """From now on in this transaction ``chat_id`` reads as ``reader`` (they just
        chose a language, or joined in one)."""
        self._readers.setdefault(tx, {})[chat_id] = reader
        mail.known[chat_id] = reader
        return reader

    def forget_readers(self, tx: Tx) -> None:
        """Readers change in this transaction (a swap's language, a team's zone)."""
        self._readers.pop(tx, None)

    async def in_each_language(
        self,
        tx: Tx,
        chats: Iterable[int],
        make: Callable[[int], Awaitable[T]],
        kinds: Callable[[int], Hashable] = lambda chat: None,
    ) -> list[tuple[int, T]]:
        """``make(chat)`` put together once for each reader among ``chats`` (their
        language and zone; and ``kinds`` of chat, a role say, each made apart),
        and what each chat is owed of it, in order."""
        built: dict[tuple[Reader, Hashable], T] = {}
        owed: list[tuple[int, T]] = []
        chats = list(chats)
        await self.know_readers(tx, chats)
        for chat in chats:
            key = (await self.reader(tx, chat), kinds(chat))
            if key not in built:
                with self.reading_as(key[0]):
                    built[key] = await make(chat)
            owed.append((chat, built[key]))
        return owed

    def mail(
        self,
        tx: Tx,
        *,
        bulk: bool = False,
        notify_once: bool = False,
        acting: tuple[int, Reader] | None = None,
    ) -> Mail:
        """Mail for this transaction, each prompt in its reader's language (the
        ``acting`` person's as already found: it may rest on Telegram's guess)."""
        mail = Mail(
            tx,
            self.prompts,
            bulk=bulk,
            notify_once=notify_once,
            readers=lambda chat_id: self.reader(tx, chat_id),
        )
        if acting is not None:
            mail.known[acting[0]] = acting[1]
        return mail

    def zone_of(self, team: Team) -> ZoneInfo:
        """A team's time zone: its own (``/teams``), else the bot's."""
        return ZoneInfo(team.timezone) if team.timezone else self.zone

    def local_when(self, moment: datetime) -> str:
        """An instant as the present reader reads it: their language, their zone."""
        reader = self.reading()
        return self.prompts_now().when(moment, reader.zone)

    def local_time(self, stored: str) -> str:
        """A stored UTC timestamp as the present reader reads it."""
        reader = self.reading()
        return self.prompts_now().when(datetime.fromisoformat(stored), reader.zone, weekday=False)

    def is_organiser(self, who: Who) -> bool:
        return who.telegram_id in self.organiser_ids

    def link_private(self) -> str:
        """A link that opens a private chat with the bot."""
        return f"https://t.me/{self.bot_username}"

    def link(self, token: str) -> str:
        return f"https://t.me/{self.bot_username}?start={token}"

    def label(self, key: str, **params: Any) -> str:
        return self.prompts_now().label(key, **params)

    def plural(self, key: str, count: int, **params: Any) -> str:
        """The label ``key`` for ``count``, in the reader's plural form."""
        return self.prompts_now().plural(key, count, **params)

    async def act(self, who: Who, action: Callable[[Tx, Mail], Awaitable[None]]) -> bool:
        """Run ``action`` in one transaction; on ``Refusal`` tell the person instead.

        An action done by pressing a button also removes that message's buttons,
        unless the action replaced the message. Returns whether the action was
        done (False: it was refused).
        """
        try:
            async with self.db.transaction() as tx:
                reader = await self._acting_reader(tx, who)
                mail = self.mail(tx, acting=(who.telegram_id, reader))
                with self.reading_as(reader):
                    await action(tx, mail)
                if who.pressed is not None and who.pressed not in mail.replaced:
                    # The pressed button is spent: the message loses its buttons.
                    # Through the outbox, so that the edit keeps the chat's pace.
                    await tx.outbox.add(
                        who.telegram_id,
                        "",
                        edit_message_id=who.pressed,
                        forget_when_sent=who.telegram_id in mail.forgetting,
                    )
        except Refusal as refusal:
            async with self.db.transaction() as tx:
                reader = await self.reader(tx, who.telegram_id, who.language_code)
                with self.reading_as(reader):
                    await Mail(tx, self.prompts.in_language(reader.language)).send(
                        who.telegram_id, refusal.key, buttons=refusal.buttons, **refusal.params
                    )
            return False
        return True

    async def spend(self, who: Who) -> bool:
        """An action with nothing to do but what every press does: the pressed
        message loses its buttons (Cancel, say)."""
        return await self.act(who, _nothing)

    async def member(self, tx: Tx, who: Who) -> Member:
        """The acting person's membership in the swap they chose (``/swaps``), else
        the one they joined last; or a refusal."""
        person, membership, team, swap = await self._acting_member(tx, who.telegram_id)
        # Someone who left after a withdrawal cut-off: nothing new is kept.
        if (
            person is not None
            and membership is None
            and await tx.memberships.of_person(person.id, left=True)
        ):
            raise Refusal("privacy/already_left")
        if person is None or membership is None or team is None or swap is None:
            raise Refusal("errors/not_joined")
        return Member(person, membership, team, swap)

    async def member_or_none(self, tx: Tx, who: Who) -> Member | None:
        try:
            return await self.member(tx, who)
        except Refusal:
            return None

    async def current_swap(self, tx: Tx, who: Who) -> Swap:
        """The organiser's current swap, or a refusal saying how to get one."""
        if not self.is_organiser(who):
            raise Refusal("errors/organisers_only")
        swap_id = await tx.organisers.current_swap_id(who.telegram_id)
        swap = await tx.swaps.get(swap_id) if swap_id else None
        if swap is None or not await self.may_organise(tx, who, swap):
            raise Refusal("organiser/no_current_swap")
        return swap

    async def organisers_of(self, tx: Tx, swap: Swap) -> list[int]:
        """Who organises a swap now: its creator and its co-organisers, each only
        while still in ORGANISER_IDS. Every message
        meant for "the swap's organisers" goes to these, and only these may act
        on it: someone taken out of ORGANISER_IDS receives nothing more."""
        everyone = [swap.created_by, *await tx.shares.of_swap(swap.id)]
        return [o for o in dict.fromkeys(everyone) if o in self.organiser_ids]

    async def may_organise(self, tx: Tx, who: Who, swap: Swap) -> bool:
        """Whether this organiser may act on this swap: one of its organisers now."""
        return who.telegram_id in await self.organisers_of(tx, swap)

    async def tell_organisers(self, tx: Tx, mail: Mail, swap: Swap, key: str, **params: Any) -> int:
        """Send ``key`` to each of the swap's organisers now; return how many."""
        organisers = await self.organisers_of(tx, swap)
        for organiser in organisers:
            await mail.send(organiser, key, **params)
        return len(organisers)

    async def organised_swap(self, tx: Tx, who: Who, swap_id: int) -> Swap:
        """The swap a button names, if this organiser may act on it; else a refusal.

        Buttons carry swap ids, and any client can forge a button: the id is
        only a claim, checked here against who is pressing.
        """
        if not self.is_organiser(who):
            raise Refusal("errors/organisers_only")
        swap = await tx.swaps.get(swap_id)
        if swap is None or not await self.may_organise(tx, who, swap):
            raise Refusal("errors/stale_button")
        return swap

    async def tell_team(
        self,
        tx: Tx,
        mail: Mail,
        team_id: int,
        key: str,
        *,
        except_people: Iterable[int] = (),
        contribution_id: int | None = None,
        **params: Any,
    ) -> int:
        """Send ``key`` to every member of a team; return how many were owed it."""
        count = 0
        excepted = set(except_people)
        team = await tx.memberships.of_team(team_id)
        await self.know_readers(tx, [p.telegram_id for _, p in team if p.id not in excepted])
        for _, person in team:
            if person.id not in excepted:
                await mail.send(person.telegram_id, key, contribution_id=contribution_id, **params)
                count += 1
        return count

    def html(self, key: str, **params: Any) -> Html:
        """A prompt in the present reader's language."""
        return self.prompts_now().html(key, **params)
