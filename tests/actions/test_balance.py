"""The balance, standing first (C4): paused accounts hear no amount; plans and promises first."""

import dataclasses
from dataclasses import replace
from datetime import date

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.balance import ActionTellBalance
from clients.payments import DueAmount, Standing
from testkit.fake_payments import MARIA, WITH_PLAN, FakePaymentsClient
from tests.actions.fakes import tracker

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}


async def test_states_exact_figures_for_a_past_due_account() -> None:
    client = FakePaymentsClient()
    dispatcher = CollectingDispatcher()
    assert await ActionTellBalance(client).run(dispatcher, tracker(VERIFIED, sender_id="c7"), {}) == []
    [message] = dispatcher.messages
    assert message["response"] == names.UTTER_BALANCE_PAST_DUE
    assert {k: message[k] for k in ("balance", "past_due", "days_past_due", "minimum_due", "due_date")} == {
        "balance": "$2,450.00",
        "past_due": "$310.00",
        "days_past_due": 45,
        "minimum_due": "$95.00",
        "due_date": "December 2, 2026",
    }
    assert client.calls == [
        ("get_standing", {"account_id": "A1001", "conversation_id": "c7", "session": "VS-TEST22"}),
        ("get_account", {"account_id": "A1001", "conversation_id": "c7", "session": "VS-TEST22"}),
    ]


async def test_current_account_uses_the_current_wording() -> None:
    current = dataclasses.replace(MARIA, past_due_cents=0, days_past_due=0)
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(FakePaymentsClient(accounts={"A1001": current})).run(dispatcher, tracker(VERIFIED), {})
    assert dispatcher.messages[0]["response"] == names.UTTER_BALANCE_CURRENT


async def test_unverified_caller_is_refused_before_any_service_call() -> None:
    for slots in (
        {},
        {names.VERIFICATION_STATUS: names.RETRY, names.ACCOUNT_ID: "A1001"},
        {names.VERIFICATION_STATUS: names.VERIFIED},
    ):
        client = FakePaymentsClient()
        dispatcher = CollectingDispatcher()
        assert await ActionTellBalance(client).run(dispatcher, tracker(slots), {}) == []
        assert [m["response"] for m in dispatcher.messages] == [names.UTTER_VERIFY_FIRST]
        assert client.calls == []


async def test_service_down_apologizes() -> None:
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(FakePaymentsClient(down=True)).run(dispatcher, tracker(VERIFIED), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_SERVICE_UNAVAILABLE]


def paused(*reasons: str) -> Standing:
    return Standing("A1001", "settled" if "settled" in reasons else "open", "paused", reasons)


@pytest.mark.parametrize(
    "reasons, notice, person",
    [
        (("bankruptcy",), names.UTTER_STANDING_BANKRUPTCY, True),
        (("dispute",), names.UTTER_STANDING_DISPUTE, True),
        (("attorney",), names.UTTER_STANDING_ATTORNEY, True),
        (("deceased",), names.UTTER_STANDING_DECEASED, True),
        (("cease",), names.UTTER_STANDING_CEASE, True),
        (("pending_review",), names.UTTER_STANDING_PENDING_REVIEW, True),
        (("hardship_hold",), names.UTTER_STANDING_HARDSHIP_HOLD, True),
        (("settled",), names.UTTER_STANDING_SETTLED, False),
        (("pending_review", "bankruptcy"), names.UTTER_STANDING_BANKRUPTCY, True),  # the weightier reason
        ((), names.UTTER_COLLECTION_PAUSED, True),
    ],
)
async def test_a_paused_account_hears_its_notice_and_no_amount(reasons, notice, person) -> None:
    client = FakePaymentsClient(standing=paused(*reasons))
    dispatcher = CollectingDispatcher()
    events = await ActionTellBalance(client).run(dispatcher, tracker(VERIFIED), {})
    said = [m["response"] for m in dispatcher.messages]
    assert said == ([notice, names.UTTER_HANDOFF] if person else [notice])
    assert not any(m.get(k) for m in dispatcher.messages for k in ("balance", "minimum_due", "buttons"))
    if not person:  # (a handoff reads the figures for the agent's case)
        assert client.called("get_account") == []
    assert any(e["event"] == "pause" for e in events) is person
    if person:
        [case] = client.called("create_handoff")
        assert f"Collection is paused ({', '.join(reasons) or 'not given'})" in case["summary"]


async def test_bankruptcy_flag_pauses_when_the_service_has_no_standing_route_yet() -> None:
    """The fake answers standing from the account's flags, as the client does on a 404."""
    robert = dataclasses.replace(MARIA, id="A1004", flags=("bankruptcy",), collection_allowed=False)
    client = FakePaymentsClient(accounts={"A1004": robert})
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(client).run(dispatcher, tracker({**VERIFIED, names.ACCOUNT_ID: "A1004"}), {})
    assert [m["response"] for m in dispatcher.messages][0] == names.UTTER_STANDING_BANKRUPTCY


async def test_an_active_plan_and_a_pending_promise_come_before_the_figures() -> None:
    standing = replace(WITH_PLAN, pending_promise=DueAmount(9500, "USD", date(2026, 12, 9)))
    dispatcher = CollectingDispatcher()
    await ActionTellBalance(FakePaymentsClient(standing=standing)).run(dispatcher, tracker(VERIFIED), {})
    plan, promise, balance = dispatcher.messages
    assert plan["response"] == names.UTTER_STANDING_ACTIVE_PLAN
    assert (plan["plan_id"], plan["amount"], plan["due_date"]) == ("PLN-AAA111", "$51.70", "December 10, 2026")
    assert (promise["response"], promise["amount"], promise["date"]) == (
        names.UTTER_STANDING_PENDING_PROMISE,
        "$95.00",
        "December 9, 2026",
    )
    assert balance["response"] == names.UTTER_BALANCE_PAST_DUE
