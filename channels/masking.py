"""Card numbers typed or spoken into a channel: found, so they can be kept away from Rasa and logs.

A card number here is a Luhn-valid run of 13 to 19 digits, written

- as one unbroken run (`4111111111111111`),
- in groups of up to 6 digits separated by spaces, dashes or commas (`4111 1111-1111 1111`,
  `3782 822463 10005`), which also covers digits typed one at a time (`4 1 1 1 ...`),
- or spoken, as a speech-to-text transcript gives it: digit words (`four one one one ...`,
  `oh` and `zero` for 0, `double five`, `triple one`), mixed freely with digits. Digits said or
  typed one at a time form one run, checked whole like a typed run.

What is deliberately not a card number: a run of 12 or 20+ unbroken digits, a group of 7 to 12
digits inside a chain (an 8-digit date of birth next to a ZIP code is not glued into a "card"),
numbers separated by anything but spaces, dashes and commas (`03/14/1985`, `$2,450.00`,
`12.5`), and numbers separated by words. Matching is on whole groups, so the last 4 digits of a
card (`4821`), a ZIP code or an amount is never touched.

The detector errs on the side of masking when digits do form a valid card number: a Luhn check
passes one random digit string in ten, which is fine for a false positive that only replaces a
message with "/card_number_shared".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "[card number removed]"
MIN_DIGITS = 13
MAX_DIGITS = 19
# In a chain, a group longer than this is not part of a card number's usual grouping (4-4-4-4,
# 4-6-5, 4-6-4): it stands alone, and is a card number only when it is one by itself.
MAX_GROUP = 6

_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_REPEATS = {"double": 2, "triple": 3}
_TOKEN = re.compile(
    r"\d+|\b(?:" + "|".join(sorted([*_WORDS, *_REPEATS], key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
# What may stand between two groups of one card number.
_SEPARATOR = re.compile(r"[\s,\-]{1,3}")


@dataclass(frozen=True)
class _Group:
    digits: str
    start: int
    end: int
    loose: bool = False  # a digit said or typed on its own ("four", "4 "), or "double one"
    ends: tuple[int, ...] = ()  # loose runs: where each digit ends in the text


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _chains(text: str) -> list[list[_Group]]:
    """Digit groups (digit runs and digit words) in order, split wherever something other than a
    short separator stands between two of them."""
    chains: list[list[_Group]] = []
    current: list[_Group] = []
    pending_repeat: tuple[int, int] | None = None  # ("double" seen: how many, where it started)
    previous_end = -1
    for match in _TOKEN.finditer(text):
        token = match.group(0).lower()
        gap = text[previous_end:match.start()] if previous_end >= 0 else ""
        joined = previous_end >= 0 and (gap == "" or _SEPARATOR.fullmatch(gap) is not None)
        if not joined:
            if current:
                chains.append(current)
            current = []
            pending_repeat = None
        previous_end = match.end()
        if token in _REPEATS:
            pending_repeat = (_REPEATS[token], match.start())
            continue
        digits = _WORDS.get(token, token)
        start = match.start()
        loose = len(digits) == 1
        if pending_repeat is not None:
            times, start = pending_repeat
            pending_repeat = None
            if loose:
                digits *= times
        group = _Group(digits, start, match.end(), loose, (match.end(),) * len(digits) if loose else ())
        if loose and current and current[-1].loose:
            # Digits one at a time ("four one one one ...") are one run, checked whole like a
            # typed run: otherwise some 13-19 digit stretch of any long spoken number would pass.
            previous = current.pop()
            group = _Group(previous.digits + digits, previous.start, match.end(), True, previous.ends + group.ends)
        current.append(group)
    if current:
        chains.append(current)
    return chains


def _card_spans_in_chain(chain: list[_Group]) -> list[tuple[int, int]]:
    """Leftmost-longest runs of whole groups that form a Luhn-valid 13-19 digit number."""
    spans: list[tuple[int, int]] = []
    # Long groups stand alone; the groups between them are searched as separate sub-chains.
    runs: list[list[_Group]] = [[]]
    for group in chain:
        if len(group.digits) > MAX_GROUP:
            if MIN_DIGITS <= len(group.digits) <= MAX_DIGITS and luhn_valid(group.digits):
                spans.append((group.start, group.end))
            elif group.loose and len(group.digits) > MAX_DIGITS:
                # Said in one breath: a card number, then its expiry or security code.
                for length in range(MAX_DIGITS, MIN_DIGITS - 1, -1):
                    if luhn_valid(group.digits[:length]):
                        spans.append((group.start, group.ends[length - 1]))
                        break
            runs.append([])
        else:
            runs[-1].append(group)
    for run in runs:
        i = 0
        while i < len(run):
            found = None
            digits = ""
            for j in range(i, len(run)):
                digits += run[j].digits
                if len(digits) > MAX_DIGITS:
                    break
                # Keep the longest: a 16-digit card is not cut short by a 13-digit prefix that passes too.
                if len(digits) >= MIN_DIGITS and luhn_valid(digits):
                    found = j
            if found is None:
                i += 1
                continue
            spans.append((run[i].start, run[found].end))
            i = found + 1
    return spans


def find_card_numbers(text: str) -> list[tuple[int, int]]:
    """(start, end) of every card number in `text`, in order. Never returns the digits."""
    spans = [span for chain in _chains(text or "") for span in _card_spans_in_chain(chain)]
    return sorted(spans)


def contains_card_number(text: str) -> bool:
    return bool(find_card_numbers(text))


def mask_card_numbers(text: str, mask: str = MASK) -> tuple[str, int]:
    """`text` with each card number replaced by `mask`, and how many were replaced."""
    spans = find_card_numbers(text)
    if not spans:
        return text, 0
    parts: list[str] = []
    cursor = 0
    for start, end in spans:
        parts.append(text[cursor:start])
        parts.append(mask)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts), len(spans)
