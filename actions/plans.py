"""Payment plans, settlements and hardship: list, choose, confirm, book.

Plain functions, not Rasa actions: no policy predicts them. `action_answer` (actions/conversation.py)
calls them for a verified customer's turn, by the open question; the service's errors they let
through become replies in one place (actions/replies.py, via the verified-action gate).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import conversation, service_channel
from actions.formatting import format_date, format_money
from actions.handoff import hand_off
from actions.links import trusted_link
from actions.offers import ask_to_confirm_promise, choose_offer, present_offers
from actions.standing import offer_what_next, read_standing, refuse_paused, tell_active_plan
from clients.payments import PaymentsClient, Refused

log = logging.getLogger(__name__)


async def offer(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str, kind: str
) -> list[EventType]:
    """Present offers of `kind` (plan | settlement | payment), standing first: a paused account
    gets its notice (and a person); an account with an active plan hears about that plan
    instead of a new one.

    Reads `hardship_described`. Writes `offer_ids`, `offer_kind`, `awaiting`, `pending`.
    Responses: `utter_offer_list`, `utter_no_settlement`, `utter_no_offers`,
    `utter_collection_paused` (then hands off), the standing notices.
    """
    standing = await read_standing(client, tracker, account_id)
    if standing.paused:
        return await refuse_paused(client, dispatcher, tracker, standing)
    if kind != "payment" and tell_active_plan(dispatcher, standing):
        return [SlotSet(names.AWAITING, None), SlotSet(names.PENDING, None)]
    hardship = bool(tracker.get_slot(names.HARDSHIP_DESCRIBED))
    events = await present_offers(client, dispatcher, tracker, account_id, kind, hardship=hardship)
    if not events:  # collection paused
        return await hand_off(client, dispatcher, tracker, "collection_paused")
    return events


async def hardship(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
) -> list[EventType]:
    """Acknowledges a hardship with care, then offers the hardship plan first, or a person.

    Writes `hardship_described` and the offer slots. Responses: `utter_hardship_empathy`,
    `utter_offer_list`.
    """
    if not tracker.get_slot(names.HARDSHIP_DESCRIBED):
        dispatcher.utter_message(response=names.UTTER_HARDSHIP_EMPATHY)
    tracker.slots[names.HARDSHIP_DESCRIBED] = True  # so the offers below include the hardship plan
    return [SlotSet(names.HARDSHIP_DESCRIBED, True), *await offer(client, dispatcher, tracker, account_id, "plan")]


async def answer_choice(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
) -> list[EventType]:
    """Understands the answer to an offer list or to "how much?" and asks to confirm; a paused
    account gets its notice instead, and an active plan is mentioned instead of a new plan's
    read-back.

    Reads `offer_ids`, `offer_kind`, entities `plan_choice`, `months`, `amount`. Writes
    `pending`, `awaiting`. Responses: `utter_confirm_plan`, `utter_confirm_payment`,
    `utter_choice_unclear`, `utter_ask_amount`, `utter_amount_out_of_range`,
    `utter_standing_active_plan`, the standing notices.
    """
    standing = await read_standing(client, tracker, account_id)
    if standing.paused:
        return await refuse_paused(client, dispatcher, tracker, standing)
    return await choose_offer(client, dispatcher, tracker, account_id, domain, standing)


async def confirm(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
) -> list[EventType]:
    """On a clear yes: books the pending plan with the exact words the customer was shown as its
    consent (C5; then the receipt, and the first payment's link when it is due today), sends a
    payment link, or records a promise. The idempotency key kept in `pending` makes a repeated
    yes book once. A paused account (standing read first) gets its notice and nothing is booked.
    A promise below the minimum is refused with the minimum offered instead (or a plan).

    Writes `booked_plan_id`, `last_payment_id`; clears `pending`, `awaiting` (a refused promise
    leaves the minimum pending; a service that did not answer leaves `pending` and its key, so
    a later yes retries without a duplicate: actions/replies.py). Responses: `utter_plan_booked`,
    `utter_plan_receipt`, `utter_payment_link`, `utter_promise_recorded`,
    `utter_promise_minimum_offered`, the standing notices, and the refusals' replies.
    """
    pending = tracker.get_slot(names.PENDING) or {}
    done: list[EventType] = [SlotSet(names.PENDING, None), SlotSet(names.AWAITING, None)]
    channel = service_channel(tracker)
    if pending.get("type") not in ("plan", "payment", "promise"):
        return done + await offer_what_next(client, dispatcher, tracker, account_id)  # nothing awaited a yes
    standing = await read_standing(client, tracker, account_id)
    if standing.paused:
        return done + await refuse_paused(client, dispatcher, tracker, standing)
    if pending["type"] == "plan":
        return done + await book(client, dispatcher, tracker, account_id, pending)
    if pending["type"] == "payment":
        return done + await send_payment_link(client, dispatcher, tracker, account_id, pending)
    try:
        await client.make_promise(
            account_id,
            amount_cents=pending["amount_cents"],
            due_date=date.fromisoformat(pending["due_date"]),
            channel=channel,
            idempotency_key=pending["key"],
            **conversation(tracker),
        )
    except Refused as refused:
        if refused.code != "promise_amount_too_low":
            raise  # replied to in actions/replies.py
        return done + await offer_the_minimum(client, dispatcher, tracker, account_id, pending)
    dispatcher.utter_message(
        response=names.UTTER_PROMISE_RECORDED,
        amount=format_money(pending["amount_cents"]),
        date=format_date(date.fromisoformat(pending["due_date"])),
    )
    return done


async def book(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str, pending: dict[str, Any]
) -> list[EventType]:
    """Books the pending plan, shows its receipt, and sends the first payment's link."""
    plan = await client.book_plan(
        account_id,
        offer_id=pending["offer_id"],
        channel=service_channel(tracker),
        idempotency_key=pending["key"],
        consent_text=pending.get("shown") or pending["readback"],
        **conversation(tracker),
    )
    dispatcher.utter_message(response=names.UTTER_PLAN_BOOKED, plan_id=plan.id)
    if plan.receipt_url and trusted_link(plan.receipt_url):
        dispatcher.utter_message(response=names.UTTER_PLAN_RECEIPT, receipt_url=plan.receipt_url)
    events: list[EventType] = [SlotSet(names.BOOKED_PLAN_ID, plan.id)]
    # Plans start on the day they are booked: take the first payment while the customer is here.
    first = {"amount_cents": plan.schedule[0].amount_cents, "key": f"{pending['key']}-first", "plan_id": plan.id}
    return events + await send_payment_link(client, dispatcher, tracker, account_id, first)


async def send_payment_link(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str, payment: dict[str, Any]
) -> list[EventType]:
    """Creates the pending payment (`payment`: `amount_cents`, `key`, `plan_id`, as `pending`
    holds it) and sends its one-time link (keypad payment on voice). A link on any host but our
    payment pages' (PAYMENTS_PUBLIC_URL) is never sent."""
    link = await client.create_payment(
        account_id,
        amount_cents=payment["amount_cents"],
        channel=service_channel(tracker),
        idempotency_key=payment["key"],
        **conversation(tracker),
        plan_id=payment.get("plan_id"),
    )
    if not trusted_link(link.link_url):
        log.error(
            "[conversation=%s] payment %s link is not on our public host; not sent", tracker.sender_id, link.payment_id
        )
        dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
        return []
    dispatcher.utter_message(
        response=names.UTTER_PAYMENT_LINK,
        amount=format_money(link.amount_cents, link.currency),
        link_url=link.link_url,
        payment_id=link.payment_id,
        amount_cents=link.amount_cents,
        currency=link.currency,
    )
    return [SlotSet(names.LAST_PAYMENT_ID, link.payment_id)]


async def offer_the_minimum(
    client: PaymentsClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    account_id: str,
    pending: dict[str, Any],
) -> list[EventType]:
    """A promise below the minimum due: offer a promise of the minimum on the same date (or a plan)."""
    account = await client.get_account(account_id, **conversation(tracker))
    return ask_to_confirm_promise(
        dispatcher,
        tracker,
        account.minimum_due_cents,
        account.currency,
        date.fromisoformat(pending["due_date"]),
        response=names.UTTER_PROMISE_MINIMUM_OFFERED,
    )


async def decline(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
) -> list[EventType]:
    """On a no to a confirmation: nothing is booked; the options are shown again.
    On a no to an offer list: asks what else the customer needs. Clears `pending`, `awaiting`.
    Responses: `utter_declined`, then `utter_offer_list` (or its fallbacks) or `utter_what_next`."""
    cleared: list[EventType] = [SlotSet(names.PENDING, None), SlotSet(names.AWAITING, None)]
    dispatcher.utter_message(response=names.UTTER_DECLINED)
    if tracker.get_slot(names.AWAITING) == names.AWAITING_CONFIRMATION:
        kind = tracker.get_slot(names.OFFER_KIND) or "plan"
        return cleared + await offer(client, dispatcher, tracker, account_id, kind)
    dispatcher.utter_message(response=names.UTTER_WHAT_NEXT)
    return cleared
