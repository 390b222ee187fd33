"""Settings from the environment (and a ``.env`` file, if there is one)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# BotFather's tokens: the bot's numeric id, a colon, then 35 characters.
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


class LocalSettings(BaseSettings):
    """What the bot reads from its environment about this machine: enough for the
    commands that never talk to Telegram (``backup``, ``check``)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_path: str = Field(default="dilemma_swap.sqlite3", alias="DATABASE_PATH")
    timezone: str = Field(default="Europe/London", alias="TIMEZONE")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(default="text", alias="LOG_FORMAT")
    prompts_dir: str | None = Field(default=None, alias="PROMPTS_DIR")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/London)") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        # Checked here, not left to logging.basicConfig, which would stop with a traceback.
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(
                f"{value!r} is not a log level (DEBUG, INFO, WARNING, ERROR or CRITICAL)"
            )
        return level

    @field_validator("prompts_dir")
    @classmethod
    def _prompts_folder(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not (Path(value).expanduser() / "buttons.md").is_file():
            raise ValueError(f"{value!r} is not a folder of prompts (it has no buttons.md)")
        return str(Path(value).expanduser())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Settings(LocalSettings):
    """Everything the bot reads from its environment to run."""

    telegram_bot_token: SecretStr = Field(alias="TELEGRAM_BOT_TOKEN")
    organiser_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="ORGANISER_IDS"
    )
    telegram_api_base_url: str | None = Field(default=None, alias="TELEGRAM_API_BASE_URL")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_listen: str = Field(default="0.0.0.0", alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, alias="WEBHOOK_PORT", ge=1, le=65535)
    # How the Bot API is called: aiohttp (bot/delivery/transport.py), or python-telegram-bot's
    # own httpx client, which costs about four times the CPU a call.
    http_client: Literal["aiohttp", "httpx"] = Field(default="aiohttp", alias="HTTP_CLIENT")

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value().strip()):
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("does not look like a BotFather token (digits:letters)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("organiser_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            bad = [p for p in parts if not p.isdigit()]
            if bad:
                raise ValueError(f"must be Telegram user ids separated by commas, not {bad[0]!r}")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("telegram_api_base_url", "webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @property
    def token(self) -> str:
        return self.telegram_bot_token.get_secret_value()


S = TypeVar("S", bound=LocalSettings)


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for a person."""


def load_settings() -> Settings:
    """Read the settings the bot needs to run."""
    return _load(Settings)


def load_local_settings() -> LocalSettings:
    """Read the settings about this machine only (no token needed)."""
    return _load(LocalSettings)


def _load(kind: type[S]) -> S:
    """Read the settings, turning pydantic's report into one clear line."""
    try:
        return kind()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        if first["type"] == "missing":
            hint = (
                " (to try the bot without one: python -m bot rehearse)"
                if name == "TELEGRAM_BOT_TOKEN"
                else ""
            )
            raise SettingsError(f"{name} is not set; see README.md, Configuration{hint}") from None
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name} is malformed: {reason}") from None
