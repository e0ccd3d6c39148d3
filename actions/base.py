"""Shared action bases. Abstract classes here are skipped by rasa-sdk's action registry."""

from __future__ import annotations

import abc
import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.payments_client import PaymentsClient, default_client

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


def service_channel(tracker: Tracker) -> str:
    """The payments service's name for the channel this conversation is on (`rest` when unknown)."""
    return names.SERVICE_CHANNEL_BY_INPUT_CHANNEL.get(tracker.get_latest_input_channel() or "rest", "rest")


def caller_phone(tracker: Tracker) -> str | None:
    """The caller ID our SMS and voice connectors put in message metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    phone = metadata.get("phone")
    return phone if isinstance(phone, str) else None


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
    account facts without passing verification first.
    """

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        account_id = tracker.get_slot(names.ACCOUNT_ID)
        if tracker.get_slot(names.VERIFICATION_STATUS) != names.VERIFIED or not account_id:
            log.info("[conversation=%s] %s refused: not verified", tracker.sender_id, self.name())
            dispatcher.utter_message(response=names.UTTER_VERIFY_FIRST)
            return []
        return await self.run_verified(dispatcher, tracker, domain, account_id)

    @abc.abstractmethod
    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], account_id: str
    ) -> list[dict[str, Any]]:
        """Do the action's work; `account_id` is the verified customer's account."""
