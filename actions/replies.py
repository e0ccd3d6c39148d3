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

Actions outside the gate (verification, handoff, contact) say their own outcome of a failed
write (`utter_handoff_unavailable`, `utter_report_failed`, `utter_stop_not_recorded`, ...):
what failed is the reply there, not the error's kind.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from clients.payments import PaymentsClient, PaymentsError, Refused


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
