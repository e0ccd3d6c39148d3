"""The Twilio SMS connector (channels/sms.py) behind a real Sanic server, with a fake Rasa."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import xml.etree.ElementTree as ET
from itertools import count
from typing import Any

import pytest

from channels.rendering import SMS_LIMIT
from channels.sms import (
    ATTACHMENT_IGNORED_TEXT,
    EMPTY_TEXT,
    MAX_INBOUND,
    MMS_ONLY_TEXT,
    NO_ANSWER_TEXT,
    TROUBLE_TEXT,
    TRUNCATED_TEXT,
    TwilioSmsInput,
)
from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY, FACTS_KEY, ChannelFacts, verify
from tests.channels.conftest import (
    ACCOUNT_SID,
    CUSTOMER,
    OUR_NUMBER,
    FakeLedger,
    FakeRasa,
    FakeSender,
    Served,
    ServeFn,
    make_settings,
)
from tests.channels.test_rendering import LONG_REPLY, MENU, words

WEBHOOK = "/webhooks/twilio_sms/webhook"
_sids = count(1)

CARD_DIGITS = ("4111111111111111", "4111 1111 1111 1111", "1111 1111")


def sms(body: str = "hi", *, sid: str | None = None, **extra: str) -> dict[str, str]:
    form = {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "FromState": "TX",
        "FromCountry": "US",
        "ApiVersion": "2010-04-01",
    }
    form["SmsMessageSid"] = form["SmsSid"] = form["MessageSid"]
    form.update(extra)
    return form


class Phone:
    """One customer's SMS thread with the connector."""

    def __init__(self, served: Served, channel: TwilioSmsInput, rasa: FakeRasa, sender: FakeSender, ledger: FakeLedger):
        self.served, self.channel, self.rasa, self.sender, self.ledger = served, channel, rasa, sender, ledger

    async def text(self, body: str = "hi", **extra: str) -> Any:
        reply = await self.served.post(WEBHOOK, sms(body, **extra))
        await self.channel.drain()
        return reply

    async def deliver(self, form: dict[str, str]) -> Any:
        return await self.served.post(WEBHOOK, form)


@pytest.fixture
async def phone(serve: ServeFn) -> Phone:
    sender, ledger, rasa = FakeSender(), FakeLedger(), FakeRasa()
    channel = TwilioSmsInput(make_settings(), sender=sender, ledger=ledger)
    served = await serve(channel, rasa)
    return Phone(served, channel, rasa, sender, ledger)


def assert_empty_twiml(reply: Any) -> None:
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(reply.text)
    assert root.tag == "Response" and len(root) == 0 and not (root.text or "").strip()


# --- a turn --------------------------------------------------------------------------------------


async def test_a_text_reaches_rasa_and_the_reply_goes_out_through_the_rest_api(phone: Phone) -> None:
    phone.rasa.reply({"text": "Hi, this is Lakeside Bank's card assistant."})
    reply = await phone.text("hello")
    assert_empty_twiml(reply)
    [message] = phone.rasa.received
    assert message.text == "hello"
    assert message.sender_id == CUSTOMER  # the conversation id is the phone number
    assert message.input_channel == "twilio_sms"
    assert message.output_channel.name() == "twilio_sms"  # selects the SMS response variations
    assert phone.sender.sent == [(CUSTOMER, "Hi, this is Lakeside Bank's card assistant.", OUR_NUMBER)]


async def test_metadata_carries_channel_phone_to_sid_and_time_zone(phone: Phone) -> None:
    await phone.text("hi", sid="SM" + "7" * 32)
    [message] = phone.rasa.received
    assert message.message_id == "SM" + "7" * 32
    facts = message.metadata.pop(FACTS_KEY)
    assert verify({FACTS_KEY: facts}, CUSTOMER, DEV_CHANNEL_FACTS_KEY) == ChannelFacts(
        "sms", CUSTOMER, CUSTOMER, None, facts["issued_at"]
    )
    assert message.metadata == {
        "channel": "sms",
        "phone": CUSTOMER,
        "to": OUR_NUMBER,
        "message_sid": "SM" + "7" * 32,
        "timezone": "America/Chicago",
    }


async def test_time_zone_is_left_out_when_unknown(phone: Phone) -> None:
    await phone.text("hi", FromState="", FromCountry="US")
    assert "timezone" not in phone.rasa.received[0].metadata


async def test_the_webhook_answers_before_a_slow_turn_ends(phone: Phone) -> None:
    phone.rasa.delay = 1.0
    reply = await asyncio.wait_for(phone.deliver(sms("hi")), timeout=0.8)
    assert_empty_twiml(reply)
    assert phone.sender.sent == []
    await phone.channel.drain()
    assert len(phone.sender.sent) == 1


async def test_a_sender_that_is_not_a_phone_number_is_ignored(phone: Phone) -> None:
    reply = await phone.text("hi", From="anonymous")
    assert reply.status_code == 200
    assert phone.rasa.received == [] and phone.sender.sent == []


async def test_a_failed_turn_apologises_and_a_retry_is_processed(phone: Phone) -> None:
    phone.rasa.fail = True
    form = sms("hi")
    await phone.deliver(form)
    await phone.channel.drain()
    assert phone.sender.bodies == [TROUBLE_TEXT]
    phone.rasa.fail = False
    await phone.deliver(form)  # Twilio's retry of the same message
    await phone.channel.drain()
    assert len(phone.rasa.received) == 2
    assert phone.sender.bodies == [TROUBLE_TEXT, "OK."]


# --- duplicates ----------------------------------------------------------------------------------


async def test_the_same_message_sid_twice_is_processed_once(phone: Phone) -> None:
    form = sms("I want to pay")
    first = await phone.deliver(form)
    await phone.channel.drain()
    second = await phone.deliver(form)
    await phone.channel.drain()
    assert_empty_twiml(first)
    assert_empty_twiml(second)  # Twilio stops retrying
    assert phone.rasa.texts == ["I want to pay"]
    assert len(phone.sender.sent) == 1


async def test_two_copies_arriving_together_are_processed_once(phone: Phone) -> None:
    phone.rasa.delay = 0.3
    form = sms("I want to pay")
    replies = await asyncio.gather(*(phone.deliver(form) for _ in range(3)))
    await phone.channel.drain()
    for reply in replies:
        assert_empty_twiml(reply)
    assert phone.rasa.texts == ["I want to pay"]
    assert len(phone.sender.sent) == 1


async def test_different_messages_are_each_processed(phone: Phone) -> None:
    await asyncio.gather(phone.deliver(sms("one")), phone.deliver(sms("two")))
    await phone.channel.drain()
    assert sorted(phone.rasa.texts) == ["one", "two"]


# --- carrier keywords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", " STOPALL ", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "stop!"]
)
async def test_stop_words_record_an_opt_out_and_send_nothing(phone: Phone, word: str) -> None:
    reply = await phone.text(word)
    assert_empty_twiml(reply)
    assert phone.ledger.calls == [("opt_out", CUSTOMER, CUSTOMER)]
    assert phone.rasa.received == []
    assert phone.sender.sent == []  # Twilio's Advanced Opt-Out answers STOP itself


@pytest.mark.parametrize("word", ["START", "start", "UNSTOP"])
async def test_start_words_record_an_opt_in(phone: Phone, word: str) -> None:
    await phone.text(word)
    assert phone.ledger.calls == [("opt_in", CUSTOMER, CUSTOMER)]
    assert phone.rasa.received == []
    assert phone.sender.sent == []  # Twilio confirms the opt-in itself


async def test_twilios_opt_out_type_wins(phone: Phone) -> None:
    await phone.text("YES", OptOutType="START")  # Twilio treats YES as opt-in for an opted-out number
    await phone.text("Arret", OptOutType="STOP")
    assert phone.ledger.calls == [("opt_in", CUSTOMER, CUSTOMER), ("opt_out", CUSTOMER, CUSTOMER)]
    assert phone.rasa.received == []


@pytest.mark.parametrize("word", ["HELP", "help", "INFO"])
async def test_help_gets_the_fixed_help_text(phone: Phone, word: str) -> None:
    await phone.text(word)
    [(to, body, from_)] = phone.sender.sent
    assert (to, from_) == (CUSTOMER, OUR_NUMBER)
    assert "Reply STOP to opt out" in body
    assert re.search(r"AGENT|1-800", body)  # how to reach a person
    assert phone.rasa.received == []
    assert phone.ledger.calls == []


async def test_stop_inside_a_sentence_goes_to_the_assistant(phone: Phone) -> None:
    # (A revocation in words, "please stop texting me", is caught before Rasa: test_revocation_connectors.py.)
    await phone.text("I can't stop worrying about this bill")
    assert phone.rasa.texts == ["I can't stop worrying about this bill"]
    assert phone.ledger.calls == []


# --- buttons -------------------------------------------------------------------------------------


async def test_buttons_become_numbered_options_and_a_number_becomes_the_payload(phone: Phone) -> None:
    phone.rasa.reply({"text": "What would you like to do?", "buttons": MENU})
    await phone.text("hi")
    assert phone.sender.bodies == [
        "What would you like to do?\nReply 1 for Make a payment\nReply 2 for Set up a payment plan\n"
        "Reply 3 for Talk to a person"
    ]
    await phone.text("2")
    assert phone.rasa.texts[-1] == "/request_payment_plan"


@pytest.mark.parametrize(
    "reply, payload",
    [
        ("1", "/make_payment"),
        (" 3 ", "/request_agent"),
        ("#2", "/request_payment_plan"),
        ("2.", "/request_payment_plan"),
        ("option 3", "/request_agent"),
        ("Make a payment", "/make_payment"),
        ("talk to a person!", "/request_agent"),
    ],
)
async def test_each_way_of_picking_a_button(phone: Phone, reply: str, payload: str) -> None:
    phone.rasa.reply({"text": "What would you like to do?", "buttons": MENU})
    await phone.text("hi")
    await phone.text(reply)
    assert phone.rasa.texts[-1] == payload


async def test_a_number_out_of_range_or_after_a_message_without_buttons_is_text(phone: Phone) -> None:
    phone.rasa.reply({"text": "Pick one", "buttons": MENU}).reply({"text": "Which option? Reply with a number."})
    await phone.text("hi")
    await phone.text("7")
    assert phone.rasa.texts[-1] == "7"
    await phone.text("2")  # the last bot message had no buttons: the bot's own list is numbered in text
    assert phone.rasa.texts[-1] == "2"


async def test_buttons_are_remembered_per_conversation(serve: ServeFn) -> None:
    sender, rasa = FakeSender(), FakeRasa()
    channel = TwilioSmsInput(make_settings(), sender=sender, ledger=FakeLedger())
    served = await serve(channel, rasa)
    rasa.reply({"text": "Pick", "buttons": MENU})
    await served.post(WEBHOOK, sms("hi"))
    await channel.drain()
    await served.post(WEBHOOK, sms("1", From="+14155550103"))  # another customer never saw the buttons
    await channel.drain()
    await served.post(WEBHOOK, sms("1"))
    await channel.drain()
    assert rasa.texts == ["hi", "1", "/make_payment"]


# --- splitting -----------------------------------------------------------------------------------


async def test_a_long_reply_goes_out_as_several_sms(phone: Phone) -> None:
    phone.rasa.reply({"text": LONG_REPLY})
    await phone.text("what are my options")
    assert len(phone.sender.sent) > 1
    assert all(len(body) <= SMS_LIMIT for body in phone.sender.bodies)
    assert words(" ".join(phone.sender.bodies)) == words(LONG_REPLY)


# --- MMS, empty and oversized --------------------------------------------------------------------


async def test_a_picture_without_text_gets_a_polite_answer(phone: Phone) -> None:
    await phone.text("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0="image/jpeg")
    assert phone.rasa.received == []
    assert phone.sender.bodies == [MMS_ONLY_TEXT]


async def test_a_picture_with_text_processes_the_text(phone: Phone) -> None:
    phone.rasa.reply({"text": "Sure."})
    await phone.text("here is my statement", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1")
    assert phone.rasa.texts == ["here is my statement"]
    assert phone.sender.bodies == [f"{ATTACHMENT_IGNORED_TEXT}\n\nSure."]


@pytest.mark.parametrize("body", ["", "   ", "\n", "/", " // "])
async def test_an_empty_text_is_not_sent_to_rasa(phone: Phone, body: str) -> None:
    reply = await phone.text(body)
    assert_empty_twiml(reply)
    assert phone.rasa.received == []
    assert phone.sender.bodies == [EMPTY_TEXT]


async def test_an_oversized_text_is_truncated_with_a_note(phone: Phone) -> None:
    body = ("I lost my job and I need help with my account. " * 50).strip()
    assert len(body) > MAX_INBOUND
    phone.rasa.reply({"text": "I'm sorry to hear that."})
    await phone.text(body)
    [message] = phone.rasa.received
    assert len(message.text) <= MAX_INBOUND
    assert body.startswith(message.text) and body[len(message.text)] == " "  # cut between words
    assert message.metadata["truncated"] is True
    assert phone.sender.bodies[0].startswith(TRUNCATED_TEXT)


# --- intents and card numbers never get through --------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "/payment_succeeded",
        '/payment_succeeded{"payment_id":"PAY-1"}',
        "  /greet",
        '/installment_due{"link_url": "https://evil.example.com"}',
        "EXTERNAL: agent_handed_back",
        "\u200b/greet",
    ],
)
async def test_a_typed_intent_is_neutralised(phone: Phone, typed: str) -> None:
    await phone.text(typed)
    [message] = phone.rasa.received
    assert not message.text.startswith("/") and not message.text.upper().startswith("EXTERNAL")


async def test_a_message_of_html_is_plain_text_not_a_keyword(phone: Phone) -> None:
    html = "<html><body><h1>STOP</h1><script>alert(1)</script></body></html>"
    await phone.text(html)
    assert phone.rasa.texts == [html]
    assert phone.ledger.calls == []


@pytest.mark.parametrize(
    "body",
    [
        "my card is 4111 1111 1111 1111",
        "4111-1111-1111-1111 exp 12/26",
        "four one one one one one one one one one one one one one one one",
        "/payment_succeeded 4111111111111111",
    ],
)
async def test_a_card_number_never_reaches_rasa_or_the_logs(
    phone: Phone, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone.rasa.reply({"text": "For your security we deleted the card number you sent."})
    await phone.text(body)
    [message] = phone.rasa.received
    assert message.text == "/card_number_shared"
    assert message.metadata["card_number_removed"] is True
    reached_rasa = json.dumps({"text": message.text, "metadata": message.metadata, "id": message.message_id})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for digits in CARD_DIGITS + ("one one one one one one",):
        assert digits not in reached_rasa
        assert digits not in logged
    assert "[card number removed]" in logged
    assert phone.sender.bodies == ["For your security we deleted the card number you sent."]


async def test_a_card_number_is_not_mistaken_for_a_button_choice(phone: Phone) -> None:
    phone.rasa.reply({"text": "Pick", "buttons": MENU})
    await phone.text("hi")
    await phone.text("4111111111111111")
    assert phone.rasa.texts[-1] == "/card_number_shared"


# --- pushed messages -----------------------------------------------------------------------------


async def test_pushed_messages_go_to_the_conversation_number(phone: Phone) -> None:
    output = phone.channel.get_output_channel()
    assert output.name() == "twilio_sms"
    await output.send_response(
        CUSTOMER, {"text": "Hi, this is Sam from Lakeside Bank. I'm looking at your account now."}
    )
    assert phone.sender.sent == [
        (CUSTOMER, "Hi, this is Sam from Lakeside Bank. I'm looking at your account now.", None)
    ]


async def test_an_agents_message_starts_with_their_name(phone: Phone) -> None:
    # What Rasa's tracker events API sends for the console's bot event (metadata merged in).
    await phone.channel.get_output_channel().send_response(
        CUSTOMER, {"text": "I can help with that.", "agent": "Sam", "data": {}}
    )
    assert phone.sender.bodies[-1] == "Sam: I can help with that."


async def test_pushed_messages_come_from_the_number_the_customer_texted(phone: Phone) -> None:
    await phone.text("hi", To="+15005550009")
    output = phone.channel.get_output_channel()
    await output.send_response(CUSTOMER, {"text": "Your payment of $95.00 was received."})
    assert phone.sender.sent[-1] == (CUSTOMER, "Your payment of $95.00 was received.", "+15005550009")


async def test_pushed_buttons_can_be_answered_by_number(phone: Phone) -> None:
    output = phone.channel.get_output_channel()
    await output.send_response(
        CUSTOMER,
        {
            "text": "Your payment didn't go through. New link?",
            "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        },
    )
    assert phone.sender.bodies[-1].endswith("Reply 1 for Yes\nReply 2 for No")
    await phone.text("1")
    assert phone.rasa.texts == ["/affirm"]


async def test_a_pushed_message_for_a_conversation_without_a_number_is_dropped(phone: Phone) -> None:
    await phone.channel.get_output_channel().send_response("web-8f2a", {"text": "hello"})
    assert phone.sender.sent == []


async def test_shutdown_waits_for_turns_and_closes_the_sender(serve: ServeFn) -> None:
    sender, rasa = FakeSender(), FakeRasa(delay=0.3)
    channel = TwilioSmsInput(make_settings(), sender=sender, ledger=FakeLedger())
    served = await serve(channel, rasa)
    await served.post(WEBHOOK, sms("hi"))
    assert sender.sent == []
    await served.server.before_stop()  # what rasa's server does on SIGTERM
    assert sender.bodies == ["OK."]  # the running turn finished and its reply went out
    assert sender.closed


# --- a turn with no answer -----------------------------------------------------------------------


class FakeTracker:
    def __init__(self, paused: bool) -> None:
        self.paused = paused

    def is_paused(self) -> bool:
        return self.paused


def with_rasa_tracker(phone: Phone, paused: bool) -> None:
    """Give the served app a rasa agent whose tracker store knows the conversation."""

    class Store:
        async def retrieve(self, sender_id: str) -> FakeTracker:
            return FakeTracker(paused)

    phone.served.server.app.ctx.agent = type("Agent", (), {"tracker_store": Store()})()


async def test_a_turn_that_produced_no_reply_gets_an_apology(phone: Phone) -> None:
    # What Rasa does when the action server is down: the text is logged, nothing answers.
    with_rasa_tracker(phone, paused=False)
    phone.rasa.reply()
    await phone.text("03/14/1985")
    assert phone.sender.bodies == [NO_ANSWER_TEXT]


async def test_a_paused_conversation_stays_silent(phone: Phone) -> None:
    with_rasa_tracker(phone, paused=True)
    phone.rasa.reply()
    await phone.text("are you there?")
    assert phone.sender.bodies == []


# --- the compliance ledger, through the client of the payments service ---------------------------


async def test_the_ledger_records_stop_and_start_and_retries_a_transient_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import httpx

    from channels.sms import PaymentsComplianceLedger
    from clients.payments import HttpPaymentsClient, Retry

    statuses = [503, 200, 200, 422, 500, 500, 500]
    seen: list[tuple[str, dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, json.loads(request.content)))
        status = statuses.pop(0)
        body = {"account_ids": ["A1001"], "changed_account_ids": ["A1001"]} if status == 200 else {"code": "x"}
        return httpx.Response(status, json=body)

    client = HttpPaymentsClient(
        "http://payments", "svc", 5, retry=Retry(attempts=3, backoff_seconds=0), transport=httpx.MockTransport(answer)
    )
    ledger = PaymentsComplianceLedger(make_settings(), client)
    with caplog.at_level(logging.INFO):
        assert await ledger.opt_out(CUSTOMER, conversation_id=CUSTOMER) is True  # a 503, then recorded
        assert await ledger.opt_in(CUSTOMER, conversation_id=CUSTOMER) is True
        assert await ledger.opt_out(CUSTOMER, conversation_id=CUSTOMER) is False  # refused: not retried
        assert await ledger.opt_out(CUSTOMER, conversation_id=CUSTOMER) is False  # 3 attempts
    await client.aclose()
    body = {"phone": CUSTOMER, "medium": "sms", "channel": "sms", "conversation_id": CUSTOMER}
    assert [path for path, _ in seen] == ["/api/contact/opt-out"] * 2 + ["/api/contact/opt-in"] + [
        "/api/contact/opt-out"
    ] * 4
    assert all(sent == body for _, sent in seen)
    logged = [record.getMessage() for record in caplog.records if record.name == "channels.sms"]
    assert logged == [
        "opt-out for +1512***0101 recorded: accounts ['A1001']",
        "opt-in for +1512***0101 recorded: accounts ['A1001']",
        "opt-out for +1512***0101 refused by the payments service: Refused",
        "opt-out for +1512***0101 NOT recorded after 3 attempts",
    ]
