"""Simulated Telegram users and group chats that tests drive against the stand-in.

A TestUser sends messages, stickers, replies and button presses to the bot (each becomes
an update the bot receives through getUpdates) and waits, without fixed sleeps, for what
the bot sends back to her private chat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .models import CallbackAnswer, SentMessage

if TYPE_CHECKING:  # pragma: no cover
    from .server import BotAPIStandIn

Match = str | Callable[[SentMessage], bool]


class _Chat:
    """What private chats and groups share: the bot's messages and the cursors of expect()."""

    def __init__(self, standin: BotAPIStandIn, chat_id: int) -> None:
        self._standin = standin
        self.id = chat_id
        self.messages: list[SentMessage] = []
        # expect() reads text messages after _cursor; expect_document() documents after _doc_cursor.
        self._cursor = 0
        self._doc_cursor = 0
        self._next_message_id = 1

    @property
    def chat_id(self) -> int:
        """Same as ``id``: private chat ids equal user ids."""
        return self.id

    @property
    def texts(self) -> list[SentMessage]:
        """Text messages (not documents) the bot sent to this chat, in order."""
        return [m for m in self.messages if not m.is_document]

    @property
    def documents(self) -> list[SentMessage]:
        """Documents the bot sent to this chat, in order."""
        return [m for m in self.messages if m.is_document]

    @property
    def last_message(self) -> SentMessage | None:
        """The newest bot message here that is not deleted."""
        for message in reversed(self.messages):
            if not message.deleted:
                return message
        return None

    def chat_json(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    def _allocate_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def _describe_texts(self) -> str:
        lines = []
        for index, message in enumerate(self.texts):
            marker = "  " if index < self._cursor else "->"
            labels = message.button_labels()
            suffix = f"  buttons={labels}" if labels else ""
            deleted = " (deleted)" if message.deleted else ""
            lines.append(f"{marker} #{message.message_id}{deleted}: {message.text!r}{suffix}")
        return "\n".join(lines) or "   (no messages at all)"

    async def expect(self, match: Match, timeout: float = 10.0) -> SentMessage:
        """Wait for the next bot text message after the cursor matching ``match``; move the cursor past it.

        ``match`` is a substring of the plain text or a predicate on the SentMessage.  Messages
        are checked as they are now, so an unread message that is edited to match counts too.
        """

        def matches(message: SentMessage) -> bool:
            if callable(match):
                return bool(match(message))
            return match in (message.text or "")

        def probe() -> int | None:
            texts = self.texts
            for index in range(self._cursor, len(texts)):
                if matches(texts[index]):
                    return index
            return None

        index = await self._standin._wait_until(probe, timeout)
        if index is None:
            raise AssertionError(
                f"chat {self.id}: no bot message matching {match!r} within {timeout}s; "
                f"messages ('->' = after the cursor):\n{self._describe_texts()}"
            )
        self._cursor = index + 1
        return self.texts[index]

    async def expect_document(
        self, timeout: float = 10.0, contains: str | None = None
    ) -> SentMessage:
        """Wait for the next document after the document cursor (optionally filename/caption containing text)."""

        def probe() -> int | None:
            documents = self.documents
            for index in range(self._doc_cursor, len(documents)):
                doc = documents[index]
                if (
                    contains is None
                    or contains in (doc.filename or "")
                    or contains in (doc.caption or "")
                ):
                    return index
            return None

        index = await self._standin._wait_until(probe, timeout)
        if index is None:
            names = [(d.filename, d.caption) for d in self.documents]
            raise AssertionError(
                f"chat {self.id}: no document{' matching ' + repr(contains) if contains else ''} "
                f"within {timeout}s; documents so far: {names}"
            )
        self._doc_cursor = index + 1
        return self.documents[index]

    def skip_all(self) -> None:
        """Move the cursors past everything received so far."""
        self._cursor = len(self.texts)
        self._doc_cursor = len(self.documents)


class TestUser(_Chat):
    """A Telegram user talking to the bot in a private chat (chat id == user id)."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        standin: BotAPIStandIn,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str = "en",
    ) -> None:
        super().__init__(standin, user_id)
        self.first_name = first_name
        self.username = username
        self.last_name = last_name
        self.language_code = language_code
        self.blocked = False
        # Telegram lets a bot write to a user only after the user wrote to it.
        self.started = False

    def __repr__(self) -> str:
        return f"TestUser(id={self.id}, first_name={self.first_name!r}, username={self.username!r})"

    def user_json(self) -> dict:
        """Telegram User dict, as in ``message.from``."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data

    def chat_json(self) -> dict:
        """Telegram Chat dict of her private chat with the bot."""
        data: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["type"] = "private"
        return data

    async def send(self, text: str) -> dict:
        """Send a text message to the bot; return the update dict."""
        return self._standin._user_message(self, text=text)

    async def edit(self, update: dict, text: str) -> dict:
        """Edit a message she sent earlier (given as the update ``send`` returned)."""
        return self._standin._user_edit(self, update["message"]["message_id"], text)

    async def send_in(self, group: TestGroup, text: str, reply_to: dict | None = None) -> dict:
        """Send a message in a group (the bot sees it: a command, in privacy mode), or a
        reply there to ``reply_to`` (a message, as another ``send_in`` returned it)."""
        return self._standin._group_message(self, group, text, reply_to)

    async def send_sticker(self, emoji: str = "👍") -> dict:
        """Send a sticker (no text) to the bot; return the update dict."""
        return self._standin._user_message(self, sticker_emoji=emoji)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> dict:
        """Send a file as a document (the bot downloads it with getFile); return the update."""
        attachment = self._standin._attach_document(filename, content, mime_type)
        return self._standin._user_message(self, attachment=attachment, caption=caption)

    async def send_photo(
        self, content: bytes = b"\xff\xd8\xff\xe0 a JPEG", caption: str | None = None
    ) -> dict:
        """Send a photo; return the update dict."""
        attachment = self._standin._attach_photo(content, 1280, 960)
        return self._standin._user_message(self, attachment=attachment, caption=caption)

    async def reply(self, message: SentMessage | dict, text: str) -> dict:
        """Send ``text`` as a reply to one of the bot's messages; return the update dict."""
        return self._standin._user_message(self, text=text, reply_to=message)

    async def press(self, label: str) -> str:
        """Press the callback button whose text contains ``label`` on the newest message having one.

        Returns the callback query id.
        """
        for message in reversed(self.messages):
            if message.deleted:
                continue
            for row in message.buttons:
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return self._standin._user_callback(self, message, button["callback_data"])
        available = [
            (m.message_id, m.button_labels()) for m in self.messages if not m.deleted and m.buttons
        ]
        raise AssertionError(
            f"{self.first_name}: no callback button containing {label!r}; "
            f"buttons by message id: {available}"
        )

    async def press_data(self, data: str, message: SentMessage | None = None) -> str:
        """Send a callback query with arbitrary ``data`` on ``message`` (default: newest bot message)."""
        if message is None:
            message = self.last_message
            if message is None:
                raise AssertionError(
                    f"{self.first_name}: the bot has sent her no message to press on"
                )
        return self._standin._user_callback(self, message, data)

    async def expect_answer(self, callback_query_id: str, timeout: float = 10.0) -> CallbackAnswer:
        """Wait until the bot answers that callback query; return the answer."""
        answers = self._standin.callback_answers
        answer = await self._standin._wait_until(lambda: answers.get(callback_query_id), timeout)
        if answer is None:
            raise AssertionError(
                f"callback query {callback_query_id} was not answered within {timeout}s"
            )
        return answer

    async def expect_edit(
        self, message: SentMessage, match: Callable[[SentMessage], Any], timeout: float = 10.0
    ) -> SentMessage:
        """Wait until a message already sent (as it is now, after edits) matches ``match``."""
        done = await self._standin._wait_until(lambda: match(message) or None, timeout)
        if done is None:
            raise AssertionError(
                f"{self.first_name}: message {message.message_id} was not edited to match "
                f"within {timeout}s; it reads {message.text!r}"
            )
        return message


class TestGroup(_Chat):
    """A group chat the bot is a member of (negative chat id)."""

    __test__ = False

    def __init__(self, standin: BotAPIStandIn, chat_id: int, title: str) -> None:
        super().__init__(standin, chat_id)
        self.title = title

    def __repr__(self) -> str:
        return f"TestGroup(id={self.id}, title={self.title!r})"

    # What the bot may do here: "member", "kicked" (removed), "restricted" (may not
    # post), or "migrated" (the group became a supergroup: ``migrated_to``).
    bot_status = "member"
    migrated_to: int | None = None
    kind = "group"

    def chat_json(self) -> dict:
        """Telegram Chat dict of the group."""
        return {"id": self.id, "title": self.title, "type": self.kind}
