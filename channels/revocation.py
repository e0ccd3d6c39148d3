"""Revocation of consent in the customer's own words, caught by the connectors before Rasa (so it
works while a conversation is paused for a person or after a wrong number), recorded in the
payments service (`POST /api/contact/revocations`, contract C4) and confirmed only once recorded.
A contract test runs the client against the real app (tests/channels/test_revocation_contract.py).

`match_revocation(text, channel)` is one pure function over a table of phrases per language
(`PHRASES`; English, and a first Spanish table in the same shape). What it reads:

- the medium comes from the words, never from the channel used: "stop calling me" by text stops
  calls, "stop texting me" in a call stops texts, "don't call or text me" stops both, "don't email
  me" stops email;
- cease: "stop contacting me", "cease all communication", "cease and desist", "leave me alone",
  "stop harassing me", "never contact me again" → `cease` and every medium (`all`);
- words that name no medium ("unsubscribe me", "opt me out", "take me off your list") mean the
  channel used (a text → sms, a call → voice); in web chat they name nothing we could stop, so
  they are left to the assistant, which asks;
- a stop with a time or a place is an inconvenient time or place, not a revocation: "don't call
  me at work", "not before noon", "not after 6pm", "only after 5" → `inconvenient` (12 CFR
  1006.6(b)(1)); hours without am/pm are read as the day a consumer means ("after 6" is 18:00,
  "before 9" is 09:00); "in the morning" is not before 12:00, "in the evening"/"at night" not after
  17:00;
- not revocations: "I can't stop worrying", "stop, let me think", "stop the payment", "don't call
  me sir", "call me tomorrow", "I never got your call", "can we end the call" (this call, not
  consent), a bare "stop" outside SMS (on SMS the
  carrier keywords STOP & co. are handled by channels/sms.py, as Twilio's rules require).

Choices, made for the customer: an ambiguous "don't text me" is honoured (START or a person opts
back in); "leave me alone" is a cease unless it is "for a minute".

While a conversation is paused (Rasa runs no action then) a dispute, a lawyer, a bankruptcy or a
death in the customer's words is filed as a report too (`match_report`, `RevocationDesk.report`,
`POST /api/reports`); the words still reach Rasa silently, so the agent's transcript has them.

`RevocationDesk.handle(...)` is what connectors call: None for any other message (it goes to
Rasa); else the reply for the customer, after the service answered 201. Each record is written
to the connector's channel store first (Redis with CHANNELS_REDIS_URL), so if the service cannot
be reached it is retried from there with growing delays by the connector's drain task, across
restarts and replicas, until the service answers, and the customer is told plainly that it is
being recorded and how to reach a person; a refusal (no phone number and no
verified account to record it against) gets how to stop contact instead. The customer's words go
to the service card-masked; they are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.dedupe import ChannelStore, InMemoryStore
from channels.rasa_state import rasa_tracker
from clients.payments import Delivery, HttpPaymentsClient, delivered
from contracts.masking import mask_card_numbers
from contracts.names import ReportKind

log = logging.getLogger(__name__)

PHONE_FOR_A_PERSON = "1-800-555-0199"

# --- what a message asks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Inconvenient:
    """Times ("HH:MM", the consumer's local time) and places the consumer said are inconvenient."""

    not_before: str | None = None
    not_after: str | None = None
    places: tuple[str, ...] = ()
    text: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "not_before": self.not_before,
            "not_after": self.not_after,
            "places": list(self.places),
            "text": self.text,
        }


@dataclass(frozen=True)
class Revocation:
    media: tuple[str, ...] = ()  # "sms", "voice", "email"; ("all",) with cease
    cease: bool = False
    inconvenient: Inconvenient | None = None


@dataclass(frozen=True)
class Phrases:
    """One language's phrase table. Each entry is a regular expression over normalized text
    (lower case, apostrophes straight, punctuation as " , "); `{media}` in a stop phrase stands
    for a list of medium words ("calls", "calls and texts")."""

    media: dict[str, str]  # medium → words naming it ("all": contact of any kind → cease)
    stop: tuple[str, ...]  # "<stop words> ... {media}"
    cease: tuple[str, ...]  # whole phrases that mean cease
    own_channel: tuple[str, ...]  # stops the channel used; no medium named
    not_revocation: tuple[str, ...]  # vetoes
    places: dict[str, str]  # place → words
    not_before: tuple[str, ...]  # "{time}" captured
    not_after: tuple[str, ...]
    morning: str
    evening: str
    time_context: str  # a negation: "not before noon", "don't call after 6"
    # A place said to be inconvenient, `{place}` standing for its words: only a refusal counts
    # ("don't call me at work", "not at work"), never a wish ("only call me at work", "reach me at
    # home") or a passing state ("I'm not home right now").
    place_refused: str
    contact_verbs: str


_EN = Phrases(
    media={
        "sms": r"text(?:s|ing|ed)?|text messages?|txt(?:s|ing)?|sms|messag(?:e|es|ing)|msg(?:s|ing)?",
        "voice": r"call(?:s|ing|ed)?|phone calls?|phon(?:e|ing)|ring(?:ing)?|robocalls?|voicemails?",
        "email": r"e-?mail(?:s|ing|ed)?",
        "all": r"contact(?:s|ing|ed)?|communicat(?:e|ing|ions?)|harass(?:ing|ment)?|bother(?:ing)?",
    },
    stop=(
        r"\b(?:stop|quit|cease)\b(?: (?:sending|me|any|all|more|your|the|these|those|with|of|to|all of))* {media}",
        r"\b(?:don't|never|no longer)(?: ever)?(?: again)? {media} (?:me|this number|this phone|my number|my phone)\b",
        r"^(?:please )?(?:don't|never) {media}(?: (?:again|anymore|ever|please))*$",
        r"\bdon't {media} list\b",  # "put me on your do not call list"
        r"\bend (?:the |these |all |your )?(?:texts|calls|emails|messages|text messages)\b",
        r"\bi (?:don't|no longer) want(?: (?:any|more|anymore|your|to|be|any more|no))* {media}",
        r"\bno (?:more )?(?:phone )?(?:calls|texts|text messages|emails|messages|contact)\b",
        r"\b(?:take|remove|delete) (?:me|my number|my phone number|my email) (?:off|from) (?:your|the) "
        r"(?:{media}) list",
        r"\b(?:unsubscribe|opt) me (?:out )?(?:of |from )(?:your |the |all |these |those )?{media}",
        r"\bopt out (?:of |from )(?:your |the |all |these |those )?{media}",
    ),
    cease=(
        r"\bcease and desist\b",
        r"\bleave me alone\b",
        r"\bcease all\b",
        r"\bend all (?:contact|communications?)\b",
    ),
    own_channel=(
        r"^(?:please )?(?:unsubscribe(?: me)?|unsub|opt out|opt me out|remove me|take me off (?:your|the) list"
        r"|remove me from (?:your|the) list|remove my number|(?:remove|take) my (?:phone )?number "
        r"(?:from|off) (?:your|the) list)(?: please)?(?: ,)?$",
    ),
    not_revocation=(
        r"\bcall me (?:sir|ma'am|maam|miss|mister|mr|mrs|ms|dr|by|that|names?|\w+ name)\b",
        r"\bleave me alone (?:for|a) (?:a )?(?:minute|second|moment|bit|sec)\b",
        r"\b(?:can't|cannot|couldn't) stop\b",
        r"\b(?:stop|end|quit|hang up) (?:the|this) (?:call|conversation|chat)\b",  # ending this call, not consent
    ),
    places={
        "work": r"work|my job|the office|my office|workplace",
        "school": r"school|class",
        "home": r"home|my house",
    },
    not_before=(r"\bonly after {time}", r"\b(?:before|until|till|til|earlier than) {time}"),
    not_after=(r"\bonly before {time}", r"\b(?:after|later than|past) {time}"),
    morning=r"\b(?:in the )?mornings?\b",
    evening=r"\b(?:in the )?evenings?\b|\bat night\b",
    time_context=r"\b(?:not|don't|never|no|stop|only|can't|cannot)\b",
    place_refused=(
        r"\b(?:don't|do not|never|stop|no)\b[^.?!,]{{0,30}}?\b(?:at|to|on|in|during|while at) (?:{place})\b"
        r"|\bnot (?:at |to |in )?(?:{place})\b(?! (?:right )?now| today| at the moment| yet)"
    ),
    contact_verbs=r"\b(?:call|text|contact|reach|email|message|phone|ring)",
)

# Spanish: the same shape; a first table (common ways to say stop calling/texting/contacting).
_ES = Phrases(
    media={
        "sms": r"mensajes?|textos?|sms|mensajear(?:me)?|escribir(?:me)?",
        "voice": r"llamadas?|llamar(?:me)?|llamen(?:me)?|llames",
        "email": r"correos?(?: electr[oó]nicos?)?|e-?mails?",
        "all": r"contactar(?:me)?|contacten(?:me)?|contacto|molestar(?:me)?|molesten",
    },
    stop=(
        r"\b(?:dejen|deja|paren|para) de(?: (?:enviarme|mandarme|me))? {media}",
        r"\bno (?:me )?(?:vuelvan a |quiero (?:m[aá]s )?|manden |env[ií]en )?{media}",
    ),
    cease=(r"\bd[eé]jenme en paz\b", r"\bno me contacten m[aá]s\b"),
    own_channel=(r"^(?:cancelar|baja|darme de baja)$",),
    not_revocation=(),
    places={"work": r"trabajo|oficina", "school": r"escuela", "home": r"casa"},
    not_before=(r"\bantes de (?:las )?{time}",),
    not_after=(r"\bdespu[eé]s de (?:las )?{time}",),
    morning=r"\bpor la ma[nñ]ana\b",
    evening=r"\bpor la noche\b",
    time_context=r"\b(?:no|nunca|solo|sólo)\b",
    place_refused=r"\b(?:no|nunca)\b[^.?!,]{{0,30}}?\b(?:en|a|al) (?:el |la |mi )?(?:{place})\b",
    contact_verbs=r"\b(?:llam|mensaj|contact|escrib)",
)

PHRASES: dict[str, Phrases] = {"en": _EN, "es": _ES}

# Which channel's own medium "unsubscribe me" stops.
_OWN_MEDIUM = {"sms": "sms", "voice": "voice"}
_TIME = r"(?P<time>noon|midday|midnight|\d{1,2}(?::\d{2})?(?: ?(?:am|pm|a m|p m|a\.m\.|p\.m\.))?)(?![\d/])"


def _normalized(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    text = re.sub(r"\bdont\b", "don't", text)
    text = re.sub(r"\bdo not\b", "don't", text)
    text = re.sub(r"\bcant\b", "can't", text)
    text = re.sub(r"\b(did|does|is|was|were|are|should|could|would|have|has)nt\b", r"\1n't", text)
    text = re.sub(r"\bwont\b", "won't", text)
    text = re.sub(r"\be mail", "email", text)
    text = re.sub(r"([,;!?]|\.(?!m\.)(?<!a\.)(?<!p\.))", " , ", text)
    return re.sub(r"\s+", " ", text).strip()


def _media_list(words: dict[str, str]) -> str:
    one = "(?:" + "|".join(f"(?:{pattern})" for pattern in words.values()) + ")"
    return rf"(?P<media>{one}(?:(?:(?: ,)? (?:and|or|nor|&|/|and/or)| ,) (?:me |any |the )?{one})*)\b"


def _media_named(phrase: str, words: dict[str, str]) -> set[str]:
    named: set[str] = set()
    for medium, pattern in words.items():
        if re.search(rf"\b(?:{pattern})\b", phrase):
            named.add(medium)
    return named


def _clock(raw: str, *, ending: bool) -> str | None:
    """ "6pm" → "18:00"; "noon" → "12:00"; without am/pm, the hour a consumer means: an end ("not
    after 8") is in the afternoon or evening, a start ("not before 9") from 7 in the morning."""
    raw = raw.replace(".", "").replace(" ", "")
    if raw in ("noon", "midday"):
        return "12:00"
    if raw == "midnight":
        return None
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(am|pm)?", raw)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if hour > 23 or minute > 59:
        return None
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    elif half is None and 1 <= hour <= 11 and (ending or hour <= 6):
        hour += 12
    return f"{hour:02d}:{minute:02d}"


def _inconvenient(text: str, table: Phrases, original: str) -> Inconvenient | None:
    if not re.search(table.time_context, text):
        return None
    places = tuple(
        place for place, words in table.places.items() if re.search(table.place_refused.format(place=words), text)
    )
    not_before = not_after = None
    for pattern in table.not_before:
        found = re.search(pattern.format(time=_TIME), text)
        if found:
            not_before = _clock(found.group("time"), ending=False)
            text = text[: found.start()] + " " + text[found.end() :]  # "only after 5" is no "after 5" end
            break
    for pattern in table.not_after:
        found = re.search(pattern.format(time=_TIME), text)
        if found:
            not_after = _clock(found.group("time"), ending=True)
            break
    if not_before is None and re.search(table.morning, text):
        not_before = "12:00"
    if not_after is None and re.search(table.evening, text):
        not_after = "17:00"
    if not_before and not_after and not_before >= not_after:
        not_before = not_after = None  # "not before 6 and not after 9": unclear, the words are kept
    if not (places or not_before or not_after):
        return None
    return Inconvenient(not_before, not_after, places, mask_card_numbers(original.strip())[0][:300])


def match_revocation(text: str, channel: str, language: str | None = None) -> Revocation | None:
    """What the message revokes, or None when it is no revocation. `channel`: sms | voice | web |
    rest, only for words that name no medium. Pure: the phrase table is `PHRASES[language]`, or
    each table in turn (English first) when no language is given."""
    tables = [PHRASES[language]] if language else list(PHRASES.values())
    for table in tables:
        found = _match(text, channel, table)
        if found is not None:
            return found
    return None


def _match(text: str, channel: str, table: Phrases) -> Revocation | None:
    normalized = _normalized(text)
    if not normalized or any(re.search(veto, normalized) for veto in table.not_revocation):
        return None
    media: set[str] = set()
    media_pattern = _media_list(table.media)
    for pattern in table.stop:
        for found in re.finditer(pattern.format(media=media_pattern), normalized):
            media |= _media_named(found.group(0), table.media)
    said_cease = any(re.search(pattern, normalized) for pattern in table.cease)
    cease = "all" in media or said_cease
    if not media and not cease and any(re.fullmatch(pattern, normalized) for pattern in table.own_channel):
        own = _OWN_MEDIUM.get(channel)
        if own:
            media.add(own)
    # A time or a place counts when it is about contact: a stop phrase, a contact verb, or the
    # short answer "not at work", "only after 5".
    about_contact = bool(
        media
        or cease
        or normalized.startswith(("not ", "only ", "no ", "never "))
        or re.search(table.contact_verbs, normalized)
    )
    inconvenient = _inconvenient(normalized, table, text) if about_contact else None
    if said_cease or (cease and inconvenient is None):
        return Revocation(("all",), True, inconvenient)
    # "never contact me at my job": a place (or time) for all contact, not a cease.
    if inconvenient is not None:
        return Revocation((), False, inconvenient)  # "don't call me at work": a place, not a revocation
    if media:
        return Revocation(tuple(sorted(media)), False, None)
    return None


# --- reports a paused conversation must not lose --------------------------------------------------

# While a conversation is paused (a person has it, or a wrong number) Rasa runs no action, so a
# dispute, a lawyer, a bankruptcy or a death said then would only sit in the transcript. The
# connectors file them as reports (`POST /api/reports`: a pending flag an agent reviews, with
# collection messages held meanwhile). In a listening conversation the assistant handles them.
REPORT_PHRASES: dict[str, tuple[str, ...]] = {
    ReportKind.ATTORNEY: (r"\b(?:lawyers?|attorneys?|atty|counsel|legal representation)\b",),
    ReportKind.BANKRUPTCY: (
        r"\bbankrupt(?:cy)?\b",
        r"\bch(?:apter|\.)? ?(?:7|13|seven|thirteen)\b",
        r"\bdischarged\b",
        r"\bautomatic stay\b",
        r"\btrustee\b",
    ),
    ReportKind.DECEASED: (
        r"\bpassed away\b",
        r"\b(?:died|deceased|is dead)\b",
        r"\bdeath\b",
        r"\bexecutor\b",
        r"(?<!real )\bestate\b",
        r"\b(?:my|his|her|our) late\b",
        r"\b(?:mom|dad|mother|father|husband|wife|brother|sister|son|daughter|partner|he|she) passed\b",
    ),
    ReportKind.DISPUTE: (
        r"\bdisput",
        r"\bnot (?:my|our) (?:debt|charges?|account|card)\b",
        r"\b(?:isn't|is not|ain't) mine\b",
        r"\bnever (?:made|opened|authorized|signed up)\b",
        r"\bdidn't make\b",
        r"\bfraud",
        r"\bidentity theft\b",
        r"\bstole my identity\b",
        r"\bdon't recognize\b",
        r"\bvalidat(?:e|ion)\b",
        r"\bprove i owe\b",
        r"\bproof (?:that i owe|of (?:this|the) debt)\b",
        r"\b(?:balance|amount|bill|fees?|charges?|interest) "
        r"(?:is|are|r|you have is) (?:wrong|incorrect)\b",
        r"\b(?:is|it's|this is) (?:incorrect|not right)\b",
        r"\bdon't owe\b",
        r"\bway off\b",
        r"\bshouldn't have\b",
        r"\b(?:that's|thats) not my charge\b",
    ),
}


def match_report(text: str) -> str | None:
    """The report kind the words make ("attorney", "bankruptcy", "deceased", "dispute"), or None.
    Pure; checked in that order (a lawyer named in a dispute is the stronger fact)."""
    normalized = _normalized(text)
    for kind, patterns in REPORT_PHRASES.items():
        if any(re.search(pattern, normalized) for pattern in patterns):
            return kind
    return None


REPORT_RECORDED_TEXT = (
    "Thank you, we've recorded that. A person from our team will review it, and we'll hold "
    "collection messages on the account until they have."
)


# --- what the customer is told -------------------------------------------------------------------

_MEDIUM_WORDS = {"sms": "text messages", "voice": "calls", "email": "emails"}


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def confirmation(revocation: Revocation) -> str:
    """The words a recorded revocation is confirmed with (the one message a cease allows)."""
    if revocation.cease:
        return (
            "We've recorded your request that we stop contacting you. We won't call, text or email you "
            "about this account again, except where the law requires us to tell you something."
        )
    parts = []
    if revocation.media:
        parts.append(
            f"We've recorded that you don't want {_joined([_MEDIUM_WORDS[m] for m in revocation.media])} "
            "from us, and we won't send them."
        )
    if revocation.inconvenient is not None:
        parts.append(
            f"We've noted that {_when(revocation.inconvenient)} is not a good time for you, and we won't "
            "contact you then."
        )
    return " ".join(parts)


def _when(window: Inconvenient) -> str:
    pieces = []
    if window.places:
        pieces.append(_joined([f"at {place}" for place in window.places]))
    if window.not_before:
        pieces.append(f"before {window.not_before}")
    if window.not_after:
        pieces.append(f"after {window.not_after}")
    return " or ".join(pieces) if pieces else "that time"


def pending_text(revocation: Revocation) -> str:
    asked = "to stop contacting you" if revocation.cease else "about how we contact you"
    return (
        f"We're recording your request {asked}, but our system didn't confirm it yet; we'll keep trying. "
        f"To be sure, you can reach a person at {PHONE_FOR_A_PERSON}, 8am-9pm."
    )


def not_recordable_text() -> str:
    return (
        f"I can't record that here because I don't know which account or number it's for. To stop contact, "
        f"reply STOP to any text from us, or call {PHONE_FOR_A_PERSON} to reach a person."
    )


# --- recording it --------------------------------------------------------------------------------

RECORDED, REFUSED, UNAVAILABLE = Delivery.RECORDED, Delivery.REFUSED, Delivery.UNAVAILABLE


def _shown(conversation_id: str) -> str:
    """A conversation id for a log line: an SMS conversation's id is the phone number, masked."""
    if conversation_id.startswith("+") and len(conversation_id) > 8:
        return f"{conversation_id[:5]}***{conversation_id[-4:]}"
    return conversation_id


class RevocationLedger(Protocol):
    async def record(self, body: dict[str, Any]) -> str:
        """RECORDED (201), REFUSED (the service said no: 4xx) or UNAVAILABLE (down, 5xx, timeout)."""

    async def report(self, body: dict[str, Any]) -> str:
        """`POST /api/reports`; the same outcomes."""


class PaymentsRevocationLedger:
    """The payments service's compliance ledger through its one client (clients/payments.py):
    `POST /api/contact/revocations` and `POST /api/reports` (contract C4). RECORDED only for the
    service's `201 Created`; REFUSED for a 4xx (logged: the body is wrong, sending it again would
    not help); UNAVAILABLE for everything else (down, 5xx, timeout), which the desk retries."""

    def __init__(
        self,
        payments_url: str,
        service_token: str,
        timeout_seconds: float = 5.0,
        client: HttpPaymentsClient | None = None,
    ) -> None:
        self.client = client or HttpPaymentsClient(payments_url, service_token, timeout_seconds)

    async def record(self, body: dict[str, Any]) -> str:
        return await self._logged("revocations", body, self.client.record_revocation(**body))

    async def report(self, body: dict[str, Any]) -> str:
        return await self._logged("reports", body, self.client.create_report(**body))

    async def aclose(self) -> None:
        await self.client.aclose()

    @staticmethod
    async def _logged(route: str, body: dict[str, Any], call: Awaitable[object]) -> str:
        outcome = await delivered(call)
        if outcome == REFUSED:
            log.error(
                "[conversation=%s] %s refused by the payments service",
                _shown(str(body.get("conversation_id") or "")),
                route,
            )
        return outcome


@dataclass(frozen=True)
class Answer:
    """What a connector tells the customer about a revocation; `cease`: nothing else may follow
    (a call ends after it)."""

    text: str
    cease: bool = False


# The queue of what the service has not confirmed yet lives in the connector's channel store
# (channels/dedupe.py: this process's memory, or Redis shared by every replica with
# CHANNELS_REDIS_URL), one key per item, written BEFORE the first attempt, so neither a failed
# attempt nor a restart in the middle of one loses the customer's request.
OUTBOX = "revocation-outbox"
MAX_AGE_SECONDS = 7 * 24 * 3600.0  # older than this, an item is logged at ERROR and dropped
_KEEP_SECONDS = MAX_AGE_SECONDS + 24 * 3600.0  # the store's own TTL, a backstop beyond the age limit
_SENDS = {"revocation": "record", "report": "report"}


@dataclass
class RevocationDesk:
    """Catches revocations for a connector: `handle(...)` → None (not one: give it to Rasa) or the
    reply for the customer.

    Durable retries: each revocation or report is written to `store` under a key of its own
    (`<outbox>:item:<id>`, a random id made once) before the service is asked, and deleted once
    the service answered 201 (or refused it). One the service could not take stays in the store
    and the drain task (`start()` with the connector, `stop()` when it stops) sends it again
    with growing delays (`retry_delays`, the last one repeated) until the service answers, across
    restarts and, with Redis, from any replica. A send holds a lease (`<outbox>:lease:<id>`, set
    if absent) and re-reads the item under it, so two drains never send the same item at once and
    a sent item is never sent again. After the listed delays the item is logged at ERROR (a person
    should record it; retrying goes on); after `max_age_seconds` it is logged at ERROR and
    dropped. Log lines name the item id, the kind and a masked number, never the words.

    The payments service has no idempotency key on `POST /api/contact/revocations`: only an answer
    lost after the service committed (a timeout then) can make a revocation recorded twice, which
    sets the same flags again (a second audit row). `POST /api/reports` returns the first report
    for the same kind from the same conversation."""

    ledger: RevocationLedger
    retry_delays: tuple[float, ...] = (2.0, 5.0, 15.0, 60.0)
    store: ChannelStore | None = None
    max_age_seconds: float = MAX_AGE_SECONDS
    poll_seconds: float = 30.0  # how often the drain looks for items other replicas or processes left
    lease_seconds: float = 60.0  # longer than one send (the ledger's timeout)
    outbox: str = OUTBOX
    clock: Callable[[], float] = time.time  # wall clock: items outlive the process
    _local: dict[str, dict[str, Any]] = field(default_factory=dict)  # the store could not take them
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event | None = None
    _pass_lock: asyncio.Lock | None = None
    _stopping: bool = False

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = InMemoryStore(ttl_seconds=3600.0)

    async def handle(
        self, text: str, *, channel: str, conversation_id: str, phone: str | None = None, account_id: str | None = None
    ) -> Answer | None:
        revocation = match_revocation(text, channel)
        if revocation is None:
            return None
        if not (phone or account_id):
            log.info(
                "[conversation=%s] revocation with no number or account to record it against", _shown(conversation_id)
            )
            return Answer(not_recordable_text())
        summary = mask_card_numbers((text or "").strip())[0][:300]
        body: dict[str, Any] = {
            "phone": phone or None,
            "account_id": account_id or None,
            "conversation_id": conversation_id,
            "channel": channel,
            "media": list(revocation.media),
            "cease": revocation.cease,
            "inconvenient": revocation.inconvenient.as_json() if revocation.inconvenient else None,
            "summary": summary,
        }
        outcome = await self._first_attempt("revocation", body)
        log.info(
            "[conversation=%s] revocation (media %s, cease %s, inconvenient %s): %s",
            _shown(conversation_id),
            list(revocation.media),
            revocation.cease,
            revocation.inconvenient is not None,
            outcome,
        )
        if outcome == RECORDED:
            return Answer(confirmation(revocation), revocation.cease)
        if outcome == REFUSED:
            return Answer(not_recordable_text())
        return Answer(pending_text(revocation), revocation.cease)

    async def report(
        self, text: str, *, channel: str, conversation_id: str, phone: str | None = None, account_id: str | None = None
    ) -> Answer | None:
        """A dispute, lawyer, bankruptcy or death said in a paused conversation: `POST /api/reports`
        (reported by "unknown": the speaker is not proven). None when the words make no report."""
        kind = match_report(text)
        if kind is None:
            return None
        if not (phone or account_id):
            return None  # a report needs an account or a number to point at; the transcript keeps the words
        body = {
            "kind": kind,
            "account_id": account_id or None,
            "phone": phone or None,
            "conversation_id": conversation_id,
            "channel": channel,
            "reported_by": "unknown",
            "summary": mask_card_numbers((text or "").strip())[0][:300],
        }
        outcome = await self._first_attempt("report", body)
        log.info("[conversation=%s] %s report from a paused conversation: %s", _shown(conversation_id), kind, outcome)
        if outcome == RECORDED:
            return Answer(REPORT_RECORDED_TEXT)
        if outcome == UNAVAILABLE:
            return Answer(
                f"We're recording this, but our system didn't confirm it yet; we'll keep trying. You can "
                f"also reach a person at {PHONE_FOR_A_PERSON}, 8am-9pm."
            )
        return None

    # --- the durable queue ---------------------------------------------------------------------

    def _item_key(self, item_id: str) -> str:
        return f"{self.outbox}:item:{item_id}"

    def _lease_key(self, item_id: str) -> str:
        return f"{self.outbox}:lease:{item_id}"

    def _delay(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed attempt (the first one is the connector's)."""
        if not self.retry_delays:
            return self.poll_seconds
        return self.retry_delays[min(attempts, len(self.retry_delays)) - 1]

    async def _first_attempt(self, kind: str, body: dict[str, Any]) -> str:
        """Store the item (under a lease, so no drain sends it meanwhile), then ask the service.
        Recorded or refused: the item is deleted. Unavailable: it stays, due after the first delay."""
        item_id = uuid.uuid4().hex
        now = self.clock()
        item = {
            "id": item_id,
            "kind": kind,
            "body": body,
            "created_at": now,
            "attempts": 0,
            "next_at": now,
            "alerted": False,
        }
        durable = await self._store_op("store", self._lease, item_id) and await self._store_op("store", self._put, item)
        if not durable:
            log.error(
                "[conversation=%s] %s %s could not be written to the channel store: kept in this process only",
                _shown(body["conversation_id"]),
                kind,
                item_id,
            )
        outcome = await self._send(item)
        if outcome == UNAVAILABLE:
            item["attempts"], item["next_at"] = 1, now + self._delay(1)
            if durable:  # if this update fails, the stored copy (due now) is retried all the same
                await self._store_op("update", self._put, item)
            else:
                self._local[item_id] = item
        elif durable:
            await self._store_op("delete", self._forget, item_id)
        if durable:
            await self._store_op("release", self._release, item_id)
        if outcome == UNAVAILABLE and self._wake is not None:
            self._wake.set()
        return outcome

    async def _store_op(self, what: str, op: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        try:
            result = await op(*args)
        except Exception as error:  # Redis down: the caller keeps the item in memory instead
            log.error("revocation outbox: %s failed in the channel store (%s)", what, type(error).__name__)
            return False
        return result is not False

    async def _lease(self, item_id: str) -> bool:
        assert self.store is not None
        return await self.store.add(self._lease_key(item_id), True, self.lease_seconds)

    async def _release(self, item_id: str) -> None:
        assert self.store is not None
        await self.store.delete(self._lease_key(item_id))

    async def _put(self, item: dict[str, Any]) -> None:
        assert self.store is not None
        keep = max(1.0, item["created_at"] + _KEEP_SECONDS - self.clock())
        await self.store.set(self._item_key(item["id"]), item, keep)

    async def _forget(self, item_id: str) -> None:
        assert self.store is not None
        await self.store.delete(self._item_key(item_id))

    async def _send(self, item: dict[str, Any]) -> str:
        send = getattr(self.ledger, _SENDS[item["kind"]])
        outcome: str = await send(item["body"])
        return outcome

    async def pending(self) -> list[dict[str, Any]]:
        """The items not recorded yet (in the store, and any only this process holds)."""
        assert self.store is not None
        items = []
        for key in await self.store.keys(f"{self.outbox}:item:"):
            item = await self.store.get(key)
            if item is not None:
                items.append(item)
        return items + list(self._local.values())

    async def retry_due(self) -> float:
        """One pass: send every item that is due. Returns the seconds until the next one is due
        (at most `poll_seconds`)."""
        if self._pass_lock is None:
            self._pass_lock = asyncio.Lock()
        async with self._pass_lock:
            return await self._retry_due()

    async def _retry_due(self) -> float:
        assert self.store is not None
        wait = self.poll_seconds
        for item_id, item in list(self._local.items()):  # the store failed for these: try it again first
            if await self._store_op("store", self._put, item):
                del self._local[item_id]
        try:
            keys = await self.store.keys(f"{self.outbox}:item:")
        except Exception as error:
            log.error("revocation outbox: listing failed in the channel store (%s)", type(error).__name__)
            keys = []
        for key in keys:
            if self._stopping:
                break
            item = await self.store.get(key)
            if item is None:
                continue
            due = item["next_at"] - self.clock()
            if due > 0 and not self._expired(item):
                wait = min(wait, due)
                continue
            if not await self._lease(item["id"]):
                continue  # another replica (or this one) is sending it
            try:
                item = await self.store.get(key)  # under the lease: it may have been sent meanwhile
                if item is not None:
                    left = await self._attempt(item)
                    if left is not None:
                        item["attempts"] += 1
                        await self._put(item)
                        wait = min(wait, left)
            finally:
                await self._release(item["id"] if item else key.rsplit(":", 1)[-1])
        for item_id, item in list(self._local.items()):
            due = item["next_at"] - self.clock()
            if due > 0 and not self._expired(item):
                wait = min(wait, due)
                continue
            left = await self._attempt(item, local=True)
            if left is None:
                del self._local[item_id]
            else:
                item["attempts"] += 1
                wait = min(wait, left)
        return max(wait, 0.01)

    def _expired(self, item: dict[str, Any]) -> bool:
        age: float = self.clock() - item["created_at"]
        return age > self.max_age_seconds

    async def _attempt(self, item: dict[str, Any], local: bool = False) -> float | None:
        """Send one due item. None when it is done with (recorded, refused, too old: deleted);
        else the seconds until its next attempt (`item` updated; the caller counts the attempt)."""
        shown, kind, item_id = _shown(str(item["body"].get("conversation_id") or "")), item["kind"], item["id"]
        if self._expired(item):
            log.error(
                "[conversation=%s] %s %s NOT recorded after %.0f days and %d attempts: dropped; a person must "
                "record it",
                shown,
                kind,
                item_id,
                self.max_age_seconds / 86400,
                item["attempts"],
            )
            if not local:
                await self._forget(item_id)
            return None
        outcome = await self._send(item)
        attempt = item["attempts"]  # retries so far, the connector's first attempt included
        if outcome == RECORDED:
            log.info("[conversation=%s] %s %s recorded on retry %d", shown, kind, item_id, attempt)
        elif outcome == REFUSED:
            log.error(
                "[conversation=%s] %s %s refused by the payments service on retry %d: a person must record it",
                shown,
                kind,
                item_id,
                attempt,
            )
        if outcome != UNAVAILABLE:
            if not local:
                await self._forget(item_id)
            return None
        delay = self._delay(attempt + 1)
        item["next_at"] = self.clock() + delay
        if attempt >= len(self.retry_delays) and not item.get("alerted"):
            item["alerted"] = True
            log.error(
                "[conversation=%s] %s %s NOT recorded after %d retries: still retrying every %.0fs; a person "
                "should record it",
                shown,
                kind,
                item_id,
                attempt,
                delay,
            )
        return delay

    def start(self) -> None:
        """Start the drain task (the connector does, when its server starts)."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                wait = await self.retry_due()
            except Exception:
                log.exception("revocation outbox: a retry pass failed")
                wait = self.poll_seconds
            if self._stopping:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop the drain task, letting a send under way finish first (what is left stays in the store)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        try:
            await asyncio.wait_for(task, timeout=grace_seconds)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("revocation outbox: the drain task failed")
        if self._local:
            log.error(
                "revocation outbox: %d item(s) the channel store never took are lost with this process: a person "
                "must record them (ids %s)",
                len(self._local),
                ", ".join(self._local),
            )

    async def drain(self) -> None:
        """Retry until nothing is left, or what is left has been tried after every listed delay
        (tests; the drain task goes on after that)."""
        while True:
            wait = await self.retry_due()
            left = [item for item in await self.pending() if not self._expired(item)]
            if all(item["attempts"] > len(self.retry_delays) for item in left):
                return
            await asyncio.sleep(wait)


async def conversation_paused(app: Any, sender_id: str) -> bool:
    """Whether Rasa has this conversation paused (a person has it, or a wrong number)."""
    tracker = await rasa_tracker(app, sender_id)
    return tracker is not None and tracker.is_paused()


def drain_with_server(blueprint: Any, desk_of: Callable[[], RevocationDesk]) -> None:
    """Start the connector's drain task when its server starts, stop it when the server stops
    (Sanic runs shutdown listeners in reverse: this one before the connector closes its store).
    `desk_of` is read at start (a test may have swapped the desk before)."""
    started: list[RevocationDesk] = []

    @blueprint.listener("after_server_start")
    async def start_revocation_drain(*_: Any) -> None:
        desk = desk_of()
        started.append(desk)
        desk.start()

    @blueprint.listener("before_server_stop")
    async def stop_revocation_drain(*_: Any) -> None:
        while started:
            desk = started.pop()
            await desk.stop()
            if isinstance(desk.ledger, PaymentsRevocationLedger):
                await desk.ledger.aclose()


def desk_for(
    payments_url: str, service_token: str, timeout_seconds: float = 5.0, store: ChannelStore | None = None
) -> RevocationDesk:
    """The desk a connector uses in production: the payments service's ledger, and the
    connector's channel store for what is not recorded yet (none: this process's memory)."""
    return RevocationDesk(
        PaymentsRevocationLedger(payments_url, service_token, timeout_seconds),
        store=store,
        lease_seconds=max(60.0, 4 * timeout_seconds),
    )
