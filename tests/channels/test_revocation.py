"""Revocation in the customer's words (channels/revocation.py): the phrase matcher, the desk that
records before it confirms, and the payments-service client against a real HTTP server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from channels.revocation import (
    PHRASES,
    RECORDED,
    REFUSED,
    UNAVAILABLE,
    Inconvenient,
    PaymentsRevocationLedger,
    Revocation,
    RevocationDesk,
    confirmation,
    match_report,
    match_revocation,
)

SMS, VOICE, EMAIL = ("sms",), ("voice",), ("email",)


@pytest.mark.parametrize(
    "said, channel, media",
    [
        ("stop texting me", "sms", SMS),
        ("Please stop sending me texts", "voice", SMS),
        ("don't text me", "web", SMS),
        ("don’t text me anymore", "sms", SMS),
        ("quit texting", "sms", SMS),
        ("no more texts please", "voice", SMS),
        ("stop calling me", "sms", VOICE),  # the words decide, not the channel used
        ("STOP CALLING", "sms", VOICE),
        ("Will you stop calling me?", "web", VOICE),
        ("you need to stop calling me", "sms", VOICE),
        ("do not call me ever again", "sms", VOICE),
        ("dont call me", "web", VOICE),
        ("no more calls", "sms", VOICE),
        ("stop the calls", "sms", VOICE),
        ("I don't want any more calls", "sms", VOICE),
        ("I dont want to be called", "sms", VOICE),
        ("take me off your call list", "sms", VOICE),
        ("don't email me", "sms", EMAIL),
        ("stop emailing me", "voice", EMAIL),
        ("no more emails", "web", EMAIL),
        ("stop calling and texting me", "web", ("sms", "voice")),
        ("don't call or text me", "web", ("sms", "voice")),
        ("stop texting, calling or emailing me", "sms", ("email", "sms", "voice")),
        ("unsubscribe me", "sms", SMS),  # no medium named: the channel used
        ("opt me out", "voice", VOICE),
        ("dejen de llamarme", "sms", VOICE),
        ("no me manden mensajes", "voice", SMS),
    ],
)
def test_media_come_from_the_words(said: str, channel: str, media: tuple[str, ...]) -> None:
    assert match_revocation(said, channel) == Revocation(media, False, None)


@pytest.mark.parametrize(
    "said",
    [
        "stop contacting me",
        "Don't contact me",
        "cease all communication",
        "Cease and desist.",
        "leave me alone",
        "stop harassing me",
        "never contact me again",
        "I want you to stop contacting me",
        "stop bothering me",
        "déjenme en paz",
        "end all contact",
    ],
)
def test_cease_stops_every_medium(said: str) -> None:
    for channel in ("sms", "voice", "web"):
        assert match_revocation(said, channel) == Revocation(("all",), True, None)


@pytest.mark.parametrize(
    "said, window",
    [
        ("don't call me at work", Inconvenient(places=("work",))),
        ("not at work", Inconvenient(places=("work",))),
        ("don't call before noon", Inconvenient(not_before="12:00")),
        ("not after 6pm", Inconvenient(not_after="18:00")),
        ("please don't call me after 8", Inconvenient(not_after="20:00")),
        ("not before 9", Inconvenient(not_before="09:00")),
        ("only after 5", Inconvenient(not_before="17:00")),
        ("don't call me in the morning", Inconvenient(not_before="12:00")),
        ("Stop calling me at work, and not before 10am", Inconvenient(not_before="10:00", places=("work",))),
        ("don't text me after 7:30 pm", Inconvenient(not_after="19:30")),
        ("never contact me at my job", Inconvenient(places=("work",))),  # a place for all contact, no cease
        ("please don't text me while at work", Inconvenient(places=("work",))),
        ("no calls at work", Inconvenient(places=("work",))),
    ],
)
def test_a_time_or_place_is_inconvenient_not_a_revocation(said: str, window: Inconvenient) -> None:
    found = match_revocation(said, "sms")
    assert found is not None and found.media == () and not found.cease
    assert found.inconvenient == Inconvenient(window.not_before, window.not_after, window.places, said)


@pytest.mark.parametrize(
    "said, channel",
    [
        ("I can't stop worrying", "sms"),
        ("stop, let me think", "voice"),
        ("stop", "web"),  # a bare STOP is the SMS carrier keyword only (channels/sms.py)
        ("stop the payment", "web"),
        ("I'll stop by the branch", "web"),
        ("don't call me sir", "voice"),
        ("call me tomorrow", "sms"),
        ("please call me after 6pm", "sms"),
        ("I never got your call", "sms"),
        ("why do you keep calling me", "sms"),
        ("text me the link", "sms"),
        ("no, call me back", "sms"),
        ("leave me alone for a minute", "voice"),
        ("I can't pay until 5", "sms"),
        ("can we end the call", "voice"),
        ("stop the call, I'll pay online", "voice"),
        ("unsubscribe me", "web"),  # names no medium, and web chat is none
        ("", "sms"),
    ],
)
def test_what_is_not_a_revocation(said: str, channel: str) -> None:
    assert match_revocation(said, channel) is None


def test_every_language_table_has_the_same_shape() -> None:
    assert set(PHRASES) >= {"en", "es"}
    for table in PHRASES.values():
        assert set(table.media) == {"sms", "voice", "email", "all"} and table.stop


def test_confirmations_say_what_was_recorded() -> None:
    assert "calls" in confirmation(Revocation(VOICE)) and "text" not in confirmation(Revocation(VOICE))
    assert "text messages or calls" in confirmation(Revocation(("sms", "voice")))
    assert "stop contacting you" in confirmation(Revocation(("all",), True))
    assert "at work" in confirmation(Revocation((), False, Inconvenient(places=("work",))))


# --- the desk ------------------------------------------------------------------------------------


class FakeLedger:
    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)
        self.bodies: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []

    def _next(self) -> str:
        return self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]

    async def record(self, body: dict[str, Any]) -> str:
        self.bodies.append(body)
        return self._next()

    async def report(self, body: dict[str, Any]) -> str:
        self.reports.append(body)
        return self._next()


async def test_the_desk_confirms_only_after_the_record_and_sends_the_contract_body() -> None:
    ledger = FakeLedger(RECORDED)
    desk = RevocationDesk(ledger)
    answer = await desk.handle(
        "stop calling me 4111 1111 1111 1111", channel="sms", conversation_id="+15125550101", phone="+15125550101"
    )
    assert answer is not None and "calls" in answer.text and not answer.cease
    [body] = ledger.bodies
    assert body == {
        "phone": "+15125550101",
        "account_id": None,
        "conversation_id": "+15125550101",
        "channel": "sms",
        "media": ["voice"],
        "cease": False,
        "inconvenient": None,
        "summary": "stop calling me [card number removed]",
    }


async def test_the_desk_leaves_other_messages_alone() -> None:
    ledger = FakeLedger(RECORDED)
    assert (
        await RevocationDesk(ledger).handle("what's my balance", channel="sms", conversation_id="c", phone="+1") is None
    )
    assert ledger.bodies == []


async def test_with_the_service_down_it_says_it_is_recording_and_retries_in_the_background() -> None:
    ledger = FakeLedger(UNAVAILABLE, UNAVAILABLE, RECORDED)
    desk = RevocationDesk(ledger, retry_delays=(0.01, 0.01, 0.01))
    answer = await desk.handle(
        "cease all communication", channel="voice", conversation_id="voice-CA1", phone="+15125550101"
    )
    assert answer is not None and answer.cease
    assert "We're recording" in answer.text and "1-800-555-0199" in answer.text
    assert "recorded your request" not in answer.text  # never claims it is done
    await desk.drain()
    assert len(ledger.bodies) == 3 and all(b["cease"] and b["media"] == ["all"] for b in ledger.bodies)


async def test_a_refusal_or_no_number_says_how_to_stop_contact() -> None:
    refused = await RevocationDesk(FakeLedger(REFUSED)).handle(
        "stop texting me", channel="sms", conversation_id="c", phone="+15125550101"
    )
    nobody = await RevocationDesk(FakeLedger(RECORDED)).handle(
        "stop texting me", channel="web", conversation_id="web-1"
    )
    for answer in (refused, nobody):
        assert answer is not None and "STOP" in answer.text and "1-800-555-0199" in answer.text


# --- the payments service client, against a real HTTP server -------------------------------------


async def serve_revocations(statuses: list[int]) -> tuple[web.AppRunner, str, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    async def revocations(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer svc-token"
        seen.append(await request.json())
        status = statuses.pop(0) if statuses else 201
        return web.json_response(
            {"recorded": True, "media": [], "cease": False, "account_ids": ["A1001"]}, status=status
        )

    app = web.Application()
    app.router.add_post("/api/contact/revocations", revocations)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}", seen


@pytest.mark.parametrize("status, outcome", [(201, RECORDED), (200, UNAVAILABLE), (422, REFUSED), (503, UNAVAILABLE)])
async def test_the_client_reads_the_service_answer(status: int, outcome: str) -> None:
    runner, url, seen = await serve_revocations([status])
    try:
        ledger = PaymentsRevocationLedger(url, "svc-token")
        assert (
            await ledger.record(
                {"phone": "+15125550101", "conversation_id": "c", "channel": "sms", "media": ["sms"], "cease": False}
            )
            == outcome
        )
        assert seen[0]["media"] == ["sms"]
    finally:
        await runner.cleanup()


async def test_the_client_with_nobody_listening_is_unavailable() -> None:
    runner, url, _ = await serve_revocations([])
    await runner.cleanup()
    assert await PaymentsRevocationLedger(url, "svc-token", timeout_seconds=1).record({}) == UNAVAILABLE


async def test_a_desk_recovers_when_the_service_comes_back() -> None:
    runner, url, seen = await serve_revocations([503, 201])
    try:
        desk = RevocationDesk(PaymentsRevocationLedger(url, "svc-token"), retry_delays=(0.05,))
        answer = await desk.handle("don't call me", channel="sms", conversation_id="+15125550101", phone="+15125550101")
        assert answer is not None and "We're recording" in answer.text
        await asyncio.wait_for(desk.drain(), 5)
        assert len(seen) == 2
    finally:
        await runner.cleanup()


async def test_log_lines_hold_neither_the_words_nor_the_whole_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    desk = RevocationDesk(FakeLedger(UNAVAILABLE), retry_delays=(0.01,))
    await desk.handle(
        "stop calling me, card 4111 1111 1111 1111", channel="sms", conversation_id="+15125550101", phone="+15125550101"
    )
    await desk.drain()
    logged = caplog.text
    assert "stop calling" not in logged and "4111" not in logged and "5550101" not in logged
    assert "NOT recorded" in logged


# --- against the assistant's own training data -----------------------------------------------------


def nlu_examples() -> list[tuple[str, str]]:
    """(intent, text) of every NLU example in data/nlu (entity markup removed)."""
    import re
    from pathlib import Path

    import yaml

    examples = []
    for path in sorted((Path(__file__).resolve().parents[2] / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})", r"\1", line.strip()[2:])
                if "intent" in item and text:
                    examples.append((item["intent"], text))
    return examples


def test_every_stop_contact_example_is_caught_and_nothing_else_is() -> None:
    examples = nlu_examples()
    assert len(examples) > 500
    caught = {(intent, text) for intent, text in examples if match_revocation(text, "sms") is not None}
    stop_contact = {(intent, text) for intent, text in examples if intent == "stop_contact" and text.lower() != "stop"}
    assert stop_contact - caught == set(), "stop_contact examples the connectors would leave to Rasa"
    assert {intent for intent, _ in caught} == {"stop_contact"}, "revocations found in other intents' examples"


REPORT_INTENTS = ("attorney", "bankruptcy", "deceased", "dispute")


def test_report_phrases_find_each_report_intent_of_the_nlu_data_and_nothing_else() -> None:
    examples = nlu_examples()
    wrong = [
        (intent, text, match_report(text))
        for intent, text in examples
        if intent in REPORT_INTENTS and match_report(text) != intent and "case" not in text
    ]
    assert wrong == []  # a bare case number ("case # 23-41207") needs the conversation around it
    assert [(intent, text) for intent, text in examples if intent not in REPORT_INTENTS and match_report(text)] == []


async def test_a_report_is_filed_with_the_contract_body() -> None:
    ledger = FakeLedger(RECORDED)
    answer = await RevocationDesk(ledger).report(
        "my mom passed away last month", channel="sms", conversation_id="+15125550101", phone="+15125550101"
    )
    assert answer is not None and "review" in answer.text
    assert ledger.reports == [
        {
            "kind": "deceased",
            "account_id": None,
            "phone": "+15125550101",
            "conversation_id": "+15125550101",
            "channel": "sms",
            "reported_by": "unknown",
            "summary": "my mom passed away last month",
        }
    ]


async def test_no_report_without_the_words_or_without_anything_to_point_at() -> None:
    ledger = FakeLedger(RECORDED)
    desk = RevocationDesk(ledger)
    assert await desk.report("what's my balance", channel="sms", conversation_id="c", phone="+15125550101") is None
    assert await desk.report("I have a lawyer", channel="web", conversation_id="web-1") is None
    assert ledger.reports == []


async def test_a_report_with_the_service_down_is_retried_and_not_claimed() -> None:
    ledger = FakeLedger(UNAVAILABLE, RECORDED)
    desk = RevocationDesk(ledger, retry_delays=(0.01, 0.01))
    answer = await desk.report("I filed chapter 7", channel="sms", conversation_id="c", phone="+15125550101")
    assert answer is not None and "We're recording" in answer.text
    await desk.drain()
    assert [r["kind"] for r in ledger.reports] == ["bankruptcy", "bankruptcy"]


@pytest.mark.parametrize(
    "said",
    [
        "only call me at work",
        "you can only reach me at home",
        "I am not home right now, call later",
        "call me at work tomorrow",
        "I'm not at work today",
    ],
)
def test_a_wish_or_a_passing_state_is_no_inconvenient_place(said: str) -> None:
    """A place is recorded only when refused: a recorded place stops contact there for good."""
    found = match_revocation(said, "sms")
    assert found is None or found.inconvenient is None or found.inconvenient.places == (), found
