from datetime import date

from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.verification import ActionVerifyIdentity, ValidateVerificationForm
from clients.payments import VerificationOutcome
from testkit.fake_payments import FakePaymentsClient
from tests.actions.fakes import signed, tracker

FACTORS = {names.CARD_LAST4: "4821", names.DOB: "1985-03-14", names.ZIP: "78701"}


def sent(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def slot_events(events: list[dict]) -> dict[str, object]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_success_sets_account_and_gives_disclosure() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionVerifyIdentity(client).run(dispatcher, tracker(FACTORS, sender_id="c9"), {})

    assert slot_events(events) == {
        names.CARD_LAST4: None,
        names.DOB: None,
        names.ZIP: None,
        names.VERIFICATION_STATUS: names.VERIFIED,
        names.ACCOUNT_ID: "A1001",
        names.VERIFICATION_SESSION: "VS-TEST22",  # C2: carried by every later account call
    }
    assert sent(dispatcher) == [names.UTTER_VERIFIED, names.UTTER_DISCLOSURE_FIRST_PARTY]
    _, call = client.calls[0]
    assert call == {
        "channel": "rest",
        "conversation_id": "c9",
        "phone": None,
        "card_last4": "4821",
        "dob": date(1985, 3, 14),
        "zip_code": "78701",
        "disclosure": "first_party",  # recorded as the disclosure_given audit event
    }


async def test_third_party_mode_gives_the_fdcpa_disclosure(monkeypatch) -> None:
    from actions import config

    monkeypatch.setenv("DISCLOSURE_MODE", "third_party")
    config.get_settings.cache_clear()
    try:
        dispatcher = CollectingDispatcher()
        await ActionVerifyIdentity(FakePaymentsClient()).run(dispatcher, tracker(FACTORS), {})
        assert names.UTTER_DISCLOSURE_THIRD_PARTY in sent(dispatcher)
    finally:
        config.get_settings.cache_clear()


async def test_failure_asks_again_with_attempts_left_and_discloses_nothing() -> None:
    client = FakePaymentsClient(verify_outcome=VerificationOutcome(False, None, 2))
    dispatcher = CollectingDispatcher()
    events = await ActionVerifyIdentity(client).run(dispatcher, tracker(FACTORS), {})

    assert slot_events(events)[names.VERIFICATION_STATUS] == names.RETRY
    assert names.ACCOUNT_ID not in slot_events(events)
    assert dispatcher.messages[0]["response"] == names.UTTER_VERIFICATION_FAILED
    assert dispatcher.messages[0]["attempts_left"] == 2


async def test_last_failure_and_locked_service_both_lock() -> None:
    for client in (
        FakePaymentsClient(verify_outcome=VerificationOutcome(False, None, 0)),
        FakePaymentsClient(locked=True),
    ):
        dispatcher = CollectingDispatcher()
        events = await ActionVerifyIdentity(client).run(dispatcher, tracker(FACTORS), {})
        assert slot_events(events)[names.VERIFICATION_STATUS] == names.LOCKED
        assert sent(dispatcher) == [names.UTTER_VERIFICATION_LOCKED]


async def test_service_down_apologizes_and_leaves_status_unset() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionVerifyIdentity(FakePaymentsClient(down=True)).run(dispatcher, tracker(FACTORS), {})
    assert slot_events(events)[names.VERIFICATION_STATUS] is None
    assert sent(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


async def test_sms_passes_the_caller_id_and_channel() -> None:
    client = FakePaymentsClient()
    sms = tracker(FACTORS, channel="twilio_sms", metadata=signed("twilio_sms", phone="+15125550101"))
    await ActionVerifyIdentity(client).run(CollectingDispatcher(), sms, {})
    _, call = client.calls[0]
    assert call["channel"] == "sms" and call["phone"] == "+15125550101"


async def test_form_asks_zip_on_web_but_not_with_caller_id() -> None:
    form = ValidateVerificationForm()
    web = await form.required_slots([], CollectingDispatcher(), tracker(), {})
    sms = await form.required_slots(
        [],
        CollectingDispatcher(),
        tracker(channel="twilio_sms", metadata=signed("twilio_sms", phone="+15125550101")),
        {},
    )
    assert web == [names.CARD_LAST4, names.DOB, names.ZIP]
    assert sms == [names.CARD_LAST4, names.DOB]


def test_form_normalizes_valid_factors() -> None:
    form, dispatcher, t = ValidateVerificationForm(), CollectingDispatcher(), tracker()
    assert form.validate_card_last4("it's four eight two one", dispatcher, t, {}) == {names.CARD_LAST4: "4821"}
    assert form.validate_dob("March 14, 1985", dispatcher, t, {}) == {names.DOB: "1985-03-14"}
    assert form.validate_zip("78701", dispatcher, t, {}) == {names.ZIP: "78701"}
    assert dispatcher.messages == []


def test_form_rejects_invalid_factors_with_a_hint() -> None:
    form, dispatcher, t = ValidateVerificationForm(), CollectingDispatcher(), tracker()
    assert form.validate_card_last4("4111 1111 1111 1111", dispatcher, t, {}) == {names.CARD_LAST4: None}
    assert form.validate_dob("yesterday", dispatcher, t, {}) == {names.DOB: None}
    assert form.validate_zip("123", dispatcher, t, {}) == {names.ZIP: None}
    assert sent(dispatcher) == [names.UTTER_ASK_CARD_LAST4_INVALID, names.UTTER_DOB_INVALID, names.UTTER_ZIP_INVALID]


def test_form_stays_quiet_about_slots_cleared_by_a_failed_attempt() -> None:
    form, dispatcher, t = ValidateVerificationForm(), CollectingDispatcher(), tracker()
    assert form.validate_card_last4(None, dispatcher, t, {}) == {names.CARD_LAST4: None}
    assert form.validate_dob(None, dispatcher, t, {}) == {names.DOB: None}
    assert form.validate_zip(None, dispatcher, t, {}) == {names.ZIP: None}
    assert dispatcher.messages == []


async def test_a_claimed_sms_channel_verifies_like_web_chat() -> None:
    """REST metadata `phone` and an `input_channel` of twilio_sms, unsigned: three factors, no phone."""
    claimed = tracker(FACTORS, channel="twilio_sms", metadata={"phone": "+15125550101"})
    assert await ValidateVerificationForm().required_slots([], CollectingDispatcher(), claimed, {}) == [
        names.CARD_LAST4,
        names.DOB,
        names.ZIP,
    ]
    client = FakePaymentsClient()
    await ActionVerifyIdentity(client).run(CollectingDispatcher(), claimed, {})
    _, call = client.calls[0]
    assert call["channel"] == "rest" and call["phone"] is None


async def test_sign_off_ends_the_session_and_forgets_verification() -> None:
    from actions.verification import ActionSignOff

    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionSignOff(client).run(
        dispatcher,
        tracker(
            {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}, intent="goodbye", sender_id="c3"
        ),
        {},
    )
    assert client.called("end_verification_session") == [{"conversation_id": "c3", "reason": "sign_off"}]
    assert sent(dispatcher) == [names.UTTER_GOODBYE]
    cleared = slot_events(events)
    assert cleared[names.VERIFICATION_STATUS] is None and cleared[names.VERIFICATION_SESSION] is None


async def test_sign_off_when_unverified_or_with_the_service_down_still_says_goodbye() -> None:
    from actions.verification import ActionSignOff

    quiet = FakePaymentsClient()
    await ActionSignOff(quiet).run(CollectingDispatcher(), tracker({}, intent="goodbye"), {})
    assert quiet.called("end_verification_session") == []
    dispatcher = CollectingDispatcher()
    await ActionSignOff(FakePaymentsClient(down=True)).run(
        dispatcher,
        tracker({names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}, intent="goodbye"),
        {},
    )
    assert sent(dispatcher) == [names.UTTER_GOODBYE]


async def test_a_verified_call_is_recorded_in_the_call_ledger_and_a_chat_is_not() -> None:
    """12 CFR 1006.14(b)(2): the 7-days-after-a-conversation limit must see our own calls."""
    voice = FakePaymentsClient()
    await ActionVerifyIdentity(voice).run(
        CollectingDispatcher(),
        tracker(
            FACTORS,
            sender_id="voice-CA1",
            channel="twilio_voice",
            metadata=signed("twilio_voice", sender_id="voice-CA1", phone="+15125550101", call_sid="CA1"),
        ),
        {},
    )
    assert voice.called("record_call_conversation") == [{"account_id": "A1001", "conversation_id": "voice-CA1"}]

    web = FakePaymentsClient()
    await ActionVerifyIdentity(web).run(CollectingDispatcher(), tracker(FACTORS), {})
    assert web.called("record_call_conversation") == []
