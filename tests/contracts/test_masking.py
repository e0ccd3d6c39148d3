"""Card-number detection and masking (contracts/masking.py)."""

from __future__ import annotations

import re
import time

import pytest

from contracts.masking import (
    MASK,
    Fragments,
    card_fragments,
    completes_split_card,
    contains_card_number,
    find_card_numbers,
    luhn_valid,
    mask_card_numbers,
    next_buffer,
    normalize,
)

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def with_check_digit(prefix: str) -> str:
    """`prefix` plus the digit that makes it Luhn-valid."""
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


def break_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def spoken(number: str) -> str:
    return " ".join(WORDS[int(d)] for d in number)


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", text)


# Real test numbers of the card networks, 13 to 19 digits.
CARDS = {
    "visa": "4111111111111111",
    "visa-stripe": "4242424242424242",
    "visa-13": "4222222222222",
    "mastercard": "5555555555554444",
    "mastercard-2series": "2223003122003222",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "diners-14": "30569309025904",
    "jcb": "3530111333300000",
    "unionpay-19": "6212345678901265",
    "maestro-19": with_check_digit("603473000000000000"),
    "visa-18": with_check_digit("41111111111111111"),
}


# --- the Luhn check ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", list(CARDS.values()) + ["79927398713", "0"])
def test_luhn_accepts_valid_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "79927398710", "1234567812345678", "", "41111a1111111111"])
def test_luhn_refuses_invalid_numbers(number: str) -> None:
    assert not luhn_valid(number)


def test_every_test_number_is_13_to_19_digits() -> None:
    assert {len(n) for n in CARDS.values()} >= {13, 14, 15, 16, 18, 19}


# --- typed card numbers are found ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CARDS))
def test_unbroken_card_number_is_masked(name: str) -> None:
    number = CARDS[name]
    masked, count = mask_card_numbers(f"my card is {number} thanks")
    assert (masked, count) == (f"my card is {MASK} thanks", 1)


@pytest.mark.parametrize(
    "written",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111 - 1111 - 1111 - 1111",
        "4111  1111  1111  1111",
        "4111,1111,1111,1111",
        "4111, 1111, 1111, 1111",
        "4111 1111-1111 1111",
        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
        "41 11 11 11 11 11 11 11",
        "411 111 111 111 1111",
        "3782 822463 10005",  # Amex 4-6-5
        "3056 930902 5904",  # Diners 4-6-4
    ],
)
def test_grouped_card_number_is_masked(written: str) -> None:
    masked, count = mask_card_numbers(f"card: {written}.")
    assert count == 1
    assert masked == f"card: {MASK}."


def test_card_number_over_lines_is_masked() -> None:
    masked, count = mask_card_numbers("here it is\n4111 1111\n1111 1111")
    assert count == 1
    assert digits_of(masked) == ""


def test_two_card_numbers_are_both_masked() -> None:
    masked, count = mask_card_numbers("old 4111111111111111 new 5555 5555 5555 4444")
    assert (masked, count) == (f"old {MASK} new {MASK}", 2)


def test_card_number_followed_by_expiry_and_cvc_keeps_those() -> None:
    masked, count = mask_card_numbers("4111 1111 1111 1111 12 26 123")
    assert count == 1
    assert masked == f"{MASK} 12 26 123"


def test_card_number_next_to_last4_keeps_the_last4() -> None:
    assert mask_card_numbers("4111111111111111 4821") == (f"{MASK} 4821", 1)


def test_card_number_inside_a_word_boundary_free_text() -> None:
    masked, count = mask_card_numbers("card#4111111111111111!")
    assert (masked, count) == (f"card#{MASK}!", 1)


# --- spoken card numbers are found ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["visa", "amex", "mastercard", "visa-13", "unionpay-19"])
def test_spoken_card_number_is_masked(name: str) -> None:
    text = f"sure it's {spoken(CARDS[name])} okay"
    masked, count = mask_card_numbers(text)
    assert (masked, count) == (f"sure it's {MASK} okay", 1)


@pytest.mark.parametrize(
    "said",
    [
        "Four One One One One One One One One One One One One One One One",
        "FOUR ONE ONE ONE, ONE ONE ONE ONE, ONE ONE ONE ONE, ONE ONE ONE ONE",
        "four-one-one-one one-one-one-one one-one-one-one one-one-one-one",
        "four one double one " + "one " * 12,  # 4, 1, 11 and twelve 1s: 4111111111111111
        "four triple one " + "one " * 12,  # 4, 111 and twelve 1s
        "four double one double one " + "one " * 11,
        "five five five five five five five five five five five five four four four four",
        "three oh five six nine three oh nine oh two five nine oh four",  # "oh" for zero
        "three zero five six nine three zero nine zero two five nine zero four",
    ],
)
def test_spoken_variants_are_masked(said: str) -> None:
    masked, count = mask_card_numbers(said.strip())
    assert count == 1, said
    assert masked == MASK


def test_spoken_card_number_then_expiry_in_one_breath_is_masked() -> None:
    said = spoken(CARDS["visa"]) + " one two two six"
    masked, count = mask_card_numbers(said)
    assert (masked, count) == (f"{MASK} one two two six", 1)


def test_twenty_spoken_digits_without_a_card_at_their_start_are_kept() -> None:
    said = spoken(break_check_digit(CARDS["visa"])[:-3] + "0000000")  # 20 digits, no valid prefix
    assert not any(luhn_valid(digits_of_words(said)[:n]) for n in range(13, 20))
    assert mask_card_numbers(said) == (said, 0)


def digits_of_words(text: str) -> str:
    return "".join(str(WORDS.index(w)) for w in text.split())


@pytest.mark.parametrize(
    "mixed",
    [
        "4111 one one one one 1111 1111",
        "four 111 1111 1111 1111",
        "4111 1111 1111 one one one one",
        "5555 5555 5555 four four four four",
    ],
)
def test_digits_and_words_mixed_are_masked(mixed: str) -> None:
    masked, count = mask_card_numbers(f"number {mixed} please")
    assert (masked, count) == (f"number {MASK} please", 1)


# --- what is left alone --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CARDS))
def test_luhn_invalid_numbers_are_not_masked(name: str) -> None:
    wrong = break_check_digit(CARDS[name])
    for written in (wrong, spoken(wrong), " ".join(wrong)):
        assert mask_card_numbers(written) == (written, 0), written


@pytest.mark.parametrize("name", ["visa", "visa-stripe", "mastercard", "mastercard-2series", "discover", "jcb"])
def test_luhn_invalid_16_digits_in_groups_of_4_are_not_masked(name: str) -> None:
    wrong = break_check_digit(CARDS[name])
    for separator in (" ", "-"):
        written = separator.join(wrong[i : i + 4] for i in range(0, 16, 4))
        assert mask_card_numbers(written) == (written, 0), written


def test_a_valid_card_inside_a_longer_grouped_number_is_still_masked() -> None:
    # 4111 1111 1111 1111 is a card number whatever follows it: better masked than leaked.
    assert mask_card_numbers("4111 1111 1111 1111 19") == (f"{MASK} 19", 1)


def test_a_12_digit_run_is_not_a_card_even_when_luhn_valid() -> None:
    number = with_check_digit("41111111111")
    assert len(number) == 12 and luhn_valid(number)
    assert mask_card_numbers(f"ref {number}") == (f"ref {number}", 0)


def test_a_20_digit_run_is_not_a_card_even_when_luhn_valid() -> None:
    number = with_check_digit("4111111111111111111")
    assert len(number) == 20 and luhn_valid(number)
    assert mask_card_numbers(f"ref {number}") == (f"ref {number}", 0)


def test_longer_unbroken_runs_are_not_cards() -> None:
    for length in (21, 24, 30):
        number = with_check_digit("4" * (length - 1))
        assert mask_card_numbers(number) == (number, 0)


@pytest.mark.parametrize(
    "text",
    [
        "4821",  # card last 4
        "my last four are 4821",
        "four eight two one",
        "03/14/1985",
        "03141985",  # date of birth as MMDDYYYY (IVR keypad)
        "03-14-1985",
        "March 14 1985",
        "1985-03-14",
        "78701",
        "78701-1234",  # ZIP+4
        "4821 03141985 78701",  # every verification factor in one message
        "03141985 78701",
        "$2,450.00",
        "$103.34 and $95",
        "2450.00",
        "I can pay 1,150.75 on 12/05",
        "+15125550101",
        "(512) 555-0101",
        "1-800-555-0199",
        "call me at 512 555 0101",
        "A1001",
        "PAY-4K2M8Q",
        "one more thing",
        "I owe two thousand four hundred fifty dollars",
        "",
    ],
)
def test_verification_factors_dates_amounts_and_phones_are_untouched(text: str) -> None:
    assert mask_card_numbers(text) == (text, 0)
    assert not contains_card_number(text)


def test_numbers_separated_by_ordinary_words_do_not_join() -> None:
    # Filler words ("and", "then", "dash") join groups; any other word ends the number.
    text = "4111 1111 was due before 1111 1111"
    assert mask_card_numbers(text) == (text, 0)


@pytest.mark.parametrize(
    "written",
    [
        "4111/1111/1111/1111",
        "4111.1111.1111.1111",
        "4111_1111_1111_1111",
        "4111 x 1111 x 1111 x 1111",
        "4111a1111b1111c1111",
        "4111 1111 and then 1111 1111",
        "4111*1111*1111*1111",
        "4111#1111#1111#1111",
        "4111 / 1111 / 1111 / 1111",
    ],
)
def test_numbers_separated_by_any_separator_join(written: str) -> None:
    assert mask_card_numbers(f"card {written} ok") == (f"card {MASK} ok", 1)


# --- API -----------------------------------------------------------------------------------------


def test_find_card_numbers_gives_spans_not_digits() -> None:
    text = "a 4111 1111 1111 1111 b"
    spans = find_card_numbers(text)
    assert spans == [(2, 21)]
    assert text[2:21] == "4111 1111 1111 1111"


def test_mask_keeps_everything_around_the_card() -> None:
    masked, _ = mask_card_numbers("Hi! Pay $95.00 with 4242-4242-4242-4242 on 03/14, zip 78701.")
    assert masked == f"Hi! Pay $95.00 with {MASK} on 03/14, zip 78701."


def test_custom_mask() -> None:
    assert mask_card_numbers("4111111111111111", mask="***") == ("***", 1)


def test_a_long_digit_chain_is_checked_quickly() -> None:
    text = " ".join("1234567890" * 50)  # 500 single digits in one chain
    started = time.monotonic()
    mask_card_numbers(text)
    assert time.monotonic() - started < 1.0


# --- normalization and units set aside -----------------------------------------------------------


def test_normalize_reads_unicode_digits_and_drops_invisible_characters() -> None:
    assert normalize("４\u200b1️⃣٤–x") == "414-x"


def test_mask_keeps_the_text_around_a_unicode_card_number() -> None:
    keycaps = "".join(d + "\ufe0f\u20e3" for d in "4111111111111111")
    assert mask_card_numbers(f"it is {keycaps}!") == (f"it is {MASK}!", 1)
    assert mask_card_numbers("a ４１１１ １１１１ １１１１ １１１１ b") == (f"a {MASK} b", 1)


@pytest.mark.parametrize(
    "text",
    [
        "03/14/1985 78701",
        "3/14/85 78701 4821",
        "1985-03-14 78701 4821",
        "$1,234.56 $2,345.67 $3,456.78",
        "+1 512 555 0101 4821",
    ],
)
def test_dates_amounts_and_phones_never_join_their_neighbours(text: str) -> None:
    assert mask_card_numbers(text) == (text, 0)


def test_a_card_next_to_a_date_is_still_masked() -> None:
    assert mask_card_numbers("4111 1111 1111 1111 03/14/1985") == (f"{MASK} 03/14/1985", 1)


def test_a_card_typed_in_threes_is_not_mistaken_for_a_phone_number() -> None:
    assert mask_card_numbers("422 222 222 2222") == (MASK, 1)  # ends in "222 222 2222", phone-shaped
    assert mask_card_numbers("411 111 111 111 1111") == (MASK, 1)


# --- fragments across messages -------------------------------------------------------------------


def test_fragments_of_a_message() -> None:
    assert card_fragments("4111 1111") == Fragments(("4111", "1111"), ("4111", "1111"), True)
    assert card_fragments("my card is 4111 1111") == Fragments((), ("4111", "1111"), False)
    assert card_fragments("4111 1111 is the start") == Fragments(("4111", "1111"), (), False)
    assert card_fragments("four one one one") == Fragments(("4", "1", "1", "1"), ("4", "1", "1", "1"), True)
    assert card_fragments("2") == Fragments()
    assert card_fragments("03141985") == Fragments()


def test_completes_split_card_needs_both_sides_a_card_prefix_and_luhn() -> None:
    assert completes_split_card(["4111", "1111"], ("1111", "1111"))
    assert not completes_split_card([], ("4111", "1111", "1111", "1111"))
    assert not completes_split_card(["4111", "1111"], ("1111", "1112"))
    number = with_check_digit("111111111111111")  # Luhn-valid, but no card network starts with 1
    assert not completes_split_card([number[:8]], (number[8:],))


def test_next_buffer_keeps_whole_groups_up_to_18_digits() -> None:
    previous = ["4111", "1111", "1111"]
    kept = next_buffer(previous, card_fragments("4242 42"))
    assert sum(map(len, kept)) <= 18 and kept[-1] == "42"
    assert next_buffer(previous, card_fragments("hello 4242")) == ["4242"]
    assert next_buffer(previous, card_fragments("78701")) == []


@pytest.mark.parametrize(
    "text",
    [
        "$4111111111111111",
        "$4111 1111 1111 1111",
        "4111 1111 1111 1111.00",
        "4111111111111111.00",
        "$95.00 4242 4242 4242 4242",
    ],
)
def test_an_amount_sign_or_cents_do_not_hide_a_card_number(text: str) -> None:
    masked, count = mask_card_numbers(text)
    assert count == 1 and "4111111111111111" not in re.sub(r"\D", "", masked)
    assert "4242424242424242" not in re.sub(r"\D", "", masked)


@pytest.mark.parametrize(
    "text", ["1,234.56 5,678.90 9,999.99", "$1,234.56 $2,345.67 $3,456.78", "$2,450.00 and $3,100.99"]
)
def test_amounts_next_to_amounts_stay_amounts(text: str) -> None:
    assert mask_card_numbers(text) == (text, 0)
