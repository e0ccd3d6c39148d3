"""Remembering the request across verification, and returning to the open question."""

from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.conversation import ActionContinueGoal, ActionRememberGoal, ActionReprompt
from testkit.fake_payments import WITH_PLAN, FakePaymentsClient
from tests.actions.fakes import tracker

VERIFIED = {names.VERIFICATION_STATUS: names.VERIFIED, names.ACCOUNT_ID: "A1001"}


def slots(events: list[dict]) -> dict[str, object]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_request_before_verification_is_remembered() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionRememberGoal(FakePaymentsClient()).run(
        dispatcher, tracker({}, intent="request_payment_plan"), {}
    )
    assert slots(events) == {names.GOAL: "request_payment_plan"}
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_VERIFY_FIRST]


async def test_hardship_is_acknowledged_before_asking_to_verify() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionRememberGoal(FakePaymentsClient()).run(dispatcher, tracker({}, intent="hardship"), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_HARDSHIP_EMPATHY, names.UTTER_VERIFY_FIRST]
    assert slots(events)[names.HARDSHIP_DESCRIBED] is True


async def test_after_verification_the_plan_request_continues() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionContinueGoal(FakePaymentsClient()).run(
        dispatcher, tracker({**VERIFIED, names.GOAL: "request_payment_plan"}, text="78701"), {}
    )
    assert slots(events)[names.GOAL] is None
    assert slots(events)[names.OFFER_IDS] == ["installments_3", "installments_6"]


async def test_without_a_request_the_menu_is_offered() -> None:
    dispatcher = CollectingDispatcher()
    await ActionContinueGoal(FakePaymentsClient()).run(dispatcher, tracker(VERIFIED), {})
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_WHAT_NEXT]


async def test_reprompt_repeats_the_open_question_or_stays_quiet() -> None:
    dispatcher = CollectingDispatcher()
    await ActionReprompt(FakePaymentsClient()).run(
        dispatcher,
        tracker({names.AWAITING: names.AWAITING_CONFIRMATION, names.PENDING: {"type": "plan", "readback": "R."}}),
        {},
    )
    assert dispatcher.messages[0] == {**dispatcher.messages[0], "response": names.UTTER_CONFIRM_PLAN, "readback": "R."}
    quiet = CollectingDispatcher()
    await ActionReprompt(FakePaymentsClient()).run(quiet, tracker({}), {})
    assert quiet.messages == []


async def test_a_card_number_before_verification_means_they_want_to_pay() -> None:
    events = await ActionRememberGoal(FakePaymentsClient()).run(
        CollectingDispatcher(), tracker({}, intent="card_number_shared"), {}
    )
    assert slots(events) == {names.GOAL: "make_payment"}


async def test_after_a_paused_accounts_notice_nothing_more_is_offered() -> None:
    from clients.payments import Standing

    client = FakePaymentsClient(standing=Standing("A1001", "settled", "paused", ("settled",)))
    dispatcher = CollectingDispatcher()
    events = await ActionContinueGoal(client).run(dispatcher, tracker({**VERIFIED, names.GOAL: "make_payment"}), {})
    assert dispatcher.messages == [] and slots(events) == {names.GOAL: None}
    assert client.called("get_offers") == []


async def test_with_an_active_plan_and_no_request_the_menu_is_not_repeated() -> None:
    dispatcher = CollectingDispatcher()
    await ActionContinueGoal(FakePaymentsClient(standing=WITH_PLAN)).run(dispatcher, tracker(VERIFIED), {})
    assert dispatcher.messages == []


async def test_continuing_with_the_service_down_says_so_and_forgets_the_request() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionContinueGoal(FakePaymentsClient(down=True)).run(
        dispatcher, tracker({**VERIFIED, names.GOAL: "request_payment_plan"}), {}
    )
    assert [m["response"] for m in dispatcher.messages] == [names.UTTER_SERVICE_UNAVAILABLE]
    assert slots(events) == {names.GOAL: None}
