"""The distress lexicon: self-harm, general distress, and what must not match."""

from __future__ import annotations

import pytest
import spacy

from bot.components.distress import DISTRESS, SELF_HARM, DistressMatcher


@pytest.fixture(scope="module")
def matcher() -> tuple[spacy.language.Language, DistressMatcher]:
    nlp = spacy.blank("en")
    return nlp, DistressMatcher(nlp)


def kinds(matcher: tuple, text: str) -> set[str]:
    nlp, distress = matcher
    return {hit.kind for hit in distress.find(nlp(text))}


@pytest.mark.parametrize(
    "text",
    [
        # typed
        "I want to kill myself",
        "I'm going to kill myself.",
        "I've been thinking about killing myself",
        "i want to end it all",
        "I'm suicidal",
        "thinking about suicide",
        "I don't want to live anymore",
        "I do not want to be alive",
        "there's no reason to live",
        "i don't have any reason to live",
        "nothing to live for",
        "what's the point of living",
        "everyone would be better off without me",
        "I'd be better off dead",
        "I wish I was dead",
        "I want to hurt myself",
        "I'm going to end my life",
        "I want to take my own life",
        "I can't go on",
        "I cannot go on like this",
        "I want to die",
        "this debt makes me want to die",
        # SMS
        "im gonna kms",
        "kms",
        "i wanna die",
        "i just wanna die",
        "i cant go on",
        "dont want to live",
        "dont wanna be here anymore",
        "gonna kill my self",
        "sucidal",
        "thinking of self harm",
        "self-harm",
        "i want to unalive myself",
        "KILL MYSELF",
        # spoken (speech-to-text: no punctuation, fillers)
        "um i honestly can't go on anymore",
        "uh i just really want to die",
        "i want to uh die",
        "i'm thinking about ending my life",
        "i want to end it all right now",
        # negation does not cancel: we err on the side of care
        "I'm not going to kill myself",
        "I'm not suicidal",
        "I would never hurt myself",
    ],
)
def test_self_harm(matcher: tuple, text: str) -> None:
    assert SELF_HARM in kinds(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm having a panic attack",
        "i cant breathe",
        "I can't breathe",
        "I'm breaking down",
        "im breaking down crying",
        "I keep breaking down.",
        "I can't take it anymore",
        "cant take this anymore",
        "I'm falling apart",
        "i can't cope",
        "I'm losing my mind",
        "I feel hopeless",
        "I can't stop crying",
        "I'm shaking and my heart is racing, I can't calm down.",
        "nervous breakdown",
    ],
)
def test_general_distress_is_not_self_harm(matcher: tuple, text: str) -> None:
    assert kinds(matcher, text) == {DISTRESS}


@pytest.mark.parametrize(
    "text",
    [
        "I'm killing it at work",
        "this cake is to die for",
        "my phone died",
        "my car broke down",
        "can you do a breaking down of the charges",
        "breaking down the payments would help",
        "I'll pay it off myself",
        "they will take my life savings",
        "my life insurance pays out next month",
        "I cut myself off from spending",
        "I'll shoot myself an email",
        "I ran 5 kms",
        "I need to end this call",
        "end the payment plan",
        "I can go on paying 200 a month",
        "what's the deadline",
        "I'm stressed about the bill",
        "I want to pay 200 on friday",
        "",
    ],
)
def test_not_distress(matcher: tuple, text: str) -> None:
    assert kinds(matcher, text) == set()


def test_hits_carry_character_offsets(matcher: tuple) -> None:
    nlp, distress = matcher
    text = "honestly i want to kill myself today"
    hit = distress.find(nlp(text))[0]
    assert (hit.kind, text[hit.start_char : hit.end_char]) == (SELF_HARM, "kill myself")


def test_self_harm_comes_first_when_both_match(matcher: tuple) -> None:
    nlp, distress = matcher
    hits = distress.find(nlp("I'm having a panic attack and I want to die"))
    assert [h.kind for h in hits][:1] == [SELF_HARM]
    assert {h.kind for h in hits} == {SELF_HARM, DISTRESS}


@pytest.mark.parametrize("text", ["this fee is killing me", "these calls are killing me"])
def test_money_hyperbole_is_left_to_the_classifier(matcher: tuple, text: str) -> None:
    assert kinds(matcher, text) == set()
