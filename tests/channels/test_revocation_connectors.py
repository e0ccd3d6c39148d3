"""Revocations caught by the real connectors before Rasa (behind Sanic, fake Rasa, fake ledger):
recorded with the signed caller's number, confirmed only after the record, also while the
conversation is paused; other messages still reach Rasa."""

from __future__ import annotations

import asyncio
import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from itertools import count
from types import SimpleNamespace
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from channels.revocation import RECORDED, UNAVAILABLE, RevocationDesk
from channels.sms import TwilioSmsInput
from channels.voice import TwilioVoiceInput
from channels.webchat import WebChatInput
from tests.channels.conftest import (
    ACCOUNT_SID,
    CUSTOMER,
    OUR_NUMBER,
    FakeLedger,
    FakeRasa,
    FakeSender,
    ServeFn,
    make_settings,
)

_sids = count(1)
SLOTS_YAML = """
version: "3.1"
slots:
  verification_status: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  account_id: {type: text, influence_conversation: false, mappings: [{type: custom}]}
"""


class RecordingLedger:
    def __init__(self, outcome: str = RECORDED) -> None:
        self.outcome = outcome
        self.bodies: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []

    async def record(self, body: dict[str, Any]) -> str:
        self.bodies.append(body)
        return self.outcome

    async def report(self, body: dict[str, Any]) -> str:
        self.reports.append(body)
        return self.outcome


# --- SMS -----------------------------------------------------------------------------------------


async def sms_setup(
    serve: ServeFn, outcome: str = RECORDED
) -> tuple[Any, TwilioSmsInput, FakeRasa, FakeSender, RecordingLedger]:
    rasa, sender, ledger = FakeRasa(), FakeSender(), RecordingLedger(outcome)
    channel = TwilioSmsInput(make_settings(), sender=sender, ledger=FakeLedger())
    channel.revocations = RevocationDesk(ledger, retry_delays=(0.01,))
    return await serve(channel, rasa), channel, rasa, sender, ledger


async def text(served: Any, channel: TwilioSmsInput, body: str) -> None:
    sid = f"SM{next(_sids):032d}"
    await served.post(
        "/webhooks/twilio_sms/webhook",
        {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": CUSTOMER,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
        },
    )
    await channel.drain()


async def test_stop_calling_me_by_text_stops_calls_before_rasa(serve: ServeFn) -> None:
    served, channel, rasa, sender, ledger = await sms_setup(serve)
    await text(served, channel, "Stop calling me!")
    assert rasa.received == []
    [body] = ledger.bodies
    assert (body["phone"], body["channel"], body["media"], body["cease"]) == (CUSTOMER, "sms", ["voice"], False)
    [(to, reply, _)] = sender.sent
    assert to == CUSTOMER and "calls" in reply and "recorded" in reply


async def test_cease_by_text_sets_cease_on_every_medium(serve: ServeFn) -> None:
    served, channel, rasa, sender, ledger = await sms_setup(serve)
    await text(served, channel, "cease all communication")
    assert ledger.bodies[0]["cease"] is True and ledger.bodies[0]["media"] == ["all"]
    assert rasa.received == [] and "stop contacting you" in sender.bodies[0]


async def test_not_at_work_is_recorded_as_an_inconvenient_place(serve: ServeFn) -> None:
    served, channel, _, _, ledger = await sms_setup(serve)
    await text(served, channel, "don't call me at work")
    [body] = ledger.bodies
    assert body["media"] == [] and body["inconvenient"]["places"] == ["work"]


async def test_with_the_service_down_the_customer_is_not_told_it_is_done(serve: ServeFn) -> None:
    served, channel, _, sender, ledger = await sms_setup(serve, UNAVAILABLE)
    await text(served, channel, "stop texting me")
    await channel.revocations.drain()
    assert len(ledger.bodies) == 2  # the first try and one background retry
    assert "We're recording" in sender.bodies[0] and "1-800-555-0199" in sender.bodies[0]


async def paused_sms(serve: ServeFn) -> tuple[Any, TwilioSmsInput, FakeRasa, FakeSender, RecordingLedger]:
    served, channel, rasa, sender, ledger = await sms_setup(serve)
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(
        DialogueStateTracker.from_events(
            CUSTOMER, [UserUttered("wrong number", {"name": "wrong_number"}), ConversationPaused()]
        )
    )
    served.server.app.ctx.agent = SimpleNamespace(tracker_store=store)
    rasa.default = []  # a paused conversation: Rasa answers nothing
    return served, channel, rasa, sender, ledger


async def test_a_paused_sms_conversation_records_a_revocation_and_keeps_the_words_for_the_agent(serve: ServeFn) -> None:
    served, channel, rasa, sender, ledger = await paused_sms(serve)
    await text(served, channel, "stop texting me")
    assert ledger.bodies[0]["media"] == ["sms"]
    assert "text messages" in sender.bodies[0]
    assert rasa.texts == ["stop texting me"]


async def test_a_dispute_in_a_paused_sms_conversation_is_reported(serve: ServeFn) -> None:
    served, channel, rasa, sender, ledger = await paused_sms(serve)
    await text(served, channel, "this is not my debt")
    [report] = ledger.reports
    assert (report["kind"], report["phone"], report["channel"], report["reported_by"]) == (
        "dispute",
        CUSTOMER,
        "sms",
        "unknown",
    )
    assert "review" in sender.bodies[0]
    assert rasa.texts == ["this is not my debt"]


async def test_a_dispute_in_a_listening_conversation_is_left_to_the_assistant(serve: ServeFn) -> None:
    served, channel, rasa, _, ledger = await sms_setup(serve)
    await text(served, channel, "this is not my debt")
    assert ledger.reports == [] and rasa.texts == ["this is not my debt"]


async def test_other_texts_and_the_carrier_keyword_keep_their_paths(serve: ServeFn) -> None:
    served, channel, rasa, _, ledger = await sms_setup(serve)
    await text(served, channel, "what's my balance")
    await text(served, channel, "STOP")
    assert rasa.texts == ["what's my balance"]
    assert ledger.bodies == []  # STOP goes to the opt-out ledger as before (test_sms.py)


# --- voice ---------------------------------------------------------------------------------------


async def voice_setup(serve: ServeFn) -> tuple[Any, FakeRasa, RecordingLedger, dict[str, str]]:
    async def not_paused(*_: Any) -> bool:
        return False

    class NoSessions:
        async def end(self, conversation_id: str, reason: str) -> bool:
            return True

    rasa, ledger = FakeRasa(), RecordingLedger()
    channel = TwilioVoiceInput(make_settings(), sender=FakeSender(), paused=not_paused, sessions=NoSessions())
    channel.revocations = RevocationDesk(ledger)
    served = await serve(channel, rasa)
    form = {
        "CallSid": f"CA{next(_sids):032d}",
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "To": OUR_NUMBER,
        "CallStatus": "in-progress",
        "Direction": "inbound",
    }
    return served, rasa, ledger, form


async def say_in_a_call(served: Any, form: dict[str, str], speech: str) -> ET.Element:
    root = ET.fromstring((await served.post("/webhooks/twilio_voice/webhook", form)).text)
    gather = root.find("Gather")
    assert gather is not None
    reply = await served.post_url(gather.get("action") or "", {**form, "SpeechResult": speech, "Confidence": "0.9"})
    return ET.fromstring(reply.text)


async def test_dont_text_me_in_a_call_stops_texts_and_the_call_goes_on(serve: ServeFn) -> None:
    served, rasa, ledger, form = await voice_setup(serve)
    root = await say_in_a_call(served, form, "and don't text me")
    assert [m.text for m in rasa.received] == ["/greet"]
    [body] = ledger.bodies
    assert (body["phone"], body["channel"], body["media"]) == (CUSTOMER, "voice", ["sms"])
    spoken = " ".join(s.text or "" for s in root.iter("Say"))
    assert "text messages" in spoken and root.find("Gather") is not None


async def test_cease_in_a_call_is_confirmed_and_the_call_ends(serve: ServeFn) -> None:
    served, _, ledger, form = await voice_setup(serve)
    root = await say_in_a_call(served, form, "stop contacting me")
    assert ledger.bodies[0]["cease"] is True
    assert [child.tag for child in root][-1] == "Hangup"


# --- web chat ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def web_chat(serve: ServeFn, ledger: RecordingLedger) -> AsyncIterator[tuple[Any, Any]]:
    """The web chat connector with `ledger` behind the desk, and one browser (the socket.io harness
    of the web chat tests)."""
    from tests.channels.test_webchat import Browser, start

    channel = WebChatInput.from_credentials({})
    channel.revocations = RevocationDesk(ledger)
    server = await start(serve, channel)
    browser = await Browser().connect(server.url)
    try:
        yield server, browser
    finally:
        await browser.close()
        await server.channel.sio.shutdown()


async def test_a_paused_web_chat_records_against_the_verified_account(serve: ServeFn) -> None:
    ledger = RecordingLedger()
    async with web_chat(serve, ledger) as (server, browser):
        session_id = await browser.start_session()
        server.store.domain = Domain.from_yaml(SLOTS_YAML)
        slots = [TextSlot("verification_status", mappings=[]), TextSlot("account_id", mappings=[])]
        await server.store.save(
            DialogueStateTracker.from_events(
                session_id,
                [
                    SlotSet("verification_status", "verified"),
                    SlotSet("account_id", "A1001"),
                    UserUttered("a person please", {"name": "request_agent"}),
                    ConversationPaused(),
                ],
                slots=slots,
            )
        )
        server.silent = True  # paused: Rasa answers nothing
        await browser.say("stop texting me")
        reply = await browser.next("bot_uttered")
        assert "text messages" in reply["text"]
        assert reply["during_handoff"] is True  # the page must not take it for the assistant's return
        assert (await server.next_message()).text == "stop texting me"  # kept for the agent's transcript
        [body] = ledger.bodies
        assert (body["account_id"], body["phone"], body["channel"], body["media"]) == ("A1001", None, "web", ["sms"])
        await browser.next("bot_turn_done")
        await browser.say("I have a lawyer")
        assert "review" in (await browser.next("bot_uttered"))["text"]
        [report] = ledger.reports
        assert (report["kind"], report["account_id"]) == ("attorney", "A1001")


async def test_an_unverified_listening_web_chat_leaves_it_to_the_assistant(serve: ServeFn) -> None:
    ledger = RecordingLedger()
    async with web_chat(serve, ledger) as (server, browser):
        session_id = await browser.start_session()
        await server.save(session_id, UserUttered("hi", {"name": "greet"}))
        await browser.say("stop texting me")
        assert (await server.next_message()).text == "stop texting me"
        assert ledger.bodies == []
        reply = await browser.next("bot_uttered")
        assert re.search("stop", reply["text"]) and "during_handoff" not in reply


# --- the durable retry queue, started and stopped with the connector --------------------------------


def test_each_connector_keeps_unrecorded_revocations_in_its_own_channel_store() -> None:
    sms = TwilioSmsInput(make_settings(), sender=FakeSender(), ledger=FakeLedger())
    voice = TwilioVoiceInput(make_settings(), sender=FakeSender())
    web = WebChatInput(settings=make_settings())
    assert sms.revocations.store is sms.store and voice.revocations.store is voice.store
    assert web.revocations.store is web.card_buffer.store


async def test_a_restarted_sms_connector_records_what_the_last_process_left_in_the_store(serve: ServeFn) -> None:
    sender = FakeSender()
    channel = TwilioSmsInput(make_settings(), sender=sender, ledger=FakeLedger())
    before = RevocationDesk(RecordingLedger(UNAVAILABLE), store=channel.store, retry_delays=(0.01,))
    await before.handle("stop texting me", channel="sms", conversation_id=CUSTOMER, phone=CUSTOMER)
    assert len(await channel.store.keys("revocation-outbox:item:")) == 1  # what survives the process

    ledger = RecordingLedger(RECORDED)
    channel.revocations = RevocationDesk(ledger, store=channel.store, retry_delays=(0.01,), poll_seconds=0.05)
    await serve(channel, FakeRasa())  # the server starts the drain: no message needed
    for _ in range(200):
        if not await channel.store.keys("revocation-outbox:"):
            break
        await asyncio.sleep(0.02)
    assert [(b["phone"], b["media"]) for b in ledger.bodies] == [(CUSTOMER, ["sms"])]
    assert await channel.store.keys("revocation-outbox:") == []
