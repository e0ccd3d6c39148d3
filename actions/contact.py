"""Wrong number and stop contact: apologize or confirm, record it, and go quiet."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import PaymentsAction, caller_phone, service_channel
from actions.replies import or_none

log = logging.getLogger(__name__)

# Below this intent confidence a request that would pause the conversation is asked back, not
# acted on. The connectors catch clear revocation wording before Rasa; this is the NLU's share.
PAUSE_CONFIDENCE = 0.8


def understood_clearly(tracker: Tracker) -> bool:
    """The latest intent came with at least `PAUSE_CONFIDENCE` (external events have none: 1.0)."""
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    return confidence is None or float(confidence) >= PAUSE_CONFIDENCE


def asked_back(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Asks whether the customer meant it (`utter_stop_check`) when the intent was understood
    only weakly; True when it asked, and nothing else may happen this turn."""
    if understood_clearly(tracker):
        return False
    dispatcher.utter_message(response=names.UTTER_STOP_CHECK)
    return True


class ActionWrongNumber(PaymentsAction):
    """Apologizes without a single detail of the account and marks the number wrong.
    Returns `ConversationPaused`. Response: `utter_wrong_number`; `utter_stop_check` (and no
    pause) when the intent was understood only weakly."""

    def name(self) -> str:
        return names.ACTION_WRONG_NUMBER

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if asked_back(dispatcher, tracker):
            return []
        phone = caller_phone(tracker)
        if phone:
            marking = self.client.phone_wrong_number(
                phone, channel=service_channel(tracker), conversation_id=tracker.sender_id
            )
            await or_none(marking, tracker.sender_id, "could not mark the number wrong")
        dispatcher.utter_message(response=names.UTTER_WRONG_NUMBER)
        return [ConversationPaused()]


class ActionStopContact(PaymentsAction):
    """Records the opt-out for the medium the customer used (SMS or calls; from web chat, both)
    against the signed caller ID, or else the verified account, and confirms only what was
    recorded: a failure says so (and the conversation stays open to try again), and with neither
    a caller ID nor a verified account it says how to stop contact instead of promising it.
    Never pauses the conversation (the customer may still write to us). Responses: `utter_stop_confirmed`,
    `utter_stop_not_recorded`, `utter_stop_who`; `utter_stop_check` (nothing recorded, no pause)
    when the intent was understood only weakly."""

    def name(self) -> str:
        return names.ACTION_STOP_CONTACT

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if asked_back(dispatcher, tracker):
            return []
        channel = service_channel(tracker)
        media = {"sms": ["sms"], "voice": ["voice"]}.get(channel, ["sms", "voice"])
        account_id = (
            tracker.get_slot(names.ACCOUNT_ID)
            if tracker.get_slot(names.VERIFICATION_STATUS) == names.VERIFIED
            else None
        )
        phone = caller_phone(tracker)
        if not phone and not account_id:
            dispatcher.utter_message(response=names.UTTER_STOP_WHO)
            return []
        opting_out = self._opt_out(media, channel, tracker, phone, account_id)
        if await or_none(opting_out, tracker.sender_id, "opt-out not recorded") is None:
            dispatcher.utter_message(response=names.UTTER_STOP_NOT_RECORDED)
            return []
        medium_text = {"sms": "text messages", "voice": "calls"}.get(channel, "texts and calls")
        dispatcher.utter_message(response=names.UTTER_STOP_CONFIRMED, medium=medium_text)
        # No pause: we start nothing more on that medium, but a customer who writes again (to pay,
        # to ask) is answered; a paused conversation with no case would be a dead end nobody reads.
        return []

    async def _opt_out(
        self, media: list[str], channel: str, tracker: Tracker, phone: str | None, account_id: str | None
    ) -> bool:
        """Every medium against the caller ID, or else the verified account's stop flags."""
        for medium in media:
            if phone:
                await self.client.phone_opt_out(
                    phone, medium=medium, channel=channel, conversation_id=tracker.sender_id
                )
            else:
                flag = f"stop_{medium}"
                await self.client.set_flag(
                    str(account_id), flag=flag, channel=channel, conversation_id=tracker.sender_id
                )
        return True
