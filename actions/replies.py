"""The one place where the payments service's errors become replies (STYLE.md: client errors →
responses in actions, translated once). The verified-action gate (actions/base.py) calls
`reply_to_failure` for any `PaymentsError` a verified action lets through, after what was
already said in the turn; `VerificationRequired` never reaches it (the gate verifies again).

| error                                        | reply                                   | slots                  |
| -------------------------------------------- | --------------------------------------- | ---------------------- |
| `PaymentsUnavailable`, `AccountNotFound`     | `utter_service_unavailable`             | none (a retry reuses   |
|                                              |                                         | `pending` and its key) |
| `Refused` `plan_already_active`              | `utter_plan_already_active`             | clears `pending`,      |
| `Refused` `promise_*`, `amount_exceeds_...`  | `utter_promise_refused` (`reason`)      | `awaiting`             |
| `Refused` `collection_paused`                | a person (`hand_off`)                   |                        |
| any other `Refused`                          | `utter_offer_no_longer_available`       |                        |

Outside the gate (verification, handoff, contact, payment events) a call whose failure the
turn can live with goes through `or_none`: the failure is logged here, and the caller says what
it means there (`utter_handoff_unavailable`, `utter_report_failed`, `utter_stop_not_recorded`, or
nothing: a ledger write the customer need not hear about). Only `VerificationLocked` (an answer
of /api/verify, not a failure) is caught where it is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from clients.payments import PaymentsClient, PaymentsError, Refused

log = logging.getLogger(__name__)
T = TypeVar("T")


async def or_none(call: Awaitable[T], conversation_id: str, what: str, level: int = logging.ERROR) -> T | None:
    """The answer of `call`, or None when the service failed: logged as `what` (never the
    customer's words) at `level`; the caller decides what the customer hears."""
    try:
        return await call
    except PaymentsError as error:
        log.log(level, "[conversation=%s] %s: %s: %s", conversation_id, what, type(error).__name__, error)
        return None


async def reply_to_failure(
    client: PaymentsClient, dispatcher: CollectingDispatcher, tracker: Tracker, error: PaymentsError
) -> list[EventType]:
    """Tell the customer what the service's `error` means for them (the table above)."""
    if not isinstance(error, Refused):
        dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
        return []
    cleared: list[EventType] = [SlotSet(names.PENDING, None), SlotSet(names.AWAITING, None)]
    if error.code == "collection_paused":
        from actions.handoff import hand_off  # handoff builds on the actions' base, as this does

        return cleared + await hand_off(client, dispatcher, tracker, "collection_paused")
    if error.code == "plan_already_active":
        dispatcher.utter_message(response=names.UTTER_PLAN_ALREADY_ACTIVE)
    elif error.code.startswith("promise_") or error.code == "amount_exceeds_balance":
        dispatcher.utter_message(response=names.UTTER_PROMISE_REFUSED, reason=error.detail)
    else:
        dispatcher.utter_message(response=names.UTTER_OFFER_NO_LONGER_AVAILABLE)
    return cleared
