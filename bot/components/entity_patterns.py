"""What the entity extractor looks for, as data: the entity names, spaCy `Matcher` token patterns
by key (`PATTERNS`), the word lists that judge the context of a match, and the priorities that
settle overlapping matches (lower wins). The parsers that read each match are in
entity_parsers.py; the Rasa component in entities.py.
"""

from __future__ import annotations

from typing import Any

from bot.components import dates, numbers

# One token of a spaCy Matcher pattern: https://spacy.io/usage/rule-based-matching#adding-patterns
TokenPattern = dict[str, Any]

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


# --- token patterns ---------------------------------------------------------------------


def _re(source: str, op: str | None = None) -> TokenPattern:
    token: TokenPattern = {"LOWER": {"REGEX": f"^(?:{source})$"}}
    if op:
        token["OP"] = op
    return token


def _in(words: list[str] | set[str], op: str | None = None) -> TokenPattern:
    token: TokenPattern = {"LOWER": {"IN": sorted(words)}}
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
NOT_AN_AMOUNT_AFTER = {
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
MONTH_UNITS = r"months?|mos?|mths?|mnths?|mons"
YEAR_UNITS = r"years?|yrs?"
YEAR_PREPS = {"over", "within", "in", "across", "spread", "under", "about", "around", "than", "into"}
NOT_A_PLAN_LENGTH_AFTER = {
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
NOT_A_PLAN_LENGTH_BEFORE = {"per", "each", "every", "once", "twice", "last", "past", "previous", "first"}
DATE_PREPS = {"on", "by", "before", "after", "until", "till", "til", "from", "starting", "due", "around", "for"}
_WEEKDAY_MODIFIERS = {"this", "next", "coming", "on", "by", "until", "till", "before", "last", "past", "til"}
CLAUSE_END_OK = {
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
WHOLE_MESSAGE_FILLERS = {
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
NEGATORS = {"not", "n't", "nt", "never", "cannot", "unable", "without"}
NEGATING_PAIRS = {
    ("no", "way"),
    ("instead", "of"),
    ("rather", "than"),
    ("less", "than"),
    ("other", "than"),
    ("more", "than"),
}
CLAUSE_BREAKS = {"but", "so", "then", "and"}
YEAR_CONTEXT_BEFORE = {
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
CARD_WORDS = {"card", "ending", "ends", "digits", "last4", "cc"}
# Numbers that are someone else's identifiers, not a ZIP or a last-4.
OTHER_NUMBER_WORDS = {
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
DONE_WORDS = {"paid", "payed", "sent", "mailed", "made", "did", "already", "submitted", "transferred", "deposited"}
# A history ("I've been out of work for three months"): a duration that is not a plan length.
HISTORY_WORDS = DONE_WORDS | {"been", "'ve", "was", "were", "had"}

P_FULL_DATE, P_DATE, P_PLAN_EXPLICIT, P_MONEY, P_MONTHS, P_DAY_OF_MONTH = 10, 20, 25, 30, 35, 37
P_MONEY_CONTEXT, P_PLAN, P_DIGITS, P_LONE_NUMBER = 40, 45, 50, 60

PATTERNS: dict[str, list[list[TokenPattern]]] = {
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
        [_in(["a", "an"], "?"), NUM, NUM_MORE, HYPHEN, _re(MONTH_UNITS)],
        [NUM, NUM_MORE, {"LOWER": "monthly"}, _re(r"payments?|installments?|instalments?")],
        [_in(YEAR_PREPS), _re(f"a|an|{_NUM_RE}"), NUM_MORE, HYPHEN, _re(YEAR_UNITS)],
        [
            _in(YEAR_PREPS, "?"),
            _re(f"a|an|{_NUM_RE}", "?"),
            _re(YEAR_UNITS),
            {"LOWER": "and"},
            {"LOWER": "a"},
            {"LOWER": "half"},
        ],
        [
            _re(f"a|an|{_NUM_RE}"),
            NUM_MORE,
            HYPHEN,
            _re(YEAR_UNITS),
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
        [_in(DATE_PREPS, "?"), THE, TENS, HYPHEN, ORDINAL],
        [
            _in(DATE_PREPS, "?"),
            THE,
            TENS,
            HYPHEN,
            ORDINAL,
            {"LOWER": "of"},
            _in(["the", "this", "next"]),
            {"LOWER": "month"},
        ],
        [_in(DATE_PREPS), {"LOWER": "the"}, _re(rf"\d{{1,2}}|{numbers.NUMBER_WORD_RE}"), NUM_MORE],
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
