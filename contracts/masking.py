"""Card numbers typed, keyed or spoken into a channel: found, so they can be kept away from Rasa,
logs and the databases. Pure functions, shared by the connectors (rasa server) and the payments
service (console, reports, handoffs, compliance).

A card number here is a Luhn-valid run of 13 to 19 digits. Before looking, the text is
normalized (`normalize`): Unicode NFKC (fullwidth, circled, superscript and mathematical digits
become 0-9), digits of any script become 0-9, format characters (zero-width spaces and joiners,
soft hyphens, BOM) and combining marks (the keycap of "4️⃣", variation selectors) are dropped,
dashes of every kind become "-", and case is folded. Then a card number may be written

- as one unbroken run (`4111111111111111`);
- in groups of up to 6 digits, any grouping, with a separator between groups: spaces, and up to
  two short pieces that are punctuation (`.` `/` `-` `_` `,` `*` `#` `|` `~` `:` `;` `·` `•`), a
  single letter (`4111 x 1111`, `4111a1111`) or a filler word (`and`, `then`, `dash`, `slash`,
  `dot`, `star`, `pound`, ...); digits typed one at a time (`4 1 1 1 ...`) are one run;
- spoken, as a speech-to-text transcript gives it: digit words and their homophones (`oh`/`o`
  and `zero`, `won`, `to`/`too`, `for`/`fore`, `ate`, `niner`), teens and tens (`forty one
  eleven`), `double five`, `triple one`, Spanish digit words, mixed freely with digits.

What stands between two groups and is none of those breaks the chain: any other word, `$`, `%`,
`+`, parentheses. Matching is on whole groups, so a card's last 4 (`4821`), a ZIP code or an
amount next to a card is never swallowed. Before chaining, these are set aside as units that never
join anything: dates (`03/14/1985`, `3.14.85`, `1985-03-14`), amounts (`$1,234.56`, `2450.00`;
only standing alone or among amounts, so "$4111..." or "...1111.00" is still read as a card number)
and formatted US phone numbers (`+1 512 555 0101`, `(512) 555-0101`, `1-800-555-0199`, and a
standalone 3-3-4 number). A group longer than 6 digits stands alone: an 8-digit date of birth
next to a ZIP code is not glued into a "card".

A number split across messages is found by `completes_split_card` over the digits each message
ends with (`card_fragments`): the connectors keep those in their channel store for a short while
(channels/card_buffer.py). Across messages the rules are stricter (see there), because a
conversation's verification answers, one per message, are digits too.

The detector errs on the side of masking when digits do form a valid card number: a Luhn check
passes one random digit string in ten, which is fine for a false positive that only replaces a
message with "/card_number_shared" (the customer is offered the secure payment path).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MASK = "[card number removed]"
MIN_DIGITS = 13
MAX_DIGITS = 19
# In a chain, a group longer than this is not part of a card number's usual grouping (4-4-4-4,
# 4-6-5, 4-6-4): it stands alone, and is a card number only when it is one by itself.
MAX_GROUP = 6

# --- spoken digits -------------------------------------------------------------------------------

# Digit words and their homophones, as speech-to-text writes what callers say. Spanish digit
# words too: callers switch language mid-number. Never the word "no".
_UNITS = {
    "0": "zero oh o cero",
    "1": "one won uno",
    "2": "two to too dos",
    "3": "three tres",
    "4": "four for fore cuatro",
    "5": "five cinco",
    "6": "six seis",
    "7": "seven siete",
    "8": "eight ate ocho",
    "9": "nine niner nueve",
}
UNIT_WORDS = {word: digit for digit, words in _UNITS.items() for word in words.split()}
TEEN_WORDS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
TENS_WORDS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fourty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
REPEAT_WORDS = {"double": 2, "triple": 3}
# Words that may stand between two groups of one number ("four one one one dash one one ...").
FILLER_WORDS = frozenset("and then dash hyphen space slash dot point star pound hash comma next y guion".split())

_ALL_WORDS = sorted([*UNIT_WORDS, *TEEN_WORDS, *TENS_WORDS, *REPEAT_WORDS], key=len, reverse=True)
_TOKEN = re.compile(r"\d+|\b(?:" + "|".join(_ALL_WORDS) + r")\b")

# --- separators ------------------------------------------------------------------------------------

_PUNCT = r"[.,/\\\-_*#|~:;·•]"
_PIECE = re.compile(rf"{_PUNCT}{{0,3}}(?:[a-z]|{'|'.join(sorted(FILLER_WORDS))})?{_PUNCT}{{0,3}}")
_MAX_GAP = 16  # characters between two groups of one number
_BARRIER = "\x00"  # what a set-aside unit (date, amount, phone) becomes: joins nothing

# --- units set aside before chaining ---------------------------------------------------------------

_NOT_AFTER = r"(?<![\d.,/\-_*#])"  # not the continuation of a longer chain of digits
_NOT_BEFORE = r"(?![.,/\-_*#]?\d)"
_DATE_MDY = re.compile(_NOT_AFTER + r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _NOT_BEFORE)
_DATE_ISO = re.compile(_NOT_AFTER + r"(?:19|20)\d{2}([/.\-])(\d{1,2})\1(\d{1,2})" + _NOT_BEFORE)
# Amounts, as a customer writes them. One stands aside only when the digits next to it (with at
# most two spaces between) are amounts too: a card number with "$" in front or ".00" after is
# still a card number, while "$1,234.56 $2,345.67" are two amounts.
_MONEY = re.compile(
    _NOT_AFTER + r"(?:[$€£¥]\s?(?:\d{1,3}(?:,\d{3})+|\d{1,6})(?:\.\d{1,2})?"
    r"|(?:\d{1,3}(?:,\d{3})+|\d{1,6})\.\d{2})" + _NOT_BEFORE
)
_NEIGHBOUR_BEFORE = re.compile(r"(\d)\s{0,2}$")
_NEIGHBOUR_AFTER = re.compile(r"^\s{0,2}[$€£¥]?\s?\d")


def _amounts(text: str) -> list[tuple[int, int]]:
    """Spans of the amounts in `text` that stand among amounts or alone."""
    spans = [(m.start(), m.end()) for m in _MONEY.finditer(text)]
    covered = {index for start, end in spans for index in range(start, end)}

    def in_amount(index: int) -> bool:
        return index in covered

    kept = []
    for start, end in spans:
        offset = max(0, start - 3)
        before = _NEIGHBOUR_BEFORE.search(text[offset:start])
        if before and not in_amount(offset + before.start(1)):
            continue
        after = _NEIGHBOUR_AFTER.match(text[end : end + 4])
        if after and not in_amount(end + after.end() - 1):
            continue
        kept.append((start, end))
    return kept


# A US phone number as people format it: with +1 or 1- in front or the area code in parentheses,
# or a bare 3-3-4 standing alone (not inside a longer chain of groups: a card typed in threes
# contains 3-3-4 stretches, preceded or followed by more digits).
_PHONE_MARKED = re.compile(
    r"(?<!\d)(?:(?:\+\s?1[\s.\-]?|\b1[\s.\-])(?:\(\s?[2-9]\d{2}\s?\)|[2-9]\d{2})|\(\s?[2-9]\d{2}\s?\))"
    r"[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}(?!\d)"
)
_PHONE_BARE = re.compile(
    r"(?<!\d)(?<!\d[\s.\-])(?<!\d[\s.\-]{2})\b[2-9]\d{2}[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}(?!\d)(?![\s.\-]{1,2}\d)"
)


def _dropped(char: str) -> bool:
    """Invisible characters that can sit inside a number without showing: format characters (Cf:
    zero-width space/joiner, word joiner, BOM, soft hyphen), combining marks (Mn, Me: the keycap
    U+20E3, variation selectors) and control characters other than whitespace."""
    category = unicodedata.category(char)
    return category in ("Cf", "Mn", "Me") or (category == "Cc" and not char.isspace())


def _normalize_char(char: str) -> str:
    if _dropped(char):
        return ""
    category = unicodedata.category(char)
    if category == "Nd":
        return str(unicodedata.decimal(char))  # Arabic-Indic, Devanagari, fullwidth... digits
    if category == "Pd":
        return "-"
    if char.isspace():
        return " " if char not in "\n\r" else "\n"
    return unicodedata.normalize("NFKC", char).casefold()


def _normalized(text: str) -> tuple[str, list[int]]:
    """The text detection reads, and for each of its characters the index in `text` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for out in _normalize_char(char):
            if unicodedata.category(out) == "Nd" and not "0" <= out <= "9":
                out = str(unicodedata.decimal(out))  # NFKC of ① is 1, of ١ stays ١
            chars.append(out)
            origin.append(index)
    normalized = "".join(chars)
    for start, end in _amounts(normalized):
        chars[start:end] = _BARRIER * (end - start)
    normalized = "".join(chars)
    for pattern in (_DATE_MDY, _DATE_ISO, _PHONE_MARKED, _PHONE_BARE):
        normalized = pattern.sub(lambda m: m.group(0) if not _is_unit(m) else _BARRIER * len(m.group(0)), normalized)
    return normalized, origin


def _is_unit(match: re.Match[str]) -> bool:
    """A date must be a plausible one (a month and a day, either order), so `41.11.11` is not."""
    if match.re is _DATE_MDY:
        first, second = int(match.group(1)), int(match.group(3))
        return (1 <= first <= 12 and 1 <= second <= 31) or (1 <= second <= 12 and 1 <= first <= 31)
    if match.re is _DATE_ISO:
        return 1 <= int(match.group(2)) <= 12 and 1 <= int(match.group(3)) <= 31
    return True


def normalize(text: str) -> str:
    """`text` as the detector reads it (see the module docstring); for tests and diagnostics."""
    return _normalized(text or "")[0].replace(_BARRIER, " ")


def _joinable(gap: str) -> bool:
    """Whether `gap` may stand between two groups of one number."""
    if gap == "":
        return True
    if len(gap) > _MAX_GAP or _BARRIER in gap:
        return False
    pieces = gap.split()
    return len(pieces) <= 2 and all(_PIECE.fullmatch(piece) for piece in pieces)


# --- chains of groups ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    digits: str
    start: int  # in the normalized text
    end: int
    loose: bool = False  # digits said or typed one at a time ("four", "4 "), or "double one"
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


@dataclass(frozen=True)
class _Token:
    digits: str  # "" for "double"/"triple"
    start: int
    end: int
    spoken: bool
    repeat: int = 0


def _tokens(text: str) -> list[_Token]:
    """Digit runs and digit words in order; "forty one" becomes one token "41"."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        if word.isdigit():
            tokens.append(_Token(word, match.start(), match.end(), spoken=False))
        elif word in REPEAT_WORDS:
            tokens.append(_Token("", match.start(), match.end(), spoken=True, repeat=REPEAT_WORDS[word]))
        elif word in TEEN_WORDS:
            tokens.append(_Token(TEEN_WORDS[word], match.start(), match.end(), spoken=True))
        elif word in TENS_WORDS:
            tokens.append(_Token(TENS_WORDS[word] + "0", match.start(), match.end(), spoken=True))
        else:
            digit = UNIT_WORDS[word]
            previous = tokens[-1] if tokens else None
            if (
                digit != "0"
                and previous is not None
                and previous.spoken
                and previous.digits.endswith("0")
                and len(previous.digits) == 2
                and text[previous.start : previous.end] in TENS_WORDS
                and text[previous.end : match.start()] in (" ", "-", "")
            ):
                tokens[-1] = _Token(previous.digits[0] + digit, previous.start, match.end(), spoken=True)
            else:
                tokens.append(_Token(digit, match.start(), match.end(), spoken=True))
    return tokens


def _chains_with_gaps(text: str) -> list[tuple[list[_Group], str, str]]:
    """Chains of digit groups, split wherever something that is not a separator stands between
    two of them; each with the text before its first and after its last group."""
    chains: list[tuple[list[_Group], int, int]] = []
    current: list[_Group] = []
    chain_start = 0
    pending_repeat: tuple[int, int] | None = None  # ("double" seen: how many, where it started)
    previous_end = -1
    for token in _tokens(text):
        if previous_end >= 0 and not _joinable(text[previous_end : token.start]):
            if current:
                chains.append((current, chain_start, previous_end))
            current = []
            pending_repeat = None
        if not current and pending_repeat is None:
            chain_start = token.start
        previous_end = token.end
        if token.repeat:
            pending_repeat = (token.repeat, token.start)
            continue
        digits, start = token.digits, token.start
        loose = token.spoken or len(digits) == 1
        if pending_repeat is not None:
            times, start = pending_repeat
            pending_repeat = None
            if len(digits) == 1:
                digits *= times
        group = _Group(digits, start, token.end, loose, (token.end,) * len(digits) if loose else ())
        if loose and current and current[-1].loose:
            # Digits one at a time ("four one one one ...") are one run, checked whole like a
            # typed run: otherwise some 13-19 digit stretch of any long spoken number would pass.
            previous = current.pop()
            group = _Group(previous.digits + digits, previous.start, token.end, True, previous.ends + group.ends)
        current.append(group)
    if current:
        chains.append((current, chain_start, previous_end))
    return [(chain, text[:start], text[end:]) for chain, start, end in chains]


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
    """(start, end) in `text` of every card number, in order. Never returns the digits."""
    text = text or ""
    normalized, origin = _normalized(text)
    spans: list[tuple[int, int]] = []
    for chain, _, _ in _chains_with_gaps(normalized):
        for start, end in _card_spans_in_chain(chain):
            original_end = origin[end - 1] + 1
            while original_end < len(text) and _dropped(text[original_end]):
                original_end += 1  # the keycap and variation selector after the last digit
            spans.append((origin[start], original_end))
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


# --- numbers split across messages ---------------------------------------------------------------

# A fragment is the digits one message starts or ends with; shorter ones (a button number "2",
# a day "15") neither continue nor start a split card number.
MIN_FRAGMENT_DIGITS = 4
MAX_BUFFERED_DIGITS = MAX_DIGITS - 1  # at least one digit must come from the message that completes it
# Across messages the number must also start like a payment card (Visa 4, Mastercard 2 and 5,
# Amex and Diners 3, Discover and UnionPay 6): verification answers one per message (last 4, ZIP,
# phone) are digits too, and a Luhn check alone passes one join in ten.
CARD_FIRST_DIGITS = frozenset("23456")


@dataclass(frozen=True)
class Fragments:
    """The digit groups a message starts with and ends with (a loose run counts digit by digit,
    since a speaker may pause anywhere). `whole`: the message is nothing but that one chain, so
    it continues the previous fragments and may be continued in turn."""

    leading: tuple[str, ...] = ()
    trailing: tuple[str, ...] = ()
    whole: bool = False


def _groups_of(chain: list[_Group]) -> tuple[str, ...]:
    groups: list[str] = []
    for group in chain:
        groups.extend(group.digits if group.loose else [group.digits])
    return tuple(groups)


def _date_shaped(digits: str) -> bool:
    """A date of birth typed or said without separators (MMDDYY, MMDDYYYY, DDMMYYYY, YYYYMMDD): the
    second factor our verification asks for, one message after the card's last 4."""

    def plausible(month: str, day: str) -> bool:
        return 1 <= int(month) <= 12 and 1 <= int(day) <= 31

    if len(digits) == 6:
        return plausible(digits[:2], digits[2:4]) or plausible(digits[2:4], digits[:2])
    if len(digits) == 8:
        if digits[:2] in ("19", "20") and plausible(digits[4:6], digits[6:]):
            return True
        return digits[4:6] in ("19", "20") and (
            plausible(digits[:2], digits[2:4]) or plausible(digits[2:4], digits[:2])
        )
    return False


def card_fragments(text: str) -> Fragments:
    """The fragments of `text` that may belong to a card number split across messages."""
    normalized, _ = _normalized(text or "")
    chains = _chains_with_gaps(normalized)
    if not chains:
        return Fragments()
    first, before, _ = chains[0]
    last, _, after = chains[-1]
    leading = _groups_of(first) if _joinable(before.strip()) else ()
    trailing = _groups_of(last) if _joinable(after.strip(" .!\n")) else ()
    if sum(map(len, leading)) < MIN_FRAGMENT_DIGITS or _date_shaped("".join(leading)):
        leading = ()
    if sum(map(len, trailing)) < MIN_FRAGMENT_DIGITS or _date_shaped("".join(trailing)):
        trailing = ()
    whole = len(chains) == 1 and bool(leading) and bool(trailing)
    return Fragments(leading, trailing, whole)


def completes_split_card(previous: list[str], leading: tuple[str, ...] | list[str]) -> bool:
    """Whether the buffered groups of earlier messages (`previous`, oldest first) followed by the
    first groups of this message form a card number that uses both. Windows start and end on
    group boundaries; 13-19 digits, a card network's first digit, Luhn."""
    if not previous or not leading:
        return False
    for i in range(len(previous)):
        head = "".join(previous[i:])
        if not head or head[0] not in CARD_FIRST_DIGITS or len(head) >= MAX_DIGITS:
            continue
        digits = head
        for group in leading:
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and luhn_valid(digits):
                return True
    return False


def next_buffer(previous: list[str], fragments: Fragments) -> list[str]:
    """The groups to keep after a message that did not complete a card: this message continues
    the buffer when it is nothing but digits, else only what it ends with counts. At most the
    last `MAX_BUFFERED_DIGITS` digits, in whole groups. An odd number of digits is never
    continued: card groups are 4 or 6 digits (only the last group of a number has 3 or 5), while
    a ZIP code has 5 or 9."""
    if sum(map(len, fragments.trailing)) % 2:
        return []
    if fragments.whole and previous:
        groups = [*previous, *fragments.trailing]
    else:
        groups = list(fragments.trailing)
    kept: list[str] = []
    total = 0
    for group in reversed(groups):
        if total + len(group) > MAX_BUFFERED_DIGITS:
            break
        kept.insert(0, group)
        total += len(group)
    return kept


# --- logs ----------------------------------------------------------------------------------------

_NUMBER_WORDS = re.compile(
    r"\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|niner|"
    + "|".join(TEEN_WORDS)
    + "|"
    + "|".join(TENS_WORDS)
    + r"|double|triple)\b",
    re.IGNORECASE,
)


def redact_digits(text: str) -> str:
    """`text` for a log line: every digit (of any script, keycaps too) and every unambiguous digit
    word becomes "#", so no card fragment, date of birth or ZIP code reaches a log."""
    text = "".join(
        "#" if unicodedata.category(c) == "Nd" or _normalize_char(c).isdigit() else c
        for c in (text or "")
        if not _dropped(c)
    )
    return _NUMBER_WORDS.sub("#", text)
