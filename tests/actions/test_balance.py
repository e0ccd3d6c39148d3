from actions import names
from actions.balance import ActionTellBalance
from rasa_sdk.executor import CollectingDispatcher
from tests.actions.fakes import MARIA, FakePaymentsClient, tracker

import dataclasses

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}


async def test_states_exact_figures_for_a_past_due_account() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    assert await ActionTellBalance(client).run(dispatcher, tracker(VERIFIED, sender_id="c7"), {}) == []
    [message] = dispatcher.messages
    assert message["response"] == names.UTTER_BALANCE_PAST_DUE
    assert {k: message[k] for k in ("balance", "past_due", "days_past_due", "minimum_due", "due_date")} == {
        "balance": "$2,450.00", "past_due": "$310.00", "days_past_due": 45,
        "minimum_due": "$95.00", "due_date": "December 2, 2026",
    }
    assert client.calls == [("get_account", {"account_id": "A1001", "conversation_id": "c7"})]


async def test_current_account_uses_the_current_wording() -> None:
    current = dataclasses.replace(MARIA, past_due_cents=0, days_past_due=0)
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(FakePaymentsClient(accounts={"A1001": current})).run(dispatcher, tracker(VERIFIED), {})
    assert dispatcher.messages[0]["response"] == names.UTTER_BALANCE_CURRENT


async def test_unverified_caller_is_refused_before_any_service_call() -> None:
    for slots in ({}, {names.VERIFICATION_STATUS: names.RETRY, names.ACCOUNT_ID: "A1001"},
                  {names.VERIFICATION_STATUS: names.VERIFIED}):
        client = FakePaymentsClient()
        dispatcher = CollectingDispatcher()
        assert await ActionTellBalance(client).run(dispatcher, tracker(slots), {}) == []
        assert [m["response"] for m in dispatcher.messages] == [names.UTTER_VERIFY_FIRST]
        assert client.calls == []


async def test_service_down_apologizes() -> None:
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(FakePaymentsClient(down=True)).run(dispatcher, tracker(VERIFIED), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_SERVICE_UNAVAILABLE]
