"""action_answer: the verified customer's turn routed by the open question."""

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.conversation import ActionAnswer
from clients.payments import Offers, PaymentsUnavailable
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


async def answer(
    slots: dict[str, Any], intent: str, text: str = "", client: FakePaymentsClient | None = None
) -> tuple[list[str], list[dict[str, Any]], FakePaymentsClient]:
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


class OffersDown(FakePaymentsClient):
    """Answers the standing, then the service stops answering (a failure part-way)."""

    async def get_offers(self, account_id: str, **kwargs: Any) -> Offers:
        raise PaymentsUnavailable("down")


async def test_a_failure_part_way_keeps_what_was_said_and_what_the_turn_keeps() -> None:
    """The gate answers the service's error once (actions/replies.py), after what was already
    said: a hardship stays heard, a no stays a no."""
    responses, events, _ = await answer(VERIFIED, "hardship", "i lost my job", OffersDown())
    assert responses == [names.UTTER_HARDSHIP_EMPATHY, names.UTTER_SERVICE_UNAVAILABLE]
    assert events == [{"event": "slot", "timestamp": None, "name": names.HARDSHIP_DESCRIBED, "value": True}]
    responses, events, _ = await answer(CONFIRMING, "deny", "no", OffersDown())
    assert responses == [names.UTTER_DECLINED, names.UTTER_SERVICE_UNAVAILABLE]
    assert {e["name"]: e["value"] for e in events} == {names.PENDING: None, names.AWAITING: None}


@pytest.mark.parametrize(
    "code, reply",
    [
        ("plan_already_active", names.UTTER_PLAN_ALREADY_ACTIVE),
        ("promise_date_out_of_range", names.UTTER_PROMISE_REFUSED),
        ("offer_not_allowed", names.UTTER_OFFER_NO_LONGER_AVAILABLE),
    ],
)
async def test_a_refused_yes_is_replied_to_once_and_clears_the_question(code: str, reply: str) -> None:
    responses, events, _ = await answer(CONFIRMING, "affirm", "yes", FakePaymentsClient(refuse_with=code))
    assert responses == [reply]
    assert {e["name"]: e["value"] for e in events} == {names.PENDING: None, names.AWAITING: None}


async def test_a_yes_refused_because_collection_paused_gets_a_person() -> None:
    responses, events, client = await answer(
        CONFIRMING, "affirm", "yes", FakePaymentsClient(refuse_with="collection_paused")
    )
    assert responses == [names.UTTER_HANDOFF]
    assert client.called("create_handoff")[0]["reason"] == "other" and events[-1]["event"] == "pause"
