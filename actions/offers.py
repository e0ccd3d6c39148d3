"""Presenting options, understanding the choice, and confirming it (plans, payments, promises).

The conversation state lives in slots: `offer_ids` (what was listed, in order), `offer_kind`,
`awaiting` (the open question) and `pending` (what the customer is asked to agree to, with its
idempotency key, so a retried "yes" books once).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.base import conversation, latest_entities, latest_intent, latest_text, new_idempotency_key
from actions.choices import entity_values, resolve_offer_choice
from actions.formatting import format_date, format_money
from actions.standing import tell_active_plan
from clients.payments import AccountSummary, OfferSummary, PaymentsClient, Standing

OTHER_AMOUNT = "other_amount"
KINDS = {
    "plan": ("installments", "hardship"),
    "settlement": ("settlement_lump_sum", "settlement_installments"),
    "payment": ("pay_past_due", "pay_in_full", "pay_minimum"),
}


def short_title(offer: OfferSummary) -> str:
    """A button title of at most ~40 characters."""
    first = format_money(offer.schedule[0].amount_cents, offer.currency)
    rest = format_money(offer.schedule[-1].amount_cents, offer.currency)
    n = len(offer.schedule)
    return {
        "pay_past_due": f"Pay the past due: {first}",
        "pay_in_full": f"Pay in full: {first}",
        "pay_minimum": f"Pay the minimum: {first}",
        "settlement_lump_sum": f"Settle for {first} today",
        "settlement_installments": f"Settle: {n} payments of {rest}",
        "hardship": f"Hardship plan: {first} a month",
    }.get(offer.kind, f"{n} monthly payments of {rest}")


def schedule_text(offer: OfferSummary) -> str:
    """`$103.34 on March 2, 2026; $103.33 on April 2, 2026; ...`: every date and amount."""
    return "; ".join(
        f"{format_money(p.amount_cents, offer.currency)} on {format_date(p.due_date)}" for p in offer.schedule
    )


async def present_offers(
    client: PaymentsClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    account_id: str,
    kind: str,
    *,
    hardship: bool = False,
) -> list[EventType]:
    """List the offers of `kind` (plan | settlement | payment) and wait for a choice.

    Falls back to plans when no settlement is allowed, and to pay-now options when no plan is (a
    current account). Sends `utter_collection_paused` and returns no offers when collection is
    paused; the caller hands off.
    """
    offers = await client.get_offers(account_id, hardship=hardship, **conversation(tracker))
    if not offers.collection_allowed:
        dispatcher.utter_message(response=names.UTTER_COLLECTION_PAUSED)
        return []
    shown = [o for o in offers.offers if o.kind in KINDS[kind]]
    if kind == "settlement" and not shown:
        dispatcher.utter_message(response=names.UTTER_NO_SETTLEMENT)
        kind, shown = "plan", [o for o in offers.offers if o.kind in KINDS["plan"]]
    if kind == "plan" and not shown:
        kind, shown = "payment", [o for o in offers.offers if o.kind in KINDS["payment"]]
    if hardship:
        shown.sort(key=lambda o: o.kind != "hardship")
    if not shown:
        dispatcher.utter_message(response=names.UTTER_NO_OFFERS)
        return [SlotSet(names.AWAITING, None)]

    titles = [short_title(o) for o in shown]
    ids = [o.id for o in shown]
    if kind == "payment":
        titles.append("Another amount")
        ids.append(OTHER_AMOUNT)
    dispatcher.utter_message(
        response=names.UTTER_OFFER_LIST,
        options_numbered="\n".join(f"{i}. {t}" for i, t in enumerate(titles, start=1)),
        options_spoken=" ".join(f"For {t}, press {i}." for i, t in enumerate(titles, start=1)),
        count=len(titles),
        buttons=[{"title": t, "payload": f'/inform{{"plan_choice":"{i}"}}'} for i, t in enumerate(titles, start=1)],
    )
    return [
        SlotSet(names.OFFER_IDS, ids),
        SlotSet(names.OFFER_KIND, kind),
        SlotSet(names.AWAITING, names.AWAITING_OFFER_CHOICE),
        SlotSet(names.PENDING, None),
    ]


def ask_to_confirm_payment(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    amount_cents: int,
    currency: str,
    plan_id: str | None = None,
) -> list[EventType]:
    """Ask to confirm a payment now (of a plan's installment when `plan_id` is given)."""
    dispatcher.utter_message(response=names.UTTER_CONFIRM_PAYMENT, amount=format_money(amount_cents, currency))
    pending = {
        "type": "payment",
        "amount_cents": amount_cents,
        "key": new_idempotency_key(tracker, "pay"),
        "plan_id": plan_id,
    }
    return [SlotSet(names.PENDING, pending), SlotSet(names.AWAITING, names.AWAITING_CONFIRMATION)]


def rendered(domain: dict[str, Any], tracker: Tracker, response: str, **values: str) -> str | None:
    """The words Rasa shows for `response` on this conversation's channel (its channel variation,
    else the default one), with `values` filled in. None when the domain has no such response."""
    variations = (domain.get("responses") or {}).get(response) or []
    channel = tracker.get_latest_input_channel()
    chosen = next((v for v in variations if v.get("channel") and v.get("channel") == channel), None) or next(
        (v for v in variations if not v.get("channel")), None
    )
    if chosen is None:
        return None
    text = str(chosen.get("text") or "")
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def ask_to_confirm_plan(
    dispatcher: CollectingDispatcher, tracker: Tracker, offer: OfferSummary, domain: dict[str, Any]
) -> list[EventType]:
    """Read back the whole plan and ask for agreement. `pending["shown"]` keeps the exact words
    the customer sees: they are the plan's consent record (C5)."""
    readback = f"{offer.description} Payments: {schedule_text(offer)}."
    dispatcher.utter_message(response=names.UTTER_CONFIRM_PLAN, readback=readback)
    shown = rendered(domain, tracker, names.UTTER_CONFIRM_PLAN, readback=readback) or readback
    pending = {
        "type": "plan",
        "offer_id": offer.id,
        "readback": readback,
        "shown": shown,
        "key": new_idempotency_key(tracker, "plan"),
        "first_amount_cents": offer.schedule[0].amount_cents,
        "first_due": offer.schedule[0].due_date.isoformat(),
        "currency": offer.currency,
    }
    return [SlotSet(names.PENDING, pending), SlotSet(names.AWAITING, names.AWAITING_CONFIRMATION)]


def ask_to_confirm_promise(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    amount_cents: int,
    currency: str,
    due: date,
    response: str = names.UTTER_CONFIRM_PROMISE,
) -> list[EventType]:
    dispatcher.utter_message(response=response, amount=format_money(amount_cents, currency), date=format_date(due))
    pending = {
        "type": "promise",
        "amount_cents": amount_cents,
        "due_date": due.isoformat(),
        "key": new_idempotency_key(tracker, "promise"),
    }
    return [SlotSet(names.PENDING, pending), SlotSet(names.AWAITING, names.AWAITING_CONFIRMATION)]


def amount_in_range(amount_cents: int, account: AccountSummary) -> bool:
    """A payment of at least $1.00 and at most the balance."""
    return 100 <= amount_cents <= account.balance_cents


def amount_entity(tracker: Tracker) -> int | None:
    values = [v for v in entity_values(latest_entities(tracker), "amount") if isinstance(v, (int, float))]
    return int(values[0]) if values else None


def date_entity(tracker: Tracker) -> date | None:
    for value in entity_values(latest_entities(tracker), "date"):
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            continue
    return None


async def choose_offer(
    client: PaymentsClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    account_id: str,
    domain: dict[str, Any],
    standing: Standing,
) -> list[EventType]:
    """Act on the customer's answer to an offer list (or to "how much?"). A plan chosen while
    another is active is not read back: the active plan is mentioned instead."""
    kind = tracker.get_slot(names.OFFER_KIND) or "plan"
    hardship = bool(tracker.get_slot(names.HARDSHIP_DESCRIBED))
    amount = amount_entity(tracker)
    if kind == "payment" and amount is not None:
        account = await client.get_account(account_id, **conversation(tracker))
        if not amount_in_range(amount, account):
            dispatcher.utter_message(
                response=names.UTTER_AMOUNT_OUT_OF_RANGE, balance=format_money(account.balance_cents, account.currency)
            )
            return [SlotSet(names.AWAITING, names.AWAITING_AMOUNT)]
        return ask_to_confirm_payment(dispatcher, tracker, amount, account.currency)

    offer_ids = list(tracker.get_slot(names.OFFER_IDS) or [])
    choice = resolve_offer_choice(offer_ids, latest_entities(tracker), latest_text(tracker))
    if choice is None:
        intent = latest_intent(tracker)
        if intent in ("request_payment_plan", "request_settlement", "make_payment"):
            # Asked for another kind of option instead of choosing: list those.
            wanted = {"request_payment_plan": "plan", "request_settlement": "settlement"}.get(intent, "payment")
            return await present_offers(client, dispatcher, tracker, account_id, wanted, hardship=hardship)
        dispatcher.utter_message(response=names.UTTER_CHOICE_UNCLEAR, count=len(offer_ids))
        return []
    if choice == OTHER_AMOUNT:
        dispatcher.utter_message(response=names.UTTER_ASK_AMOUNT)
        return [SlotSet(names.AWAITING, names.AWAITING_AMOUNT)]

    offers = await client.get_offers(account_id, hardship=hardship, **conversation(tracker))
    offer = next((o for o in offers.offers if o.id == choice), None)
    if offer is None:
        dispatcher.utter_message(response=names.UTTER_OFFER_NO_LONGER_AVAILABLE)
        return await present_offers(client, dispatcher, tracker, account_id, kind, hardship=hardship)
    if offer.kind in KINDS["payment"]:
        return ask_to_confirm_payment(dispatcher, tracker, offer.total_cents, offer.currency)
    if tell_active_plan(dispatcher, standing):
        return [SlotSet(names.AWAITING, None), SlotSet(names.PENDING, None)]
    return ask_to_confirm_plan(dispatcher, tracker, offer, domain)
