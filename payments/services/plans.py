"""Offers, plans and promises to pay: what the customer may choose, and booking it safely."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.compliance_repository import serialize_writes
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AccountRepository, AuditLog
from payments.domain.accounts import Account
from payments.domain.consent import HOW_TO_CANCEL, authorization_summary, canonical_consent
from payments.domain.errors import Conflict, InvalidRequest, NotFound, PolicyRefused
from payments.domain.ids import new_public_id
from payments.domain.money import Money
from payments.domain.offers import Offer, compute_offers, format_date
from payments.domain.plan import (
    InstallmentEvent,
    Plan,
    PlanEvent,
    PlanStatus,
    Promise,
    PromiseStatus,
    installment_after,
    plan_after,
)
from payments.domain.policy import PlanPolicy
from payments.services.clock import Clock, utc_now
from payments.services.standing import refuse_unless_collectable, standing_in

MIN_CONSENT_CHARS = 20


@dataclass(frozen=True)
class OfferList:
    account_id: str
    offers: list[Offer]
    collection_allowed: bool


@dataclass(frozen=True)
class Booking:
    plan: Plan
    created: bool  # False when the idempotency key matched an earlier booking
    # The receipt page's token, `/receipts/{token}` (only its hash is stored). A replayed booking
    # gets a fresh one and the earlier one stops working, as with payment links.
    receipt_token: str


@dataclass(frozen=True)
class ReceiptLine:
    seq: int
    due_date: date
    amount: Money
    status: str


@dataclass(frozen=True)
class Receipt:
    """The recurring-charge authorization as the customer may see it again: no surname, phone,
    date of birth or balance."""

    plan_id: str
    first_name: str
    card_last4: str
    kind: str
    status: str
    settles_balance: bool
    total: Money
    schedule: list[ReceiptLine]
    summary: str
    consent_text: str
    consent_channel: str
    consent_at: datetime
    how_to_cancel: str


def hash_receipt_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_receipt_token(session: Session, plan: Plan) -> str:
    """A fresh receipt link for a booked plan; the previous one stops working."""
    token = secrets.token_urlsafe(32)
    PlanRepository(session).set_receipt_token_hash(plan.id, hash_receipt_token(token))
    return token


def _local_today(account: Account, now: datetime) -> date:
    return now.astimezone(ZoneInfo(account.time_zone)).date()


class PlanService:
    def __init__(self, sessions: sessionmaker[Session], policy: PlanPolicy, *, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock

    def _account(self, session: Session, account_id: str) -> Account:
        account = AccountRepository(session).get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}")
        return account

    def offers(self, account_id: str, *, start: date | None = None, hardship: bool = False) -> OfferList:
        """The options the policy allows now, in the consumer's local calendar."""
        with self.sessions() as session:
            account = self._account(session, account_id)
            collectable = standing_in(session, account_id).collection_allowed
        if not collectable:  # a pending report from anyone pauses offers too, not only flags
            return OfferList(account_id, [], False)
        today = _local_today(account, self.clock())
        offers = compute_offers(account, self.policy, today, start=start, hardship=hardship)
        return OfferList(account_id, offers, True)

    def book(
        self,
        account_id: str,
        *,
        offer_id: str,
        channel: str,
        idempotency_key: str,
        consent_text: str | None = None,
        conversation_id: str | None = None,
        start: date | None = None,
    ) -> Booking:
        """Book the offer `offer_id` as it stands now.

        `consent_text` is exactly what the customer was shown and agreed to on `channel`; stored
        with the plan and the time. Without it the canonical read-back (`canonical_consent`) is
        stored, marked `canonical`. The same `idempotency_key` returns the same plan. Refused with
        `collection_paused`, `offer_not_allowed` (the policy does not offer it now) or
        `plan_already_active`; two concurrent bookings for one account give exactly one plan
        (unique index on active and suspended plans).
        """
        if consent_text is not None and len(consent_text.strip()) < MIN_CONSENT_CHARS:
            raise InvalidRequest("consent_text must record what the customer agreed to")
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                # Retries and double-clicks of one booking take turns, so a retry sees the plan its
                # twin just committed (by its key) instead of finding "an active plan" and refusing.
                serialize_writes(session, f"account:{account_id}")
                plans = PlanRepository(session)
                earlier = plans.by_key(account_id, idempotency_key)
                if earlier is not None:
                    return Booking(earlier, False, _new_receipt_token(session, earlier))
                account = self._account(session, account_id)
                refuse_unless_collectable(session, account_id)
                offer = self._allowed_offer(account, offer_id, now, start)
                if plans.in_force(account_id) is not None:
                    raise Conflict("this account already has an active plan", code="plan_already_active")
                source = "client" if consent_text is not None else "canonical"
                consent = consent_text if consent_text is not None else canonical_consent(offer)
                receipt_token = secrets.token_urlsafe(32)
                plan = plans.add(
                    account_id,
                    offer,
                    channel=channel,
                    idempotency_key=idempotency_key,
                    consent_text=consent,
                    consent_source=source,
                    conversation_id=conversation_id,
                    receipt_token_hash=hash_receipt_token(receipt_token),
                    now=now,
                )
                AuditLog(session).record(
                    "plan_booked",
                    at=now,
                    actor="customer",
                    channel=channel,
                    account_id=account_id,
                    conversation_id=conversation_id,
                    detail={
                        "plan_id": plan.id,
                        "offer_id": offer.id,
                        "total_cents": plan.total.amount_cents,
                        "currency": plan.total.currency,
                        "installments": len(offer.schedule),
                        "consent_text": consent,
                        "consent_source": source,
                    },
                )
                return Booking(plan, True, receipt_token)
        except IntegrityError:
            # Lost a race: the same key booked a moment ago, or another plan became active.
            with self.sessions.begin() as session:
                earlier = PlanRepository(session).by_key(account_id, idempotency_key)
                token = _new_receipt_token(session, earlier) if earlier is not None else None
            if earlier is not None and token is not None:
                return Booking(earlier, False, token)
            raise Conflict("this account already has an active plan", code="plan_already_active") from None

    def _allowed_offer(self, account: Account, offer_id: str, now: datetime, start: date | None) -> Offer:
        today = _local_today(account, now)
        hardship = offer_id.startswith("hardship_")
        for offer in compute_offers(account, self.policy, today, start=start, hardship=hardship):
            if offer.id == offer_id:
                return offer
        raise PolicyRefused("offer_not_allowed", f"offer {offer_id!r} is not available for this account now")

    def receipt(self, token: str) -> Receipt:
        """The plan's recurring-charge authorization for `/receipts/{token}`; `NotFound` otherwise."""
        with self.sessions() as session:
            plan = PlanRepository(session).by_receipt_token_hash(hash_receipt_token(token))
            if plan is None:
                raise NotFound("unknown receipt")
            account = self._account(session, plan.account_id)
            schedule = [ReceiptLine(i.seq, i.due_date, i.amount, i.status.value) for i in plan.installments]
            total = plan.total
            return Receipt(
                plan_id=plan.id,
                first_name=account.full_name.split()[0],
                card_last4=account.card_last4,
                kind=plan.kind,
                status=plan.status.value,
                settles_balance=plan.settles_balance,
                total=total,
                schedule=schedule,
                summary=authorization_summary(
                    total, len(schedule), format_date(schedule[0].due_date), format_date(schedule[-1].due_date)
                ),
                consent_text=plan.consent_text,
                consent_channel=plan.channel,
                consent_at=plan.consent_at or plan.created_at,
                how_to_cancel=HOW_TO_CANCEL,
            )

    def plans(self, account_id: str) -> list[Plan]:
        with self.sessions() as session:
            self._account(session, account_id)
            return PlanRepository(session).for_account(account_id)

    def cancel(self, account_id: str, plan_id: str, *, actor: str, channel: str, reason: str) -> Plan:
        """Cancel an active or suspended plan; cancelling twice is a no-op. Audited with who and why."""
        now = self.clock()
        with self.sessions.begin() as session:
            plans = PlanRepository(session)
            plan = plans.get(plan_id)
            if plan is None or plan.account_id != account_id:
                raise NotFound(f"no plan {plan_id} on account {account_id}")
            if plan.status is PlanStatus.CANCELLED:
                return plan
            cancelled = plan_after(plan.status, PlanEvent.CANCEL)
            if cancelled is None:
                raise Conflict(f"plan is {plan.status}", code="plan_not_active")
            plans.end(plan.id, cancelled, now)
            for installment in plan.installments:
                ended = installment_after(installment.status, InstallmentEvent.PLAN_ENDED)
                if ended is not None:
                    plans.set_installment_status(installment.id, ended)
            AuditLog(session).record(
                "plan_cancelled",
                at=now,
                actor=actor,
                channel=channel,
                account_id=account_id,
                detail={"plan_id": plan_id, "reason": reason},
            )
            after = plans.get(plan_id)
            assert after is not None  # plans are never deleted
            return after

    def promise(
        self,
        account_id: str,
        *,
        amount_cents: int,
        due_date: date,
        channel: str,
        idempotency_key: str,
        conversation_id: str | None = None,
    ) -> tuple[Promise, bool]:
        """Record a promise to pay `amount_cents` by `due_date` (within the policy's window, at
        least the minimum due). Returns the promise and whether it is new."""
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                serialize_writes(session, f"account:{account_id}")
                plans = PlanRepository(session)
                earlier = plans.promise_by_key(account_id, idempotency_key)
                if earlier is not None:
                    return earlier, False
                account = self._account(session, account_id)
                refuse_unless_collectable(session, account_id)
                today = _local_today(account, now)
                last_day = today + timedelta(days=self.policy.promise_max_days_ahead)
                if not today <= due_date <= last_day:
                    raise PolicyRefused(
                        "promise_date_out_of_range",
                        f"a promise must be for a date from {today.isoformat()} to {last_day.isoformat()}",
                    )
                minimum = account.minimum_due.amount_cents if self.policy.promise_at_least_minimum_due else 1
                if amount_cents < minimum:
                    raise PolicyRefused(
                        "promise_amount_too_low",
                        f"a promise must be at least the minimum due, {account.minimum_due.display()}",
                    )
                if amount_cents > account.balance.amount_cents:
                    raise PolicyRefused("amount_exceeds_balance", "the amount is more than the balance")
                promise = Promise(
                    id=new_public_id("PTP"),
                    account_id=account_id,
                    amount=Money(amount_cents, account.balance.currency),
                    due_date=due_date,
                    status=PromiseStatus.PENDING,
                    channel=channel,
                    conversation_id=conversation_id,
                    created_at=now,
                )
                plans.add_promise(promise, idempotency_key=idempotency_key)
                AuditLog(session).record(
                    "promise_made",
                    at=now,
                    actor="customer",
                    channel=channel,
                    account_id=account_id,
                    conversation_id=conversation_id,
                    detail={"promise_id": promise.id, "amount_cents": amount_cents, "due_date": due_date.isoformat()},
                )
                return promise, True
        except IntegrityError:
            with self.sessions() as session:
                earlier = PlanRepository(session).promise_by_key(account_id, idempotency_key)
            if earlier is None:
                raise
            return earlier, False

    def promises(self, account_id: str) -> list[Promise]:
        with self.sessions() as session:
            self._account(session, account_id)
            return PlanRepository(session).promises_of(account_id)
