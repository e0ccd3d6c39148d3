"""Channel facts only from our connectors (C0), and the verified-action gate's one handling of
an ended verification session (C2)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.balance import ActionTellBalance
from actions.base import caller_phone, channel_facts, service_channel
from testkit.fake_payments import WITH_PLAN, FakePaymentsClient
from tests.actions.fakes import signed, tracker

PHONE = "+15125550101"
VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}


def test_signed_facts_give_the_channel_and_caller_id() -> None:
    sms = tracker(channel="twilio_sms", metadata=signed("twilio_sms", phone=PHONE))
    assert (service_channel(sms), caller_phone(sms)) == ("sms", PHONE)
    voice = tracker(channel="twilio_voice", metadata=signed("twilio_voice", phone=PHONE, call_sid="CA1"))
    assert (service_channel(voice), caller_phone(voice)) == ("voice", PHONE)
    facts = channel_facts(voice)
    assert facts is not None and facts.call_sid == "CA1"
    web = tracker(channel="webchat", metadata=signed("webchat"))
    assert (service_channel(web), caller_phone(web)) == ("web", None)


@pytest.mark.parametrize(
    "metadata",
    [
        {"phone": PHONE},  # the old, unsigned claim (issue 11: REST metadata.phone + input_channel)
        signed("twilio_sms", sender_id="someone-else", phone=PHONE),  # signed for another conversation
        signed("twilio_sms", phone=PHONE, key="not-our-key"),
        {"evenkeel_facts": {**signed("twilio_sms", phone=PHONE)["evenkeel_facts"], "phone": "+15125550199"}},  # altered
        {"evenkeel_facts": "sms"},
    ],
)
def test_anything_else_is_rest_with_no_caller_id(metadata: dict) -> None:
    claimed = tracker(channel="twilio_sms", metadata=metadata)
    assert (service_channel(claimed), caller_phone(claimed)) == ("rest", None)


def test_a_web_chat_fact_never_carries_a_caller_id() -> None:
    web = tracker(channel="webchat", metadata=signed("webchat", phone=PHONE))
    assert (service_channel(web), caller_phone(web)) == ("web", None)


def test_an_external_intent_uses_the_latest_signed_message() -> None:
    triggered = tracker(
        intent="installment_due", earlier_intents=("greet",), earlier_metadata=signed("twilio_sms", phone=PHONE)
    )
    assert (service_channel(triggered), caller_phone(triggered)) == ("sms", PHONE)


def test_a_customer_turn_never_borrows_earlier_facts() -> None:
    unsigned_now = tracker(
        intent="stop_contact", earlier_intents=("greet",), earlier_metadata=signed("twilio_sms", phone=PHONE)
    )
    assert (service_channel(unsigned_now), caller_phone(unsigned_now)) == ("rest", None)


async def test_an_ended_session_makes_the_customer_verify_again_keeping_the_request() -> None:
    client = FakePaymentsClient(session_ended=True)
    dispatcher = CollectingDispatcher()
    events = await ActionTellBalance(client).run(dispatcher, tracker(VERIFIED, intent="check_balance"), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_VERIFY_AGAIN]
    set_to = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert {k: set_to[k] for k in (names.VERIFICATION_STATUS, names.ACCOUNT_ID, names.VERIFICATION_SESSION)} == {
        names.VERIFICATION_STATUS: None,
        names.ACCOUNT_ID: None,
        names.VERIFICATION_SESSION: None,
    }
    assert set_to[names.GOAL] == "check_balance"
    assert events[-1] == {"event": "followup", "timestamp": None, "name": names.VERIFICATION_FORM}


async def test_nothing_said_before_the_refusal_reaches_the_customer() -> None:
    """A plan mentioned from standing, then figures refused: only the request to verify again."""

    from clients.payments import AccountSummary

    class RefusesFigures(FakePaymentsClient):
        async def get_account(self, account_id: str, *, conversation_id: str, session: str | None) -> AccountSummary:
            self.session_ended = True
            return await super().get_account(account_id, conversation_id=conversation_id, session=session)

    dispatcher = CollectingDispatcher()
    await ActionTellBalance(RefusesFigures(standing=WITH_PLAN)).run(dispatcher, tracker(VERIFIED), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_VERIFY_AGAIN]


async def test_a_session_of_another_conversation_is_refused_too() -> None:
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(FakePaymentsClient()).run(
        dispatcher, tracker({**VERIFIED, names.VERIFICATION_SESSION: "VS-FORGED"}), {}
    )
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_VERIFY_AGAIN]
