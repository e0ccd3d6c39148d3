"""The card-number corpus (tests/channels/card_corpus.py) through the masking rules: every form is
caught (split forms by the rolling buffer, at their last message), nothing that only looks like
one is touched."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from channels.card_buffer import SplitCardBuffer
from channels.dedupe import InMemoryStore
from contracts.masking import MASK, contains_card_number, luhn_valid, mask_card_numbers, normalize
from tests.channels.card_corpus import CARD_FORMS, CARD_NUMBERS, NOT_CARD_SEQUENCES, NOT_CARDS, CardForm

SINGLE = [form for form in CARD_FORMS if len(form.messages) == 1]
SPLIT = [form for form in CARD_FORMS if len(form.messages) > 1]


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", normalize(text))


async def caught(messages: tuple[str, ...]) -> list[bool]:
    """For each message in order: masked by itself, or completing a split number."""
    buffer = SplitCardBuffer(InMemoryStore())
    results = []
    for message in messages:
        whole = contains_card_number(message)
        split = await buffer.completes_card("conversation", message, has_card=whole)
        results.append(whole or split)
    return results


def test_the_corpus_is_big_and_varied() -> None:
    assert len(CARD_FORMS) >= 60
    kinds = Counter(form.kind for form in CARD_FORMS)
    assert set(kinds) == {"typed", "keyed", "spoken", "unicode", "split"}
    assert min(kinds.values()) >= 5
    assert len({form.name for form in CARD_FORMS}) == len(CARD_FORMS)


@pytest.mark.parametrize("number", CARD_NUMBERS)
def test_corpus_numbers_are_real_card_numbers(number: str) -> None:
    assert 13 <= len(number) <= 19 and luhn_valid(number)


@pytest.mark.parametrize("form", SINGLE, ids=[form.name for form in SINGLE])
def test_every_single_message_form_is_masked(form: CardForm) -> None:
    (message,) = form.messages
    masked, count = mask_card_numbers(message)
    assert count >= 1, form.name
    assert MASK in masked
    assert form.number not in digits_of(masked)
    if form.kind != "spoken":
        assert form.number in digits_of(message), "corpus typo"


@pytest.mark.parametrize("form", SPLIT, ids=[form.name for form in SPLIT])
async def test_every_split_form_is_caught_at_its_last_message(form: CardForm) -> None:
    results = await caught(form.messages)
    assert results[-1], form.name
    assert not any(results[:-1]), "a fragment alone is no card number"
    if "spoken" not in form.name:
        assert form.number in "".join(digits_of(m) for m in form.messages), "corpus typo"


@pytest.mark.parametrize("text", NOT_CARDS)
def test_look_alikes_are_untouched(text: str) -> None:
    assert mask_card_numbers(text) == (text, 0)


@pytest.mark.parametrize("messages", NOT_CARD_SEQUENCES, ids=[" | ".join(s)[:40] for s in NOT_CARD_SEQUENCES])
async def test_look_alike_sequences_are_untouched(messages: tuple[str, ...]) -> None:
    assert await caught(messages) == [False] * len(messages)


def test_no_example_of_the_assistants_training_data_is_masked() -> None:
    """Over a thousand real phrasings (amounts, dates, last 4, ZIP codes, phone numbers among them)."""
    from tests.channels.test_revocation import nlu_examples

    examples = nlu_examples()
    assert len(examples) > 500
    assert [text for _, text in examples if contains_card_number(text)] == []
