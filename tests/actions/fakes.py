"""A fake payments client and tracker builders for action unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rasa_sdk import Tracker

from actions.payments_client import AccountNotFound, AccountSummary, PaymentsUnavailable, VerificationLocked, VerificationOutcome

MARIA = AccountSummary(
    id="A1001",
    first_name="Maria",
    status="delinquent",
    currency="USD",
    balance_cents=245000,
    past_due_cents=31000,
    minimum_due_cents=9500,
    payment_due_date=date(2026, 12, 2),
    days_past_due=45,
    flags=(),
    collection_allowed=True,
)


@dataclass
class FakePaymentsClient:
    """Answers from memory; `down=True` behaves like an unreachable service."""

    accounts: dict[str, AccountSummary] = field(default_factory=lambda: {"A1001": MARIA})
    verify_outcome: VerificationOutcome = VerificationOutcome(True, "A1001", 3)
    locked: bool = False
    down: bool = False
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def verify(self, **kwargs: Any) -> VerificationOutcome:
        self.calls.append(("verify", kwargs))
        if self.down:
            raise PaymentsUnavailable("down")
        if self.locked:
            raise VerificationLocked(1800)
        return self.verify_outcome

    async def get_account(self, account_id: str, *, conversation_id: str) -> AccountSummary:
        self.calls.append(("get_account", {"account_id": account_id, "conversation_id": conversation_id}))
        if self.down:
            raise PaymentsUnavailable("down")
        if account_id not in self.accounts:
            raise AccountNotFound(account_id)
        return self.accounts[account_id]


def tracker(
    slots: dict[str, Any] | None = None,
    *,
    text: str = "",
    channel: str = "rest",
    metadata: dict[str, Any] | None = None,
    sender_id: str = "conv-1",
) -> Tracker:
    """A tracker whose latest message came in on `channel` with `metadata`."""
    latest = {"text": text, "intent": {"name": "inform"}, "entities": [], "metadata": metadata or {}}
    events = [{"event": "user", "text": text, "input_channel": channel, "metadata": metadata or {}, "parse_data": latest}]
    return Tracker(sender_id, slots or {}, latest, events, False, None, {}, "action_listen")
