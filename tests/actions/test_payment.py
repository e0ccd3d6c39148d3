"""Payments, promises, "already paid" and payment events with a fake payments client."""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.conversation import ActionAnswer
from actions.payment import ActionInstallmentEvent, ActionOfferPayment, ActionPaymentEvent, ActionRecentPayments
from clients.payments import PaymentStatus, Standing
from testkit.fake_payments import WITH_PLAN, FakePaymentsClient, public_url
from tests.actions.fakes import tracker

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}


def slots(events: list[dict]) -> dict[str, object]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_pay_now_options_end_with_another_amount() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(FakePaymentsClient()).run(
        dispatcher, tracker(VERIFIED, intent="make_payment"), {}
    )
    assert slots(events)[names.OFFER_IDS] == ["past_due", "full", "minimum", "other_amount"]
    assert dispatcher.messages[0]["options_numbered"].splitlines()[-1] == "4. Another amount"


async def test_an_amount_in_range_goes_to_confirmation() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(FakePaymentsClient()).run(
        dispatcher, tracker(VERIFIED, intent="make_payment", entities=[{"entity": "amount", "value": 20000}]), {}
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_CONFIRM_PAYMENT
    assert dispatcher.messages[0]["amount"] == "$200.00"
    assert slots(events)[names.PENDING]["amount_cents"] == 20000


async def test_an_amount_above_the_balance_is_refused() -> None:
    dispatcher = CollectingDispatcher()
    await ActionOfferPayment(FakePaymentsClient()).run(
        dispatcher, tracker(VERIFIED, intent="make_payment", entities=[{"entity": "amount", "value": 300000}]), {}
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_AMOUNT_OUT_OF_RANGE
    assert dispatcher.messages[0]["balance"] == "$2,450.00"


async def test_named_option_goes_straight_to_confirmation() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(FakePaymentsClient()).run(
        dispatcher,
        tracker(VERIFIED, intent="make_payment", entities=[{"entity": "plan_choice", "value": "past_due"}]),
        {},
    )
    assert slots(events)[names.PENDING]["amount_cents"] == 31000


async def test_a_future_date_makes_a_promise_of_the_minimum() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(FakePaymentsClient()).run(
        dispatcher, tracker(VERIFIED, intent="make_payment", entities=[{"entity": "date", "value": "2099-01-05"}]), {}
    )
    pending = slots(events)[names.PENDING]
    assert pending["type"] == "promise" and pending["amount_cents"] == 9500 and pending["due_date"] == "2099-01-05"
    assert dispatcher.messages[0]["response"] == names.UTTER_CONFIRM_PROMISE


async def test_other_amount_asks_how_much_then_takes_it() -> None:
    state = {
        **VERIFIED,
        names.OFFER_IDS: ["past_due", "full", "minimum", "other_amount"],
        names.OFFER_KIND: "payment",
        names.AWAITING: names.AWAITING_OFFER_CHOICE,
    }
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient()).run(dispatcher, tracker(state, text="4"), {})
    assert dispatcher.messages[0]["response"] == names.UTTER_ASK_AMOUNT
    assert slots(events)[names.AWAITING] == names.AWAITING_AMOUNT
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient()).run(
        dispatcher,
        tracker(
            {**state, names.AWAITING: names.AWAITING_AMOUNT},
            text="$150",
            entities=[{"entity": "amount", "value": 15000}],
        ),
        {},
    )
    assert slots(events)[names.PENDING]["amount_cents"] == 15000


async def test_yes_to_a_payment_sends_the_link_once_per_key() -> None:
    client = FakePaymentsClient()
    pending = {"type": "payment", "amount_cents": 31000, "key": "pay-conv-1-xyz"}
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(client).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    [created] = client.called("create_payment")
    assert created["idempotency_key"] == "pay-conv-1-xyz" and created["plan_id"] is None
    link = dispatcher.messages[0]
    assert link["response"] == names.UTTER_PAYMENT_LINK
    assert (link["link_url"], link["amount"], link["payment_id"]) == (public_url("/pay/tok"), "$310.00", "PAY-TEST22")
    assert slots(events)[names.LAST_PAYMENT_ID] == "PAY-TEST22"
    assert created["session"] == "VS-TEST22"  # C2: the verification session goes with it


@pytest.mark.parametrize(
    "link",
    [
        "http://evil.example/pay/tok",
        "https://127.0.0.1:8000/pay/tok",
        "http://127.0.0.1:8000@evil.example/pay",
        "javascript:alert(1)",
    ],
)
async def test_a_payment_link_off_our_public_host_is_never_sent(link: str) -> None:
    pending = {"type": "payment", "amount_cents": 31000, "key": "pay-conv-1-xyz"}
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient(link_url=link)).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_SERVICE_UNAVAILABLE]
    assert names.LAST_PAYMENT_ID not in slots(events)


async def test_a_promise_below_the_minimum_is_refused_with_the_minimum_offered() -> None:
    pending = {"type": "promise", "amount_cents": 100, "due_date": "2099-01-05", "key": "promise-key-1"}
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(FakePaymentsClient(refuse_with="promise_amount_too_low")).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    [offer] = dispatcher.messages
    assert offer["response"] == names.UTTER_PROMISE_MINIMUM_OFFERED
    assert (offer["amount"], offer["date"]) == ("$95.00", "January 5, 2099")
    assert slots(events)[names.PENDING]["amount_cents"] == 9500
    assert slots(events)[names.PENDING]["key"] != "promise-key-1"  # a new agreement, a new key
    assert slots(events)[names.AWAITING] == names.AWAITING_CONFIRMATION


async def test_a_promise_asked_for_below_the_minimum_offers_the_minimum_at_once() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(FakePaymentsClient()).run(
        dispatcher,
        tracker(
            VERIFIED,
            intent="make_payment",
            entities=[{"entity": "amount", "value": 2000}, {"entity": "date", "value": "2099-01-05"}],
        ),
        {},
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_PROMISE_MINIMUM_OFFERED
    assert slots(events)[names.PENDING]["amount_cents"] == 9500


async def test_another_refused_promise_says_why() -> None:
    pending = {"type": "promise", "amount_cents": 100, "due_date": "2099-01-05", "key": "promise-key-1"}
    dispatcher = CollectingDispatcher()
    await ActionAnswer(FakePaymentsClient(refuse_with="promise_date_out_of_range")).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_PROMISE_REFUSED


PAUSED = Standing("A1001", "open", "paused", ("dispute",))


async def test_a_paused_account_is_never_prompted_to_pay() -> None:
    client = FakePaymentsClient(standing=PAUSED)
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(client).run(dispatcher, tracker(VERIFIED, intent="make_payment"), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_STANDING_DISPUTE, names.UTTER_HANDOFF]
    assert client.called("get_offers") == [] and names.PENDING not in {k for k, v in slots(events).items() if v}


async def test_a_yes_on_a_paused_account_books_and_charges_nothing() -> None:
    for pending in (
        {"type": "payment", "amount_cents": 31000, "key": "k1"},
        {"type": "promise", "amount_cents": 9500, "due_date": "2099-01-05", "key": "k2"},
        {"type": "plan", "offer_id": "installments_3", "readback": "x", "key": "k3"},
    ):
        client = FakePaymentsClient(standing=PAUSED)
        dispatcher = CollectingDispatcher()
        await ActionAnswer(client).run(
            dispatcher,
            tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
            {},
        )
        assert not (client.called("create_payment") or client.called("make_promise") or client.called("book_plan"))
        assert dispatcher.messages[0]["response"] == names.UTTER_STANDING_DISPUTE


async def test_with_an_active_plan_pay_means_its_next_installment() -> None:
    client = FakePaymentsClient(standing=WITH_PLAN)
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPayment(client).run(
        dispatcher,
        tracker(VERIFIED, intent="make_payment", entities=[{"entity": "plan_choice", "value": "installment"}]),
        {},
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_CONFIRM_PAYMENT
    assert dispatcher.messages[0]["amount"] == "$51.70"
    pending = slots(events)[names.PENDING]
    assert (pending["amount_cents"], pending["plan_id"]) == (5170, "PLN-AAA111")
    dispatcher = CollectingDispatcher()
    await ActionAnswer(client).run(
        dispatcher,
        tracker({**VERIFIED, names.PENDING: pending, names.AWAITING: names.AWAITING_CONFIRMATION}, intent="affirm"),
        {},
    )
    [created] = client.called("create_payment")
    assert (created["amount_cents"], created["plan_id"]) == (5170, "PLN-AAA111")


async def test_already_paid_lists_recent_payments() -> None:
    dispatcher = CollectingDispatcher()
    await ActionRecentPayments(FakePaymentsClient()).run(dispatcher, tracker(VERIFIED, intent="already_paid"), {})
    assert dispatcher.messages[0]["payments"] == "$310.00 on February 27, 2026: received"


async def test_payment_event_is_confirmed_only_after_checking_the_service() -> None:
    client = FakePaymentsClient(
        payments={"PAY-REAL22": PaymentStatus("PAY-REAL22", "succeeded", 31000, "USD", "conv-1")}
    )
    dispatcher = CollectingDispatcher()
    await ActionPaymentEvent(client).run(
        dispatcher,
        tracker(VERIFIED, intent="payment_succeeded", entities=[{"entity": "payment_id", "value": "PAY-REAL22"}]),
        {},
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_PAYMENT_SUCCEEDED
    assert dispatcher.messages[0]["amount"] == "$310.00"


async def test_a_payment_event_after_the_session_ended_still_confirms_the_conversations_own_payment() -> None:
    """The customer paid on the page after the session ended (idle, goodbye): the conversation
    that asked for the payment hears it went through; nothing else about the account is said."""
    client = FakePaymentsClient(
        session_ended=True, payments={"PAY-REAL22": PaymentStatus("PAY-REAL22", "succeeded", 31000, "USD", "conv-1")}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionPaymentEvent(client).run(
        dispatcher,
        tracker({}, intent="payment_succeeded", entities=[{"entity": "payment_id", "value": "PAY-REAL22"}]),
        {},
    )
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_PAYMENT_SUCCEEDED]
    assert dispatcher.messages[0]["amount"] == "$310.00" and events == []
    assert client.called("get_payment_result") == [{"payment_id": "PAY-REAL22", "conversation_id": "conv-1"}]


async def test_a_typed_payment_succeeded_is_ignored() -> None:
    """A customer typing "/payment_succeeded" must not get a confirmation for an unpaid payment."""
    client = FakePaymentsClient(
        payments={
            "PAY-REAL22": PaymentStatus("PAY-REAL22", "pending", 31000, "USD", "conv-1"),
            "PAY-OTHER2": PaymentStatus("PAY-OTHER2", "succeeded", 1, "USD", "someone"),
        }
    )
    for payment_id in ("PAY-REAL22", "PAY-OTHER2", "PAY-NOPE22"):
        dispatcher = CollectingDispatcher()
        await ActionPaymentEvent(client).run(
            dispatcher,
            tracker(VERIFIED, intent="payment_succeeded", entities=[{"entity": "payment_id", "value": payment_id}]),
            {},
        )
        assert dispatcher.messages == [], payment_id


async def test_failed_payment_offers_a_new_link() -> None:
    client = FakePaymentsClient(payments={"PAY-REAL22": PaymentStatus("PAY-REAL22", "failed", 31000, "USD", "conv-1")})
    dispatcher = CollectingDispatcher()
    events = await ActionPaymentEvent(client).run(
        dispatcher,
        tracker(VERIFIED, intent="payment_failed", entities=[{"entity": "payment_id", "value": "PAY-REAL22"}]),
        {},
    )
    assert dispatcher.messages[0]["response"] == names.UTTER_PAYMENT_FAILED
    assert slots(events)[names.PENDING]["amount_cents"] == 31000


async def test_installment_events_render_amount_date_and_link() -> None:
    dispatcher = CollectingDispatcher()
    entities = [
        {"entity": "amount_cents", "value": 10333},
        {"entity": "currency", "value": "USD"},
        {"entity": "due_date", "value": "2026-04-02"},
    ]
    await ActionInstallmentEvent().run(dispatcher, tracker({}, intent="installment_reminder", entities=entities), {})
    assert (dispatcher.messages[0]["amount"], dispatcher.messages[0]["due_date"]) == ("$103.33", "April 2, 2026")
    dispatcher = CollectingDispatcher()
    await ActionInstallmentEvent().run(
        dispatcher,
        tracker(
            {},
            intent="installment_failed",
            entities=[
                {"entity": "amount_cents", "value": 10333},
                {"entity": "link_url", "value": public_url("/pay/x")},
            ],
        ),
        {},
    )
    assert dispatcher.messages[0]["lead"] == "didn't go through"
    assert dispatcher.messages[0]["link_url"] == public_url("/pay/x")


@pytest.mark.parametrize(
    "link",
    [
        "http://evil.example/pay",
        "http://127.0.0.1:8001/pay/x",
        "ftp://127.0.0.1:8000/x",
        "http://127.0.0.1:8000/pay/x secure",
        42,
    ],
)
async def test_an_installment_link_off_our_public_host_is_refused(link: object) -> None:
    dispatcher = CollectingDispatcher()
    await ActionInstallmentEvent().run(
        dispatcher,
        tracker(
            {},
            intent="installment_due",
            entities=[{"entity": "amount_cents", "value": 10333}, {"entity": "link_url", "value": link}],
        ),
        {},
    )
    assert dispatcher.messages == []


async def test_the_last_settlement_payment_says_the_account_is_settled() -> None:
    client = FakePaymentsClient(
        payments={"PAY-LAST22": PaymentStatus("PAY-LAST22", "succeeded", 14945, "USD", "conv-1", account_settled=True)}
    )
    dispatcher = CollectingDispatcher()
    await ActionPaymentEvent(client).run(
        dispatcher,
        tracker({}, intent="payment_succeeded", entities=[{"entity": "payment_id", "value": "PAY-LAST22"}]),
        {},
    )
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_PAYMENT_SUCCEEDED, names.UTTER_ACCOUNT_SETTLED]
