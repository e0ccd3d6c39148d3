"""A fake payments client and tracker builders for action unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker

from actions.config import get_settings
from actions.payments_client import (
    AccountNotFound,
    AccountSummary,
    BookedPlan,
    HandoffCase,
    Offers,
    OfferSummary,
    PaymentLink,
    PaymentStatus,
    PaymentsUnavailable,
    RecentPayment,
    Refused,
    Report,
    ScheduledPayment,
    Standing,
    VerificationLocked,
    VerificationOutcome,
    VerificationRequired,
)
from contracts.channel_facts import FACTS_KEY, ChannelFacts, sign

# Rasa input channel names of our connectors → the signed channel name (C0).
SIGNED_CHANNEL = {"twilio_sms": "sms", "twilio_voice": "voice", "webchat": "web", "socketio": "web", "rest": "rest"}

TODAY = date(2026, 3, 2)


def plan_offer(months: int, first: int, rest: int) -> OfferSummary:
    schedule = tuple(ScheduledPayment(date(2026, 3 + i, 2), first if i == 0 else rest) for i in range(months))
    return OfferSummary(
        id=f"installments_{months}",
        kind="installments",
        description=f"Pay $310.00 in {months} monthly payments.",
        currency="USD",
        total_cents=first + rest * (months - 1),
        schedule=schedule,
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
HARDSHIP_OFFER = OfferSummary(
    "hardship_6",
    "hardship",
    "Reduced payments.",
    "USD",
    15000,
    tuple(ScheduledPayment(date(2026, 3 + i, 2), 2500) for i in range(6)),
)

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
    # C4: None answers from the account's flags (as the client does without /standing).
    standing: Standing | None = None
    session: str = "VS-TEST22"  # the verification session /api/verify opens
    session_ended: bool = False  # every C2 call then answers verification_required
    report_accounts: tuple[str, ...] = ("A1001",)  # what /api/reports says the report points to
    reports_down: bool = False
    receipt_url: str | None = None
    link_url: str | None = None  # None: a link on our public host
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self.down:
            raise PaymentsUnavailable("down")

    def _c2(self, name: str, **kwargs: Any) -> None:
        """A call that needs the verification session (C2)."""
        self._call(name, **kwargs)
        if self.session_ended or kwargs.get("session") != self.session:
            raise VerificationRequired(name)

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for n, kwargs in self.calls if n == name]

    async def verify(self, **kwargs: Any) -> VerificationOutcome:
        self.calls.append(("verify", kwargs))
        if self.down:
            raise PaymentsUnavailable("down")
        if self.locked:
            raise VerificationLocked(1800)
        if self.verify_outcome.verified:
            return VerificationOutcome(
                True, self.verify_outcome.account_id, self.verify_outcome.attempts_left, self.session
            )
        return self.verify_outcome

    async def get_account(self, account_id: str, *, conversation_id: str, session: str | None) -> AccountSummary:
        self._c2("get_account", account_id=account_id, conversation_id=conversation_id, session=session)
        if account_id not in self.accounts:
            raise AccountNotFound(account_id)
        return self.accounts[account_id]

    async def get_standing(self, account_id: str, *, conversation_id: str, session: str | None) -> Standing:
        self._c2("get_standing", account_id=account_id, conversation_id=conversation_id, session=session)
        if self.standing is not None:
            return self.standing
        if account_id not in self.accounts:
            raise AccountNotFound(account_id)
        return Standing.from_account(self.accounts[account_id])

    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str, session: str | None) -> Offers:
        self._c2("get_offers", account_id=account_id, hardship=hardship, session=session)
        offers = MARIA_OFFERS + ((HARDSHIP_OFFER,) if hardship else ())
        return Offers(self.collection_allowed, offers if self.collection_allowed else ())

    async def book_plan(self, account_id: str, **kwargs: Any) -> BookedPlan:
        self._c2("book_plan", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "refused")
        offer = next(o for o in MARIA_OFFERS + (HARDSHIP_OFFER,) if o.id == kwargs["offer_id"])
        return BookedPlan("PLN-TEST22", offer.currency, offer.total_cents, offer.schedule, self.receipt_url)

    async def create_payment(self, account_id: str, **kwargs: Any) -> PaymentLink:
        self._c2("create_payment", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "refused")
        return PaymentLink("PAY-TEST22", kwargs["amount_cents"], "USD", self.link_url or public_url("/pay/tok"))

    async def recent_payments(
        self, account_id: str, *, conversation_id: str, session: str | None
    ) -> list[RecentPayment]:
        self._c2("recent_payments", account_id=account_id, session=session)
        return [RecentPayment("PAY-OLD222", 31000, "USD", "succeeded", "2026-02-27T15:00:00Z")]

    async def get_payment(self, payment_id: str, *, conversation_id: str, session: str | None) -> PaymentStatus:
        self._c2("get_payment", payment_id=payment_id, session=session)
        if payment_id not in self.payments:
            raise AccountNotFound(payment_id)
        return self.payments[payment_id]

    async def get_payment_result(self, payment_id: str, *, conversation_id: str) -> PaymentStatus:
        """As the service: only the conversation the payment was created in hears its result."""
        self._call("get_payment_result", payment_id=payment_id, conversation_id=conversation_id)
        payment = self.payments.get(payment_id)
        if payment is None or payment.conversation_id != conversation_id:
            raise AccountNotFound(payment_id)
        return payment

    async def make_promise(self, account_id: str, **kwargs: Any) -> str:
        self._c2("make_promise", account_id=account_id, **kwargs)
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

    async def end_verification_session(self, **kwargs: Any) -> int:
        self._call("end_verification_session", **kwargs)
        self.session_ended = True
        return 1

    async def record_call_conversation(self, account_id: str, **kwargs: Any) -> None:
        self._call("record_call_conversation", account_id=account_id, **kwargs)

    async def create_report(self, **kwargs: Any) -> Report:
        self._call("create_report", **kwargs)
        if self.reports_down:
            raise PaymentsUnavailable("reports down")
        return Report("RPT-TEST22", self.report_accounts)


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    """bot/domain as Rasa sends it to the action server with each call."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(Path(__file__).resolve().parents[2] / "bot" / "domain")).as_dict()


def public_url(path: str) -> str:
    """An address on our payment pages' origin (PAYMENTS_PUBLIC_URL)."""
    return get_settings().payments_public_url + path


def signed(
    channel: str,
    sender_id: str = "conv-1",
    phone: str | None = None,
    call_sid: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Message metadata as our connector signs it (C0) for `channel` (a Rasa input channel name)."""
    facts = ChannelFacts(SIGNED_CHANNEL[channel], sender_id, phone, call_sid)
    return {FACTS_KEY: sign(facts, key or get_settings().channel_facts_key)}


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
    earlier_metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message (`text`, `intent`, `entities`, `metadata`) came in on
    `channel`; `earlier_intents` are the customer's previous turns, oldest first, each with
    `earlier_metadata`. Slots that say `verified` get the fake's verification session unless
    they name one. Signed channel facts come from `signed(...)`."""
    slots = dict(slots or {})
    if slots.get("verification_status") == "verified":
        slots.setdefault("verification_session", FakePaymentsClient.session)
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or [], "metadata": metadata or {}}
    events = [
        {
            "event": "user",
            "text": f"earlier {i}",
            "input_channel": channel,
            "metadata": earlier_metadata or {},
            "parse_data": {"intent": {"name": i}},
        }
        for i in earlier_intents
    ]
    events.append(
        {"event": "user", "text": text, "input_channel": channel, "metadata": metadata or {}, "parse_data": latest}
    )
    return Tracker(sender_id, slots, latest, events, False, None, {}, "action_listen")
