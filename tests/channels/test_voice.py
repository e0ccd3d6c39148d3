"""The Twilio voice connector (channels/voice.py, its TwiML channels/twiml.py) behind a real Sanic
server, with a fake Rasa. Every answer is parsed as XML (never string-matched) and followed the
way Twilio would."""

from __future__ import annotations

import asyncio
import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.speech import speakable
from channels.twiml import (
    AFTER_PAY_PROMPT,
    BACK_PROMPT,
    HOLD_TEXT,
    NO_PAY_TEXT,
    SILENCE_LEAD,
    TROUBLE_TEXT,
    WHISPER_INTRO,
)
from channels.voice import TwilioVoiceInput
from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY, FACTS_KEY, ChannelFacts, verify
from tests.channels.conftest import (
    ACCOUNT_SID,
    CUSTOMER,
    OUR_NUMBER,
    FakeRasa,
    FakeSender,
    Served,
    ServeFn,
    make_settings,
)

WEBHOOK = "/webhooks/twilio_voice/webhook"
_calls = count(1)

MENU = [
    {"title": "Make a payment", "payload": "/make_payment"},
    {"title": "Set up a payment plan", "payload": "/request_payment_plan"},
    {"title": "Talk to a person", "payload": "/request_agent"},
]
MENU_TEXT = "What would you like to do? To make a payment, press 1. For a payment plan, press 2. To speak with a person, press 0."
ASK_LAST4 = "Please enter or say the last 4 digits of your card."
PAY = {"pay": {"payment_id": "PAY-4K2M8Q", "amount_cents": "9500", "currency": "USD"}}
HANDOFF = {"handoff": {"case_id": "CASE-8HD2Q1", "summary": "Verified. Asked for a person about a $95.00 payment."}}


def twiml(reply: Any) -> ET.Element:
    """The answer as TwiML; never an empty <Response/> (Twilio would hang up)."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(reply.text)
    assert root.tag == "Response"
    assert len(root) > 0, "an empty <Response/> hangs up the call"
    return root


def says(node: ET.Element) -> list[str]:
    return [(say.text or "").strip() for say in node.iter("Say")]


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Call:
    """One phone call: posts what Twilio would post, follows the TwiML's URLs."""

    def __init__(
        self,
        served: Served,
        rasa: FakeRasa,
        sender: FakeSender,
        paused: dict[str, bool],
        caller: str = CUSTOMER,
        sessions: FakeSessions | None = None,
    ) -> None:
        self.served, self.rasa, self.sender, self.paused = served, rasa, sender, paused
        self.sessions = sessions or FakeSessions()
        self.sid = f"CA{next(_calls):032d}"
        self.caller = caller

    @property
    def conversation(self) -> str:
        return f"voice-{self.sid}"

    def form(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.caller,
            "To": OUR_NUMBER,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "FromState": "TX",
            "FromCountry": "US",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    async def start(self) -> ET.Element:
        return twiml(await self.served.post(WEBHOOK, self.form(CallStatus="ringing")))

    async def follow(self, url: str, **params: str) -> ET.Element:
        return twiml(await self.served.post_url(url, self.form(**params)))

    async def answer(self, root: ET.Element, **params: str) -> ET.Element:
        """Answer the <Gather> of `root` with Digits / SpeechResult, or nothing (silence)."""
        gather = root.find("Gather")
        assert gather is not None, ET.tostring(root)
        return await self.follow(gather.get("action") or "", **params)


@pytest.fixture
async def call(serve: ServeFn) -> Call:
    return await new_call(serve)


@dataclass
class FakeSessions:
    """The payments service's verification sessions: records each end."""

    ended: list[tuple[str, str]] = field(default_factory=list)

    async def end(self, conversation_id: str, reason: str) -> bool:
        self.ended.append((conversation_id, reason))
        return True


async def new_call(serve: ServeFn, **settings: Any) -> Call:
    rasa, sender, paused, sessions = FakeRasa(), FakeSender(), {"value": False}, FakeSessions()

    async def is_paused(_: Any, sender_id: str) -> bool:
        return paused["value"]

    channel = TwilioVoiceInput(make_settings(**settings), sender=sender, paused=is_paused, sessions=sessions)
    served = await serve(channel, rasa)
    return Call(served, rasa, sender, paused, sessions=sessions)


# --- the call starts -----------------------------------------------------------------------------


async def test_a_call_greets_through_rasa_and_gathers_keys_and_speech(call: Call) -> None:
    call.rasa.reply({"text": "Hello, you've reached Lakeside Bank's card assistant."}, {"text": ASK_LAST4})
    root = await call.start()
    [message] = call.rasa.received
    assert message.text == "/greet"
    assert message.sender_id == f"voice-{call.sid}"  # each call its own conversation: it verifies again
    assert message.input_channel == "twilio_voice"
    assert message.output_channel.name() == "twilio_voice"
    facts = message.metadata.pop(FACTS_KEY)
    assert message.metadata == {
        "channel": "voice",
        "phone": CUSTOMER,
        "to": OUR_NUMBER,
        "call_sid": call.sid,
        "input": "start",
        "timezone": "America/Chicago",
    }
    assert verify({FACTS_KEY: facts}, f"voice-{call.sid}", DEV_CHANNEL_FACTS_KEY) == ChannelFacts(
        "voice", f"voice-{call.sid}", CUSTOMER, call.sid, facts["issued_at"]
    )
    assert verbs(root) == ["Gather"]
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("input") == "dtmf speech"
    assert gather.get("bargeIn") == "true"
    assert gather.get("speechTimeout") == "auto"
    assert gather.get("language") == "en-US"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("numDigits") == "4"  # "the last 4 digits"
    assert "agent" in (gather.get("hints") or "")
    action = gather.get("action") or ""
    assert action.startswith(call.served.local(WEBHOOK) + "?") and query(action)["turn"]
    assert says(gather) == ["Hello, you've reached Lakeside Bank's card assistant.", ASK_LAST4]


async def test_a_withheld_caller_id_is_a_conversation_of_its_own(serve: ServeFn) -> None:
    call = await new_call(serve)
    call.caller = "+266696687"  # "ANONYMOUS"
    await call.start()
    [message] = call.rasa.received
    assert message.sender_id == f"voice-{call.sid}"
    assert "phone" not in message.metadata
    facts = verify(message.metadata, message.sender_id, DEV_CHANNEL_FACTS_KEY)
    assert facts is not None and facts.phone is None and not facts.has_caller_id


async def test_signatures_are_checked(call: Call) -> None:
    reply = await call.served.post(WEBHOOK, call.form(), signed=False)
    assert reply.status_code == 403
    reply = await call.served.post(WEBHOOK, call.form(), token="wrong-token")
    assert reply.status_code == 403
    reply = await call.served.post(WEBHOOK + "?turn=abc", call.form(), sign_url=call.served.local(WEBHOOK))
    assert reply.status_code == 403
    assert call.rasa.received == []


# --- keypad --------------------------------------------------------------------------------------


async def test_a_digit_picks_the_button_and_zero_asks_for_a_person(call: Call) -> None:
    call.rasa.reply({"text": MENU_TEXT, "buttons": MENU}).reply({"text": MENU_TEXT, "buttons": MENU})
    root = await call.start()
    assert root.find("Gather").get("numDigits") == "1"
    root = await call.answer(root, Digits="2")
    assert call.rasa.texts[-1] == "/request_payment_plan"
    assert call.rasa.received[-1].metadata["input"] == "dtmf"
    await call.answer(root, Digits="0")
    assert call.rasa.texts[-1] == "/request_agent"


async def test_zero_asks_for_a_person_even_without_buttons(call: Call) -> None:
    call.rasa.reply({"text": "I can give you your balance. To speak with a person at any time, press 0."})
    root = await call.start()
    await call.answer(root, Digits="0")
    assert call.rasa.texts[-1] == "/request_agent"


@pytest.mark.parametrize("digits", ["4821", "03141985", "78701", "7"])
async def test_other_digits_reach_the_form_as_text(call: Call, digits: str) -> None:
    call.rasa.reply({"text": ASK_LAST4})
    root = await call.start()
    await call.answer(root, Digits=digits)
    assert call.rasa.texts[-1] == digits


async def test_a_digit_beyond_the_buttons_is_text(call: Call) -> None:
    call.rasa.reply({"text": MENU_TEXT, "buttons": MENU})
    root = await call.start()
    await call.answer(root, Digits="7")
    assert call.rasa.texts[-1] == "7"


async def test_star_repeats_the_question_without_asking_rasa(call: Call) -> None:
    call.rasa.reply({"text": MENU_TEXT, "buttons": MENU})
    root = await call.start()
    root = await call.answer(root, Digits="*")
    assert says(root) == [speakable(MENU_TEXT)]
    assert call.rasa.texts == ["/greet"]


async def test_speech_picks_a_button_by_number_or_title(call: Call) -> None:
    call.rasa.reply(
        {"text": MENU_TEXT, "buttons": MENU},
    ).reply({"text": MENU_TEXT, "buttons": MENU})
    root = await call.start()
    root = await call.answer(root, SpeechResult="two", Confidence="0.9")
    assert call.rasa.texts[-1] == "/request_payment_plan"
    assert call.rasa.received[-1].metadata["input"] == "speech"
    await call.answer(root, SpeechResult="Make a payment.")
    assert call.rasa.texts[-1] == "/make_payment"


async def test_speech_is_otherwise_text_for_rasa(call: Call) -> None:
    call.rasa.reply({"text": MENU_TEXT, "buttons": MENU})
    root = await call.start()
    await call.answer(root, SpeechResult="how much do I owe")
    assert call.rasa.texts[-1] == "how much do I owe"


# --- silence -------------------------------------------------------------------------------------


async def test_silence_repeats_the_question_twice_then_offers_a_person(call: Call) -> None:
    call.rasa.reply({"text": "Thanks."}, {"text": ASK_LAST4})
    call.rasa.reply({"text": "Please hold while I connect you with a person."})
    root = await call.start()
    for _ in range(2):
        root = await call.answer(root)  # no Digits, no SpeechResult
        assert says(root) == [SILENCE_LEAD, ASK_LAST4]
        assert root.find("Gather") is not None
        assert call.rasa.texts == ["/greet"]  # Rasa is not bothered with silence
    root = await call.answer(root)
    assert call.rasa.texts == ["/greet", "/request_agent"]
    assert call.rasa.received[-1].metadata["input"] == "silence"
    assert says(root) == ["Please hold while I connect you with a person."]


async def test_an_answer_resets_the_silence_count(call: Call) -> None:
    call.rasa.default = [{"text": ASK_LAST4}]
    root = await call.start()
    root = await call.answer(root)
    root = await call.answer(root)
    root = await call.answer(root, Digits="4821")
    root = await call.answer(root)
    assert says(root) == [SILENCE_LEAD, ASK_LAST4]
    assert call.rasa.texts == ["/greet", "4821"]


async def test_no_reply_from_an_active_conversation_repeats_the_question(call: Call) -> None:
    call.rasa.reply({"text": ASK_LAST4}).reply()
    root = await call.start()
    root = await call.answer(root, SpeechResult="um")
    assert says(root) == [ASK_LAST4]
    assert root.find("Gather") is not None


# --- handed off: hold ----------------------------------------------------------------------------


async def test_a_paused_conversation_is_put_on_hold_not_hung_up(call: Call) -> None:
    call.rasa.reply({"text": ASK_LAST4}).reply()
    root = await call.start()
    call.paused["value"] = True
    root = await call.answer(root, SpeechResult="hello? anyone?")
    assert verbs(root) == ["Say", "Pause", "Redirect"]
    assert says(root) == [HOLD_TEXT]
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.get("method") == "POST"
    assert query(redirect.text or "")["after"] == "hold"
    # Twilio comes back after the pause: still paused, so more hold (without the message again).
    root = await call.follow(redirect.text or "")
    assert verbs(root) == ["Pause", "Redirect"]
    assert call.rasa.texts == ["/greet", "hello? anyone?"]


async def test_messages_pushed_while_on_hold_are_spoken_then_the_assistant_is_back(call: Call) -> None:
    call.rasa.reply({"text": ASK_LAST4}).reply()
    root = await call.start()
    call.paused["value"] = True
    root = await call.answer(root, SpeechResult="hello")
    output = call.served.channel.get_output_channel()
    await output.send_response(call.conversation, {"text": "This is Sam. I'm looking at your account now."})
    assert call.sender.sent == []  # the call is live: spoken there, not texted
    root = await call.follow(root.find("Redirect").text or "")
    assert says(root) == ["This is Sam. I'm looking at your account now."]
    assert verbs(root)[-1] == "Redirect"
    call.paused["value"] = False  # the agent handed the conversation back
    root = await call.follow(root.find("Redirect").text or "")
    assert says(root) == [BACK_PROMPT]
    assert root.find("Gather") is not None


async def test_a_message_pushed_during_a_question_is_spoken_before_it_is_asked_again(call: Call) -> None:
    call.rasa.reply({"text": ASK_LAST4})
    root = await call.start()
    await call.served.channel.get_output_channel().send_response(
        call.conversation, {"text": "Your payment of $95.00 was received."}
    )
    root = await call.answer(root)  # silence
    assert says(root) == ["Your payment of 95 dollars was received.", SILENCE_LEAD, ASK_LAST4]
    assert call.sender.sent == []


async def test_a_pushed_message_with_no_live_call_is_texted_to_the_caller(call: Call) -> None:
    await call.start()
    await call.served.post("/webhooks/twilio_voice/status", call.form(CallStatus="completed"))
    await call.served.channel.get_output_channel().send_response(
        call.conversation, {"text": "Your payment of $95.00 was received."}
    )
    # A text we start after the call carries the opt-out notice (12 CFR 1006.6(e)).
    assert call.sender.sent == [(CUSTOMER, "Your payment of $95.00 was received. Reply STOP to opt out.", None)]


async def test_a_pushed_message_for_a_call_without_caller_id_is_dropped(serve: ServeFn) -> None:
    call = await new_call(serve)
    call.caller = "+266696687"
    await call.start()
    await call.served.post("/webhooks/twilio_voice/status", call.form(CallStatus="completed"))
    await call.served.channel.get_output_channel().send_response(call.conversation, {"text": "Paid."})
    assert call.sender.sent == []


# --- custom payloads -----------------------------------------------------------------------------


async def test_pay_payload_becomes_a_tokenize_only_pay_to_the_payments_service(call: Call) -> None:
    call.rasa.reply({"text": "I'll now take your card payment of $95.00 on your keypad."}, {"custom": PAY})
    root = await call.start()
    assert verbs(root) == ["Say", "Pay"]
    assert says(root) == ["I'll now take your card payment of 95 dollars on your keypad."]
    pay = root.find("Pay")
    assert pay is not None
    assert pay.get("paymentConnector") == "Stripe_Connector"
    assert pay.get("tokenType") == "payment-method"
    assert pay.get("chargeAmount") is None  # tokenize only: the payments service charges
    assert pay.get("input") == "dtmf"
    action = pay.get("action") or ""
    assert action.startswith("https://pay.example.com/webhooks/twilio/pay?")
    params = query(action)
    assert params["payment_id"] == "PAY-4K2M8Q"
    back = params["return_url"]
    assert back.startswith(call.served.local(WEBHOOK) + "?") and query(back)["after"] == "pay"
    # The payments service says the outcome and redirects back: the assistant carries on.
    root = await call.follow(back)
    assert says(root) == [AFTER_PAY_PROMPT]
    assert root.find("Gather") is not None
    assert call.rasa.texts == ["/greet"]


async def test_pay_connector_is_configurable(serve: ServeFn) -> None:
    call = await new_call(serve, twilio_pay_connector="Stripe_Prod")
    call.rasa.reply({"text": "Paying."}, {"custom": PAY})
    root = await call.start()
    assert root.find("Pay").get("paymentConnector") == "Stripe_Prod"


async def test_pay_payload_without_a_payment_id_does_not_pay(call: Call) -> None:
    call.rasa.reply(
        {"text": "I'll now take your card payment of $95.00 on your keypad."},
        {"custom": {"pay": {"payment_id": "{payment_id}", "amount_cents": "9500"}}},
    )
    root = await call.start()
    assert root.find("Pay") is None
    assert says(root) == [NO_PAY_TEXT, AFTER_PAY_PROMPT]


async def test_handoff_enqueues_to_the_workflow_with_the_case_as_task(serve: ServeFn) -> None:
    call = await new_call(serve, twilio_workflow_sid="WW0123456789abcdef0123456789abcdef")
    call.rasa.reply({"text": "Please hold while I connect you with a person."}, {"custom": HANDOFF})
    root = await call.start()
    assert verbs(root) == ["Say", "Enqueue"]
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.get("workflowSid") == "WW0123456789abcdef0123456789abcdef"
    task = json.loads(enqueue.find("Task").text or "")
    assert task["case_id"] == "CASE-8HD2Q1"
    assert task["summary"] == HANDOFF["handoff"]["summary"]
    assert task["conversation_id"] == call.conversation and task["call_sid"] == call.sid


async def test_handoff_dials_the_agent_who_hears_a_whisper_of_the_summary(serve: ServeFn) -> None:
    call = await new_call(serve, twilio_agent_number="+15125550999")
    call.rasa.reply({"text": "Please hold while I connect you with a person."}, {"custom": HANDOFF})
    root = await call.start()
    assert verbs(root) == ["Say", "Dial"]
    dial = root.find("Dial")
    number = dial.find("Number")
    assert number is not None and (number.text or "").strip() == "+15125550999"
    whisper = number.get("url") or ""
    assert whisper.startswith(call.served.local("/webhooks/twilio_voice/whisper?"))
    assert "Verified" not in whisper  # the summary is not in the URL
    heard = twiml(await call.served.post_url(whisper, call.form(To="+15125550999")))
    [said] = says(heard)
    assert said.startswith(WHISPER_INTRO)
    assert "C A S E, 8 H D 2 Q 1" in said
    assert "a 95 dollars payment" in said
    # The agent talked and hung up: goodbye.
    done = await call.follow(dial.get("action") or "", DialCallStatus="completed")
    assert verbs(done) == ["Say", "Hangup"]


async def test_an_unanswered_dial_keeps_the_caller_waiting(serve: ServeFn) -> None:
    call = await new_call(serve, twilio_agent_number="+15125550999")
    call.rasa.reply({"text": "Please hold while I connect you with a person."}, {"custom": HANDOFF})
    root = await call.start()
    missed = await call.follow(root.find("Dial").get("action") or "", DialCallStatus="no-answer")
    assert verbs(missed) == ["Say", "Say", "Pause", "Redirect"]
    assert query(missed.find("Redirect").text or "")["after"] == "hold"


async def test_whisper_needs_a_signature(serve: ServeFn) -> None:
    call = await new_call(serve, twilio_agent_number="+15125550999")
    reply = await call.served.post("/webhooks/twilio_voice/whisper?case=x", call.form(), signed=False)
    assert reply.status_code == 403


async def test_handoff_without_a_workflow_or_agent_number_holds(call: Call) -> None:
    call.rasa.reply({"text": "Please hold while I connect you with a person."}, {"custom": HANDOFF})
    root = await call.start()
    assert verbs(root) == ["Say", "Say", "Pause", "Redirect"]
    assert says(root) == ["Please hold while I connect you with a person.", HOLD_TEXT]


async def test_hangup_payload_ends_the_call(call: Call) -> None:
    call.rasa.reply({"text": "Thank you for calling Lakeside Bank. Goodbye."}, {"custom": {"hangup": True}})
    root = await call.start()
    assert verbs(root) == ["Say", "Hangup"]


async def test_a_message_after_a_terminal_payload_is_not_spoken(call: Call) -> None:
    call.rasa.reply({"text": "Goodbye."}, {"custom": {"hangup": True}}, {"text": "Anything else?"})
    root = await call.start()
    assert verbs(root) == ["Say", "Hangup"]
    assert says(root) == ["Goodbye."]


async def test_an_unknown_custom_payload_is_skipped(call: Call) -> None:
    call.rasa.reply({"text": "Hello."}, {"custom": {"webchat_card": {"x": 1}}})
    root = await call.start()
    assert verbs(root) == ["Gather"] and says(root) == ["Hello."]


# --- duplicates and failures ---------------------------------------------------------------------


async def test_a_repeated_webhook_gets_the_same_twiml_and_rasa_hears_once(call: Call) -> None:
    call.rasa.reply({"text": MENU_TEXT, "buttons": MENU}).reply({"text": "How much would you like to pay?"})
    root = await call.start()
    action = root.find("Gather").get("action") or ""
    first = await call.served.post_url(action, call.form(Digits="1"))
    again = await call.served.post_url(action, call.form(Digits="1"))
    assert first.text == again.text
    assert call.rasa.texts == ["/greet", "/make_payment"]


async def test_concurrent_copies_of_a_webhook_are_answered_alike(call: Call) -> None:
    call.rasa.delay = 0.3
    form = call.form(CallStatus="ringing")
    replies = await asyncio.gather(*(call.served.post(WEBHOOK, form) for _ in range(3)))
    assert len({r.text for r in replies}) == 1
    twiml(replies[0])
    assert call.rasa.texts == ["/greet"]


async def test_a_failing_turn_still_answers_twiml(call: Call) -> None:
    call.rasa.fail = True
    root = await call.start()
    assert says(root) == [TROUBLE_TEXT]
    assert root.find("Gather") is not None


# --- card numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        {"SpeechResult": "four one one one one one one one one one one one one one one one"},
        {"SpeechResult": "my card is 4111 1111 1111 1111"},
        {"Digits": "4111111111111111"},
    ],
)
async def test_a_card_number_never_reaches_rasa_or_the_logs(
    call: Call, said: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    call.rasa.reply({"text": ASK_LAST4})
    root = await call.start()
    await call.answer(root, **said)
    message = call.rasa.received[-1]
    assert message.text == "/card_number_shared"
    assert message.metadata["card_number_removed"] is True
    reached = json.dumps({"text": message.text, "metadata": message.metadata})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for digits in ("4111111111111111", "4111 1111", "one one one one one"):
        assert digits not in reached and digits not in logged


# --- speakable text ------------------------------------------------------------------------------


async def test_bot_text_is_spoken_speakably(call: Call) -> None:
    call.rasa.reply({"text": "Your balance is $2,450.00. 🙂 Pay at https://pay.example.com/x"})
    root = await call.start()
    assert says(root) == ["Your balance is 2,450 dollars. Pay."]


# --- a call is a conversation; its end ends its verification ---------------------------------------


async def test_a_second_call_from_the_same_number_is_a_new_conversation(serve: ServeFn) -> None:
    first = await new_call(serve)
    second = Call(first.served, first.rasa, first.sender, first.paused)  # the same number calls again
    await first.start()
    await second.start()
    assert [m.sender_id for m in first.rasa.received] == [first.conversation, second.conversation]
    assert first.conversation != second.conversation


async def test_twilios_status_callback_ends_the_calls_verification_once(call: Call) -> None:
    await call.start()
    assert call.sessions.ended == []
    status = "/webhooks/twilio_voice/status"
    assert (await call.served.post(status, call.form(CallStatus="ringing"))).status_code == 204
    assert call.sessions.ended == []
    for _ in range(2):  # Twilio may deliver it twice
        assert (await call.served.post(status, call.form(CallStatus="completed"))).status_code == 204
    assert call.sessions.ended == [(call.conversation, "call_ended")]


async def test_the_status_callback_needs_a_signature(call: Call) -> None:
    await call.start()
    refused = await call.served.post("/webhooks/twilio_voice/status", call.form(CallStatus="completed"), signed=False)
    assert refused.status_code == 403
    assert call.sessions.ended == []


async def test_an_answer_that_hangs_up_ends_the_calls_verification(call: Call) -> None:
    call.rasa.reply({"text": "Goodbye."}, {"custom": {"hangup": True}})
    root = await call.start()
    assert verbs(root) == ["Say", "Hangup"]
    await call.served.channel.drain()  # the report runs after the answer
    assert call.sessions.ended == [(call.conversation, "call_ended")]


async def test_a_webhook_without_a_call_sid_is_refused(call: Call) -> None:
    for sid in ("", "CA-not-a-sid", "+15125550101"):
        reply = await call.served.post(WEBHOOK, {**call.form(), "CallSid": sid})
        assert reply.status_code == 400, sid
    assert call.rasa.received == []


async def test_ending_sessions_posts_the_contract_and_tolerates_a_404() -> None:
    from aiohttp import web

    from channels.voice import PaymentsVerificationSessions

    seen: list[tuple[str, dict[str, Any]]] = []
    answer = {"status": 200}

    async def end(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Authorization", ""), await request.json()))
        if answer["status"] != 200:
            return web.json_response({"detail": "Not Found"}, status=answer["status"])
        return web.json_response({"ended": 1})

    app = web.Application()
    app.router.add_post("/api/verification-sessions/end", end)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        sessions = PaymentsVerificationSessions(
            make_settings(payments_url=f"http://127.0.0.1:{port}", payments_service_token="svc")
        )
        assert await sessions.end("voice-CA1", "call_ended") is True
        answer["status"] = 404
        assert await sessions.end("voice-CA1", "call_ended") is False  # logged, not raised
    finally:
        await runner.cleanup()
    assert seen == [("Bearer svc", {"conversation_id": "voice-CA1", "reason": "call_ended"})] * 2
    unreachable = PaymentsVerificationSessions(make_settings(payments_url=f"http://127.0.0.1:{port}"))
    assert await unreachable.end("voice-CA1", "call_ended") is False
