"""A fake payments client and tracker builders for action unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rasa_sdk import Tracker

from actions.payments_client import (
    AccountNotFound,
    AccountSummary,
    BookedPlan,
    HandoffCase,
    OfferSummary,
    Offers,
    PaymentLink,
    PaymentStatus,
    PaymentsUnavailable,
    RecentPayment,
    Refused,
    ScheduledPayment,
    VerificationLocked,
    VerificationOutcome,
)

TODAY = date(2026, 3, 2)


def plan_offer(months: int, first: int, rest: int) -> OfferSummary:
    schedule = tuple(
        ScheduledPayment(date(2026, 3 + i, 2), first if i == 0 else rest) for i in range(months)
    )
    return OfferSummary(
        id=f"installments_{months}", kind="installments",
        description=f"Pay $310.00 in {months} monthly payments.", currency="USD",
        total_cents=first + rest * (months - 1), schedule=schedule,
    )


def pay_now(offer_id: str, kind: str, cents: int) -> OfferSummary:
    return OfferSummary(offer_id, kind, f"Pay {cents} today.", "USD", cents, (ScheduledPayment(TODAY, cents),))


MARIA_OFFERS = (
    pay_now("past_due", "pay_past_due", 31000),
    pay_now("full", "pay_in_full", 245000),
    pay_now("minimum", "pay_minimum", 9500),
    plan_offer(3, 10334, 10333),
    plan_offer(6, 5170, 5166),
)
HARDSHIP_OFFER = OfferSummary("hardship_6", "hardship", "Reduced payments.", "USD", 15000,
                              tuple(ScheduledPayment(date(2026, 3 + i, 2), 2500) for i in range(6)))

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
    collection_allowed: bool = True
    refuse_with: str | None = None  # a stable code the next booking/payment/promise is refused with
    payments: dict[str, PaymentStatus] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self.down:
            raise PaymentsUnavailable("down")

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for n, kwargs in self.calls if n == name]

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


    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str) -> Offers:
        self._call("get_offers", account_id=account_id, hardship=hardship)
        offers = MARIA_OFFERS + ((HARDSHIP_OFFER,) if hardship else ())
        return Offers(self.collection_allowed, offers if self.collection_allowed else ())

    async def book_plan(self, account_id: str, **kwargs: Any) -> BookedPlan:
        self._call("book_plan", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "refused")
        offer = next(o for o in MARIA_OFFERS + (HARDSHIP_OFFER,) if o.id == kwargs["offer_id"])
        return BookedPlan("PLN-TEST22", offer.currency, offer.total_cents, offer.schedule)

    async def create_payment(self, account_id: str, **kwargs: Any) -> PaymentLink:
        self._call("create_payment", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "refused")
        return PaymentLink("PAY-TEST22", kwargs["amount_cents"], "USD", "http://pay.test/pay/tok")

    async def recent_payments(self, account_id: str, *, conversation_id: str) -> list[RecentPayment]:
        self._call("recent_payments", account_id=account_id)
        return [RecentPayment("PAY-OLD222", 31000, "USD", "succeeded", "2026-02-27T15:00:00Z")]

    async def get_payment(self, payment_id: str, *, conversation_id: str) -> PaymentStatus:
        self._call("get_payment", payment_id=payment_id)
        if payment_id not in self.payments:
            raise AccountNotFound(payment_id)
        return self.payments[payment_id]

    async def make_promise(self, account_id: str, **kwargs: Any) -> str:
        self._call("make_promise", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "a promise must be at least the minimum due, $95.00")
        return "PTP-TEST22"

    async def create_handoff(self, **kwargs: Any) -> HandoffCase:
        self._call("create_handoff", **kwargs)
        return HandoffCase("CASE-TEST22", 2)

    async def set_flag(self, account_id: str, **kwargs: Any) -> None:
        self._call("set_flag", account_id=account_id, **kwargs)

    async def phone_opt_out(self, phone: str, **kwargs: Any) -> None:
        self._call("phone_opt_out", phone=phone, **kwargs)

    async def phone_wrong_number(self, phone: str, **kwargs: Any) -> None:
        self._call("phone_wrong_number", phone=phone, **kwargs)


def tracker(
    slots: dict[str, Any] | None = None,
    *,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    channel: str = "rest",
    metadata: dict[str, Any] | None = None,
    sender_id: str = "conv-1",
    earlier_intents: tuple[str, ...] = (),
) -> Tracker:
    """A tracker whose latest message (`text`, `intent`, `entities`) came in on `channel`;
    `earlier_intents` are the customer's previous turns, oldest first."""
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or [], "metadata": metadata or {}}
    events = [
        {"event": "user", "text": f"earlier {i}", "input_channel": channel, "parse_data": {"intent": {"name": i}}}
        for i in earlier_intents
    ]
    events.append({"event": "user", "text": text, "input_channel": channel, "metadata": metadata or {},
                   "parse_data": latest})
    return Tracker(sender_id, slots or {}, latest, events, False, None, {}, "action_listen")
