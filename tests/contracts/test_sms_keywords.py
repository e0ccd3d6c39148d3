"""The carrier keywords of SMS (contracts/sms_keywords.py)."""

from __future__ import annotations

import pytest

from contracts.sms_keywords import HELP, HELP_KEYWORDS, OPT_IN, OPT_IN_KEYWORDS, OPT_OUT, OPT_OUT_KEYWORDS, keyword_of


def test_keyword_of() -> None:
    assert keyword_of("stop") == "opt_out"
    assert keyword_of("Unstop") == "opt_in"
    assert keyword_of("info") == "help"
    assert keyword_of("stop it") is None
    assert keyword_of("yes") is None
    assert keyword_of("yes", "START") == "opt_in"


def test_twilios_default_keywords() -> None:
    assert OPT_OUT_KEYWORDS == {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
    assert OPT_IN_KEYWORDS == {"START", "UNSTOP"}
    assert HELP_KEYWORDS == {"HELP", "INFO"}


@pytest.mark.parametrize(
    ("keywords", "kind"), [(OPT_OUT_KEYWORDS, OPT_OUT), (OPT_IN_KEYWORDS, OPT_IN), (HELP_KEYWORDS, HELP)]
)
def test_every_keyword_in_any_case_with_trailing_punctuation(keywords: frozenset[str], kind: str) -> None:
    for word in keywords:
        for body in (word, word.lower(), word.title(), f"  {word.lower()}. ", f"{word}!!", f'{word}"'):
            assert keyword_of(body) == kind, body


@pytest.mark.parametrize("body", ["please stop", "stop texting me", "start over", "help me pay", "", "   "])
def test_words_around_a_keyword_are_no_keyword(body: str) -> None:
    assert keyword_of(body) is None


def test_twilios_opt_out_type_wins() -> None:
    assert keyword_of("arrête", "STOP") == OPT_OUT
    assert keyword_of("stop", "HELP") == HELP
    assert keyword_of("stop", " start ") == OPT_IN
    assert keyword_of("stop", "") == OPT_OUT
