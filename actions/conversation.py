"""Keeping the thread: remember what was asked before verification, resume it after, and
re-ask the open question after an interruption."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import PaymentsAction, VerifiedAction, latest_intent
from actions.formatting import format_money
from actions.standing import offer_what_next, read_standing


class ActionRememberGoal(PaymentsAction):
    """Before verification: keeps the customer's request in `goal` and says why we verify first
    (a hardship is acknowledged before anything else). Responses: `utter_hardship_empathy`,
    `utter_verify_first`."""

    def name(self) -> str:
        return names.ACTION_REMEMBER_GOAL

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker)
        events: list[EventType] = []
        if intent == "hardship":
            dispatcher.utter_message(response=names.UTTER_HARDSHIP_EMPATHY)
            events.append(SlotSet(names.HARDSHIP_DESCRIBED, True))
        dispatcher.utter_message(response=names.UTTER_VERIFY_FIRST)
        if intent in names.GOAL_INTENTS:
            events.append(SlotSet(names.GOAL, intent))
        elif intent == "card_number_shared":  # they were trying to pay
            events.append(SlotSet(names.GOAL, "make_payment"))
        return events


async def pursue_goal(
    action: VerifiedAction,
    goal: str | None,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    account_id: str,
) -> list[EventType] | None:
    """Start on what a verified customer asked for (one of GOAL_INTENTS): a payment, plans or a
    settlement, a hardship, a payment they already made. None when `goal` is none of them.
    The one dispatch of goals, for a goal remembered before verification and for a new request."""
    from actions.payment import ActionOfferPayment, ActionRecentPayments
    from actions.plans import hardship, offer

    client = action.client
    if goal == "make_payment":
        return await ActionOfferPayment(client).run_verified(dispatcher, tracker, domain, account_id)
    if goal in ("request_payment_plan", "request_settlement"):
        kind = "settlement" if goal == "request_settlement" else "plan"
        return await offer(client, dispatcher, tracker, account_id, kind)
    if goal == "hardship":
        return await hardship(client, dispatcher, tracker, account_id)
    if goal == "already_paid":
        return await ActionRecentPayments(client).run_verified(dispatcher, tracker, domain, account_id)
    return None


class ActionContinueGoal(VerifiedAction):
    """After verification and action_tell_balance: carries on with what the customer first asked
    for, or asks what they would like to do. Quiet for a paused account (the balance action just
    gave its notice) and, with no request, for an active plan (its next payment was just
    offered). Clears `goal`."""

    def name(self) -> str:
        return names.ACTION_CONTINUE_GOAL

    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet(names.GOAL, None)]
        standing = await read_standing(self.client, tracker, account_id)
        if standing.paused:
            return events
        started = await pursue_goal(self, tracker.get_slot(names.GOAL), dispatcher, tracker, domain, account_id)
        if started is None:
            if standing.active_plan is None:
                dispatcher.utter_message(response=names.UTTER_WHAT_NEXT)
            return events
        return events + started

    def kept_on_failure(self, tracker: Tracker) -> list[EventType]:
        return [SlotSet(names.GOAL, None)]  # the request is not carried into a later turn


class ActionReprompt(PaymentsAction):
    """After an interruption (a balance question, "help"), asks the open question again so the
    conversation returns to where it was. Silent when nothing is open."""

    def name(self) -> str:
        return names.ACTION_REPROMPT

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        awaiting = tracker.get_slot(names.AWAITING)
        pending = tracker.get_slot(names.PENDING) or {}
        if awaiting == names.AWAITING_OFFER_CHOICE:
            dispatcher.utter_message(
                response=names.UTTER_CHOICE_UNCLEAR, count=len(tracker.get_slot(names.OFFER_IDS) or [])
            )
        elif awaiting == names.AWAITING_AMOUNT:
            dispatcher.utter_message(response=names.UTTER_ASK_AMOUNT)
        elif awaiting == names.AWAITING_CONFIRMATION and pending.get("type") == "plan":
            dispatcher.utter_message(response=names.UTTER_CONFIRM_PLAN, readback=pending["readback"])
        elif awaiting == names.AWAITING_CONFIRMATION and pending.get("type") == "payment":
            dispatcher.utter_message(response=names.UTTER_CONFIRM_PAYMENT, amount=format_money(pending["amount_cents"]))
        return []


class ActionAnswer(VerifiedAction):
    """Routes a verified customer's turn by the open question (`awaiting`), so the dialogue is
    one explicit state machine instead of slot-conditioned rules:

    - a yes confirms what is pending; a no declines it (or the list of options);
    - a choice, an amount, or an unclear reply answers the open list or "how much?";
    - with nothing open: a plan, settlement or payment request lists the options, a hardship is
      acknowledged, and an unclear reply counts as a misunderstanding.

    The steps are the functions of actions/plans.py (`confirm`, `decline`, `answer_choice`,
    `hardship`, `offer`): this is the action rasa predicts for them (data/rules/plans.yml).
    """

    def name(self) -> str:
        return names.ACTION_ANSWER

    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
    ) -> list[EventType]:
        from actions.handoff import misunderstood
        from actions.plans import answer_choice, confirm, decline

        client = self.client
        intent = latest_intent(tracker)
        awaiting = tracker.get_slot(names.AWAITING)
        if intent == "hardship":  # heard first, whatever is open
            return await pursue_goal(self, intent, dispatcher, tracker, domain, account_id) or []
        if awaiting == names.AWAITING_CONFIRMATION and intent == "affirm":
            return await confirm(client, dispatcher, tracker, account_id)
        if awaiting in (names.AWAITING_CONFIRMATION, names.AWAITING_OFFER_CHOICE) and intent == "deny":
            return await decline(client, dispatcher, tracker, account_id)
        if awaiting in (names.AWAITING_OFFER_CHOICE, names.AWAITING_AMOUNT) and intent != "affirm":
            return await answer_choice(client, dispatcher, tracker, domain, account_id)
        if intent in ("request_payment_plan", "request_settlement", "make_payment"):
            return await pursue_goal(self, intent, dispatcher, tracker, domain, account_id) or []
        if intent == "nlu_fallback":
            return await misunderstood(client, dispatcher, tracker)
        # a yes, a no or a detail with no question open
        return await offer_what_next(client, dispatcher, tracker, account_id)

    def kept_on_failure(self, tracker: Tracker) -> list[EventType]:
        """A hardship stays heard, and a no stays a no, whatever the service did."""
        intent = latest_intent(tracker)
        awaiting = tracker.get_slot(names.AWAITING)
        if intent == "hardship":
            return [SlotSet(names.HARDSHIP_DESCRIBED, True)]
        if awaiting in (names.AWAITING_CONFIRMATION, names.AWAITING_OFFER_CHOICE) and intent == "deny":
            return [SlotSet(names.PENDING, None), SlotSet(names.AWAITING, None)]
        return []
