"""Distress and self-harm phrasing, found with spaCy's PhraseMatcher and Matcher.

Two kinds of hit:
- `self_harm`: the customer talks about hurting or killing themselves, or not wanting to live
  ("kill myself", "kms", "wanna die", "no reason to live", "can't go on", "hurt myself").
- `distress`: acute distress that is not about self-harm ("panic attack", "can't breathe",
  "I'm breaking down", "this fee is killing me").

We err on the side of care:
- Negation does not cancel a hit: "I'm not going to kill myself" and "I'm not suicidal" still
  match. Someone who raises the subject unprompted gets the careful path; the cost of a wrong
  hit is one supportive message and an offer of a person, the cost of a miss is far higher.
- Hyperbole about money ("this fee is killing me") is general distress, never self-harm.
  "killing it at work", "to die for", "my car broke down", "pay it off myself",
  "take my life savings", "cut myself off" do not match.
- "hurt myself" counts as self-harm even when it might be an injury ("I hurt myself at work"):
  the lexicon cannot tell, and the careful reading wins.

Patterns are matched on the LOWER attribute of spaCy tokens; the phrase list is tokenized by
the same tokenizer, so "can't", "cant", "cannot" and "can not" each match their own spelling.
Curly apostrophes are straightened by the caller (entities.py) before tokenizing.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

SELF_HARM = "self_harm"
DISTRESS = "distress"

_NOT = ("don't", "dont", "do not", "dnt", "don't really", "dont really", "do not really")
_WANT = ("want to", "wanna", "want 2", "wana")
_NOT_WANT_OBJECTS = (
    "live",
    "be alive",
    "be here anymore",
    "be here no more",
    "exist",
    "wake up",
    "go on",
    "go on living",
    "keep living",
)
_CANT = ("can't", "cant", "cannot", "can not", "can't really", "cant really")
_REFLEXIVE_VERBS = (
    "kill",
    "killing",
    "killed",
    "kil",
    "hurt",
    "hurting",
    "harm",
    "harming",
    "cut",
    "cutting",
    "hang",
    "hanging",
    "shoot",
    "shooting",
    "unalive",
    "unaliving",
    "drown",
    "drowning",
    "poison",
    "poisoning",
    "end",
)
_REFLEXIVES = ("myself", "my self", "meself", "mysef", "myslef", "mself")
_MY_LIFE_VERBS = ("end", "ending", "ended", "take", "taking", "took")

SELF_HARM_PHRASES = (
    (
        "suicide",
        "suicidal",
        "sucide",
        "suicde",
        "suiside",
        "suicidle",
        "sucidal",
        "suicidial",
        "kms",
        "unalive",
        "self harm",
        "self-harm",
        "selfharm",
        "self harming",
        "self-harming",
        "end it all",
        "ending it all",
        "end it all now",
        "reason to live",
        "reason to keep living",
        "nothing to live for",
        "point of living",
        "point in living",
        "point to living",
        "no point living",
        "point of being alive",
        "point in going on",
        "not worth living",
        "isn't worth living",
        "isnt worth living",
        "tired of living",
        "tired of being alive",
        "sick of living",
        "done with life",
        "done with living",
        "better off dead",
        "better off without me",
        "better without me",
        "wish i was dead",
        "wish i were dead",
        "wish i wasn't alive",
        "wish i was never born",
        "rather be dead",
        "want to be dead",
        "wanna be dead",
        "overdose",
        "overdosing",
        "slit my wrists",
        "jump off a bridge",
        "jump off the bridge",
        "jump in front of a train",
        "step in front of a train",
    )
    + tuple(f"{c} go on" for c in _CANT)
    + tuple(f"{n} {w} {o}" for n, w, o in product(_NOT, _WANT, _NOT_WANT_OBJECTS))
    + tuple(f"{v} {r}" for v, r in product(_REFLEXIVE_VERBS, _REFLEXIVES))
    + tuple(f"{v} my {own}life" for v, own in product(_MY_LIFE_VERBS, ("", "own ")))
)

DISTRESS_PHRASES = (
    "panic attack",
    "panic attacks",
    "panicking",
    "anxiety attack",
    "anxiety attacks",
    "can't breathe",
    "cant breathe",
    "cannot breathe",
    "can't stop crying",
    "cant stop crying",
    "cannot stop crying",
    "crying my eyes out",
    "broke down crying",
    "broke down in tears",
    "in tears",
    "nervous breakdown",
    "mental breakdown",
    "emotional breakdown",
    "having a breakdown",
    "falling apart",
    "losing my mind",
    "end of my rope",
    "at my wits end",
    "at my wit's end",
    "hopeless",
    "freaking out",
    "depressed",
    "heart is racing",
    "heart racing",
    "i'm shaking",
    "im shaking",
    "i am shaking",
    "i'm crying",
    "im crying",
    "i am crying",
    "been crying",
) + tuple(
    f"{c} {rest}"
    for c, rest in product(
        _CANT,
        (
            "cope",
            "take it anymore",
            "take this anymore",
            "take it any more",
            "handle this anymore",
            "handle it anymore",
            "do this anymore",
            "keep going",
            "calm down",
            "stop shaking",
        ),
    )
)

_FILLER = [
    "just",
    "really",
    "honestly",
    "fucking",
    "fuckin",
    "literally",
    "kinda",
    "so",
    "actually",
    "uh",
    "um",
    "simply",
    "basically",
    "sometimes",
    "only",
    "truly",
]

# Matcher patterns for what a phrase list cannot say: words in between, or a word whose
# neighbours decide (checked in `_keep`).
SELF_HARM_PATTERNS = [
    # "i want to die", "i just wanna die", "i wish i could die" is left to the phrase list
    [
        {"LOWER": {"IN": ["want", "wanna", "wants", "wanted", "wish", "ready"]}},
        {"LOWER": {"IN": _FILLER}, "OP": "*"},
        {"LOWER": {"IN": ["to", "2"]}, "OP": "?"},
        {"LOWER": {"IN": _FILLER}, "OP": "*"},
        {"LOWER": {"IN": ["die", "dieee", "dye"]}},
    ],
]
# "this fee is killing me" is frustration about money, not a crisis: it is left to the
# classifier, so an angry customer is not handed off for a figure of speech.
DISTRESS_PATTERNS = [
    # "i'm breaking down" but not "breaking down the charges": see `_keep`.
    [{"LOWER": "breaking"}, {"LOWER": "down"}],
]

# A hit is dropped when the word after it shows an ordinary meaning.
_NOT_AFTER = {
    "cut": {"off", "some", "a", "back", "short", "loose", "out"},
    "cutting": {"off", "some", "a", "back", "short", "loose", "out"},
    "shoot": {"a", "an", "in", "off"},
    "shooting": {"a", "an", "in", "off"},
    "life": {"savings", "insurance", "policy", "'s", "story"},
    "breaking": set(),
}
_BREAKING_DOWN_NEXT = {
    "crying",
    "in",
    "right",
    "here",
    "now",
    "and",
    "again",
    "completely",
    "inside",
    "emotionally",
    "over",
    "so",
    "because",
    "but",
    "today",
    "lol",
}


@dataclass(frozen=True)
class DistressHit:
    kind: str  # SELF_HARM or DISTRESS
    start_char: int
    end_char: int
    text: str


class DistressMatcher:
    """Built once per spaCy pipeline; `find(doc)` lists every hit, self-harm first."""

    def __init__(self, nlp: Language) -> None:
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._phrases.add(SELF_HARM, list(nlp.tokenizer.pipe(sorted(set(SELF_HARM_PHRASES)))))
        self._phrases.add(DISTRESS, list(nlp.tokenizer.pipe(sorted(set(DISTRESS_PHRASES)))))
        self._patterns = Matcher(nlp.vocab)
        self._patterns.add(SELF_HARM, SELF_HARM_PATTERNS)
        self._patterns.add(DISTRESS, DISTRESS_PATTERNS)

    def find(self, doc: Doc) -> list[DistressHit]:
        hits = []
        for match_id, start, end in [*self._phrases(doc), *self._patterns(doc)]:
            if not _keep(doc, start, end):
                continue
            span = doc[start:end]
            kind = doc.vocab.strings[match_id]
            hits.append(DistressHit(kind, span.start_char, span.end_char, span.text))
        hits.sort(key=lambda h: (h.kind != SELF_HARM, h.start_char, -h.end_char))
        return hits


def _keep(doc: Doc, start: int, end: int) -> bool:
    words = [t.lower_ for t in doc[start:end]]
    after = doc[end].lower_ if end < len(doc) else None
    before = doc[start - 1] if start > 0 else None
    if words == ["kms"] and before is not None and (before.like_num or before.is_digit):
        return False  # "5 kms away": kilometres
    if words[-1] == "life" and after in _NOT_AFTER["life"]:
        return False  # "take my life savings"
    if words[0] in ("cut", "cutting", "shoot", "shooting") and after in _NOT_AFTER[words[0]]:
        return False  # "cut myself off", "shoot myself an email"
    if words == ["breaking", "down"]:
        return after is None or doc[end].is_punct or after in _BREAKING_DOWN_NEXT
    return True
