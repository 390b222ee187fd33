"""The Pacer's windows count a send from when it is made: Telegram counts a
message when it arrives, so a send held up after it took its place must not
let the sends after it crowd into the same second."""

from __future__ import annotations

from bot.delivery.worker import Limits, Pacer

CHAT = 4242


def test_a_send_made_late_is_counted_from_when_it_was_made():
    pacer = Pacer(Limits(chat_per_window=1))  # one in any 3 s, a quarter second to spare
    pacer.take(CHAT, 0.0)
    assert pacer.crowded(3.0).get(CHAT, 0.0) == 0.25
    # It was held up, and only made at 1.0.
    pacer.restamp(CHAT, 0.0, 1.0)
    assert pacer.crowded(3.0).get(CHAT, 0.0) == 1.25
    assert pacer.crowded(4.25).get(CHAT, 0.0) == 0.0


def test_a_late_send_keeps_the_overall_second_full_until_a_second_after_it():
    pacer = Pacer(Limits())
    for n in range(28):
        pacer.take(n, n / 100)  # 28 sends in the first 0.28 s
    assert pacer.overall_wait(1.0) == 0.0  # the first has left the second
    pacer.restamp(0, 0.0, 0.5)  # ...had it not been made at 0.5
    assert pacer.overall_wait(1.0) > 0.0
    assert pacer.overall_wait(1.5) == 0.0


def test_a_second_call_for_the_same_message_counts_as_another():
    pacer = Pacer(Limits(chat_per_window=2))
    pacer.take(CHAT, 0.0)
    pacer.restamp(CHAT, 0.0, 0.1)  # the call, made
    pacer.restamp(CHAT, 0.0, 0.2)  # refused unparsed, sent again as plain text
    # Two calls in the window of two: the next waits for the first to leave it.
    assert pacer.crowded(0.4).get(CHAT, 0.0) == 0.1 + 3.25 - 0.4


def test_a_restamped_send_is_counted_once():
    pacer = Pacer(Limits(chat_per_window=2))
    pacer.take(CHAT, 0.0)
    pacer.restamp(CHAT, 0.0, 0.1)
    # One message in the chat's window of two, and one in the overall second.
    assert pacer.crowded(0.2).get(CHAT, 0.0) == 0.0
    pacer.take(CHAT, 0.2)
    assert pacer.crowded(0.3).get(CHAT, 0.0) == 0.1 + 3.25 - 0.3
    overall = Pacer(Limits(overall_per_second=2))
    overall.take(1, 0.0)
    overall.restamp(1, 0.0, 0.1)
    assert overall.overall_wait(0.2) == 0.0


def test_sends_are_spread_over_the_second_once_it_is_half_full():
    pacer = Pacer(Limits(overall_per_second=20))
    for n in range(9):
        pacer.take(n, 0.0)  # a few replies at once go at once
    assert pacer.spread_wait(0.0) == 0.0
    pacer.take(CHAT, 0.0)
    # Half full: half the interval the overall limit allows (1/20 s) after the last.
    assert pacer.spread_wait(0.0) == 0.025
    assert pacer.spread_wait(0.025) == 0.0


def test_at_one_message_a_second_an_empty_second_lets_the_next_go():
    pacer = Pacer(Limits(overall_per_second=1))
    assert pacer.spread_wait(0.0) == 0.0
    pacer.take(CHAT, 0.0)
    assert pacer.spread_wait(0.2) == 0.3
    assert pacer.spread_wait(1.5) == 0.0  # the second is empty again
