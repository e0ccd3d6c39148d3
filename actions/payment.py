"""Taking a payment, promises to pay, "I already paid", and payment events from the service."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import PaymentsAction, VerifiedAction, conversation, latest_entities, latest_intent
from actions.choices import entity_values
from actions.formatting import format_date, format_money
from actions.links import trusted_link
from actions.offers import amount_entity, amount_in_range, ask_to_confirm_payment, ask_to_confirm_promise, date_entity
from actions.plans import offer
from actions.replies import or_none
from actions.standing import INSTALLMENT_CHOICE, read_standing, refuse_paused

log = logging.getLogger(__name__)
PAY_NOW_BY_NAME = {"past_due": "past_due_cents", "full": "balance_cents", "minimum": "minimum_due_cents"}


class ActionOfferPayment(VerifiedAction):
    """ "I want to pay", standing first: a paused account gets its notice (and a person), never a
    prompt. With an active plan and nothing else named, the plan's next installment is offered.
    A named amount or option goes straight to confirmation; a future date becomes a promise to
    pay (the amount given, the minimum due when none is, and the minimum instead when less is
    given); otherwise the pay-now options.

    Reads entities `amount`, `date`, `plan_choice`. Writes `pending`, `awaiting` and the offer
    slots. Responses: `utter_confirm_payment`, `utter_confirm_promise`,
    `utter_promise_minimum_offered`, `utter_offer_list`, `utter_amount_out_of_range`, the
    standing notices.
    """

    def name(self) -> str:
        return names.ACTION_OFFER_PAYMENT

    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
    ) -> list[EventType]:
        client = self.client
        standing = await read_standing(client, tracker, account_id)
        if standing.paused:
            return await refuse_paused(client, dispatcher, tracker, standing)
        account = await client.get_account(account_id, **conversation(tracker))
        amount = amount_entity(tracker)
        when = date_entity(tracker)
        choices = [str(c) for c in entity_values(latest_entities(tracker), "plan_choice")]
        plan = standing.active_plan
        installment = plan.next_installment if plan and plan.status == "active" else None
        if installment and (INSTALLMENT_CHOICE in choices or (amount is None and when is None and not choices)):
            return ask_to_confirm_payment(
                dispatcher,
                tracker,
                installment.amount_cents,
                installment.currency,
                plan_id=plan.plan_id if plan else None,
            )
        if when is not None and when > datetime.now(timezone.utc).date():
            if amount is not None and amount < account.minimum_due_cents:
                return ask_to_confirm_promise(
                    dispatcher,
                    tracker,
                    account.minimum_due_cents,
                    account.currency,
                    when,
                    response=names.UTTER_PROMISE_MINIMUM_OFFERED,
                )
            return ask_to_confirm_promise(
                dispatcher, tracker, amount or account.minimum_due_cents, account.currency, when
            )
        if amount is not None:
            if not amount_in_range(amount, account):
                dispatcher.utter_message(
                    response=names.UTTER_AMOUNT_OUT_OF_RANGE,
                    balance=format_money(account.balance_cents, account.currency),
                )
                return [SlotSet(names.AWAITING, names.AWAITING_AMOUNT), SlotSet(names.OFFER_KIND, "payment")]
            return ask_to_confirm_payment(dispatcher, tracker, amount, account.currency)
        for choice in choices:
            cents = getattr(account, PAY_NOW_BY_NAME.get(choice, ""), 0)
            if cents:
                return ask_to_confirm_payment(dispatcher, tracker, cents, account.currency)
        return await offer(client, dispatcher, tracker, account_id, "payment")


class ActionRecentPayments(VerifiedAction):
    """ "I already paid": the recent payments on file, and how long each way of paying takes.

    Responses: `utter_recent_payments` (`payments`), `utter_no_recent_payments`.
    """

    def name(self) -> str:
        return names.ACTION_RECENT_PAYMENTS

    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
    ) -> list[EventType]:
        payments = await self.client.recent_payments(account_id, **conversation(tracker))
        shown = [p for p in payments if p.status in ("succeeded", "processing", "pending")][:3]
        if not shown:
            dispatcher.utter_message(response=names.UTTER_NO_RECENT_PAYMENTS)
            return []
        status_words = {"succeeded": "received", "processing": "processing", "pending": "started, not completed"}
        lines = [
            f"{format_money(p.amount_cents, p.currency)} on {format_date(date.fromisoformat(p.created_at[:10]))}: "
            f"{status_words[p.status]}"
            for p in shown
        ]
        dispatcher.utter_message(response=names.UTTER_RECENT_PAYMENTS, payments="; ".join(lines))
        return []


class ActionPaymentEvent(PaymentsAction):
    """`payment_succeeded` / `payment_failed`, triggered by the payments service.

    Never trusts the intent alone: the payment's result is read back from the service, which
    answers only the conversation the payment was created in, with or without a live
    verification session (a customer who paid after the session ended still hears it went
    through). On failure a new link is offered (`pending` payment, awaiting a yes), which needs
    verification as any payment does. Responses: `utter_payment_succeeded` (+ `utter_account_settled`
    when the service says this payment settled the account), `utter_payment_failed`.
    """

    def name(self) -> str:
        return names.ACTION_PAYMENT_EVENT

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        payment_ids = entity_values(latest_entities(tracker), "payment_id") or [tracker.get_slot(names.LAST_PAYMENT_ID)]
        payment_id = payment_ids[0]
        if not payment_id:
            return []
        reading = self.client.get_payment_result(str(payment_id), conversation_id=tracker.sender_id)
        payment = await or_none(
            reading, tracker.sender_id, f"payment event for unknown payment {payment_id}", logging.WARNING
        )
        if payment is None:
            return []
        if payment.conversation_id != tracker.sender_id:
            log.warning("[conversation=%s] payment %s belongs elsewhere; ignored", tracker.sender_id, payment_id)
            return []
        amount = format_money(payment.amount_cents, payment.currency)
        if payment.status == "succeeded" and latest_intent(tracker) == "payment_succeeded":
            dispatcher.utter_message(response=names.UTTER_PAYMENT_SUCCEEDED, amount=amount, payment_id=payment.id)
            if payment.account_settled:
                dispatcher.utter_message(response=names.UTTER_ACCOUNT_SETTLED)
            return []
        if payment.status == "failed" and latest_intent(tracker) == "payment_failed":
            dispatcher.utter_message(response=names.UTTER_PAYMENT_FAILED, amount=amount)
            return ask_to_confirm_payment(CollectingDispatcher(), tracker, payment.amount_cents, payment.currency)
        return []


class ActionInstallmentEvent(Action):
    """Plan reminders and links the scheduler triggers (`installment_reminder`, `installment_due`,
    `installment_failed`). Entities: amount_cents, currency, due_date, link_url, plan_id.
    A link is sent only when it is on our payment pages' origin (PAYMENTS_PUBLIC_URL); any
    other is refused and logged. Responses: `utter_installment_reminder`, `utter_installment_link`."""

    def name(self) -> str:
        return names.ACTION_INSTALLMENT_EVENT

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        values: dict[str, Any] = {str(e.get("entity")): e.get("value") for e in latest_entities(tracker)}
        try:
            amount = format_money(int(values["amount_cents"]), str(values.get("currency") or "USD"))
        except (KeyError, TypeError, ValueError):
            return []
        if latest_intent(tracker) == "installment_reminder" and values.get("due_date"):
            due = format_date(date.fromisoformat(str(values["due_date"])))
            dispatcher.utter_message(response=names.UTTER_INSTALLMENT_REMINDER, amount=amount, due_date=due)
        elif values.get("link_url") and not trusted_link(values["link_url"]):
            log.error(
                "[conversation=%s] %s with a link off our public host; not sent",
                tracker.sender_id,
                latest_intent(tracker),
            )
        elif values.get("link_url"):
            failed = latest_intent(tracker) == "installment_failed"
            dispatcher.utter_message(
                response=names.UTTER_INSTALLMENT_LINK,
                amount=amount,
                link_url=values["link_url"],
                lead="didn't go through" if failed else "is due today",
            )
        return []


__all__ = ["ActionOfferPayment", "ActionRecentPayments", "ActionPaymentEvent", "ActionInstallmentEvent"]
