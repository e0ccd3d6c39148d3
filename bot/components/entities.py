"""Evenkeel's NLU component: normalized entities and a distress override, with spaCy.

Pipeline entry (bot/config.yml), after DIETClassifier and EntitySynonymMapper and before
FallbackClassifier:

    - name: bot.components.entities.EvenkeelEntityExtractor
      default_timezone: America/New_York

What `process` does to each message:

1. Tokenizes the text with `spacy.blank("en")` (built once in `create`; a few suffix rules
   split `200dollars`, `6mo`, `5k`) and runs a `Matcher` of token patterns. Each match is
   normalized by the pure parsers in numbers.py and dates.py; overlapping matches are settled
   by a fixed priority (full dates, relative dates, explicit plan choices, money, months,
   days of the month, contextual money, plan choices, digit strings, a lone number).
2. Adds entities with normalized values (`extractor: EvenkeelEntityExtractor`,
   `confidence_entity: 1.0`):
   - `amount`: int cents. Needs currency (`$200`, `200 dollars`, `a hundred bucks`,
     `fifty cents`, `5k`) or a paying verb right before the number (`I can pay 310`,
     `i'll do 200`, `payment of 75`). A bare number is never an amount: `4821`, `1985` and
     `78701` alone are not; nor is `pay 2 bills` or `pay at 3pm`.
   - `date`: ISO date in the customer's zone (meanings in dates.py); full dates with a year
     that are not birth dates.
   - `dob`: ISO date for full dates with a year that lie 16-120 years back or come with
     birth words (`born`, `dob`, `birthday`), and keypad `MMDDYYYY`.
   - `card_last4`, `zip`: str digits, typed or spoken, from a digit string of exactly 4 or 5
     digits (ZIP+4 gives its ZIP). Never taken from a longer run such as `4111 1111 1111 1111`
     or a phone number; a 4-digit year after `in`/`since`/`born`... is not a last-4 unless
     the message talks about the card.
   - `months`: int 1-120: `6 months`, `six-month plan`, `the twelve month one`,
     `over a year` (12), `half a year` (6), `a year and a half` (18). Not `3 months behind`.
   - `plan_choice`: "1".."9" or past_due | full | minimum | settlement | hardship. A lone
     `the first`/`the second` (ordinal words 1-9 ending the clause) is ambiguous with a day
     of the month, so both `plan_choice` and `date` are added and the form asking picks (slot
     mappings with `active_loop`/`requested_slot` conditions). A named choice after a
     negation in the same clause (`I can't pay in full`) is not added.
   - `self_harm`: True when distress.py finds self-harm phrasing.
   Entities of these types that an earlier extractor (DIET) put on an overlapping span are
   replaced, so a slot never gets both `200 dollars` and 20000.
3. On any distress or self-harm hit, sets the intent to `distress` with confidence 1.0 and
   puts it first in `intent_ranking`. The earlier ranking follows in its order with its
   confidences halved: FallbackClassifier compares the top two confidences, and an untouched
   0.99 from DIET under our 1.0 would look ambiguous and become nlu_fallback.

Today comes from the message metadata `timezone` (IANA name, sent by our channels), else the
`default_timezone` config key; the clock is `bot.components.dates.utc_now`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.util import compile_suffix_regex

from bot.components import dates, numbers
from bot.components.distress import SELF_HARM, DistressHit, DistressMatcher

logger = logging.getLogger(__name__)

AMOUNT, DATE, DOB, CARD_LAST4, ZIP, MONTHS, PLAN_CHOICE, SELF_HARM_ENTITY = (
    "amount",
    "date",
    "dob",
    "card_last4",
    "zip",
    "months",
    "plan_choice",
    "self_harm",
)
ENTITY_TYPES = (AMOUNT, DATE, DOB, CARD_LAST4, ZIP, MONTHS, PLAN_CHOICE, SELF_HARM_ENTITY)
DISTRESS_INTENT = "distress"
DEMOTED_RANKING_FACTOR = 0.5  # safe while FallbackClassifier's ambiguity_threshold < 0.5

# Straight quotes for curly ones: same length, so character offsets stay those of the input.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


# --- token patterns ---------------------------------------------------------------------


def _re(source: str, op: str | None = None) -> dict:
    token: dict = {"LOWER": {"REGEX": f"^(?:{source})$"}}
    if op:
        token["OP"] = op
    return token


def _in(words: list[str] | set[str], op: str | None = None) -> dict:
    token: dict = {"LOWER": {"IN": sorted(words)}}
    if op:
        token["OP"] = op
    return token


_NUM_RE = f"{numbers.TYPED_NUMBER_RE}|{numbers.NUMBER_WORD_RE}"
NUM = _re(_NUM_RE)
NUM_MORE = _re(f"{_NUM_RE}|and|-", "*")
A = _in(["a", "an"], "?")
DOLLAR = {"ORTH": "$"}
CURRENCY = _in(numbers.CURRENCY_WORDS)
CENTS = _in(numbers.CENT_WORDS)
HYPHEN = {"ORTH": "-", "OP": "?"}
THE = {"LOWER": "the", "OP": "?"}
MONTH = _re(rf"(?:{dates.MONTH_RE})\.?")
ORDINAL = _re(f"{numbers.ORDINAL_WORD_RE}|{numbers.ORDINAL_DIGITS_RE}")
TENS = _in(set(numbers.TENS), "?")
DAY = _re(rf"{numbers.ORDINAL_WORD_RE}|{numbers.ORDINAL_DIGITS_RE}|{numbers.NUMBER_WORD_RE}|\d{{1,2}}")
DAY_MORE = _re(rf"{numbers.ORDINAL_WORD_RE}|{numbers.ORDINAL_DIGITS_RE}|{numbers.NUMBER_WORD_RE}|\d{{1,4}}|-", "*")
YEAR_MORE = _re(
    rf"{numbers.ORDINAL_WORD_RE}|{numbers.ORDINAL_DIGITS_RE}|{numbers.NUMBER_WORD_RE}|\d{{1,4}}|oh|o|and|,|-", "*"
)
_DIGIT_WORD_RE = "|".join([*numbers.UNITS, *numbers.TEENS, *numbers.TENS, "oh", "o", "double", "triple"])

_PAY_WORDS = {
    "pay",
    "paying",
    "pays",
    "paid",
    "send",
    "sending",
    "sent",
    "afford",
    "offer",
    "offering",
    "deposit",
    "depositing",
    "transfer",
    "put",
    "putting",
    "give",
    "giving",
    "manage",
    "payment",
    "amount",
    "spare",
    "pmt",
    "settle",
    "settling",
}
_PAY_FILLERS = {
    "you",
    "u",
    "ya",
    "about",
    "around",
    "like",
    "maybe",
    "only",
    "just",
    "is",
    "of",
    "up",
    "to",
    "at",
    "least",
    "most",
    "another",
    "a",
    "an",
    "extra",
    "additional",
    "me",
    "them",
    "probably",
    "abt",
    "approximately",
    "roughly",
    "back",
    "down",
    "over",
    "off",
    "it",
    "'d",
    "be",
    "was",
    "will",
    "for",
    "the",
}
_NOT_AN_AMOUNT_AFTER = {
    "day",
    "days",
    "week",
    "weeks",
    "wk",
    "wks",
    "month",
    "months",
    "mo",
    "mos",
    "year",
    "years",
    "yr",
    "yrs",
    "time",
    "times",
    "payment",
    "payments",
    "installment",
    "installments",
    "bill",
    "bills",
    "kid",
    "kids",
    "child",
    "children",
    "people",
    "card",
    "cards",
    "account",
    "accounts",
    "of",
    "%",
    "percent",
    "am",
    "pm",
    "a.m.",
    "p.m.",
    "oclock",
    "o'clock",
    "hours",
    "hour",
    "hrs",
    "minutes",
    "mins",
    "min",
    "loans",
    "loan",
    "items",
    "/",
    "th",
    "st",
    "nd",
    "rd",
}
_MONTH_UNITS = r"months?|mos?|mths?|mnths?|mons"
_YEAR_UNITS = r"years?|yrs?"
_YEAR_PREPS = {"over", "within", "in", "across", "spread", "under", "about", "around", "than", "into"}
_NOT_A_PLAN_LENGTH_AFTER = {
    "ago",
    "behind",
    "late",
    "overdue",
    "past",
    "old",
    "since",
    "later",
    "back",
    "now",
    "straight",
    "in",
    "running",
}
_NOT_A_PLAN_LENGTH_BEFORE = {"per", "each", "every", "once", "twice", "last", "past", "previous", "first"}
_DATE_PREPS = {"on", "by", "before", "after", "until", "till", "til", "from", "starting", "due", "around", "for"}
_WEEKDAY_MODIFIERS = {"this", "next", "coming", "on", "by", "until", "till", "before", "last", "past", "til"}
_CLAUSE_END_OK = {
    "please",
    "pls",
    "plz",
    "then",
    "thanks",
    "thank",
    "i",
    "one",
    "option",
    "is",
    "works",
    "sounds",
    "ok",
    "okay",
}
_WHOLE_MESSAGE_FILLERS = {
    "please",
    "pls",
    "plz",
    "ok",
    "okay",
    "um",
    "umm",
    "uh",
    "uhh",
    "er",
    "the",
    "number",
    "option",
    "choice",
    "plan",
    "#",
    "i",
    "'ll",
    "ll",
    "take",
    "choose",
    "pick",
    "go",
    "with",
    "let",
    "'s",
    "lets",
    "me",
    "want",
    "no",
    "yes",
    "yeah",
    "yep",
    "just",
    "thanks",
    "thank",
    "you",
    "one",
    "like",
    "would",
    "'d",
}
_NEGATORS = {"not", "n't", "nt", "never", "cannot", "unable", "without"}
_NEGATING_PAIRS = {
    ("no", "way"),
    ("instead", "of"),
    ("rather", "than"),
    ("less", "than"),
    ("other", "than"),
    ("more", "than"),
}
_CLAUSE_BREAKS = {"but", "so", "then", "and"}
_YEAR_CONTEXT_BEFORE = {
    "in",
    "since",
    "year",
    "born",
    "from",
    "until",
    "till",
    "by",
    "of",
    "before",
    "after",
    "circa",
    "around",
    "til",
}
_CARD_WORDS = {"card", "ending", "ends", "digits", "last4", "cc"}
# Numbers that are someone else's identifiers, not a ZIP or a last-4.
_OTHER_NUMBER_WORDS = {
    "case",
    "phone",
    "reference",
    "ref",
    "confirmation",
    "claim",
    "docket",
    "routing",
    "ssn",
    "social",
    "tracking",
    "order",
    "policy",
    "member",
    "id",
    "extension",
    "ext",
    "ticket",
    "invoice",
    "check",
    "cheque",
}
# A payment already made: a bare weekday or day of the month then looks back.
_DONE_WORDS = {"paid", "payed", "sent", "mailed", "made", "did", "already", "submitted", "transferred", "deposited"}
# A history ("I've been out of work for three months"): a duration that is not a plan length.
_HISTORY_WORDS = _DONE_WORDS | {"been", "'ve", "was", "were", "had"}

P_FULL_DATE, P_DATE, P_PLAN_EXPLICIT, P_MONEY, P_MONTHS, P_DAY_OF_MONTH = 10, 20, 25, 30, 35, 37
P_MONEY_CONTEXT, P_PLAN, P_DIGITS, P_LONE_NUMBER = 40, 45, 50, 60

PATTERNS: dict[str, list[list[dict]]] = {
    "money": [
        [DOLLAR, NUM, NUM_MORE],
        [{"ORTH": "$", "OP": "?"}, A, NUM, NUM_MORE, CURRENCY],
        [{"ORTH": "$", "OP": "?"}, A, NUM, NUM_MORE, CURRENCY, _in(["and"], "?"), NUM, NUM_MORE, CENTS],
        [DOLLAR, NUM, NUM_MORE, CENTS],
        [NUM, NUM_MORE, CENTS],
        [{"ORTH": "$", "OP": "?"}, A, NUM, _in(numbers.THOUSANDS_WORDS), _in(numbers.CURRENCY_WORDS, "?")],
        [NUM, DOLLAR],
    ],
    "money_context": [
        [_in(_PAY_WORDS), _in(_PAY_FILLERS, "?"), _in(_PAY_FILLERS, "?"), _in(_PAY_FILLERS, "?"), NUM, NUM_MORE],
        [
            _in(["can", "could", "'ll", "will", "'d", "would"]),
            {"LOWER": "do"},
            _in(_PAY_FILLERS, "?"),
            _in(_PAY_FILLERS, "?"),
            NUM,
            NUM_MORE,
        ],
    ],
    "months": [
        [_in(["a", "an"], "?"), NUM, NUM_MORE, HYPHEN, _re(_MONTH_UNITS)],
        [NUM, NUM_MORE, {"LOWER": "monthly"}, _re(r"payments?|installments?|instalments?")],
        [_in(_YEAR_PREPS), _re(f"a|an|{_NUM_RE}"), NUM_MORE, HYPHEN, _re(_YEAR_UNITS)],
        [
            _in(_YEAR_PREPS, "?"),
            _re(f"a|an|{_NUM_RE}", "?"),
            _re(_YEAR_UNITS),
            {"LOWER": "and"},
            {"LOWER": "a"},
            {"LOWER": "half"},
        ],
        [
            _re(f"a|an|{_NUM_RE}"),
            NUM_MORE,
            HYPHEN,
            _re(_YEAR_UNITS),
            _re(r"plan|one|option|term|program|arrangement|payment|deal"),
        ],
        [{"LOWER": "half"}, _in(["a", "an"], "?"), _re(r"years?")],
    ],
    "date_word": [
        [
            _re(
                r"today|tonight|tday|2day|tomorrow|tomorow|tommorow|tommorrow|tmrw|tmr|tmw|tmrrw"
                r"|2morrow|2moro|2mrw|tomoro|yesterday"
            )
        ],
        [THE, {"LOWER": "day"}, {"LOWER": "after"}, _re(r"tomorrow|tomorow|tommorow|tmrw|tmr|2morrow")],
    ],
    "weekday": [
        [_in(_WEEKDAY_MODIFIERS, "?"), {"LOWER": "coming", "OP": "?"}, _re(rf"(?:{dates.WEEKDAY_RE})\.?")],
        [_in(_WEEKDAY_MODIFIERS), {"LOWER": "coming", "OP": "?"}, _re(rf"(?:{dates.SHORT_WEEKDAY_RE})\.?")],
        [_re(rf"(?:{dates.WEEKDAY_RE})\.?"), {"LOWER": "next"}, {"LOWER": "week"}],
    ],
    "date_relative": [
        [
            _in(["in", "within"]),
            _in(["like", "about", "around", "another", "maybe", "just", "only"], "?"),
            _re(f"a|an|couple|{_NUM_RE}"),
            NUM_MORE,
            {"LOWER": "couple", "OP": "?"},
            {"LOWER": "of", "OP": "?"},
            _re(r"days?|weeks?|wks?|months?|fortnight"),
        ],
        [
            _re(f"a|an|couple|{_NUM_RE}"),
            NUM_MORE,
            {"LOWER": "of", "OP": "?"},
            _re(r"days?|weeks?|wks?|months?"),
            {"LOWER": "from"},
            _re(r"now|today|tomorrow|tmrw"),
        ],
    ],
    "date_calendar": [
        [{"LOWER": "next"}, _re(r"week|wk|month")],
        [{"LOWER": "end"}, {"LOWER": "of"}, _in(["the", "this", "next"], "?"), {"LOWER": "month"}],
    ],
    "date_numeric": [
        [_re(dates.NUMERIC_DATE_RE)],
        [_re(r"\d{4}"), {"ORTH": "-"}, _re(r"\d{1,2}"), {"ORTH": "-"}, _re(r"\d{1,2}")],
        [_re(r"\d{1,2}"), {"ORTH": "-"}, _re(r"\d{1,2}"), {"ORTH": "-"}, _re(r"\d{4}|\d{2}")],
    ],
    "month_first": [[MONTH, THE, DAY, YEAR_MORE]],
    "day_first": [[THE, DAY, DAY_MORE, {"LOWER": "of", "OP": "?"}, MONTH, YEAR_MORE]],
    "day_of_month": [
        [_in(_DATE_PREPS, "?"), THE, TENS, HYPHEN, ORDINAL],
        [
            _in(_DATE_PREPS, "?"),
            THE,
            TENS,
            HYPHEN,
            ORDINAL,
            {"LOWER": "of"},
            _in(["the", "this", "next"]),
            {"LOWER": "month"},
        ],
        [_in(_DATE_PREPS), {"LOWER": "the"}, _re(rf"\d{{1,2}}|{numbers.NUMBER_WORD_RE}"), NUM_MORE],
    ],
    "plan_ordinal": [
        [
            THE,
            _re(r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|[1-9](?:st|nd|rd|th)"),
            _re(r"one|option|plan|choice|offer|1"),
        ],
    ],
    "plan_number": [
        [
            _re(r"option|plan|choice|number|num|nr|#"),
            {"ORTH": "#", "OP": "?"},
            _re(r"[1-9]|one|two|three|four|five|six|seven|eight|nine"),
        ],
        [{"LOWER": "no"}, {"ORTH": "."}, _re(r"[1-9]")],
    ],
    "plan_past_due": [
        [_in(["the", "just", "only", "pay", "paying"]), {"LOWER": "past"}, HYPHEN, {"LOWER": "due"}],
        [
            _in(["the", "just", "only", "pay", "paying"], "?"),
            {"LOWER": "past"},
            HYPHEN,
            {"LOWER": "due"},
            _re(r"amount|balance|part|portion|one|payment|bit"),
        ],
        [
            _in(["the", "just", "only", "pay", "paying"], "?"),
            _re(r"pastdue|overdue"),
            _re(r"amount|balance|part|portion|one|payment|bit"),
        ],
        [_in(["the", "just", "only", "pay", "paying"]), _re(r"pastdue|overdue")],
        [{"LOWER": {"IN": ["what", "whats"]}}, _in(["'s", "is"], "?"), {"LOWER": "past"}, HYPHEN, {"LOWER": "due"}],
    ],
    "plan_full": [
        [{"LOWER": "in"}, _re(r"full|fulll")],
        [_in(["pay", "paying"]), {"LOWER": "it"}, {"LOWER": "all"}, {"LOWER": "off", "OP": "?"}],
        [_in(["pay", "paying"]), {"LOWER": "it"}, {"LOWER": "off"}],
        [_in(["pay", "paying"]), _in(["everything", "all"])],
        [
            _in(["pay", "paying"]),
            {"LOWER": "off"},
            _in(["the", "my", "this"], "?"),
            _re(r"balance|debt|card|account|whole|entire"),
        ],
        [_re(r"full|whole|entire|total|complete"), _re(r"balance|amount|thing|payoff|debt|payment")],
        [{"LOWER": "all"}, {"LOWER": "of"}, {"LOWER": "it"}],
        [{"LOWER": "payoff"}, _re(r"amount|balance|quote")],
    ],
    "plan_minimum": [
        [_re(r"minimum|minimun|minium|minumum|minimal")],
        [{"LOWER": "the"}, {"LOWER": "min"}],
        [{"LOWER": "min"}, _re(r"payment|due|amount|pmt")],
    ],
    "plan_settlement": [[_re(r"settle|settling|settlement|settlements|setle|setlement|settlment")]],
    "plan_hardship": [[_re(r"hardship|hardships|hardship-plan")]],
    "digits": [[_re(rf"\d+|{_DIGIT_WORD_RE}"), _re(rf"\d+|{_DIGIT_WORD_RE}|-|dash", "*")]],
}


# --- extraction -------------------------------------------------------------------------


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
    entities: list[dict]
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
            card=bool(_CARD_WORDS & set(words)),
            past=bool(_DONE_WORDS & set(words)),
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
    def _entity(doc: Doc, c: _Candidate) -> dict:
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
            value = numbers.parse_dollars(words[first : first + run], colloquial=True)
            if value is None:
                return []
            used = run
        after = start + first + used
        span_start = start + first - (1 if words[first - 1] in ("a", "an") else 0)  # "pay a hundred"
        if after < len(ctx.doc) and (
            ctx.words[after] in _NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS
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
        if end < len(ctx.doc) and ctx.words[end] in _NOT_A_PLAN_LENGTH_AFTER:
            return []
        if start > 0 and ctx.words[start - 1] in _NOT_A_PLAN_LENGTH_BEFORE:
            return []
        if start > 0 and ctx.words[start - 1] == "for" and _clause_has(ctx, start, _HISTORY_WORDS):
            return []  # "I've been out of work for three months": a history, not a plan
        if words[0] in _YEAR_PREPS:
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
        return self._month_day_year(
            ctx, dates.month_number(words[month_index]), day, year, first, start + month_index + 1 + used_after
        )

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
        has_prep = words[0] in _DATE_PREPS
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
            if end < len(ctx.doc) and ctx.words[end] in _NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS:
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
        if after is not None and not after.is_punct and after.lower_ not in _CLAUSE_END_OK:
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
            ctx.words[end] in _NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS or _is_number_token(ctx.doc[end])
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
        content = [i for i, t in enumerate(ctx.doc) if not t.is_punct and ctx.words[i] not in _WHOLE_MESSAGE_FILLERS]
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
            or (end < len(doc) and words[end] in _NOT_AN_AMOUNT_AFTER | numbers.CURRENCY_WORDS)
        ):
            return []
        if _OTHER_NUMBER_WORDS & set(words[max(0, start - 4) : start]):
            return []  # "my case number is ..."
        digits = numbers.parse_digit_string([t.lower_ for t in tokens])
        if digits is None:
            return []
        if len(digits) == 4:
            if start > 0 and words[start - 1] in _YEAR_CONTEXT_BEFORE and 1900 <= int(digits) <= 2099 and not ctx.card:
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
    return bool(re.fullmatch(f"{_MONTH_UNITS}|{_YEAR_UNITS}|monthly", word))


def _is_number_token(token) -> bool:
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
        if token.is_punct or token.lower_ in _CLAUSE_BREAKS:
            return False
        following = doc[i + 1].lower_ if i + 1 < len(doc) else ""
        if token.lower_ in _NEGATORS or (token.lower_, following) in _NEGATING_PAIRS:
            return True
    return False


def _clause_has(ctx: _Context, start: int, words: set[str]) -> bool:
    """One of `words` earlier in the clause that ends at `start`."""
    for i in range(start - 1, -1, -1):
        if ctx.doc[i].is_punct or ctx.words[i] in _CLAUSE_BREAKS:
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


def _entity_dict(entity: str, value: Any, start: int, end: int) -> dict:
    return {
        ENTITY_ATTRIBUTE_TYPE: entity,
        ENTITY_ATTRIBUTE_VALUE: value,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        "confidence_entity": 1.0,
    }


# --- the Rasa component -----------------------------------------------------------------


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=False,
)
class EvenkeelEntityExtractor(GraphComponent, EntityExtractorMixin, IntentClassifier):
    """Normalized amount/date/dob/card_last4/zip/months/plan_choice/self_harm entities, and
    the `distress` intent override (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"default_timezone": "America/New_York"}

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["en"]

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EvenkeelEntityExtractor:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = {**self.get_default_config(), **config}
        name = self.component_config["default_timezone"]
        default_zone = dates.zone(name) if isinstance(name, str) else None
        if default_zone is None:
            raise InvalidConfigException(
                f"EvenkeelEntityExtractor: default_timezone {name!r} is not an IANA time zone."
            )
        self._default_zone = default_zone
        self._finder = EntityFinder()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            try:
                findings = self._finder.find(text, self._today(message))
            except Exception as error:
                # The text is not logged: it may hold what the customer should not have typed.
                logger.error("entity extraction failed (%s); message kept without our entities", type(error).__name__)
                continue
            ours = self.add_extractor_name(findings.entities)
            kept = [e for e in message.get(ENTITIES, []) if not _replaced_by(e, ours)]
            message.set(ENTITIES, kept + ours, add_to_output=True)
            if findings.distress:
                _override_intent(message)
                logger.debug(
                    "distress phrasing (%s) found; intent set to %s", findings.distress[0].kind, DISTRESS_INTENT
                )
        return messages

    def _today(self, message: Message) -> date:
        metadata = message.get("metadata") or {}
        name = metadata.get("timezone") if isinstance(metadata, dict) else None
        zone = dates.zone(name) if isinstance(name, str) and name else None
        if name and zone is None:
            logger.warning("Unknown time zone %r in message metadata; using %s.", name, self._default_zone)
        return dates.today_in(zone or self._default_zone)


def _replaced_by(entity: dict, ours: list[dict]) -> bool:
    """An entity of one of our types, from another extractor, on a span overlapping ours."""
    if entity.get(ENTITY_ATTRIBUTE_TYPE) not in ENTITY_TYPES:
        return False
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return False
    return any(
        o[ENTITY_ATTRIBUTE_TYPE] == entity[ENTITY_ATTRIBUTE_TYPE]
        and start < o[ENTITY_ATTRIBUTE_END]
        and o[ENTITY_ATTRIBUTE_START] < end
        for o in ours
    )


def _override_intent(message: Message) -> None:
    ranking = [
        {**entry, PREDICTED_CONFIDENCE_KEY: float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) * DEMOTED_RANKING_FACTOR}
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != DISTRESS_INTENT
    ]
    distress = {INTENT_NAME_KEY: DISTRESS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, dict(distress), add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(distress), *ranking], add_to_output=True)
