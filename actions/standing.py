"""Standing first (issue 12, item 1; contract C4): before an amount is said or a payment is
prompted, the account's standing is read from the payments service.

- paused (bankruptcy, dispute, attorney, deceased, cease, pending review, hardship hold,
  settled): a neutral notice fitted to the most important reason, no amount, no payment prompt,
  and a person unless the reason is `settled`;
- an active plan: the plan and its next payment first, with a way to pay that installment or ask
  a person to change the plan, never a second plan;
- a pending promise: mentioned.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.base import conversation
from actions.formatting import format_date, format_money
from clients.payments import PaymentsClient, Standing

# The entity value the "pay this installment" button sends (`/make_payment{"plan_choice":...}`).
INSTALLMENT_CHOICE = "installment"


async def read_standing(client: PaymentsClient, tracker: Tracker, account_id: str) -> Standing:
    return await client.get_standing(account_id, **conversation(tracker))


def notice_for(standing: Standing) -> str:
    """The notice of the most important pause reason (`utter_collection_paused` when none is known)."""
    for reason, response in names.STANDING_NOTICES.items():
        if reason in standing.pause_reasons:
            return response
    return names.UTTER_COLLECTION_PAUSED


def needs_a_person(standing: Standing) -> bool:
    return not standing.pause_reasons or any(r not in names.PAUSES_WITHOUT_A_PERSON for r in standing.pause_reasons)


async def refuse_paused(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, standing: Standing
) -> list[EventType]:
    """The paused account's notice, then a person when the reason calls for one. Clears any open
    question so no later yes can book or pay."""
    from actions.handoff import hand_off

    dispatcher.utter_message(response=notice_for(standing))
    cleared: list[EventType] = [SlotSet(names.AWAITING, None), SlotSet(names.PENDING, None)]
    if not needs_a_person(standing):
        return cleared
    why = ", ".join(standing.pause_reasons) or "not given"
    return cleared + await hand_off(
        client,
        dispatcher,
        tracker,
        "collection_paused",
        note=f"Collection is paused ({why}); they heard the neutral notice only.",
    )


def tell_active_plan(dispatcher: CollectingDispatcher, standing: Standing) -> bool:
    """Mention the active plan and its next payment (with pay / person buttons). False when
    there is no active plan."""
    plan = standing.active_plan
    if plan is None:
        return False
    due = plan.next_installment
    if due is None or plan.status != "active":
        dispatcher.utter_message(response=names.UTTER_STANDING_PLAN_NOTHING_DUE, plan_id=plan.plan_id)
        return True
    dispatcher.utter_message(
        response=names.UTTER_STANDING_ACTIVE_PLAN,
        plan_id=plan.plan_id,
        amount=format_money(due.amount_cents, due.currency),
        due_date=format_date(due.due_date),
    )
    return True


def tell_pending_promise(dispatcher: CollectingDispatcher, standing: Standing) -> None:
    promise = standing.pending_promise
    if promise is not None:
        dispatcher.utter_message(
            response=names.UTTER_STANDING_PENDING_PROMISE,
            amount=format_money(promise.amount_cents, promise.currency),
            date=format_date(promise.due_date),
        )


async def offer_what_next(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
) -> list[EventType]:
    """The menu (`utter_what_next`, with its pay and plan buttons), standing first: a paused
    account gets its notice instead."""
    standing = await read_standing(client, tracker, account_id)
    if standing.paused:
        return await refuse_paused(client, dispatcher, tracker, standing)
    dispatcher.utter_message(response=names.UTTER_WHAT_NEXT)
    return []
