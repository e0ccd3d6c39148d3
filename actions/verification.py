"""Identification and verification (DESIGN.md, identity and disclosure).

Web chat asks for card last 4, date of birth and ZIP; SMS and voice already have the caller ID and
ask for last 4 and date of birth. The payments service decides; these actions only collect and ask.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import PaymentsAction, caller_phone, forget_verification, service_channel
from actions.config import get_settings
from actions.parsing import parse_card_last4, parse_date_of_birth, parse_zip
from actions.replies import or_none, reply_to_failure
from clients.payments import PaymentsClient, PaymentsUnavailable, VerificationLocked

log = logging.getLogger(__name__)

FACTOR_SLOTS = (names.CARD_LAST4, names.DOB, names.ZIP)


class ValidateVerificationForm(FormValidationAction):
    """Normalizes each factor as it is given. Writes `card_last4`, `dob` (ISO) and `zip`;
    may send `utter_card_last4_invalid`, `utter_dob_invalid`, `utter_zip_invalid`."""

    def name(self) -> str:
        return names.VALIDATE_VERIFICATION_FORM

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # The phone number is a factor on SMS and voice, so ZIP is not asked there.
        if caller_phone(tracker) and service_channel(tracker) in ("sms", "voice"):
            return [names.CARD_LAST4, names.DOB]
        return [names.CARD_LAST4, names.DOB, names.ZIP]

    def validate_card_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:  # cleared by action_verify_identity: nothing was said yet
            return {names.CARD_LAST4: None}
        last4 = parse_card_last4(str(value))
        if last4 is None:
            dispatcher.utter_message(response=names.UTTER_ASK_CARD_LAST4_INVALID)
        return {names.CARD_LAST4: last4}

    def validate_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {names.DOB: None}
        born = parse_date_of_birth(str(value), datetime.now(timezone.utc).date())
        if born is None:
            dispatcher.utter_message(response=names.UTTER_DOB_INVALID)
            return {names.DOB: None}
        return {names.DOB: born.isoformat()}

    def validate_zip(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {names.ZIP: None}
        zip_code = parse_zip(str(value))
        if zip_code is None:
            dispatcher.utter_message(response=names.UTTER_ZIP_INVALID)
        return {names.ZIP: zip_code}


async def record_call(client: PaymentsClient, account_id: str, conversation_id: str) -> None:
    """A verified call is a conversation with the cardholder: the call ledger must know it, or
    the 7-in-7 and 7-days-after limits (12 CFR 1006.14(b)(2)) would not count our own calls.
    A failure is logged, never shown: the caller is verified either way."""
    await or_none(
        client.record_call_conversation(account_id, conversation_id=conversation_id),
        conversation_id,
        "call not recorded in the ledger",
    )


class ActionVerifyIdentity(PaymentsAction):
    """Sends the collected factors to the payments service.

    Reads `card_last4`, `dob`, `zip` and the signed channel facts (channel, caller ID). Writes
    `verification_status` (`verified` | `retry` | `locked`, or unset when the service is down),
    `account_id` and `verification_session` (C2: every later account call carries it), and
    always clears the factor slots. Responses: `utter_verified` + the configured disclosure,
    `utter_verification_failed`, `utter_verification_locked` or `utter_service_unavailable`.
    """

    def name(self) -> str:
        return names.ACTION_VERIFY_IDENTITY

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        clear_factors: list[EventType] = [SlotSet(slot, None) for slot in FACTOR_SLOTS]
        dob = tracker.get_slot(names.DOB)
        try:
            outcome = await self.client.verify(
                channel=service_channel(tracker),
                conversation_id=tracker.sender_id,
                phone=caller_phone(tracker),
                card_last4=tracker.get_slot(names.CARD_LAST4),
                dob=datetime.fromisoformat(dob).date() if dob else None,
                zip_code=tracker.get_slot(names.ZIP),
                disclosure=get_settings().disclosure_mode,
            )
        except VerificationLocked:
            dispatcher.utter_message(response=names.UTTER_VERIFICATION_LOCKED)
            return [*clear_factors, SlotSet(names.VERIFICATION_STATUS, names.LOCKED)]
        except PaymentsUnavailable as error:
            unverified = [*clear_factors, SlotSet(names.VERIFICATION_STATUS, None)]
            return unverified + await reply_to_failure(self.client, dispatcher, tracker, error)

        if not outcome.verified:
            if outcome.attempts_left <= 0:
                dispatcher.utter_message(response=names.UTTER_VERIFICATION_LOCKED)
                return [*clear_factors, SlotSet(names.VERIFICATION_STATUS, names.LOCKED)]
            dispatcher.utter_message(response=names.UTTER_VERIFICATION_FAILED, attempts_left=outcome.attempts_left)
            return [*clear_factors, SlotSet(names.VERIFICATION_STATUS, names.RETRY)]

        if service_channel(tracker) == "voice" and outcome.account_id:
            await record_call(self.client, outcome.account_id, tracker.sender_id)
        dispatcher.utter_message(response=names.UTTER_VERIFIED)
        disclosure = (
            names.UTTER_DISCLOSURE_THIRD_PARTY
            if get_settings().disclosure_mode == "third_party"
            else names.UTTER_DISCLOSURE_FIRST_PARTY
        )
        dispatcher.utter_message(response=disclosure)
        log.info(
            "[conversation=%s] verified account %s; disclosure %s given at %s",
            tracker.sender_id,
            outcome.account_id,
            disclosure,
            datetime.now(timezone.utc).isoformat(),
        )
        return [
            *clear_factors,
            SlotSet(names.VERIFICATION_STATUS, names.VERIFIED),
            SlotSet(names.ACCOUNT_ID, outcome.account_id),
            SlotSet(names.VERIFICATION_SESSION, outcome.session),
        ]


async def end_verification(client: PaymentsClient, tracker: Tracker, reason: str) -> list[EventType]:
    """End the conversation's verification session in the service (C2 `reason`: sign_off |
    hand_back) and forget it here. A failure to reach the service is logged: the session still
    ends by itself after its idle time."""
    if tracker.get_slot(names.VERIFICATION_SESSION) or tracker.get_slot(names.VERIFICATION_STATUS) == names.VERIFIED:
        ending = client.end_verification_session(conversation_id=tracker.sender_id, reason=reason)
        await or_none(ending, tracker.sender_id, "could not end the verification session", logging.WARNING)
    return forget_verification()


class ActionSignOff(PaymentsAction):
    """Goodbye: ends the verification session (a later message verifies again) and says goodbye.
    Writes `verification_status`, `account_id`, `verification_session` (cleared). Response:
    `utter_goodbye`."""

    def name(self) -> str:
        return names.ACTION_SIGN_OFF

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await end_verification(self.client, tracker, "sign_off")
        dispatcher.utter_message(response=names.UTTER_GOODBYE)
        return events
