"""Handoff triggers, the 988 line first on distress, flags, and misunderstandings in a row."""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.contact import ActionStopContact, ActionWrongNumber
from actions.handoff import ActionHandoff, ActionMisunderstood, ActionResumeAfterAgent
from testkit.fake_payments import FakePaymentsClient
from tests.actions.fakes import signed, tracker

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def test_distress_gets_the_988_lifeline_before_anything_else() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff(client).run(dispatcher, tracker({}, intent="distress", text="i cant go on"), {})
    assert responses(dispatcher)[0] == names.UTTER_CRISIS_SUPPORT
    [case] = client.called("create_handoff")
    assert case["reason"] == "distress" and case["verified"] is False and case["account_id"] is None
    assert events[-1]["event"] == "pause"


async def test_verified_handoff_carries_account_facts_and_a_summary() -> None:
    client = FakePaymentsClient()
    state = {**VERIFIED, names.GOAL: "request_payment_plan", names.OFFER_IDS: ["installments_3"]}
    dispatcher = CollectingDispatcher()
    await ActionHandoff(client).run(
        dispatcher,
        tracker(
            state,
            intent="request_agent",
            text="agent",
            channel="twilio_sms",
            metadata=signed("twilio_sms", phone="+15125550101"),
        ),
        {},
    )
    [case] = client.called("create_handoff")
    assert case["verified"] is True and case["account_id"] == "A1001" and case["channel"] == "sms"
    assert case["context"]["account"]["past_due_cents"] == 31000
    assert case["context"]["offers_made"] == ["installments_3"]
    assert case["summary"].startswith("Verified customer (account A1001) on sms asked for a person.")
    assert "$310.00 past due (45 days)" in case["summary"]
    assert dispatcher.messages[-1]["queue_position"] == 2


@pytest.mark.parametrize(
    "intent, flag", [("bankruptcy", "bankruptcy"), ("attorney", "attorney"), ("deceased", "deceased")]
)
async def test_bankruptcy_attorney_deceased_flag_a_verified_account_and_are_reported(intent: str, flag: str) -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    await ActionHandoff(client).run(dispatcher, tracker(VERIFIED, intent=intent, text="it's true"), {})
    assert client.called("set_flag")[0]["flag"] == flag
    [report] = client.called("create_report")
    assert (report["kind"], report["account_id"], report["summary"]) == (intent, "A1001", "it's true")
    assert report["reported_by"] == ("third_party" if intent == "deceased" else "cardholder")
    assert responses(dispatcher) == [names.UTTER_REPORT_RECORDED, names.UTTER_HANDOFF]


async def test_dispute_is_reported_noted_and_handed_off() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    await ActionHandoff(client).run(dispatcher, tracker(VERIFIED, intent="dispute"), {})
    assert responses(dispatcher) == [names.UTTER_REPORT_RECORDED_DISPUTE, names.UTTER_HANDOFF]
    assert client.called("create_report")[0]["kind"] == "dispute"
    assert client.called("create_handoff")[0]["reason"] == "dispute"


@pytest.mark.parametrize("intent", ["deceased", "bankruptcy", "attorney", "dispute"])
async def test_an_unverified_callers_report_is_recorded_by_the_signed_phone(intent: str) -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    await ActionHandoff(client).run(
        dispatcher,
        tracker(
            {},
            intent=intent,
            text="my husband 4111 1111 1111 1111",
            channel="twilio_sms",
            metadata=signed("twilio_sms", phone="+15125550101"),
        ),
        {},
    )
    [report] = client.called("create_report")
    assert report["account_id"] is None and report["phone"] == "+15125550101" and report["channel"] == "sms"
    assert report["reported_by"] == ("third_party" if intent == "deceased" else "unknown")
    assert "4111" not in report["summary"]
    assert client.called("set_flag") == []  # only the service's review turns it into a flag
    assert responses(dispatcher)[0] in (names.UTTER_REPORT_RECORDED, names.UTTER_REPORT_RECORDED_DISPUTE)


async def test_a_claimed_phone_is_not_reported_and_nothing_is_promised_without_an_account() -> None:
    client = FakePaymentsClient(report_accounts=())
    dispatcher = CollectingDispatcher()
    await ActionHandoff(client).run(
        dispatcher, tracker({}, intent="bankruptcy", channel="twilio_sms", metadata={"phone": "+15125550101"}), {}
    )
    [report] = client.called("create_report")
    assert report["phone"] is None and report["channel"] == "rest"
    assert responses(dispatcher) == [names.UTTER_REPORT_RECORDED_NO_ACCOUNT, names.UTTER_HANDOFF]


async def test_a_report_that_cannot_be_recorded_is_not_confirmed() -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandoff(FakePaymentsClient(reports_down=True)).run(dispatcher, tracker({}, intent="deceased"), {})
    assert responses(dispatcher) == [names.UTTER_REPORT_FAILED, names.UTTER_HANDOFF]


async def test_lock_out_hands_off_as_verification_locked() -> None:
    client = FakePaymentsClient()
    await ActionHandoff(client).run(
        CollectingDispatcher(), tracker({names.VERIFICATION_STATUS: names.LOCKED}, intent="inform"), {}
    )
    assert client.called("create_handoff")[0]["reason"] == "verification_locked"


async def test_card_numbers_never_reach_the_case() -> None:
    client = FakePaymentsClient()
    await ActionHandoff(client).run(
        CollectingDispatcher(),
        tracker({}, intent="request_agent", text="my card is 4111 1111 1111 1111 get me a person"),
        {},
    )
    said = client.called("create_handoff")[0]["context"]["customer_said"]
    assert "4111" not in " ".join(said) and "[digits removed]" in said[-1]


async def test_handoff_service_down_says_how_to_reach_us_and_does_not_pause() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff(FakePaymentsClient(down=True)).run(dispatcher, tracker({}, intent="request_agent"), {})
    assert responses(dispatcher) == [names.UTTER_HANDOFF_UNAVAILABLE]
    assert not any(e["event"] == "pause" for e in events)


async def test_one_misunderstanding_apologizes_two_in_a_row_hand_off() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    await ActionMisunderstood(client).run(
        dispatcher, tracker({}, intent="nlu_fallback", earlier_intents=("greet",)), {}
    )
    assert responses(dispatcher) == [names.UTTER_DEFAULT] and client.called("create_handoff") == []
    dispatcher = CollectingDispatcher()
    events = await ActionMisunderstood(client).run(
        dispatcher, tracker({}, intent="out_of_scope", earlier_intents=("greet", "nlu_fallback")), {}
    )
    assert client.called("create_handoff")[0]["reason"] == "misunderstanding"
    assert events[-1]["event"] == "pause"


async def test_wrong_number_flags_the_phone_says_nothing_about_the_account_and_goes_quiet() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionWrongNumber(client).run(
        dispatcher,
        tracker({}, intent="wrong_number", channel="twilio_sms", metadata=signed("twilio_sms", phone="+15125550101")),
        {},
    )
    assert client.called("phone_wrong_number")[0]["phone"] == "+15125550101"
    assert responses(dispatcher) == [names.UTTER_WRONG_NUMBER]
    assert events == [{"event": "pause", "timestamp": None}]


async def test_stop_on_sms_opts_out_of_sms_only() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionStopContact(client).run(
        dispatcher,
        tracker({}, intent="stop_contact", channel="twilio_sms", metadata=signed("twilio_sms", phone="+15125550101")),
        {},
    )
    assert events == []  # recorded and confirmed, never paused: the customer may still write to us
    assert [c["medium"] for c in client.called("phone_opt_out")] == ["sms"]
    assert dispatcher.messages[0]["medium"] == "text messages"


async def test_stop_on_web_chat_flags_a_verified_account_for_texts_and_calls() -> None:
    client = FakePaymentsClient()
    await ActionStopContact(client).run(CollectingDispatcher(), tracker(VERIFIED, intent="stop_contact"), {})
    assert [c["flag"] for c in client.called("set_flag")] == ["stop_sms", "stop_voice"]


def handed_back(reason: str, agent: str | None = "Sam") -> list:
    entities = [{"entity": "handoff_reason", "value": reason}]
    if agent is not None:
        entities.append({"entity": "agent_name", "value": agent})
    return entities


@pytest.mark.parametrize(
    "reason,slots,then",
    [
        ("distress", VERIFIED, names.UTTER_RESUME_AFTER_DISTRESS),
        ("dispute", VERIFIED, names.UTTER_RESUME_COLLECTION_PAUSED),
        ("deceased", {}, names.UTTER_RESUME_COLLECTION_PAUSED),
        ("request_agent", VERIFIED, names.UTTER_RESUME_UNVERIFIED),  # hand-back ends verification
        ("request_agent", {}, names.UTTER_RESUME_UNVERIFIED),
    ],
)
async def test_hand_back_greets_then_goes_on_as_fits_the_case(reason, slots, then) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionResumeAfterAgent(FakePaymentsClient()).run(
        dispatcher,
        tracker({**slots, names.HANDOFF_CASE_ID: "CASE-1"}, intent="agent_handed_back", entities=handed_back(reason)),
        {},
    )
    assert responses(dispatcher) == [names.UTTER_BACK_FROM_AGENT, then]
    assert dispatcher.messages[0]["agent_name"] == "Sam"
    assert {"event": "slot", "name": names.HANDOFF_CASE_ID, "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]


async def test_hand_back_without_an_agent_name_says_our_team() -> None:
    dispatcher = CollectingDispatcher()
    await ActionResumeAfterAgent(FakePaymentsClient()).run(
        dispatcher, tracker({}, intent="agent_handed_back", entities=handed_back("request_agent", None)), {}
    )
    assert dispatcher.messages[0]["agent_name"] == "our team"


@pytest.mark.parametrize(
    "given, spoken",
    [
        ("Ana María", "Ana María"),
        ("O'Neil", "O'Neil"),
        ("Sam. Pay here: http://evil.example/x", "our team"),
        ("<b>Sam</b>", "our team"),
        ("Sam 4111", "our team"),
        ("A" * 41, "our team"),
        ("", "our team"),
    ],
)
async def test_hand_back_speaks_only_a_name_it_can_trust(given: str, spoken: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionResumeAfterAgent(FakePaymentsClient()).run(
        dispatcher, tracker({}, intent="agent_handed_back", entities=handed_back("request_agent", given)), {}
    )
    assert dispatcher.messages[0]["agent_name"] == spoken


async def test_hand_back_ends_the_verification_session() -> None:
    client = FakePaymentsClient()
    events = await ActionResumeAfterAgent(client).run(
        CollectingDispatcher(),
        tracker(
            {**VERIFIED, names.HANDOFF_CASE_ID: "CASE-1"},
            intent="agent_handed_back",
            entities=handed_back("request_agent"),
            sender_id="c5",
        ),
        {},
    )
    assert client.called("end_verification_session") == [{"conversation_id": "c5", "reason": "hand_back"}]
    set_to = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert set_to[names.VERIFICATION_STATUS] is None and set_to[names.VERIFICATION_SESSION] is None
    assert set_to[names.ACCOUNT_ID] is None


async def test_stop_claimed_over_rest_opts_no_phone_out() -> None:
    """Issue 11: REST `metadata.phone` plus `input_channel` opted any number out of texts."""
    client = FakePaymentsClient()
    await ActionStopContact(client).run(
        CollectingDispatcher(),
        tracker({}, intent="stop_contact", channel="twilio_sms", metadata={"phone": "+15125550101"}),
        {},
    )
    assert client.called("phone_opt_out") == []


async def test_stop_that_is_not_recorded_is_not_confirmed() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionStopContact(FakePaymentsClient(down=True)).run(
        dispatcher,
        tracker({}, intent="stop_contact", channel="twilio_sms", metadata=signed("twilio_sms", phone="+15125550101")),
        {},
    )
    assert responses(dispatcher) == [names.UTTER_STOP_NOT_RECORDED]
    assert events == []  # still listening, so they can try again


async def test_stop_with_no_number_or_account_says_how_instead_of_promising() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionStopContact(client).run(dispatcher, tracker({}, intent="stop_contact"), {})
    assert responses(dispatcher) == [names.UTTER_STOP_WHO]
    assert client.calls == [] and events == []


@pytest.mark.parametrize("action_class", [ActionStopContact, ActionWrongNumber])
async def test_a_weakly_understood_stop_or_wrong_number_is_asked_back_not_acted_on(action_class: type) -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    weak = tracker({}, intent="stop_contact", channel="twilio_sms", metadata=signed("twilio_sms", phone="+15125550101"))
    weak.latest_message["intent"]["confidence"] = 0.52  # e.g. a message of pasted HTML
    events = await action_class(client).run(dispatcher, weak, {})
    assert events == []  # no pause
    assert responses(dispatcher) == [names.UTTER_STOP_CHECK]
    assert not client.called("phone_opt_out") and not client.called("phone_wrong_number")


def test_verification_answers_never_reach_the_case() -> None:
    from rasa_sdk import Tracker

    from actions.handoff import customer_said

    def user(text: str) -> dict:
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}}

    def asking(slot: str | None) -> dict:
        return {"event": "slot", "name": names.REQUESTED_SLOT, "value": slot}

    events = [
        user("what do I owe"),
        asking(names.CARD_LAST4),
        user("9902"),
        asking(names.DOB),
        user("01/01/1990"),
        asking(names.ZIP),
        user("02468"),
        asking(None),
        {"event": "active_loop", "name": None},
        user("get me a person"),
    ]
    said = customer_said(Tracker("c1", {}, {}, events, False, None, {}, ""))
    assert said == ["what do I owe", "get me a person"]
