"""The entity finder, without Rasa: spaCy tokenization and the `Matcher` of entity_patterns.py,
each match read by a handler into a normalized candidate (pure functions of the tokens and
today, on top of numbers.py and dates.py), overlapping candidates settled by priority, and the
distress matcher run on the same tokens. `EntityFinder.find(text, today)` is what the component
(entities.py) calls; tests/bot/components/test_entity_parsers.py tests it on whole messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import spacy
from rasa.shared.nlu.constants import (
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
)
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.util import compile_suffix_regex

from bot.components import dates, numbers
from bot.components.distress import SELF_HARM, DistressHit, DistressMatcher
from bot.components.entity_patterns import (
    AMOUNT,
    CARD_LAST4,
    CARD_WORDS,
    CLAUSE_BREAKS,
    CLAUSE_END_OK,
    DATE,
    DATE_PREPS,
    DOB,
    DONE_WORDS,
    HISTORY_WORDS,
    MONTH_UNITS,
    MONTHS,
    NEGATING_PAIRS,
    NEGATORS,
    NOT_A_PLAN_LENGTH_AFTER,
    NOT_A_PLAN_LENGTH_BEFORE,
    NOT_AN_AMOUNT_AFTER,
    OTHER_NUMBER_WORDS,
    P_DATE,
    P_DAY_OF_MONTH,
    P_DIGITS,
    P_FULL_DATE,
    P_LONE_NUMBER,
    P_MONEY,
    P_MONEY_CONTEXT,
    P_MONTHS,
    P_PLAN,
    P_PLAN_EXPLICIT,
    PATTERNS,
    PLAN_CHOICE,
    SELF_HARM_ENTITY,
    WHOLE_MESSAGE_FILLERS,
    YEAR_CONTEXT_BEFORE,
    YEAR_PREPS,
    YEAR_UNITS,
    ZIP,
)

# Straight quotes for curly ones: same length, so character offsets stay those of the input.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


@dataclass
class _Candidate:
    entity: str
    value: Any
    start: int  # token index
    end: int
    priority: int
    group: int | None = None  # candidates in one group may share a span


@dataclass
class _Context:
    doc: Doc
    today: date
    birth: bool  # the message talks about birth: full dates are dates of birth
    card: bool  # ... about the card: a 4-digit year-like number is still a last-4
    past: bool  # ... about something already done: bare weekdays and days look back
    words: list[str] = field(default_factory=list)


@dataclass
class Findings:
    entities: list[dict[str, Any]]
    distress: list[DistressHit]


def build_nlp() -> Language:
    """`spacy.blank("en")` whose tokenizer also splits units glued to digits (`200dollars`,
    `6mo`, `5k`, `10days`), so the matcher sees the number and the unit as tokens."""
    nlp = spacy.blank("en")
    units = [
        "dollars",
        "dollar",
        "bucks",
        "usd",
        "months",
        "month",
        "mos",
        "mo",
        "mths",
        "k",
        "days",
        "day",
        "weeks",
        "week",
        "wks",
        "wk",
        "years",
        "year",
        "yrs",
        "yr",
        "grand",
    ]
    ci = ["".join(f"[{c.lower()}{c.upper()}]" for c in unit) for unit in units]
    suffixes = [*nlp.Defaults.suffixes, rf"(?<=[0-9])(?:{'|'.join(ci)})"]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    return nlp


class EntityFinder:
    """spaCy tokenization + matching, normalized by numbers.py/dates.py. No Rasa here."""

    def __init__(self) -> None:
        self.nlp = build_nlp()
        self.matcher = Matcher(self.nlp.vocab)
        for key, patterns in PATTERNS.items():
            self.matcher.add(key, patterns, greedy="LONGEST")
        self.distress = DistressMatcher(self.nlp)
        self._handlers: dict[str, Callable[[_Context, int, int], list[_Candidate]]] = {
            "money": self._money,
            "money_context": self._money_context,
            "months": self._months,
            "date_word": self._date_word,
            "weekday": self._weekday,
            "date_relative": self._date_relative,
            "date_calendar": self._date_calendar,
            "date_numeric": self._date_numeric,
            "month_first": self._month_first,
            "day_first": self._day_first,
            "day_of_month": self._day_of_month,
            "plan_ordinal": self._plan_ordinal,
            "plan_number": self._plan_number,
            "digits": self._digits,
            **{
                key: self._plan_named
                for key in PATTERNS
                if key.startswith("plan_") and key not in ("plan_ordinal", "plan_number")
            },
        }

    def find(self, text: str, today: date) -> Findings:
        doc = self.nlp(text.translate(_QUOTES))
        words = [t.lower_ for t in doc]
        ctx = _Context(
            doc,
            today,
            birth=bool(dates.BIRTH_WORDS & set(words)),
            card=bool(CARD_WORDS & set(words)),
            past=bool(DONE_WORDS & set(words)),
            words=words,
        )
        candidates: list[_Candidate] = []
        for match_id, start, end in self.matcher(doc):
            key = self.nlp.vocab.strings[match_id]
            candidates.extend(self._handlers[key](ctx, start, end))
        candidates.extend(self._lone_number(ctx))
        months_found = any(c.entity == MONTHS for c in candidates)
        if months_found:  # "pay it off in 6 months" is a plan length, not "pay in full"
            candidates = [c for c in candidates if not (c.entity == PLAN_CHOICE and c.value == "full")]
        entities = [self._entity(doc, c) for c in _resolve(candidates)]
        hits = self.distress.find(doc)
        self_harm = next((h for h in hits if h.kind == SELF_HARM), None)
        if self_harm:
            entities.append(_entity_dict(SELF_HARM_ENTITY, True, self_harm.start_char, self_harm.end_char))
        entities.sort(key=lambda e: (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_TYPE]))
        return Findings(entities, hits)

    @staticmethod
    def _entity(doc: Doc, c: _Candidate) -> dict[str, Any]:
        span = doc[c.start : c.end]
        return _entity_dict(c.entity, c.value, span.start_char, span.end_char)

    # money ------------------------------------------------------------------------------

    def _money(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        read = numbers.read_money(ctx.words[start:end])
        if read is None:
            return []
        cents, first, last = read
        return [_Candidate(AMOUNT, cents, start + first, start + last, P_MONEY)]

    def _money_context(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        """`pay 310`, `i can do two hundred`, `payment of 75`: a number right after a paying
        word (with at most three fillers) is an amount, unless a unit or date follows it."""
        words = ctx.words[start:end]
        first = next((i for i in range(1, len(words)) if _is_number_token(ctx.doc[start + i])), None)
        if first is None:  # the pattern matched a digit run too long to be a number
            return []
        if "at" in words[:first] and not {"least", "most"} & set(words[:first]):
            return []  # "pay at 3": a time
        parsed = numbers.parse_number_prefix(words[first:])
        if parsed is None:
            return []
        value, used = parsed
        run = _number_run_length(ctx, start + first)
        if used < run:  # "pay one fifty": not "one" but the spoken shorthand, or nothing
            spoken = numbers.parse_dollars(words[first : first + run], colloquial=True)
            if spoken is None:
                return []
            value, used = spoken, run
        after = start + first + used
        span_start = start + first - (1 if words[first - 1] in ("a", "an") else 0)  # "pay a hundred"
        if after < len(ctx.doc) and (
            ctx.words[after] in NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS
            or ctx.words[after] in _MONTH_NAMES
            or ctx.doc[after].text == "/"
        ):
            return []
        cents = numbers.to_cents(value)
        if not cents:
            return []
        return [_Candidate(AMOUNT, cents, span_start, after, P_MONEY_CONTEXT)]

    # months -----------------------------------------------------------------------------

    def _months(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        """A plan length in months: `6 months`, `six-month plan`, `over a year`, `half a year`,
        `a year and a half`. Not a delinquency or a history: `3 months behind`, `last 6 months`."""
        words = ctx.words[start:end]
        if end < len(ctx.doc) and ctx.words[end] in NOT_A_PLAN_LENGTH_AFTER:
            return []
        if start > 0 and ctx.words[start - 1] in NOT_A_PLAN_LENGTH_BEFORE:
            return []
        if start > 0 and ctx.words[start - 1] == "for" and _clause_has(ctx, start, HISTORY_WORDS):
            return []  # "I've been out of work for three months": a history, not a plan
        if words[0] in YEAR_PREPS:
            start, words = start + 1, words[1:]
        if words[0] == "half":
            return [_Candidate(MONTHS, 6, start, end, P_MONTHS)]
        unit_index = next(i for i, w in enumerate(words) if _is_time_unit(w))
        per_unit = 12 if words[unit_index].startswith(("year", "yr")) else 1
        count_words = [w for w in words[:unit_index] if w != "-"]
        count = dates.parse_small_count(count_words) if count_words else 1
        if count is None:  # "pay 200 6 months": the longest tail that is a count
            for i in range(1, len(count_words)):
                if (count := numbers.parse_int(count_words[i:])) is not None:
                    start += i
                    break
            else:
                return []
        months = count * per_unit + (6 if words[-1] == "half" else 0)
        if not 1 <= months <= 120:
            return []
        return [_Candidate(MONTHS, months, start, end, P_MONTHS)]

    # dates ------------------------------------------------------------------------------

    def _date_word(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        d = dates.simple_relative(ctx.words[start:end], ctx.today)
        return [_Candidate(DATE, d.isoformat(), start, end, P_DATE)] if d else []

    def _weekday(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        words = ctx.words[start:end]
        modifier: str | None
        if words[-2:] == ["next", "week"]:
            day, modifier = dates.weekday_number(words[0]), "next"
        else:
            day = dates.weekday_number(words[-1], allow_short=True)
            modifier = words[0] if len(words) > 1 else None
        if day is None:
            return []
        if words[0] in ("on", "by", "until", "till", "til", "before"):
            start += 1
        if ctx.past and modifier in (None, "on"):
            modifier = "most_recent"  # "I paid on friday"
        d = dates.weekday_date(day, modifier, ctx.today)
        return [_Candidate(DATE, d.isoformat(), start, end, P_DATE)]

    def _date_relative(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        """`in two weeks`, `within 10 days`, `in a couple of days`, `10 days from now`,
        `in a month` (longer counts of months are plan lengths: see `_months`)."""
        words = ctx.words[start:end]
        base = ctx.today
        if "from" in words:
            unit_index = words.index("from") - 1
            count_words = words[:unit_index]
            if words[-1] in ("tomorrow", "tmrw"):
                base = dates.relative_date(1, "day", ctx.today) or ctx.today
        else:
            unit_index = len(words) - 1
            count_words = words[1:unit_index]
        count = dates.parse_small_count(count_words)
        d = dates.relative_date(count, words[unit_index], base) if count is not None else None
        return [_Candidate(DATE, d.isoformat(), start, end, P_DATE)] if d else []

    def _date_calendar(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        words = ctx.words[start:end]
        if words[0] == "next":
            d = dates.next_week(ctx.today) if words[1] in ("week", "wk") else dates.next_month(ctx.today)
        else:
            d = dates.end_of_month(ctx.today, 1 if "next" in words else 0)
        return [_Candidate(DATE, d.isoformat(), start, end, P_DATE)]

    def _date_numeric(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        span = ctx.doc[start:end]
        if any(t.whitespace_ for t in span[:-1]):
            return []  # "2027 - 03 - 15" is not typed as a date
        if end < len(ctx.doc) and ctx.words[end] == "of" and len(span) == 1:
            return []  # "1/2 of it": a fraction
        parsed = dates.parse_numeric_date(span.text, ctx.today, birth=ctx.birth)
        if parsed is None:
            return []
        return [self._dated(ctx, *parsed, start, end)]

    def _month_first(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        words = ctx.words[start:end]
        month = dates.month_number(words[0])
        rest_start = 2 if words[1:2] == ["the"] else 1
        split = dates.split_day_year(words[rest_start:], ctx.today, allow_two_digit_year=True, birth=ctx.birth)
        if month is None or split is None:
            return []
        day, year, used = split
        return self._month_day_year(ctx, month, day, year, start, start + rest_start + used)

    def _day_first(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        words = ctx.words[start:end]
        month_index = next(i for i, w in enumerate(words) if dates.month_number(w) is not None and i > 0)
        before = dates.parse_day_before_month(words[:month_index])
        if before is None:
            return []
        day, used_before = before
        rest = words[month_index + 1 :]
        year, used_after = None, 0
        skip = 1 if rest[:1] == [","] else 0
        for year_len in range(min(5, len(rest) - skip), 0, -1):
            after = start + month_index + 1 + skip + year_len
            ends = after >= len(ctx.doc) or ctx.doc[after].is_punct
            year = numbers.parse_year(rest[skip : skip + year_len], two_digit=ends)
            if year is not None:
                year = dates.full_year(year, ctx.today, birth=ctx.birth) if year < 100 else year
                used_after = skip + year_len
                break
        first = start + month_index - used_before
        month = dates.month_number(words[month_index])
        if month is None:  # found above: never
            return []
        return self._month_day_year(ctx, month, day, year, first, start + month_index + 1 + used_after)

    def _month_day_year(
        self, ctx: _Context, month: int, day: int, year: int | None, start: int, end: int
    ) -> list[_Candidate]:
        if year is None:
            d = dates.month_day_date(month, day, ctx.today)
            return [_Candidate(DATE, d.isoformat(), start, end, P_DATE)] if d else []
        try:
            d = date(year, month, day)
        except ValueError:
            return []
        return [self._dated(ctx, d, True, start, end)]

    def _dated(self, ctx: _Context, d: date, has_year: bool, start: int, end: int) -> _Candidate:
        if has_year and dates.is_birth_date(d, ctx.today, birth_context=ctx.birth):
            return _Candidate(DOB, d.isoformat(), start, end, P_FULL_DATE)
        return _Candidate(DATE, d.isoformat(), start, end, P_FULL_DATE)

    def _day_of_month(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        words = ctx.words[start:end]
        has_prep = words[0] in DATE_PREPS
        core = words[1:] if has_prep else words
        has_the = core[:1] == ["the"]
        core = core[1:] if has_the else core
        month_offset = None
        if core[-2:] in (["the", "month"], ["this", "month"], ["next", "month"]):
            month_offset = 1 if core[-2] == "next" else 0
            core = core[:-3]
        ordinal = numbers.parse_ordinal(core)
        if ordinal is None and has_prep:  # "on the 15": a cardinal after "on the"
            parsed = numbers.parse_number_prefix(core)
            if parsed is None or "." in core[0]:
                return []
            ordinal, used = int(parsed[0]), parsed[1]
            end = start + (len(words) - len(core)) + used
            if end < len(ctx.doc) and ctx.words[end] in NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS:
                return []
        if ordinal is None or not 1 <= ordinal <= 31:
            return []
        if has_prep:
            start += 1
        if ctx.past and month_offset is None:
            d = dates.day_of_month_date(ordinal, ctx.today, past=True)  # "sent it on the 3rd"
        else:
            d = dates.day_of_month_date(ordinal, ctx.today, month_offset)
        if d is None:
            return []
        # "the first of next month" outranks the "next month" inside it
        priority = P_DATE if month_offset is not None else P_DAY_OF_MONTH
        date_candidate = _Candidate(DATE, d.isoformat(), start, end, priority)
        spelled = core[-1] in numbers.ORDINALS
        if has_prep or month_offset is not None or ordinal > 9 or not spelled:
            return [date_candidate]
        if not has_the:
            return []  # "first I want to know..."
        after = ctx.doc[end] if end < len(ctx.doc) else None
        if after is not None and not after.is_punct and after.lower_ not in CLAUSE_END_OK:
            return []  # "the first payment"
        # "the second": a plan choice or the 2nd of the month; the asking form decides.
        group = id(date_candidate)
        date_candidate.group = group
        return [date_candidate, _Candidate(PLAN_CHOICE, str(ordinal), start, end, P_DAY_OF_MONTH, group)]

    # plan choices -----------------------------------------------------------------------

    def _plan_ordinal(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        ordinal = numbers.parse_ordinal(ctx.words[end - 2 : end - 1])
        if ordinal is None or not 1 <= ordinal <= 9:
            return []
        return [_Candidate(PLAN_CHOICE, str(ordinal), start, end, P_PLAN_EXPLICIT)]

    def _plan_number(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        choice = numbers.small_choice(ctx.words[end - 1 : end])
        if choice is None:
            return []
        if end < len(ctx.doc) and (
            ctx.words[end] in NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS or _is_number_token(ctx.doc[end])
        ):
            return []  # "plan 6 months", "number 5 5 5"
        return [_Candidate(PLAN_CHOICE, str(choice), start, end, P_PLAN)]

    def _plan_named(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        if _negated(ctx.doc, start):
            return []
        key = self._key_for(ctx, start, end)
        return [_Candidate(PLAN_CHOICE, key, start, end, P_PLAN)]

    def _key_for(self, ctx: _Context, start: int, end: int) -> str:
        words = set(ctx.words[start:end])
        if words & {"past", "pastdue", "overdue"}:
            return "past_due"
        if words & {"minimum", "minimun", "minium", "minumum", "minimal", "min"}:
            return "minimum"
        if any(w.startswith(("settl", "setl")) for w in words):
            return "settlement"
        if any(w.startswith("hardship") for w in words):
            return "hardship"
        return "full"

    def _lone_number(self, ctx: _Context) -> list[_Candidate]:
        """`2`, `two`, `2 please`, `second`: the whole message is one small number."""
        content = [i for i, t in enumerate(ctx.doc) if not t.is_punct and ctx.words[i] not in WHOLE_MESSAGE_FILLERS]
        if len(content) != 1:
            if len(content) == 0 and ctx.words.count("one") == 1:
                content = [ctx.words.index("one")]
            else:
                return []
        i = content[0]
        word = ctx.words[i]
        choice = numbers.small_choice([word])
        if choice is None and word in numbers.ORDINALS and numbers.ORDINALS[word] <= 9:
            choice = numbers.ORDINALS[word]
        return [_Candidate(PLAN_CHOICE, str(choice), i, i + 1, P_LONE_NUMBER)] if choice else []

    # digit strings ----------------------------------------------------------------------

    def _digits(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        doc, words = ctx.doc, ctx.words
        if start > 0 and words[start - 1] == "last" and words[start] in ("four", "4"):
            start += 1  # "last four 4821"
        while (
            start < end
            and words[start] in ("-", "oh", "o")
            and not (words[start] in ("oh", "o") and start + 1 < end and words[start + 1] in numbers.NUMBER_WORDS)
        ):
            start += 1
        while end > start and words[end - 1] == "-":
            end -= 1
        if start >= end:
            return []
        tokens = [t for t in doc[start:end] if t.lower_ not in ("-", "dash")]
        typed_groups = [t for t in tokens if t.is_digit]
        if len(tokens) < end - start:  # "78701-1234"; "24-10583" is a case number
            return self._zip_plus_four(ctx, start, end)
        if len(tokens) > 1 and any(len(t.text) >= 3 for t in typed_groups):
            return []  # "4111 1111 1111 1111", "512 555 1234": never part of a longer number
        if len({len(t.text) for t in typed_groups}) > 1:
            return []  # "11 2 72" is a date typed with spaces, not a ZIP
        if (
            start > 0
            and words[start - 1] in ("$", "#")
            or (end < len(doc) and words[end] in NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS)
        ):
            return []
        if OTHER_NUMBER_WORDS & set(words[max(0, start - 4) : start]):
            return []  # "my case number is ..."
        digits = numbers.parse_digit_string([t.lower_ for t in tokens])
        if digits is None:
            return []
        if len(digits) == 4:
            if start > 0 and words[start - 1] in YEAR_CONTEXT_BEFORE and 1900 <= int(digits) <= 2099 and not ctx.card:
                return []  # "since 2019"
            return [_Candidate(CARD_LAST4, digits, start, end, P_DIGITS)]
        if len(digits) == 5:
            return [_Candidate(ZIP, digits, start, end, P_DIGITS)]
        if len(digits) == 8 and (dob := dates.parse_keypad_dob(digits, ctx.today)):
            return [_Candidate(DOB, dob.isoformat(), start, end, P_DIGITS)]
        return []

    def _zip_plus_four(self, ctx: _Context, start: int, end: int) -> list[_Candidate]:
        span = ctx.doc[start:end]
        if (
            len(span) == 3
            and len(span[0].text) == 5
            and span[1].text == "-"
            and len(span[2].text) == 4
            and not span[0].whitespace_
            and not span[1].whitespace_
            and span[0].is_digit
            and span[2].is_digit
        ):
            return [_Candidate(ZIP, span[0].text, start, end, P_DIGITS)]
        return []


_MONTH_NAMES = set(dates.MONTHS)


def _is_time_unit(word: str) -> bool:
    return bool(re.fullmatch(f"{MONTH_UNITS}|{YEAR_UNITS}|monthly", word))


def _is_number_token(token: Token) -> bool:
    return bool(numbers.typed_decimal(token.lower_) is not None or token.lower_ in numbers.NUMBER_WORDS)


def _number_run_length(ctx: _Context, start: int) -> int:
    """How many tokens from `start` are number words or typed numbers (or `-` between)."""
    end = start
    while end < len(ctx.doc) and (
        _is_number_token(ctx.doc[end])
        or (ctx.words[end] == "-" and end + 1 < len(ctx.doc) and _is_number_token(ctx.doc[end + 1]))
    ):
        end += 1
    return end - start


def _negated(doc: Doc, start: int) -> bool:
    """A negation earlier in the same clause, within five words: `I can't pay in full`,
    `less than the full balance`, `instead of paying it all`."""
    for i in range(start - 1, max(start - 6, -1), -1):
        token = doc[i]
        if token.is_punct or token.lower_ in CLAUSE_BREAKS:
            return False
        following = doc[i + 1].lower_ if i + 1 < len(doc) else ""
        if token.lower_ in NEGATORS or (token.lower_, following) in NEGATING_PAIRS:
            return True
    return False


def _clause_has(ctx: _Context, start: int, words: set[str]) -> bool:
    """One of `words` earlier in the clause that ends at `start`."""
    for i in range(start - 1, -1, -1):
        if ctx.doc[i].is_punct or ctx.words[i] in CLAUSE_BREAKS:
            return False
        if ctx.words[i] in words:
            return True
    return False


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """Higher priority first, then longer spans; a candidate overlapping an accepted one is
    dropped unless both belong to the same group (the ambiguous `the second`)."""
    accepted: list[_Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.priority, -(c.end - c.start), c.start)):
        if c.end <= c.start:
            continue
        clash = any(c.start < a.end and a.start < c.end and (c.group is None or c.group != a.group) for a in accepted)
        duplicate = any(c.entity == a.entity and c.start == a.start and c.end == a.end for a in accepted)
        if not clash and not duplicate:
            accepted.append(c)
    return accepted


def _entity_dict(entity: str, value: Any, start: int, end: int) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: entity,
        ENTITY_ATTRIBUTE_VALUE: value,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        "confidence_entity": 1.0,
    }
