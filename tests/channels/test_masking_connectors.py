"""The card-number corpus through the real connectors (SMS, voice, our REST channel) behind Sanic,
with a fake Rasa: no form reaches Rasa or a log line, split forms included; look-alikes pass.
Web chat's own path is covered in test_webchat.py and here through its `card_buffer` wiring."""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from itertools import count
from typing import Any

import pytest

from channels.config import DEV_REST_CHANNEL_TOKEN
from channels.rasa_input import CARD_NUMBER_SHARED
from channels.rest import TokenRestInput
from channels.sms import TwilioSmsInput
from channels.voice import TwilioVoiceInput
from channels.webchat import WebChatInput
from contracts.masking import normalize
from tests.channels.card_corpus import CARD_FORMS, NOT_CARD_SEQUENCES, NOT_CARDS, CardForm
from tests.channels.conftest import ACCOUNT_SID, OUR_NUMBER, FakeLedger, FakeRasa, FakeSender, ServeFn, make_settings

CARD_SHARED = "/card_number_shared"
_numbers = count(100)
_sids = count(1)


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", normalize(text))


def new_phone() -> str:
    return f"+1512555{next(_numbers):04d}"


def assert_never_stored(form: CardForm, rasa: FakeRasa, caplog: pytest.LogCaptureFixture) -> None:
    """The last message reached Rasa as /card_number_shared, marked; neither Rasa's messages (all
    of them together) nor any log line holds the number."""
    last = rasa.received[-1]
    assert last.text == CARD_SHARED, form.name
    assert last.metadata.get("card_number_removed") is True
    assert form.number not in digits_of("".join(m.text or "" for m in rasa.received))
    assert form.number not in digits_of(json.dumps([m.metadata for m in rasa.received]))
    for record in caplog.records:
        assert form.number not in digits_of(record.getMessage()), record.getMessage()
        assert "1111 1111" not in record.getMessage()


# --- SMS -----------------------------------------------------------------------------------------


async def sms_channel(serve: ServeFn) -> tuple[Any, TwilioSmsInput, FakeRasa]:
    rasa = FakeRasa()
    channel = TwilioSmsInput(make_settings(), sender=FakeSender(), ledger=FakeLedger())
    return await serve(channel, rasa), channel, rasa


async def text(served: Any, channel: TwilioSmsInput, phone: str, body: str) -> None:
    sid = f"SM{next(_sids):032d}"
    form = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    reply = await served.post("/webhooks/twilio_sms/webhook", form)
    assert reply.status_code == 200
    await channel.drain()


async def test_every_card_form_by_sms(serve: ServeFn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    served, channel, rasa = await sms_channel(serve)
    for form in CARD_FORMS:
        rasa.received.clear()
        phone = new_phone()
        for body in form.messages:
            await text(served, channel, phone, body)
        assert len(rasa.received) == len(form.messages), form.name
        assert_never_stored(form, rasa, caplog)


async def test_look_alikes_by_sms_reach_rasa_as_typed(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve)
    for sequence in [*((t,) for t in NOT_CARDS if t.strip()), *NOT_CARD_SEQUENCES]:
        rasa.received.clear()
        phone = new_phone()
        for body in sequence:
            await text(served, channel, phone, body)
        assert CARD_SHARED not in rasa.texts, sequence


# --- voice ---------------------------------------------------------------------------------------


async def test_every_card_form_by_voice(serve: ServeFn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def not_paused(*_: Any) -> bool:
        return False

    class NoSessions:
        async def end(self, conversation_id: str, reason: str) -> bool:
            return True

    rasa = FakeRasa()
    channel = TwilioVoiceInput(make_settings(), sender=FakeSender(), paused=not_paused, sessions=NoSessions())
    served = await serve(channel, rasa)
    for form in CARD_FORMS:
        sid = f"CA{next(_sids):032d}"
        base = {
            "CallSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": new_phone(),
            "To": OUR_NUMBER,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        root = ET.fromstring((await served.post("/webhooks/twilio_voice/webhook", base)).text)
        rasa.received.clear()
        for said in form.messages:
            keyed = form.kind == "keyed" or re.fullmatch(r"[\d*#]+", said) is not None
            answer = {"Digits": said} if keyed else {"SpeechResult": said, "Confidence": "0.9"}
            gather = root.find("Gather")
            assert gather is not None, form.name
            root = ET.fromstring((await served.post_url(gather.get("action") or "", {**base, **answer})).text)
        assert len(rasa.received) == len(form.messages), form.name
        assert_never_stored(form, rasa, caplog)


# --- our REST channel ----------------------------------------------------------------------------


async def test_every_card_form_by_rest(serve: ServeFn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rasa = FakeRasa()
    served = await serve(TokenRestInput(make_settings()), rasa)
    for index, form in enumerate(CARD_FORMS):
        rasa.received.clear()
        for message in form.messages:
            reply = await served.client.post(
                served.local("/webhooks/rest/webhook"),
                json={"sender": f"corpus{index}", "message": message},
                headers={"Authorization": f"Bearer {DEV_REST_CHANNEL_TOKEN}"},
            )
            assert reply.status_code == 200, (form.name, reply.text)
        assert_never_stored(form, rasa, caplog)


# --- web chat ------------------------------------------------------------------------------------


async def test_every_card_form_by_web_chat(serve: ServeFn) -> None:
    from tests.channels.test_webchat import Browser, start  # the socket.io harness of the web chat tests

    server = await start(serve, WebChatInput.from_credentials({}))
    browser = await Browser().connect(server.url)
    try:
        for form in CARD_FORMS:
            await browser.start_session()  # a fresh conversation for each form
            first = len(server.received)
            for message in form.messages:
                await browser.say(message)
                await server.next_message()
                await browser.next("bot_turn_done")
            received = server.received[first:]
            assert received[-1].text == CARD_NUMBER_SHARED == CARD_SHARED, form.name
            assert received[-1].metadata.get("card_number_removed") is True
            assert form.number not in digits_of("".join(m.text or "" for m in received))
            assert (await browser.next("message_masked"))["text"]
    finally:
        await browser.close()
        await server.channel.sio.shutdown()
