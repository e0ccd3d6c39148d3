"""The rolling digit buffer that catches a card number split across messages (channels/card_buffer.py)."""

from __future__ import annotations

import json
from typing import Any

from channels.card_buffer import FRAGMENT_SECONDS, SplitCardBuffer
from channels.dedupe import InMemoryStore
from contracts.masking import MAX_BUFFERED_DIGITS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def buffer_with_clock() -> tuple[SplitCardBuffer, InMemoryStore, Clock]:
    clock = Clock()
    store = InMemoryStore(clock=clock)
    return SplitCardBuffer(store), store, clock


async def test_halves_within_the_window_complete_a_card_and_clear_the_buffer() -> None:
    buffer, store, _ = buffer_with_clock()
    assert not await buffer.completes_card("c1", "4111 1111")
    assert await buffer.completes_card("c1", "1111 1111")
    assert await store.get("card-tail:c1") is None
    assert not await buffer.completes_card("c1", "1111 1111"), "the buffer was cleared"


async def test_the_second_half_after_the_window_is_not_joined() -> None:
    buffer, _, clock = buffer_with_clock()
    await buffer.completes_card("c1", "4111 1111")
    clock.now += FRAGMENT_SECONDS + 1
    assert not await buffer.completes_card("c1", "1111 1111")


async def test_each_fragment_refreshes_the_window() -> None:
    buffer, _, clock = buffer_with_clock()
    for fragment in ("4111", "1111", "1111"):
        assert not await buffer.completes_card("c1", fragment)
        clock.now += FRAGMENT_SECONDS - 10
    assert await buffer.completes_card("c1", "1111")


async def test_conversations_do_not_share_digits() -> None:
    buffer, _, _ = buffer_with_clock()
    await buffer.completes_card("c1", "4111 1111")
    assert not await buffer.completes_card("c2", "1111 1111")


async def test_a_message_without_leading_digits_breaks_the_sequence() -> None:
    buffer, _, _ = buffer_with_clock()
    await buffer.completes_card("c1", "4111 1111")
    await buffer.completes_card("c1", "sorry, wait")
    assert not await buffer.completes_card("c1", "1111 1111")


async def test_a_message_with_a_whole_card_clears_the_buffer() -> None:
    buffer, store, _ = buffer_with_clock()
    await buffer.completes_card("c1", "4111 1111")
    assert not await buffer.completes_card("c1", "4111111111111111", has_card=True)
    assert await store.get("card-tail:c1") is None


async def test_at_most_18_digits_are_kept_and_only_digits() -> None:
    buffer, store, _ = buffer_with_clock()
    for fragment in ("2000", "3000", "7000", "9000", "5000 7000"):
        await buffer.completes_card("c1", fragment)
        kept = await store.get("card-tail:c1")
        if kept:
            digits = "".join(kept["groups"])
            assert digits.isdigit() and len(digits) <= MAX_BUFFERED_DIGITS
    assert "".join((await store.get("card-tail:c1"))["groups"]).endswith("50007000")


async def test_a_fragment_with_an_odd_number_of_digits_ends_a_number_but_is_not_continued() -> None:
    buffer, store, _ = buffer_with_clock()
    await buffer.completes_card("c1", "4821")
    await buffer.completes_card("c1", "78701")  # a ZIP code
    assert await store.get("card-tail:c1") is None


async def test_a_date_of_birth_is_no_fragment() -> None:
    buffer, store, _ = buffer_with_clock()
    await buffer.completes_card("c1", "4821")
    await buffer.completes_card("c1", "03141985")
    assert await store.get("card-tail:c1") is None


class BrokenStore(InMemoryStore):
    async def get(self, key: str) -> Any:
        raise ConnectionError("redis is down")


async def test_a_failing_store_judges_the_message_alone_and_logs_no_digits(caplog: Any) -> None:
    buffer = SplitCardBuffer(BrokenStore())
    assert not await buffer.completes_card("c1", "1111 1111")
    assert "1111" not in caplog.text
    assert "store failed" in caplog.text


async def test_the_stored_value_is_plain_json_of_digit_groups() -> None:
    buffer, store, _ = buffer_with_clock()
    await buffer.completes_card("c1", "my card is 4111-1111")
    raw = store._values["card-tail:c1"].value
    assert json.loads(raw) == {"groups": ["4111", "1111"]}
