"""Charges we make ourselves: the PaymentMethod a Twilio <Pay> returned, and a plan's saved card
off-session for an installment (the scheduler). Stripe's direct answer settles the payment; the
webhook that follows changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AccountRepository
from payments.domain.errors import Conflict, Gone, InvalidRequest, NotFound, UpstreamUnavailable
from payments.domain.payment import Hold, Payment, PaymentEvent, PaymentMethod, PaymentStatus, PhoneCharge, phone_charge
from payments.domain.plan import InstallmentStatus, Plan, PlanStatus
from payments.services.payment_events import after_event, apply_event, hold_late_success
from payments.services.payment_links import new_payment
from payments.services.payment_use_case import PaymentUseCase, audit_payment, expire_if_due
from payments.services.ports import ChargeOutcome
from payments.services.standing import refuse_unless_collectable


@dataclass(frozen=True)
class ChargeResult:
    """`failed` carries `decline_code`; `unavailable` means Stripe did not answer (nothing recorded
    as failed; retry later with the same call)."""

    status: Literal["succeeded", "processing", "failed", "unavailable"]
    payment: Payment | None
    decline_code: str | None = None


def result_of(payment: Payment) -> ChargeResult:
    if payment.status is PaymentStatus.SUCCEEDED:
        return ChargeResult("succeeded", payment)
    if payment.status in (PaymentStatus.PROCESSING, PaymentStatus.PENDING):
        return ChargeResult("processing", payment)
    return ChargeResult("failed", payment, payment.failure_code or payment.status.value)


class Charges(PaymentUseCase):
    async def charge_ivr_token(
        self,
        payment_method_token: str,
        idempotency_key: str,
        *,
        payment_id: str | None = None,
        account_id: str | None = None,
        amount_cents: int | None = None,
        conversation_id: str | None = None,
        channel: str = "voice",
    ) -> ChargeResult:
        """Charge the PaymentMethod id Twilio <Pay> returned (Stripe connector, tokenType
        payment-method), for an existing pending payment (`payment_id`) or a new one
        (`account_id` + `amount_cents`, same amount rules as `create_payment`).

        `idempotency_key` names this attempt: it is the Stripe key of the charge (and, for a new
        payment, the payment's key). A payment already final is not charged again: its result is
        returned. A payment whose link page already made a PaymentIntent is refused (`Conflict`,
        `payment_in_progress`), so one payment can never be paid twice by two routes.
        """

        def prepare() -> tuple[Payment, str | None, ChargeResult | None]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                now = self.clock()
                if payment_id is not None:
                    payment = repo.get(payment_id, for_update=True)
                    if payment is None:
                        raise NotFound(f"no payment {payment_id}")
                else:
                    if account_id is None or amount_cents is None:
                        raise InvalidRequest("give payment_id, or account_id and amount_cents")
                    key = f"{account_id}:{idempotency_key}"
                    found = repo.by_idempotency_key(key)
                    if found is None:
                        found = new_payment(
                            session, now, account_id, amount_cents, channel, key, conversation_id, None, None,
                            PaymentMethod.IVR,
                        )  # fmt: skip
                        detail = {"amount_cents": amount_cents, "method": found.method.value}
                        audit_payment(
                            session, "payment_created", found, at=found.created_at, actor="assistant", detail=detail
                        )
                    payment = found
                payment = expire_if_due(session, payment, now)
                verdict = phone_charge(payment)
                if verdict is PhoneCharge.EXPIRED:
                    raise Gone("this payment expired", code="payment_expired")
                if verdict is PhoneCharge.DONE:
                    return payment, None, result_of(payment)
                # Standing again at charge time: the payment may have been made before a pause.
                refuse_unless_collectable(session, payment.account_id)
                if verdict is PhoneCharge.IN_PROGRESS:
                    raise Conflict("this payment is being paid on its payment page", code="payment_in_progress")
                if payment.method is not PaymentMethod.IVR:
                    # The link no longer works (the page checks the method).
                    payment = repo.switch_method(payment.id, PaymentMethod.IVR, self.clock())
                plan = PlanRepository(session).get(payment.plan_id) if payment.plan_id else None
                return payment, plan.stripe_customer_id if plan else None, None

        payment, customer_id, done = await asyncio.to_thread(prepare)
        if done is not None:
            return done
        if payment.plan_id and customer_id is None:
            customer_id = await self.plan_customer(payment.plan_id, payment.account_id)
        try:
            outcome = await self.gateway.charge_payment_method(
                amount_cents=payment.amount.amount_cents,
                currency=payment.amount.currency,
                payment_method_id=payment_method_token,
                metadata={"payment_id": payment.id, "account_id": payment.account_id},
                idempotency_key=f"ivr-{payment.id}-{idempotency_key}"[:255],
                customer_id=customer_id,
                save_for_later=payment.plan_id is not None,
            )
        except UpstreamUnavailable:
            return ChargeResult("unavailable", payment)
        return await asyncio.to_thread(self._record_charge, payment.id, outcome)

    async def charge_installment(self, installment_id: int, now: datetime | None = None) -> ChargeResult:
        """Charge a plan installment to the plan's saved card, off-session (for the scheduler).

        Idempotent: the payment's key is `installment-{installment_id}` and the Stripe key
        `payment-{payment id}`; a call after a final result returns it without charging again.
        Returns `succeeded`, `processing`, `failed` with the decline code (also
        `no_saved_payment_method` when the plan has no saved card; no payment is made then), or
        `unavailable` (Stripe did not answer; the payment stays pending for the next run).
        The installment is marked `paid` or `failed`; fresh links and broken plans are the
        scheduler's. Raises `NotFound`, `Conflict` (`plan_not_active`, `installment_paid`),
        `PolicyRefused` (`collection_paused`) and `InvalidRequest` (`nothing_due`: balance is zero).
        The payment has no conversation id: the scheduler decides what to tell the customer.
        """
        at = now or self.clock()

        def prepare() -> tuple[Payment | None, Plan | None, ChargeResult | None]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                found = PlanRepository(session).installment_in_plan(installment_id)
                if found is None:
                    raise NotFound(f"no installment {installment_id}")
                plan, installment = found
                existing = repo.by_idempotency_key(f"installment-{installment_id}")
                if existing is not None and existing.status is not PaymentStatus.PENDING:
                    return existing, plan, result_of(existing)
                # Standing is checked again at charge time, also for a payment left pending by an
                # earlier pass (a flag may have been set since).
                refuse_unless_collectable(session, plan.account_id)
                if existing is None:
                    if installment.status is InstallmentStatus.PAID:
                        raise Conflict(f"installment {installment_id} is already paid", code="installment_paid")
                    if plan.status is not PlanStatus.ACTIVE:
                        raise Conflict(f"plan {plan.id} is {plan.status}", code="plan_not_active")
                    if not (plan.stripe_customer_id and plan.stripe_payment_method_id):
                        return None, plan, ChargeResult("failed", None, "no_saved_payment_method")
                    account = AccountRepository(session).get(plan.account_id)
                    assert account is not None
                    amount = min(installment.amount_cents, account.balance.amount_cents)
                    if amount <= 0:
                        raise InvalidRequest("nothing is owed on this account", code="nothing_due")
                    existing = new_payment(
                        session, self.clock(), plan.account_id, amount, plan.channel, f"installment-{installment_id}",
                        None, plan.id, installment_id, PaymentMethod.OFF_SESSION,
                    )  # fmt: skip
                    detail = {"amount_cents": amount, "method": existing.method.value, "plan_id": plan.id}
                    detail["installment_id"] = installment_id
                    audit_payment(session, "payment_created", existing, at=at, actor="scheduler", detail=detail)
                return existing, plan, None

        payment, plan, done = await asyncio.to_thread(prepare)
        if done is not None:
            return done
        assert payment is not None and plan is not None
        if not (plan.stripe_customer_id and plan.stripe_payment_method_id):
            return ChargeResult("failed", payment, "no_saved_payment_method")
        try:
            outcome = await self.gateway.charge_off_session(
                amount_cents=payment.amount.amount_cents,
                currency=payment.amount.currency,
                customer_id=plan.stripe_customer_id,
                payment_method_id=plan.stripe_payment_method_id,
                metadata={"payment_id": payment.id, "account_id": payment.account_id},
                idempotency_key=f"payment-{payment.id}",
            )
        except UpstreamUnavailable:
            return ChargeResult("unavailable", payment)
        return await asyncio.to_thread(self._record_charge, payment.id, outcome)

    def _record_charge(self, payment_id: str, outcome: ChargeOutcome) -> ChargeResult:
        """Apply Stripe's direct answer to a charge; the webhook that follows changes nothing."""
        now = self.clock()
        with self.sessions.begin() as session:
            repo = PaymentRepository(session)
            payment = repo.get(payment_id, for_update=True)
            assert payment is not None
            if payment.payment_intent_id is None and outcome.payment_intent_id:
                payment = repo.store_intent(payment.id, outcome.payment_intent_id, now)
            if outcome.status == "succeeded":
                applied = apply_event(
                    session,
                    payment,
                    PaymentEvent.SUCCEEDED,
                    now,
                    actor="stripe",
                    customer_id=outcome.customer_id,
                    payment_method_id=outcome.payment_method_id,
                )
            elif outcome.status == "processing":
                applied = apply_event(session, payment, PaymentEvent.PROCESSING, now, actor="stripe")
            else:
                # Off-session and by phone nobody can complete 3-D Secure: that is a failure too.
                code = outcome.decline_code if outcome.status == "declined" else "authentication_required"
                applied = apply_event(session, payment, PaymentEvent.FAILED, now, actor="stripe", failure_code=code)
            if isinstance(applied.decision, Hold):
                hold_late_success(
                    session, applied.payment, now, event_id=None, payment_intent=outcome.payment_intent_id
                )
            result = result_of(applied.payment)
        # As after a webhook: a case for a person when the money needs one (a success held, or
        # money beyond the balance, which is owed back).
        after_event(self.sessions, self.clock, applied)
        return result
