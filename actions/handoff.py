"""Warm handoff to a person: the case carries what the agent needs so nobody asks twice.

Triggers: dispute, distress (the 988 Lifeline first), a request for a person, bankruptcy,
attorney, deceased, two misunderstandings in a row, verification lock-out, collection paused.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import PaymentsAction, caller_phone, conversation, latest_entities, latest_intent, service_channel
from actions.formatting import format_money
from actions.replies import or_none
from clients.payments import PaymentsClient

log = logging.getLogger(__name__)

FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")
READABLE_GOALS = {
    "check_balance": "their balance",
    "make_payment": "making a payment",
    "request_payment_plan": "a payment plan",
    "request_settlement": "a settlement",
    "already_paid": "a payment they already made",
    "hardship": "a financial hardship",
}
REASON_TEXT = {
    "distress": "sounded in distress",
    "dispute": "disputes the debt",
    "request_agent": "asked for a person",
    "bankruptcy": "says they filed for bankruptcy",
    "attorney": "is represented by an attorney",
    "deceased": "reports the cardholder has died",
    "misunderstanding": "was not understood twice in a row",
    "verification_locked": "could not be verified (locked out)",
    "collection_paused": "has collection paused",
    "hardship": "described a hardship",
}
DIGIT_RUN = re.compile(r"\d[\d\s-]{11,}\d")
# An agent name worth speaking: up to three words of letters ("Sam", "Ana María", "O'Neil").
AGENT_NAME = re.compile(r"[^\W\d_]{1,30}(?:[ '.-][^\W\d_]{1,30}){0,2}")


VERIFICATION_ANSWERS = {names.CARD_LAST4, names.DOB, names.ZIP}


def customer_said(tracker: Tracker, last: int = 3) -> list[str]:
    """The customer's last messages for the agent, never their answers to verification questions
    (card last 4, date of birth, ZIP: the case is no place for them), with any long digit run
    masked (defence in depth: the channels already mask card numbers before Rasa sees them)."""
    texts: list[str] = []
    asking = None  # the verification question open when each message came
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") == names.REQUESTED_SLOT:
            asking = event.get("value")
        elif event.get("event") == "active_loop" and not event.get("name"):
            asking = None
        elif event.get("event") == "user" and event.get("text") and asking not in VERIFICATION_ANSWERS:
            texts.append(str(event["text"]))
    return [DIGIT_RUN.sub("[digits removed]", t)[:300] for t in texts[-last:]]


async def hand_off(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, note: str = ""
) -> list[EventType]:
    """Create the case, tell the customer what happens next, pause the assistant. `note` is one
    more sentence of the summary for the agent."""
    verified = tracker.get_slot(names.VERIFICATION_STATUS) == names.VERIFIED
    account_id = tracker.get_slot(names.ACCOUNT_ID) if verified else None
    goal = tracker.get_slot(names.GOAL)
    context: dict[str, Any] = {
        "asked_for": READABLE_GOALS.get(goal or "", goal),
        "offers_made": tracker.get_slot(names.OFFER_IDS) or [],
        "plan_booked": tracker.get_slot(names.BOOKED_PLAN_ID),
        "pending": (tracker.get_slot(names.PENDING) or {}).get("type"),
        "last_payment_id": tracker.get_slot(names.LAST_PAYMENT_ID),
        "customer_said": customer_said(tracker),
    }
    facts = ""
    reading = client.get_account(account_id, **conversation(tracker)) if account_id else None
    account = (
        await or_none(reading, tracker.sender_id, "no account facts for the agent", logging.WARNING)
        if reading
        else None
    )
    if account is not None:
        context["account"] = {
            "balance_cents": account.balance_cents,
            "past_due_cents": account.past_due_cents,
            "days_past_due": account.days_past_due,
            "flags": list(account.flags),
            "currency": account.currency,
        }
        facts = (
            f" Balance {format_money(account.balance_cents, account.currency)}, "
            f"{format_money(account.past_due_cents, account.currency)} past due "
            f"({account.days_past_due} days)."
        )
    who = f"Verified customer (account {account_id})" if account_id else "Unverified customer"
    summary = f"{who} on {service_channel(tracker)} {REASON_TEXT.get(reason, reason)}.{facts}"
    if context["asked_for"]:
        summary += f" They came about {context['asked_for']}."
    if context["plan_booked"]:
        summary += f" Plan {context['plan_booked']} was booked."
    if note:
        summary += f" {note}"
    case = await or_none(
        client.create_handoff(
            conversation_id=tracker.sender_id,
            channel=service_channel(tracker),
            reason=_service_reason(reason),
            account_id=account_id,
            verified=bool(account_id),
            summary=summary,
            context=context,
        ),
        tracker.sender_id,
        "handoff failed",
    )
    if case is None:
        dispatcher.utter_message(response=names.UTTER_HANDOFF_UNAVAILABLE)
        return []
    dispatcher.utter_message(
        response=names.UTTER_HANDOFF, queue_position=case.queue_position, case_id=case.id, summary=summary
    )
    return [SlotSet(names.HANDOFF_CASE_ID, case.id), SlotSet(names.AWAITING, None), ConversationPaused()]


def _service_reason(reason: str) -> str:
    return "other" if reason == "collection_paused" else reason


async def record_report(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, verified_account: str | None
) -> None:
    """A death, bankruptcy, attorney or dispute report, from anyone (C4 POST /api/reports), with
    the verified account or the signed caller ID; then says only what the system does: a person
    reviews it, and collection messages to the account it points to are held until then.

    A verified cardholder's bankruptcy, attorney or deceased report also flags the account (the
    service flags a verified dispute from its handoff). Responses: `utter_report_recorded`,
    `utter_report_recorded_dispute`, `utter_report_recorded_no_account`, `utter_report_failed`.
    """
    channel = service_channel(tracker)
    if verified_account and kind in names.FLAG_FOR_HANDOFF:
        flag = names.FLAG_FOR_HANDOFF[kind]
        flagging = client.set_flag(verified_account, flag=flag, channel=channel, conversation_id=tracker.sender_id)
        await or_none(flagging, tracker.sender_id, f"could not flag {kind}")
    if kind == "deceased":
        reported_by = "third_party"  # whoever says the cardholder died is not the cardholder
    else:
        reported_by = "cardholder" if verified_account else "unknown"
    said = customer_said(tracker, last=1)
    report = await or_none(
        client.create_report(
            kind=kind,
            account_id=verified_account,
            phone=caller_phone(tracker),
            conversation_id=tracker.sender_id,
            channel=channel,
            reported_by=reported_by,
            summary=(said[-1] if said else kind)[:200],
        ),
        tracker.sender_id,
        f"{kind} report not recorded",
    )
    if report is None:
        dispatcher.utter_message(response=names.UTTER_REPORT_FAILED)
        return
    if not report.account_ids:
        dispatcher.utter_message(response=names.UTTER_REPORT_RECORDED_NO_ACCOUNT)
    elif kind == "dispute":
        dispatcher.utter_message(response=names.UTTER_REPORT_RECORDED_DISPUTE)
    else:
        dispatcher.utter_message(response=names.UTTER_REPORT_RECORDED)


class ActionHandoff(PaymentsAction):
    """Hands the conversation to a person for the latest intent's reason (or a lock-out).

    Distress gets `utter_crisis_support` (988) before anything else. A death, bankruptcy,
    attorney or dispute report is recorded first, whoever makes it (`record_report`).
    Writes `handoff_case_id`; returns `ConversationPaused`. Responses: `utter_crisis_support`,
    the report responses, `utter_handoff`, `utter_handoff_unavailable`.
    """

    def name(self) -> str:
        return names.ACTION_HANDOFF

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker)
        if tracker.get_slot(names.VERIFICATION_STATUS) == names.LOCKED and intent not in names.HANDOFF_REASONS:
            reason = "verification_locked"
        else:
            reason = names.HANDOFF_REASONS.get(intent, "request_agent")
        if reason == "distress":
            dispatcher.utter_message(response=names.UTTER_CRISIS_SUPPORT)
        verified_account = (
            tracker.get_slot(names.ACCOUNT_ID)
            if tracker.get_slot(names.VERIFICATION_STATUS) == names.VERIFIED
            else None
        )
        if reason in names.REPORT_KINDS:
            await record_report(self.client, dispatcher, tracker, reason, verified_account)
        return await hand_off(self.client, dispatcher, tracker, reason)


class ActionMisunderstood(PaymentsAction):
    """Says it did not understand; the second misunderstanding in a row hands off.

    Counts consecutive customer turns classified `nlu_fallback` or `out_of_scope` in the tracker
    (no slot to drift). Responses: `utter_default`, then the handoff's.
    """

    def name(self) -> str:
        return names.ACTION_MISUNDERSTOOD

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await misunderstood(self.client, dispatcher, tracker)


async def misunderstood(client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """`action_misunderstood`'s work, also for an unclear reply of a verified customer (action_answer)."""
    in_a_row = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") in FALLBACK_INTENTS:
            in_a_row += 1
        else:
            break
    if in_a_row >= 2:
        return await hand_off(client, dispatcher, tracker, "misunderstanding")
    dispatcher.utter_message(response=names.UTTER_DEFAULT)
    return []


# Handoffs after which collection stays paused: the assistant does not offer to take a payment.
COLLECTION_PAUSED_REASONS = ("dispute", "bankruptcy", "attorney", "deceased")


def trusted_agent_name(value: object) -> str:
    """The agent's name when it looks like one (letters, up to three words), else "our team":
    the bot never speaks text a trigger could smuggle in."""
    name = str(value or "").strip()
    return name if len(name) <= 40 and AGENT_NAME.fullmatch(name) else "our team"


class ActionResumeAfterAgent(PaymentsAction):
    """The agent console handed the conversation back (intent `agent_handed_back`, entities
    `agent_name` and `handoff_reason`; Rasa already got the resume event).

    Hand-back ends the verification session (C2 `hand_back`): the customer verifies again
    before anything about the account. Says who handed back (a name only when it looks like
    one), then goes on as fits the case: after distress, only that the assistant is there (and
    988); after a dispute, bankruptcy, attorney or death report, that collection stays paused;
    otherwise how to start again. Clears `handoff_case_id`, `awaiting` and the verification slots.
    Responses: `utter_back_from_agent`, then one of `utter_resume_after_distress`,
    `utter_resume_collection_paused`, `utter_resume_unverified`.
    """

    def name(self) -> str:
        return names.ACTION_RESUME_AFTER_AGENT

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from actions.verification import end_verification

        given = {e.get("entity"): e.get("value") for e in latest_entities(tracker)}
        reason = str(given.get("handoff_reason") or "")
        dispatcher.utter_message(
            response=names.UTTER_BACK_FROM_AGENT, agent_name=trusted_agent_name(given.get("agent_name"))
        )
        if reason == "distress":
            dispatcher.utter_message(response=names.UTTER_RESUME_AFTER_DISTRESS)
        elif reason in COLLECTION_PAUSED_REASONS:
            dispatcher.utter_message(response=names.UTTER_RESUME_COLLECTION_PAUSED)
        else:
            dispatcher.utter_message(response=names.UTTER_RESUME_UNVERIFIED)
        ended = await end_verification(self.client, tracker, "hand_back")
        return [SlotSet(names.HANDOFF_CASE_ID, None), *ended]
