"""Offer lists, choices, read-backs and bookings with a fake payments client."""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.conversation import ActionAnswer
from clients.payments import Standing
from testkit.fake_payments import WITH_PLAN, FakePaymentsClient, public_url
from tests.actions.fakes import domain, tracker

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}
LISTED = {**VERIFIED, names.AWAITING: names.AWAITING_OFFER_CHOICE}  # an offer list is open


def slots(events: list[dict]) -> dict[str, object]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def test_plan_request_lists_installments_with_numbered_buttons() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient()).run(
        dispatcher, tracker(VERIFIED, intent="request_payment_plan"), {}
    )
    assert slots(events)[names.OFFER_IDS] == ["installments_3", "installments_6"]
    assert slots(events)[names.AWAITING] == names.AWAITING_OFFER_CHOICE
    [message] = dispatcher.messages
    assert message["response"] == names.UTTER_OFFER_LIST
    assert message["options_numbered"] == "1. 3 monthly payments of $103.33\n2. 6 monthly payments of $51.66"
    assert message["buttons"][1] == {"title": "6 monthly payments of $51.66", "payload": '/inform{"plan_choice":"2"}'}
    assert message["options_spoken"].startswith("For 3 monthly payments of $103.33, press 1.")


async def test_settlement_request_without_settlement_falls_back_to_plans() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient()).run(
        dispatcher, tracker(VERIFIED, intent="request_settlement"), {}
    )
    assert responses(dispatcher) == [names.UTTER_NO_SETTLEMENT, names.UTTER_OFFER_LIST]
    assert slots(events)[names.OFFER_KIND] == "plan"


async def test_paused_account_hands_off_instead_of_offering() -> None:
    client = FakePaymentsClient(collection_allowed=False)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(client).run(dispatcher, tracker(VERIFIED, intent="request_payment_plan"), {})
    assert responses(dispatcher) == [names.UTTER_COLLECTION_PAUSED, names.UTTER_HANDOFF]
    assert client.called("create_handoff")[0]["reason"] == "other"
    assert events[-1]["event"] == "pause"


async def test_hardship_is_acknowledged_and_its_plan_offered_first() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(client).run(dispatcher, tracker(VERIFIED, intent="hardship"), {})
    assert responses(dispatcher) == [names.UTTER_HARDSHIP_EMPATHY, names.UTTER_OFFER_LIST]
    assert slots(events)[names.OFFER_IDS][0] == "hardship_6"
    assert client.called("get_offers")[0]["hardship"] is True


async def test_choice_by_number_reads_back_the_whole_schedule() -> None:
    state = {
        **VERIFIED,
        names.OFFER_IDS: ["installments_3", "installments_6"],
        names.OFFER_KIND: "plan",
        names.AWAITING: names.AWAITING_OFFER_CHOICE,
    }
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient()).run(dispatcher, tracker(state, text="1"), {})
    [message] = dispatcher.messages
    assert message["response"] == names.UTTER_CONFIRM_PLAN
    assert message["readback"].endswith(
        "Payments: $103.34 on March 2, 2026; $103.33 on April 2, 2026; $103.33 on May 2, 2026."
    )
    pending = slots(events)[names.PENDING]
    assert pending["type"] == "plan" and pending["offer_id"] == "installments_3" and pending["key"]
    assert slots(events)[names.AWAITING] == names.AWAITING_CONFIRMATION


async def test_choice_by_months_entity() -> None:
    state = {**LISTED, names.OFFER_IDS: ["installments_3", "installments_6"], names.OFFER_KIND: "plan"}
    events = await ActionAnswer(FakePaymentsClient()).run(
        CollectingDispatcher(), tracker(state, text="the 6 month one", entities=[{"entity": "months", "value": 6}]), {}
    )
    assert slots(events)[names.PENDING]["offer_id"] == "installments_6"


async def test_unclear_choice_asks_again_without_booking() -> None:
    state = {**LISTED, names.OFFER_IDS: ["installments_3", "installments_6"], names.OFFER_KIND: "plan"}
    dispatcher = CollectingDispatcher()
    assert await ActionAnswer(FakePaymentsClient()).run(dispatcher, tracker(state, text="maybe"), {}) == []
    assert dispatcher.messages[0]["response"] == names.UTTER_CHOICE_UNCLEAR
    assert dispatcher.messages[0]["count"] == 2


@pytest.mark.parametrize(
    "channel, starts",
    [
        ("webchat", "Here is the plan: Pay $310.00"),
        ("twilio_sms", "Pay $310.00"),
        ("twilio_voice", "Here is the plan. Pay"),
    ],
)
async def test_the_read_back_keeps_the_exact_words_shown_as_consent(channel: str, starts: str) -> None:
    state = {
        **VERIFIED,
        names.OFFER_IDS: ["installments_3", "installments_6"],
        names.OFFER_KIND: "plan",
        names.AWAITING: names.AWAITING_OFFER_CHOICE,
    }
    events = await ActionAnswer(FakePaymentsClient()).run(
        CollectingDispatcher(), tracker(state, text="1", channel=channel), domain()
    )
    shown = slots(events)[names.PENDING]["shown"]
    assert shown.startswith(starts) and "{" not in shown
    assert "$103.34 on March 2, 2026; $103.33 on April 2, 2026; $103.33 on May 2, 2026." in shown
    assert "and to us charging your card on these dates?" in shown


async def test_yes_books_with_the_kept_key_and_consent_then_sends_the_first_link() -> None:
    shown = "Here is the plan: Pay $310.00 in 3 monthly payments. Do you agree to this plan, and to us charging your card on these dates?"
    pending = {
        "type": "plan",
        "offer_id": "installments_3",
        "readback": "Pay $310.00 in 3 monthly payments.",
        "shown": shown,
        "key": "plan-conv-1-abc",
    }
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(client).run(
        dispatcher,
        tracker(
            {**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION},
            text="yes I agree",
            intent="affirm",
        ),
        {},
    )
    [booking] = client.called("book_plan")
    assert booking["idempotency_key"] == "plan-conv-1-abc"
    assert booking["consent_text"] == shown  # C5: exactly what the customer was shown
    [payment] = client.called("create_payment")
    assert payment["amount_cents"] == 10334 and payment["plan_id"] == "PLN-TEST22"
    assert payment["idempotency_key"] == "plan-conv-1-abc-first"
    assert responses(dispatcher) == [names.UTTER_PLAN_BOOKED, names.UTTER_PAYMENT_LINK]
    assert slots(events)[names.BOOKED_PLAN_ID] == "PLN-TEST22"
    assert slots(events)[names.PENDING] is None


async def test_service_down_on_yes_keeps_the_pending_key_for_a_retry() -> None:
    pending = {"type": "plan", "offer_id": "installments_3", "readback": "x", "key": "plan-key-1"}
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient(down=True)).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    assert events == [] and responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


async def test_a_receipt_on_our_host_is_shown_after_booking() -> None:
    pending = {"type": "plan", "offer_id": "installments_3", "readback": "x", "shown": "x?", "key": "plan-key-9"}
    for receipt, shown in (
        (public_url("/plans/PLN-TEST22/receipt?t=abc"), True),
        ("http://evil.example/receipt", False),
        (None, False),
    ):
        dispatcher = CollectingDispatcher()
        await ActionAnswer(FakePaymentsClient(receipt_url=receipt)).run(
            dispatcher,
            tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
            {},
        )
        receipts = [m for m in dispatcher.messages if m["response"] == names.UTTER_PLAN_RECEIPT]
        assert [m["receipt_url"] for m in receipts] == ([receipt] if shown else [])


async def test_an_active_plan_is_mentioned_instead_of_new_plans() -> None:
    for intent in ("request_payment_plan", "request_settlement"):
        client = FakePaymentsClient(standing=WITH_PLAN)
        dispatcher = CollectingDispatcher()
        await ActionAnswer(client).run(dispatcher, tracker(VERIFIED, intent=intent), {})
        assert responses(dispatcher) == [names.UTTER_STANDING_ACTIVE_PLAN]
        assert client.called("get_offers") == []


async def test_an_active_plan_is_mentioned_before_any_new_plan_read_back() -> None:
    state = {
        **VERIFIED,
        names.OFFER_IDS: ["installments_3", "installments_6"],
        names.OFFER_KIND: "plan",
        names.AWAITING: names.AWAITING_OFFER_CHOICE,
    }
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient(standing=WITH_PLAN)).run(dispatcher, tracker(state, text="1"), {})
    assert responses(dispatcher) == [names.UTTER_STANDING_ACTIVE_PLAN]
    assert slots(events)[names.PENDING] is None


async def test_a_paused_account_gets_no_offers_and_no_read_back() -> None:
    paused = Standing("A1001", "open", "paused", ("attorney",))
    state = {**LISTED, names.OFFER_IDS: ["installments_3"], names.OFFER_KIND: "plan"}
    for action, t in (
        (ActionAnswer, tracker(VERIFIED, intent="request_payment_plan")),
        (ActionAnswer, tracker(VERIFIED, intent="hardship")),
        (ActionAnswer, tracker(state, text="1")),
    ):
        client = FakePaymentsClient(standing=paused)
        dispatcher = CollectingDispatcher()
        await action(client).run(dispatcher, t, {})
        assert names.UTTER_STANDING_ATTORNEY in responses(dispatcher), action
        assert not {names.UTTER_OFFER_LIST, names.UTTER_CONFIRM_PLAN} & set(responses(dispatcher))
        assert client.called("get_offers") == []


async def test_second_active_plan_is_explained() -> None:
    pending = {"type": "plan", "offer_id": "installments_3", "readback": "x", "key": "plan-key-2"}
    dispatcher = CollectingDispatcher()
    await ActionAnswer(FakePaymentsClient(refuse_with="plan_already_active")).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    assert responses(dispatcher) == [names.UTTER_PLAN_ALREADY_ACTIVE]


async def test_no_to_the_read_back_books_nothing_and_lists_again() -> None:
    state = {
        **VERIFIED,
        names.PENDING: {"type": "plan"},
        names.AWAITING: names.AWAITING_CONFIRMATION,
        names.OFFER_KIND: "plan",
    }
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    await ActionAnswer(client).run(dispatcher, tracker(state, intent="deny"), {})
    assert responses(dispatcher) == [names.UTTER_DECLINED, names.UTTER_OFFER_LIST]
    assert client.called("book_plan") == []
