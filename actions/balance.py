"""Explaining what the customer owes, with exact figures from the payments service."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.base import VerifiedAction, conversation, latest_text
from actions.formatting import format_date, format_money
from actions.standing import read_standing, refuse_paused, tell_active_plan, tell_pending_promise

# Follow-up questions answered with a different part of the account.
WHY_HIGH = re.compile(r"\b(why|high|interest|fees?|charges?|made? up|breakdown|statement|went up)\b", re.I)
MINIMUM = re.compile(r"\b(minimum|min|least)\b", re.I)


class ActionTellBalance(VerifiedAction):
    """Standing first: a paused account hears only its notice (no amount) and gets a person
    (actions/standing.py); an active plan and its next payment, and a pending promise, are
    mentioned before the figures. Then states balance, past due (with days), minimum due and due
    date; "why is it so high?" gets what the last statement was made of, "what's the minimum?"
    the minimum and its date.

    Reads `account_id`. Responses: the standing notices, `utter_standing_active_plan`,
    `utter_standing_pending_promise`, `utter_balance_past_due`, `utter_balance_current`,
    `utter_balance_breakdown`, `utter_minimum_due` or `utter_service_unavailable`. Sets no slots
    (a paused account's handoff sets its own).
    """

    def name(self) -> str:
        return names.ACTION_TELL_BALANCE

    async def run_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, account_id: str
    ) -> list[EventType]:
        standing = await read_standing(self.client, tracker, account_id)
        if standing.paused:
            return await refuse_paused(self.client, dispatcher, tracker, standing)
        account = await self.client.get_account(account_id, **conversation(tracker))
        tell_active_plan(dispatcher, standing)
        tell_pending_promise(dispatcher, standing)
        figures = {
            "first_name": account.first_name,
            "balance": format_money(account.balance_cents, account.currency),
            "past_due": format_money(account.past_due_cents, account.currency),
            "days_past_due": account.days_past_due,
            "minimum_due": format_money(account.minimum_due_cents, account.currency),
            "due_date": format_date(account.payment_due_date),
        }
        text = latest_text(tracker)
        if WHY_HIGH.search(text) and account.statement:
            money = {k: format_money(v, account.currency) for k, v in account.statement.items()}
            dispatcher.utter_message(response=names.UTTER_BALANCE_BREAKDOWN, **figures, **money)
        elif MINIMUM.search(text):
            dispatcher.utter_message(response=names.UTTER_MINIMUM_DUE, **figures)
        elif account.past_due_cents > 0:
            dispatcher.utter_message(response=names.UTTER_BALANCE_PAST_DUE, **figures)
        else:
            dispatcher.utter_message(response=names.UTTER_BALANCE_CURRENT, **figures)
        return []
