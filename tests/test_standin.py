"""Tests of the Telegram Bot API stand-in itself, driven through the real python-telegram-bot.

Every test talks HTTP to the stand-in with a real ``telegram.Bot`` (httpx client) and waits
on conditions (never fixed sleeps), so what passes here is what the bot's own tests rely on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import time
import warnings

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.standin import BotAPIStandIn, SentMessage, TestUser
from bot.standin.formatting import format_text

# PTB itself warns when RetryAfter is built with an int; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TOKEN = "123456:ABC-test"
BOT_USERNAME = "dilemma_swap_test_bot"


class FakeClock:
    """A monotonic clock the test moves by hand, so flood-limit tests don't depend on speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def standin():
    server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME)
    await server.start()
    yield server
    await server.stop()
    assert server.internal_errors == []


@pytest.fixture
async def bot(standin):
    client = telegram.Bot(token=TOKEN, base_url=standin.base_url)
    await client.initialize()
    yield client
    await client.shutdown()


@pytest.fixture
async def alice(standin) -> TestUser:
    user = standin.user(first_name="Alice", username="alice")
    await user.send("/start")
    return user


def retry_after_of(error: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 deprecates the int form
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else value


# ---------------------------------------------------------------- basics


async def test_get_me_and_base_url(standin, bot):
    assert standin.base_url.startswith("http://127.0.0.1:")
    assert standin.base_url.endswith("/bot")
    assert bot.username == BOT_USERNAME
    assert bot.id == 123456
    assert bot.bot.is_bot


async def test_wrong_token_is_unauthorized(standin):
    other = telegram.Bot(token="999:wrong", base_url=standin.base_url)
    with pytest.raises(InvalidToken):
        await other.initialize()


async def test_unknown_method_is_not_found(standin, bot):
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("fooBarBaz")


async def test_plain_json_body_and_query_string(standin, alice):
    base = f"{standin.base_url}{TOKEN}"
    async with httpx.AsyncClient() as client:
        by_json = await client.post(
            f"{base}/sendMessage", json={"chat_id": alice.id, "text": "json"}
        )
        by_query = await client.get(
            f"{base}/sendmessage", params={"chat_id": alice.id, "text": "query"}
        )
        missing = await client.post(f"{base}/noSuchMethod")
    assert by_json.json()["ok"] and by_json.json()["result"]["text"] == "json"
    assert by_query.json()["result"]["text"] == "query"
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [m.text for m in alice.messages] == ["json", "query"]


# ---------------------------------------------------------------- sendMessage and HTML


async def test_send_message_html_entities(standin, bot, alice):
    html = (
        '<b>Hi</b> <i>there</i> 😀 <a href="https://example.com">link</a> '
        "<code>x&lt;y</code> &amp; <tg-spoiler>s</tg-spoiler>"
    )
    message = await bot.send_message(alice.id, html, parse_mode="HTML")
    assert message.text == "Hi there 😀 link x<y & s"
    got = [(e.type, e.offset, e.length) for e in message.entities]
    # 😀 is two UTF-16 code units, so everything after it is shifted by one extra.
    assert got == [
        ("bold", 0, 2),
        ("italic", 3, 5),
        ("text_link", 12, 4),
        ("code", 17, 3),
        ("spoiler", 23, 1),
    ]
    assert message.entities[2].url == "https://example.com/"
    assert message.from_user.username == BOT_USERNAME
    assert message.chat.type == "private" and message.chat.id == alice.id

    sent = await alice.expect("Hi there")
    assert isinstance(sent, SentMessage)
    assert sent.html == html and sent.parse_mode == "HTML"
    assert sent.to_json()["entities"] == [e.to_dict() for e in message.entities]
    assert standin.sent == [sent]


async def test_message_ids_increase_per_chat(standin, bot, alice):
    first = await bot.send_message(alice.id, "one")
    second = await bot.send_message(alice.id, "two")
    # /start from Alice took id 1 in her chat.
    assert (first.message_id, second.message_id) == (2, 3)


async def test_text_without_parse_mode_is_literal(bot, alice):
    message = await bot.send_message(alice.id, "<b>not bold</b> &amp;")
    assert message.text == "<b>not bold</b> &amp;"
    assert message.entities == ()


async def test_unsupported_tag_is_bad_request(bot, alice):
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice.id, "<p>Hello</p>", parse_mode="HTML")
    assert "can't parse entities" in caught.value.message.lower()
    assert 'unsupported start tag "p" at byte offset 0' in caught.value.message.lower()
    assert alice.messages == []


@pytest.mark.parametrize(
    "html, error",
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("1<2", "Unclosed start tag at byte offset 1"),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_errors_use_telegram_wording(standin, alice, html, error):
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{standin.base_url}{TOKEN}/sendMessage",
            data={"chat_id": alice.id, "text": html, "parse_mode": "HTML"},
        )
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: can't parse entities: {error}",
    }


def test_html_parser_details():
    text, entities = format_text(
        '<pre><code class="language-python">x = 1</code></pre>\n<blockquote expandable>q</blockquote>',
        "HTML",
    )
    assert text == "x = 1\nq"
    assert entities == [
        {"offset": 0, "length": 5, "type": "pre", "language": "python"},
        {"offset": 6, "length": 1, "type": "expandable_blockquote"},
    ]
    # Unknown named references stay literal; numeric ones are decoded.
    assert format_text("&nbsp;&#65;&#x42;", "HTML")[0] == "&nbsp;AB"
    # A tg://user link to a known user becomes a text_mention.
    text, entities = format_text(
        '<a href="tg://user?id=5">Bo</a>',
        "HTML",
        known_users={5: {"id": 5, "is_bot": False, "first_name": "Bo"}},
    )
    assert entities == [
        {
            "offset": 0,
            "length": 2,
            "type": "text_mention",
            "user": {"id": 5, "is_bot": False, "first_name": "Bo"},
        }
    ]
    # Leading/trailing whitespace is trimmed and entities follow.
    assert format_text("  <b> hi </b>\n\n", "HTML") == (
        "hi",
        [{"offset": 0, "length": 2, "type": "bold"}],
    )


async def test_length_limit_counts_utf16_after_parsing(bot, alice):
    await bot.send_message(alice.id, "a" * 4096)
    await bot.send_message(alice.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(alice.id, "a" * 4097)
    await bot.send_message(alice.id, "😀" * 2048)  # 4096 UTF-16 code units
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(alice.id, "😀" * 2048 + "a")
    assert len(alice.messages) == 3


async def test_empty_text_is_bad_request(bot, alice):
    for text in ("   \n ", "<b> </b>"):
        with pytest.raises(BadRequest, match="(?i)message text is empty"):
            await bot.send_message(alice.id, text, parse_mode="HTML")


# ---------------------------------------------------------------- keyboards and callbacks


async def test_callback_data_longer_than_64_bytes_is_rejected(bot, alice):
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("Fine", callback_data="x" * 64)]])
    await bot.send_message(alice.id, "fine", reply_markup=ok)
    for data in ("x" * 65, "é" * 33):  # 33 characters but 66 bytes
        bad = InlineKeyboardMarkup([[InlineKeyboardButton("Bad", callback_data=data)]])
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(alice.id, "bad", reply_markup=bad)
    assert [m.text for m in alice.messages] == ["fine"]


async def test_press_answer_and_edit(standin, bot, alice):
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("I agree", callback_data="vote:yes"),
                InlineKeyboardButton("No way", callback_data="vote:no"),
            ],
            [InlineKeyboardButton("Read more", url="https://example.org")],
        ]
    )
    sent = await bot.send_message(alice.id, "Do you agree?", reply_markup=markup)
    message = await alice.expect("agree?")
    assert message.button_labels() == ["I agree", "No way", "Read more"]

    query_id = await alice.press("agree")
    updates = await bot.get_updates(timeout=5)
    query = updates[-1].callback_query
    assert query.id == query_id and query.data == "vote:yes"
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == markup

    await bot.answer_callback_query(query_id, text="Recorded", show_alert=True)
    answer = await alice.expect_answer(query_id)
    assert (answer.text, answer.show_alert) == ("Recorded", True)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)

    # Editing the text without reply_markup removes the keyboard, as on Telegram.
    await bot.edit_message_text("Thanks, recorded", chat_id=alice.id, message_id=sent.message_id)
    await standin.wait_for(lambda: message.text == "Thanks, recorded")
    assert message.buttons == [] and message.edit_date is not None
    assert [old.text for old in message.edits] == ["Do you agree?"]
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "Thanks, recorded", chat_id=alice.id, message_id=sent.message_id
        )
    with pytest.raises(AssertionError, match="No way"):
        await alice.press("No way")  # the keyboard is gone; the error lists what is there

    forged = await alice.press_data("vote:forged")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=5)
    assert updates[-1].callback_query.data == "vote:forged"
    assert updates[-1].callback_query.id == forged


async def test_edit_reply_markup_and_delete(bot, alice):
    sent = await bot.send_message(alice.id, "menu")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=markup)
    assert alice.messages[0].button_labels() == ["Go"]
    assert await bot.delete_message(alice.id, sent.message_id)
    assert alice.messages[0].deleted
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=sent.message_id)


# ---------------------------------------------------------------- 403 and unknown chats


async def test_forbidden_for_user_who_never_wrote(standin, bot):
    bob = standin.user(first_name="Bob")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(bob.id, "hello")
    await bob.send("hi")
    await bot.send_message(bob.id, "hello")
    await bob.expect("hello")


async def test_blocked_user_and_unknown_chat(standin, bot, alice):
    standin.block(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "hello")
    standin.unblock(alice.id)
    await bot.send_message(alice.id, "hello again")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "anyone?")
    kinds = [next(k for k in u if k != "update_id") for u in standin.updates]
    assert kinds == ["message", "my_chat_member", "my_chat_member"]


# ---------------------------------------------------------------- getUpdates


async def test_long_poll_returns_as_soon_as_user_sends(standin, bot):
    alice = standin.user(first_name="Alice", username="alice")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await standin.wait_for(lambda: any(m == "getUpdates" for m, _ in standin.calls))
    assert not poll.done()
    update = await alice.send("/start@dilemma_swap_test_bot abc")
    updates = await asyncio.wait_for(poll, timeout=10)
    assert time.monotonic() - started < 10
    assert [u.update_id for u in updates] == [update["update_id"]] == [1000]
    message = updates[0].message
    assert message.text == "/start@dilemma_swap_test_bot abc"
    assert (message.entities[0].type, message.entities[0].offset, message.entities[0].length) == (
        "bot_command",
        0,
        len("/start@dilemma_swap_test_bot"),
    )
    assert message.from_user.language_code == "en" and not message.from_user.is_bot

    # Confirming with a higher offset: the update is not delivered again.
    assert await bot.get_updates(offset=1001, timeout=0) == ()
    assert standin.confirmed_offset == 1001


async def test_poll_timeout_returns_empty(standin, bot):
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 5


async def test_offsets_limit_and_unconfirm(standin, bot):
    alice = standin.user(first_name="Alice")
    for text in ("one", "two", "three"):
        await alice.send(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["one", "two"]
    # Without a higher offset nothing is confirmed: the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == [1000, 1001, 1002]
    rest = await bot.get_updates(offset=1001)
    assert [u.message.text for u in rest] == ["two", "three"]
    assert standin.confirmed_offset == 1001
    # A lower offset cannot bring back confirmed updates.
    assert [u.update_id for u in await bot.get_updates(offset=1000)] == [1001, 1002]
    assert await bot.get_updates(offset=1003) == ()

    # As if the bot died before its confirmation reached Telegram.
    standin.unconfirm(1001)
    again = await bot.get_updates(timeout=5)
    assert [(u.update_id, u.message.text) for u in again] == [(1001, "two"), (1002, "three")]


async def test_stop_releases_held_poll():
    server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME)
    await server.start()
    client = telegram.Bot(token=TOKEN, base_url=server.base_url)
    await client.initialize()
    poll = asyncio.create_task(client.get_updates(timeout=30, read_timeout=40))
    await server.wait_for(lambda: any(m == "getUpdates" for m, _ in server.calls))
    started = time.monotonic()
    await server.stop()
    # Either an empty answer or a closed connection is fine.
    with contextlib.suppress(NetworkError):
        await asyncio.wait_for(poll, timeout=10)
    assert time.monotonic() - started < 5
    await client.shutdown()


async def test_sticker_and_reply_updates(standin, bot, alice):
    sent = await bot.send_message(alice.id, "Pick one")
    bot_message = await alice.expect("Pick")
    await alice.send_sticker("🔥")
    await alice.reply(bot_message, "this one")
    updates = await bot.get_updates()
    sticker_msg, reply_msg = updates[-2].message, updates[-1].message
    assert sticker_msg.text is None and sticker_msg.sticker.emoji == "🔥"
    assert sticker_msg.sticker.type == "regular"
    assert reply_msg.reply_to_message.message_id == sent.message_id
    assert reply_msg.reply_to_message.text == "Pick one"

    answer = await bot.send_message(
        alice.id, "Good choice", reply_parameters=telegram.ReplyParameters(reply_msg.message_id)
    )
    assert answer.reply_to_message.text == "this one"
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(alice.id, "?", reply_parameters=telegram.ReplyParameters(999))


# ---------------------------------------------------------------- flood limits and faults


async def test_injected_429_surfaces_retry_after(standin, bot, alice):
    standin.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "hi")
    assert retry_after_of(caught.value) == 7
    assert standin.limit_violations == []
    assert [(f.method, f.chat_id, f.status) for f in standin.injected_failures] == [
        ("sendMessage", alice.id, 429)
    ]
    assert alice.messages == []  # an injected fault delivers nothing
    await bot.send_message(alice.id, "hi")
    assert [m.text for m in alice.messages] == ["hi"]


async def test_injected_502_is_network_error(standin, bot, alice):
    standin.fail_next("sendMessage", 502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(alice.id, "hi")
    await bot.send_message(alice.id, "hi")
    assert len(alice.messages) == 1 and len(standin.injected_failures) == 2


async def test_flood_limit_per_private_chat():
    clock = FakeClock()
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, clock=clock) as server:
        client = telegram.Bot(token=TOKEN, base_url=server.base_url)
        await client.initialize()
        alice = server.user(first_name="Alice")
        await alice.send("/start")
        for n in range(3):
            await client.send_message(alice.id, f"burst {n}")
        with pytest.raises(RetryAfter) as caught:
            await client.send_message(alice.id, "one too many")
        assert retry_after_of(caught.value) == 1
        assert [(v.method, v.chat_id, v.retry_after) for v in server.limit_violations] == [
            ("sendMessage", alice.id, 1)
        ]
        # Edits count toward the chat's limit too.
        with pytest.raises(RetryAfter):
            await client.edit_message_text("edited", chat_id=alice.id, message_id=2)
        clock.advance(1.0)
        await client.send_message(alice.id, "after a second")
        assert [m.text for m in alice.messages] == [
            "burst 0",
            "burst 1",
            "burst 2",
            "after a second",
        ]
        assert server.injected_failures == []
        await client.shutdown()


async def test_flood_limits_global_and_group():
    clock = FakeClock()
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, clock=clock) as server:
        client = telegram.Bot(token=TOKEN, base_url=server.base_url)
        await client.initialize()
        users = [server.user(first_name=f"U{n}") for n in range(31)]
        for user in users:
            await user.send("/start")
        for user in users[:30]:
            await client.send_message(user.id, "broadcast")
        with pytest.raises(RetryAfter):
            await client.send_message(users[30].id, "broadcast")
        assert server.limit_violations[-1].chat_id == users[30].id

        clock.advance(10)
        group = server.group(title="Team")
        for n in range(20):
            await client.send_message(group.id, f"group {n}")
        with pytest.raises(RetryAfter) as caught:
            await client.send_message(group.id, "group 20")
        assert retry_after_of(caught.value) == 60
        clock.advance(60)
        await client.send_message(group.id, "group 20")
        assert len(group.messages) == 21
        await client.shutdown()


async def test_limits_can_be_disabled(standin):
    server = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, enforce_limits=False)
    async with server:
        client = telegram.Bot(token=TOKEN, base_url=server.base_url)
        await client.initialize()
        alice = server.user(first_name="Alice")
        await alice.send("hi")
        for n in range(10):
            await client.send_message(alice.id, str(n))
        assert len(alice.messages) == 10 and server.limit_violations == []
        await client.shutdown()


async def test_drop_next_is_network_error(standin, bot, alice):
    standin.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "lost")
    assert alice.messages == []
    assert [(f.method, f.status) for f in standin.injected_failures] == [("sendMessage", None)]
    await bot.send_message(alice.id, "delivered")
    assert [m.text for m in alice.messages] == ["delivered"]


async def test_fault_rates_are_reproducible():
    async def pattern() -> list[bool]:
        async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
            client = telegram.Bot(token=TOKEN, base_url=server.base_url)
            await client.initialize()
            alice = server.user(first_name="Alice")
            await alice.send("hi")
            server.fail_rate("sendChatAction", 502, fraction=0.5, seed=42)
            outcomes = []
            for _ in range(16):
                try:
                    await client.send_chat_action(alice.id, "typing")
                    outcomes.append(True)
                except NetworkError:
                    outcomes.append(False)
            await client.shutdown()
            return outcomes

    first, second = await pattern(), await pattern()
    assert first == second
    assert True in first and False in first


# ---------------------------------------------------------------- documents and commands


async def test_send_document_roundtrip(standin, bot, alice):
    message = await bot.send_document(
        alice.id,
        document=b"id,score\n1,5\n",
        filename="report.csv",
        caption="<b>Report</b>",
        parse_mode="HTML",
    )
    assert message.document.file_name == "report.csv"
    assert message.document.file_size == 13
    assert message.caption == "Report"
    assert message.caption_entities[0].type == "bold"
    doc = await alice.expect_document()
    assert (doc.filename, doc.content, doc.caption) == ("report.csv", b"id,score\n1,5\n", "Report")
    assert alice.documents == [doc]

    again = await bot.send_document(alice.id, document=message.document.file_id)
    assert again.document.file_unique_id == message.document.file_unique_id
    assert (await alice.expect_document()).content == b"id,score\n1,5\n"


async def test_commands_per_scope_and_language(standin, bot):
    await bot.set_my_commands([("start", "Start"), ("help", "Help")])
    await bot.set_my_commands(
        [("start", "Beginnen")], language_code="de", scope=telegram.BotCommandScopeAllPrivateChats()
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    german = await bot.get_my_commands(
        scope=telegram.BotCommandScopeAllPrivateChats(), language_code="de"
    )
    assert [(c.command, c.description) for c in german] == [("start", "Beginnen")]
    assert standin.commands_for() == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert standin.commands[('{"type":"all_private_chats"}', "de")][0]["command"] == "start"
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Bad Command", "x")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.set_my_description("A bot") and await bot.set_my_short_description("Short")


async def test_expect_failure_lists_received_messages(bot, alice):
    await bot.send_message(alice.id, "Something else")
    with pytest.raises(AssertionError, match="Something else"):
        await alice.expect("Welcome", timeout=0.3)


async def test_expect_cursor_predicates_and_edits(standin, bot, alice):
    standin.enforce_limits = False  # five sends in a row to one chat
    first = await bot.send_message(alice.id, "Step 1")
    await bot.send_document(alice.id, document=b"x", filename="a.txt")
    await bot.send_message(alice.id, "Step 2")
    assert (await alice.expect(lambda m: m.text.startswith("Step"))).text == "Step 1"
    # The cursor moved past "Step 1": the next match is "Step 2"; documents are skipped.
    assert (await alice.expect("Step")).text == "Step 2"
    with pytest.raises(AssertionError):
        await alice.expect("Step", timeout=0.2)
    # An unread message that is edited to match is found while waiting.
    pending = await bot.send_message(alice.id, "Working...")
    waiter = asyncio.create_task(alice.expect("Done"))
    await bot.edit_message_text("Done", chat_id=alice.id, message_id=pending.message_id)
    assert (await waiter).message_id == pending.message_id
    assert [m.text for m in alice.texts] == ["Step 1", "Step 2", "Done"]
    assert first.message_id == alice.messages[0].message_id


# ---------------------------------------------------------------- a real PTB Application


async def test_application_end_to_end(standin):
    async def start(update, context):
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("I agree", callback_data="agree")]])
        await update.message.reply_html(
            f"<b>Welcome</b>, {update.effective_user.first_name}!", reply_markup=keyboard
        )

    async def pressed(update, context):
        await update.callback_query.answer("Noted")
        await update.callback_query.edit_message_text("You agreed")

    async def echo(update, context):
        await update.message.reply_text(f"echo: {update.message.text}")

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(standin.base_url)
        .get_updates_read_timeout(15)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    alice = standin.user(first_name="Alice", username="alice")
    async with application:
        await application.start()
        await application.updater.start_polling(timeout=5, drop_pending_updates=True)
        try:
            await alice.send("/start")
            welcome = await alice.expect("Welcome, Alice!")
            assert welcome.entities == [{"offset": 0, "length": 7, "type": "bold"}]
            query_id = await alice.press("agree")
            assert (await alice.expect_answer(query_id)).text == "Noted"
            await standin.wait_for(lambda: welcome.text == "You agreed")
            await alice.send("ping")
            await alice.expect("echo: ping")
        finally:
            await application.updater.stop()
            await application.stop()
    # Every update was confirmed on the way out.
    assert standin.pending_updates() == []
    assert json.dumps(standin.sent[0].to_json())  # the stored JSON is serialisable


# ---------------------------------------------------------------- files users send


async def test_documents_and_photos_users_send_are_fetched_with_get_file(standin, alice):
    client = telegram.Bot(
        token=TOKEN,
        base_url=standin.base_url,
        base_file_url=standin.base_url.removesuffix("/bot") + "/file/bot",
    )
    await client.initialize()
    try:
        await alice.send_document("notes.md", "# Notes\n\nCafé".encode(), "text/markdown", "/sheet")
        await alice.send_photo(b"\xff\xd8 a photo")
        updates = await client.get_updates(timeout=0)
        document = updates[-2].message.document
        assert (document.file_name, document.mime_type, document.file_size) == (
            "notes.md",
            "text/markdown",
            len("# Notes\n\nCafé".encode()),
        )
        assert updates[-2].message.caption == "/sheet"
        assert updates[-2].message.caption_entities[0].type == "bot_command"
        photo = updates[-1].message.photo[-1]
        assert (photo.width, photo.height) == (1280, 960)
        file = await client.get_file(document.file_id)
        assert file.file_path and file.file_size == document.file_size
        assert bytes(await file.download_as_bytearray()) == "# Notes\n\nCafé".encode()
        assert standin.downloads == [file.file_path.rsplit("/file/bot" + TOKEN + "/", 1)[-1]]
        picture = await client.get_file(photo.file_id)
        assert bytes(await picture.download_as_bytearray()) == b"\xff\xd8 a photo"
        with pytest.raises(BadRequest, match="(?i)invalid file_id"):
            await client.get_file("no-such-file")
    finally:
        await client.shutdown()
    async with httpx.AsyncClient() as http:
        base = standin.base_url.removesuffix("/bot")
        assert (await http.get(f"{base}/file/bot{TOKEN}/documents/nothing")).status_code == 404
        assert (
            await http.get(f"{base}/file/bot999:wrong/{standin.downloads[0]}")
        ).status_code == 401
