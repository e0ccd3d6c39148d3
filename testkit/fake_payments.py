"""A fake of the payments service for the action tests: `FakePaymentsClient` implements
`clients.payments.PaymentsClient` from memory, and `tests/clients/test_payments.py` checks it
gives the real app's answers (sessions, standing, reports, opt-out, revocations, plans).

No rasa or rasa-sdk here (it runs under both environments); the tracker builders of the action
tests stay in `tests/actions/fakes.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from actions.config import get_settings
from clients.payments import (
    AccountNotFound,
    AccountSummary,
    ActivePlan,
    BookedPlan,
    DueAmount,
    HandoffCase,
    Offers,
    OfferSummary,
    PaymentLink,
    PaymentStatus,
    PaymentsUnavailable,
    PhoneConsent,
    RecentPayment,
    Refused,
    Report,
    RevocationReceipt,
    ScheduledPayment,
    Standing,
    VerificationLocked,
    VerificationOutcome,
    VerificationRequired,
)
from contracts.names import PauseReason

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

# Three of the seeded accounts (payments/seed.py), as the service describes them.
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
ROBERT = replace(
    MARIA,
    id="A1004",
    first_name="Robert",
    balance_cents=320000,
    past_due_cents=80000,
    minimum_due_cents=80000,
    days_past_due=95,
    flags=("bankruptcy",),
    collection_allowed=False,
)
DANA = replace(MARIA, id="A1005", first_name="Dana", balance_cents=115075, past_due_cents=22000, minimum_due_cents=6000)
# Maria's standing with a plan in force: its next installment $51.70 on December 10, 2026.
WITH_PLAN = Standing(
    MARIA.id,
    "open",
    "allowed",
    (),
    ActivePlan("PLN-AAA111", "installments", "active", DueAmount(5170, "USD", date(2026, 12, 10))),
)
# The seed's verification factors (card last 4, date of birth) and phone numbers of those accounts.
SEEDED_CARDHOLDERS = {
    ("4821", date(1985, 3, 14)): "A1001",
    ("3056", date(1968, 1, 30)): "A1004",
    ("9902", date(1995, 9, 9)): "A1005",
}
SEEDED_PHONES = {"+15125550101": "A1001", "+13125550104": "A1004", "+14045550105": "A1005"}


def public_url(path: str) -> str:
    """An address on our payment pages' origin (PAYMENTS_PUBLIC_URL)."""
    return get_settings().payments_public_url + path


@dataclass
class FakePaymentsClient:
    """Answers from memory; `down=True` behaves like an unreachable service.

    By default it verifies anyone as `verify_outcome` says, with session `session`, valid in every
    conversation until `session_ended`. `seeded()` is the fake the contract test checks against
    the real app: it verifies the seed's factors only, binds each session to the conversation
    that verified, finds accounts by phone, and pauses an account a report points to."""

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
    # seeded(): verification factors → account, phone → account.
    cardholders: dict[tuple[str, date], str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # conversation → the session it verified
    reported: set[str] = field(default_factory=set)  # accounts a report points to (pending review)
    plans: dict[str, ActivePlan] = field(default_factory=dict)  # account → the plan booked (seeded())
    opted_out: set[tuple[str, str]] = field(default_factory=set)  # (account, medium)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def seeded(cls) -> FakePaymentsClient:
        """The fake of a freshly seeded service (Maria A1001, Robert A1004, Dana A1005)."""
        return cls(
            accounts={a.id: a for a in (MARIA, ROBERT, DANA)},
            cardholders=dict(SEEDED_CARDHOLDERS),
            phones=dict(SEEDED_PHONES),
            receipt_url=public_url("/plans/PLN-TEST22/receipt?t=fake"),
        )

    def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self.down:
            raise PaymentsUnavailable("down")

    def _c2(self, name: str, **kwargs: Any) -> None:
        """A call that needs the verification session (C2)."""
        self._call(name, **kwargs)
        session = kwargs.get("session")
        bound = self.sessions.get(str(kwargs.get("conversation_id")))
        if self.session_ended or session != self.session or (self.sessions and bound != session):
            raise VerificationRequired(name)

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for n, kwargs in self.calls if n == name]

    def _accounts_of(self, phone: str | None, account_id: str | None) -> tuple[str, ...]:
        if account_id:
            return (account_id,)
        return tuple(a for p, a in self.phones.items() if p == phone)

    async def verify(self, **kwargs: Any) -> VerificationOutcome:
        self.calls.append(("verify", kwargs))
        if self.down:
            raise PaymentsUnavailable("down")
        if self.locked:
            raise VerificationLocked(1800)
        outcome = self.verify_outcome
        if self.cardholders:
            account_id = self.cardholders.get((kwargs.get("card_last4") or "", kwargs.get("dob") or TODAY))
            outcome = VerificationOutcome(account_id is not None, account_id, 3 if account_id else 2)
        if not outcome.verified:
            return outcome
        self.sessions[str(kwargs.get("conversation_id"))] = self.session
        return VerificationOutcome(True, outcome.account_id, outcome.attempts_left, self.session)

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
        standing = replace(Standing.from_account(self.accounts[account_id]), active_plan=self.plans.get(account_id))
        if account_id in self.reported:
            reasons = (*standing.pause_reasons, PauseReason.PENDING_REVIEW)
            return replace(standing, collection="paused", pause_reasons=reasons)
        return standing

    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str, session: str | None) -> Offers:
        self._c2(
            "get_offers", account_id=account_id, hardship=hardship, conversation_id=conversation_id, session=session
        )
        offers = MARIA_OFFERS + ((HARDSHIP_OFFER,) if hardship else ())
        return Offers(self.collection_allowed, offers if self.collection_allowed else ())

    async def book_plan(self, account_id: str, **kwargs: Any) -> BookedPlan:
        self._c2("book_plan", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "refused")
        offer = next(o for o in MARIA_OFFERS + (HARDSHIP_OFFER,) if o.id == kwargs["offer_id"])
        plan = BookedPlan("PLN-TEST22", offer.currency, offer.total_cents, offer.schedule, self.receipt_url)
        if self.cardholders:
            self.plans[account_id] = ActivePlan(plan.id, offer.kind, "active", None)
        return plan

    async def create_payment(self, account_id: str, **kwargs: Any) -> PaymentLink:
        self._c2("create_payment", account_id=account_id, **kwargs)
        if self.refuse_with:
            raise Refused(self.refuse_with, "refused")
        return PaymentLink("PAY-TEST22", kwargs["amount_cents"], "USD", self.link_url or public_url("/pay/tok"))

    async def recent_payments(
        self, account_id: str, *, conversation_id: str, session: str | None
    ) -> list[RecentPayment]:
        self._c2("recent_payments", account_id=account_id, conversation_id=conversation_id, session=session)
        return [RecentPayment("PAY-OLD222", 31000, "USD", "succeeded", "2026-02-27T15:00:00Z")]

    async def get_payment(self, payment_id: str, *, conversation_id: str, session: str | None) -> PaymentStatus:
        self._c2("get_payment", payment_id=payment_id, conversation_id=conversation_id, session=session)
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

    async def phone_opt_out(self, phone: str, **kwargs: Any) -> PhoneConsent:
        self._call("phone_opt_out", phone=phone, **kwargs)
        return self._consent(phone, str(kwargs.get("medium")), opt_out=True)

    async def phone_opt_in(self, phone: str, **kwargs: Any) -> PhoneConsent:
        self._call("phone_opt_in", phone=phone, **kwargs)
        return self._consent(phone, str(kwargs.get("medium")), opt_out=False)

    def _consent(self, phone: str, medium: str, *, opt_out: bool) -> PhoneConsent:
        accounts = self._accounts_of(phone, None)
        changed = tuple(a for a in accounts if ((a, medium) in self.opted_out) != opt_out)
        for account in changed:
            (self.opted_out.add if opt_out else self.opted_out.discard)((account, medium))
        return PhoneConsent(accounts, changed)

    async def phone_wrong_number(self, phone: str, **kwargs: Any) -> None:
        self._call("phone_wrong_number", phone=phone, **kwargs)

    async def record_revocation(self, **body: Any) -> RevocationReceipt:
        self._call("record_revocation", **body)
        phone, account_id, media = body.get("phone"), body.get("account_id"), tuple(body.get("media") or ())
        cease = bool(body.get("cease"))
        if not (phone or account_id) or not (media or cease or body.get("inconvenient")):  # as the service's 422
            raise Refused("validation_error", "a revocation needs a phone or an account, and what to revoke")
        accounts = self._accounts_of(phone, account_id)
        for account in accounts:
            self.opted_out.update((account, medium) for medium in media)
        return RevocationReceipt(True, media, cease, accounts)

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
        if not self.phones:
            return Report("RPT-TEST22", self.report_accounts)
        accounts = self._accounts_of(kwargs.get("phone"), kwargs.get("account_id"))
        self.reported.update(accounts)
        return Report("RPT-TEST22", accounts)
