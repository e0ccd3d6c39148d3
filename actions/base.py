"""Shared action bases. Abstract classes here are skipped by rasa-sdk's action registry."""

from __future__ import annotations

import abc
import logging
import uuid
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.config import get_settings
from clients.payments import HttpPaymentsClient, PaymentsClient, PaymentsError, VerificationRequired
from contracts.channel_facts import ChannelFacts, verify

log = logging.getLogger(__name__)


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_entities(tracker: Tracker) -> list[dict[str, Any]]:
    return list(tracker.latest_message.get("entities") or [])


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def new_idempotency_key(tracker: Tracker, purpose: str) -> str:
    """A fresh key for one thing the customer agrees to; kept in a slot so a retry reuses it."""
    return f"{purpose}-{tracker.sender_id[-40:]}-{uuid.uuid4().hex[:16]}"


def channel_facts(tracker: Tracker) -> ChannelFacts | None:
    """The channel facts our connector signed for this conversation (C0), or None.

    Read from the latest user message only; a turn started by an external intent (trigger_intent
    carries no facts) uses the latest user message that does carry valid ones. `input_channel`
    and unsigned metadata are never read: a REST client can set both (issue 11, item 3).
    """
    key = get_settings().channel_facts_key
    facts = verify(tracker.latest_message.get("metadata"), tracker.sender_id, key)
    if facts is not None or latest_intent(tracker) not in names.EXTERNAL_INTENTS:
        return facts
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            facts = verify(event.get("metadata"), tracker.sender_id, key)
            if facts is not None:
                return facts
    return None


def service_channel(tracker: Tracker) -> str:
    """The payments service's name for this conversation's channel: the signed one, else `rest`
    (verified like web chat, with three factors, and never with a caller ID)."""
    facts = channel_facts(tracker)
    return facts.channel if facts else "rest"


def caller_phone(tracker: Tracker) -> str | None:
    """The caller ID (E.164) our SMS and voice connectors signed, else None."""
    facts = channel_facts(tracker)
    return facts.phone if facts and facts.has_caller_id else None


def conversation(tracker: Tracker) -> dict[str, Any]:
    """The keywords of every C2 call: this conversation and its verification session."""
    return {"conversation_id": tracker.sender_id, "session": tracker.get_slot(names.VERIFICATION_SESSION)}


def forget_verification() -> list[EventType]:
    """Slot events that make the conversation unverified (the service's session is gone)."""
    return [
        SlotSet(names.VERIFICATION_STATUS, None),
        SlotSet(names.ACCOUNT_ID, None),
        SlotSet(names.VERIFICATION_SESSION, None),
        SlotSet(names.AWAITING, None),
        SlotSet(names.PENDING, None),
    ]


@lru_cache
def default_client() -> PaymentsClient:
    """The action server's client, built on first use (never at import): one connection pool
    for the process, one attempt per call (a turn does not wait on retries)."""
    settings = get_settings()
    return HttpPaymentsClient(settings.payments_url, settings.payments_service_token, settings.payments_timeout_seconds)


class PaymentsAction(Action, abc.ABC):
    """An action that talks to the payments service. rasa-sdk builds each action once, without
    arguments, so the client comes from a constructor default; tests pass a fake."""

    def __init__(self, client: PaymentsClient | None = None) -> None:
        self._client = client

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain (`actions/names.py`)."""

    @property
    def client(self) -> PaymentsClient:
        return self._client or default_client()


class VerifiedAction(PaymentsAction, abc.ABC):
    """The one gate for disclosure: `run_verified` runs only for a verified customer.

    Unverified: sends `utter_verify_first` and sets nothing, so no story or rule can reach
    account facts without passing verification first. The slots are only the first line: the
    payments service checks the verification session (C2). When it answers
    `verification_required` (expired, ended), this is the one place that handles it: the
    conversation becomes unverified, the request is kept in `goal`, and verification starts
    again (`utter_verify_again`, then the verification form).

    Any other error of the service that `run_verified` lets through is answered here too, after
    what the turn already said: `actions/replies.py` says what it means for the customer, and
    the turn keeps only `kept_on_failure`'s events.
    """

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        account_id = tracker.get_slot(names.ACCOUNT_ID)
        if tracker.get_slot(names.VERIFICATION_STATUS) != names.VERIFIED or not account_id:
            log.info("[conversation=%s] %s refused: not verified", tracker.sender_id, self.name())
            dispatcher.utter_message(response=names.UTTER_VERIFY_FIRST)
            return []
        progress = CollectingDispatcher()
        try:
            events = await self.run_verified(progress, tracker, domain, account_id)
        except VerificationRequired:
            log.info("[conversation=%s] %s: verification session gone; verifying again", tracker.sender_id, self.name())
            dispatcher.utter_message(response=names.UTTER_VERIFY_AGAIN)
            goal = latest_intent(tracker)
            return [
                *forget_verification(),
                *([SlotSet(names.GOAL, goal)] if goal in names.GOAL_INTENTS else []),
                FollowupAction(names.VERIFICATION_FORM),
            ]
        except PaymentsError as error:
            from actions.replies import reply_to_failure  # replies hand off, and handoff builds on this module

            log.warning("[conversation=%s] %s: %s: %s", tracker.sender_id, self.name(), type(error).__name__, error)
            dispatcher.messages.extend(progress.messages)
            return self.kept_on_failure(tracker) + await reply_to_failure(self.client, dispatcher, tracker, error)
        dispatcher.messages.extend(progress.messages)  # said only when the whole turn went through
        return events

    def kept_on_failure(self, tracker: Tracker) -> list[EventType]:
        """The events this turn keeps when the service fails part-way (none by default)."""
        return []

    @abc.abstractmethod
    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
    ) -> list[EventType]:
        """Do the action's work; `account_id` is the verified customer's account."""
