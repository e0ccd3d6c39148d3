"""action_answer: the verified customer's turn routed by the open question."""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.conversation import ActionAnswer
from testkit.fake_payments import FakePaymentsClient
from tests.actions.fakes import tracker

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}
CHOOSING = {
    **VERIFIED,
    names.AWAITING: names.AWAITING_OFFER_CHOICE,
    names.OFFER_IDS: ["installments_3", "installments_6"],
    names.OFFER_KIND: "plan",
}
CONFIRMING = {
    **VERIFIED,
    names.AWAITING: names.AWAITING_CONFIRMATION,
    names.OFFER_KIND: "plan",
    names.PENDING: {"type": "payment", "amount_cents": 31000, "key": "pay-key-1"},
}


async def answer(slots: dict, intent: str, text: str = "", client: FakePaymentsClient | None = None):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    client = client or FakePaymentsClient()
    events = await ActionAnswer(client).run(dispatcher, tracker(slots, intent=intent, text=text), {})
    return [m["response"] for m in dispatcher.messages], events, client


@pytest.mark.parametrize(
    "slots, intent, text, first_response",
    [
        (VERIFIED, "request_payment_plan", "a plan please", names.UTTER_OFFER_LIST),
        (VERIFIED, "make_payment", "i want to pay", names.UTTER_OFFER_LIST),
        (VERIFIED, "hardship", "i lost my job", names.UTTER_HARDSHIP_EMPATHY),
        (VERIFIED, "affirm", "yes", names.UTTER_WHAT_NEXT),
        (VERIFIED, "nlu_fallback", "blorp", names.UTTER_DEFAULT),
        (CHOOSING, "inform", "2", names.UTTER_CONFIRM_PLAN),
        (CHOOSING, "nlu_fallback", "1", names.UTTER_CONFIRM_PLAN),
        (CHOOSING, "inform", "hmm", names.UTTER_CHOICE_UNCLEAR),
        (CHOOSING, "deny", "no", names.UTTER_DECLINED),
        (CONFIRMING, "affirm", "yes", names.UTTER_PAYMENT_LINK),
        (CONFIRMING, "deny", "no", names.UTTER_DECLINED),
    ],
)
async def test_routing(slots: dict, intent: str, text: str, first_response: str) -> None:
    responses, _, _ = await answer(slots, intent, text)
    assert responses[0] == first_response


async def test_a_yes_is_only_a_booking_when_something_is_pending() -> None:
    _, _, client = await answer(CHOOSING, "affirm", "yes")
    assert client.called("book_plan") == [] and client.called("create_payment") == []


async def test_unverified_turns_are_refused_by_the_gate() -> None:
    responses, _, client = await answer({}, "affirm", "yes")
    assert responses == [names.UTTER_VERIFY_FIRST] and client.calls == []


async def test_with_nothing_open_a_paused_account_gets_its_notice_not_the_pay_menu() -> None:
    from clients.payments import Standing

    client = FakePaymentsClient(standing=Standing("A1001", "settled", "paused", ("settled",)))
    responses, _, _ = await answer(VERIFIED, "affirm", "yes", client)
    assert responses == [names.UTTER_STANDING_SETTLED]
