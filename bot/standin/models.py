"""Plain data records kept by the Bot API stand-in: sent messages, answers, refusals."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status + Telegram's description."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> dict:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


@dataclass
class UploadedFile:
    """A file part of a multipart/form-data request."""

    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass
class LimitViolation:
    """A send refused with 429 because the bot exceeded a flood limit."""

    method: str
    chat_id: int | None
    time: float
    retry_after: int


@dataclass
class InjectedFailure:
    """A call answered with an injected fault; status is None for a dropped connection."""

    method: str
    chat_id: int | None
    time: float
    status: int | None
    description: str | None = None


@dataclass
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery."""

    query_id: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent (text or document), updated in place by later edits."""

    message_id: int
    chat_id: int
    date: int
    chat: dict = field(repr=False, default_factory=dict)  # Telegram Chat JSON
    sender: dict = field(repr=False, default_factory=dict)  # the bot's User JSON
    text: str | None = None  # plain text after entity parsing
    html: str | None = None  # text exactly as the bot sent it
    parse_mode: str | None = None
    entities: list[dict] = field(default_factory=list)
    reply_markup: dict | None = None  # as sent (any keyboard type)
    reply_to_message: dict | None = field(default=None, repr=False)
    edit_date: int | None = None
    edits: list[SentMessage] = field(default_factory=list, repr=False)  # older versions
    deleted: bool = False
    # Sent with ``disable_notification``: it arrives without a sound or a banner.
    silent: bool = False
    # Documents only.
    filename: str | None = None
    content: bytes | None = field(default=None, repr=False)
    mime_type: str | None = None
    file_id: str | None = None
    file_unique_id: str | None = None
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[dict] = field(default_factory=list)

    @property
    def is_document(self) -> bool:
        """True for a sendDocument message."""
        return self.file_id is not None

    @property
    def buttons(self) -> list[list[dict]]:
        """Inline keyboard rows; each button dict has text and callback_data or url."""
        if not self.reply_markup:
            return []
        return self.reply_markup.get("inline_keyboard") or []

    def button_labels(self) -> list[str]:
        """The texts of all inline buttons, row by row."""
        return [button.get("text", "") for row in self.buttons for button in row]

    def callback_data(self, label: str) -> str | None:
        """callback_data of the first button whose text contains ``label``."""
        for row in self.buttons:
            for button in row:
                if label in button.get("text", "") and "callback_data" in button:
                    return button["callback_data"]
        return None

    def snapshot(self) -> SentMessage:
        """A frozen copy of the current version (used for ``edits``)."""
        frozen = copy.copy(self)
        frozen.entities = copy.deepcopy(self.entities)
        frozen.reply_markup = copy.deepcopy(self.reply_markup)
        frozen.edits = []
        return frozen

    def to_json(self) -> dict:
        """The Telegram Message dict for this message as it is now."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": dict(self.sender),
            "chat": dict(self.chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.reply_to_message is not None:
            data["reply_to_message"] = copy.deepcopy(self.reply_to_message)
        if self.is_document:
            data["document"] = {
                "file_name": self.filename,
                "mime_type": self.mime_type or "application/octet-stream",
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.content or b""),
            }
            if self.caption:
                data["caption"] = self.caption
                if self.caption_entities:
                    data["caption_entities"] = copy.deepcopy(self.caption_entities)
        else:
            data["text"] = self.text
            if self.entities:
                data["entities"] = copy.deepcopy(self.entities)
        # Telegram echoes only inline keyboards back in the Message object.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = copy.deepcopy(self.reply_markup)
        return data
