"""Plans, their installments and promises as the domain sees them (`plan_of`, `promise_of`):
reads return domain objects, every write is a named method. Works inside the caller's session;
the service commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from payments.adapters.orm import InstallmentRow, PlanRow, PromiseRow
from payments.domain.ids import new_public_id
from payments.domain.money import Money
from payments.domain.offers import Offer
from payments.domain.plan import Installment, InstallmentStatus, Plan, PlanStatus, Promise, PromiseStatus


def installment_of(row: InstallmentRow, currency: str) -> Installment:
    return Installment(row.id, row.seq, row.due_date, Money(row.amount_cents, currency), InstallmentStatus(row.status))


def plan_of(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        account_id=row.account_id,
        offer_id=row.offer_id,
        kind=row.kind,
        status=PlanStatus(row.status),
        total=Money(row.total_cents, row.currency),
        settles_balance=row.settles_balance,
        channel=row.channel,
        conversation_id=row.conversation_id,
        consent_text=row.consent_text,
        consent_at=row.consent_at,
        consent_source=row.consent_source,
        created_at=row.created_at,
        ended_at=row.ended_at,
        installments=tuple(installment_of(i, row.currency) for i in row.installments),
        stripe_customer_id=row.stripe_customer_id,
        stripe_payment_method_id=row.stripe_payment_method_id,
    )


def promise_of(row: PromiseRow) -> Promise:
    return Promise(
        id=row.id,
        account_id=row.account_id,
        amount=Money(row.amount_cents, row.currency),
        due_date=row.due_date,
        status=PromiseStatus(row.status),
        channel=row.channel,
        conversation_id=row.conversation_id,
        created_at=row.created_at,
    )


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- plans: reads ---

    def get(self, plan_id: str, *, for_update: bool = False) -> Plan | None:
        row = self._row(plan_id, for_update=for_update)
        return plan_of(row) if row else None

    def by_key(self, account_id: str, idempotency_key: str) -> Plan | None:
        row = self.session.scalar(
            select(PlanRow).where(PlanRow.account_id == account_id, PlanRow.idempotency_key == idempotency_key)
        )
        return plan_of(row) if row else None

    def by_receipt_token_hash(self, token_hash: str) -> Plan | None:
        row = self.session.scalar(select(PlanRow).where(PlanRow.receipt_token_hash == token_hash))
        return plan_of(row) if row else None

    def in_force(self, account_id: str) -> Plan | None:
        """The account's current plan: active, or suspended while a pause lasts (a unique index
        keeps it to one; the newest, should there ever be two)."""
        row = self.session.scalar(
            select(PlanRow)
            .where(PlanRow.account_id == account_id, PlanRow.status.in_(PlanStatus.in_force_values()))
            .order_by(PlanRow.created_at.desc())
            .limit(1)
        )
        return plan_of(row) if row else None

    def for_account(self, account_id: str) -> list[Plan]:
        """The account's plans, newest first."""
        rows = self.session.scalars(
            select(PlanRow).where(PlanRow.account_id == account_id).order_by(PlanRow.created_at.desc())
        )
        return [plan_of(r) for r in rows]

    def installment_in_plan(self, installment_id: int) -> tuple[Plan, Installment] | None:
        """The installment and the plan it belongs to."""
        row = self.session.get(InstallmentRow, installment_id)
        if row is None:
            return None
        plan = plan_of(row.plan)
        installment = plan.installment(installment_id)
        assert installment is not None
        return plan, installment

    def next_unpaid_installment(self, plan_id: str, amount_cents: int) -> int | None:
        """The id of the plan's earliest unpaid installment of exactly this amount, if any."""
        return self.session.scalar(
            select(InstallmentRow.id)
            .where(
                InstallmentRow.plan_id == plan_id,
                InstallmentRow.status.in_(("scheduled", "failed", "missed")),
                InstallmentRow.amount_cents == amount_cents,
            )
            .order_by(InstallmentRow.seq)
            .limit(1)
        )

    # --- plans: writes ---

    def add(
        self,
        account_id: str,
        offer: Offer,
        *,
        channel: str,
        idempotency_key: str,
        consent_text: str,
        consent_source: str,
        conversation_id: str | None,
        receipt_token_hash: str,
        now: datetime,
    ) -> Plan:
        """Book `offer` as an active plan with its installments scheduled; a second plan in force
        for the account, or a key used before, fails on flush (`IntegrityError`)."""
        row = PlanRow(
            id=new_public_id("PLN"),
            account_id=account_id,
            offer_id=offer.id,
            kind=offer.kind.value,
            status=PlanStatus.ACTIVE.value,
            currency=offer.total.currency,
            total_cents=offer.total.amount_cents,
            settles_balance=offer.settles_balance,
            channel=channel,
            conversation_id=conversation_id,
            consent_text=consent_text,
            consent_at=now,
            consent_source=consent_source,
            idempotency_key=idempotency_key,
            receipt_token_hash=receipt_token_hash,
            created_at=now,
        )
        row.installments = [
            InstallmentRow(
                seq=i, due_date=p.due_date, amount_cents=p.amount.amount_cents, status=InstallmentStatus.SCHEDULED.value
            )
            for i, p in enumerate(offer.schedule, start=1)
        ]
        self.session.add(row)
        self.session.flush()
        return plan_of(row)

    def set_receipt_token_hash(self, plan_id: str, token_hash: str) -> None:
        """A new receipt link for the plan; the previous one stops working."""
        self._stored(plan_id).receipt_token_hash = token_hash
        self.session.flush()

    def end(self, plan_id: str, status: PlanStatus, now: datetime) -> None:
        row = self._stored(plan_id)
        row.status, row.ended_at = status.value, now
        self.session.flush()

    def set_installment_status(self, installment_id: int, status: InstallmentStatus) -> None:
        row = self.session.get(InstallmentRow, installment_id)
        assert row is not None
        row.status = status.value
        self.session.flush()

    def set_customer(self, plan_id: str, customer_id: str) -> str:
        """The plan's Stripe customer: `customer_id`, unless one is stored already (that one wins)."""
        row = self._stored(plan_id, for_update=True)
        if row.stripe_customer_id is None:
            row.stripe_customer_id = customer_id
            self.session.flush()
        return row.stripe_customer_id

    def keep_card(self, plan_id: str, customer_id: str | None, payment_method_id: str | None) -> None:
        """Keep a card Stripe saved for the plan's later charges (its customer, if none was stored)."""
        row = self._stored(plan_id)
        row.stripe_customer_id = row.stripe_customer_id or customer_id
        row.stripe_payment_method_id = payment_method_id
        self.session.flush()

    # --- promises ---

    def promises_of(self, account_id: str) -> list[Promise]:
        """The account's promises, newest first."""
        rows = self.session.scalars(
            select(PromiseRow).where(PromiseRow.account_id == account_id).order_by(PromiseRow.created_at.desc())
        )
        return [promise_of(r) for r in rows]

    def promise_by_key(self, account_id: str, idempotency_key: str) -> Promise | None:
        row = self.session.scalar(
            select(PromiseRow).where(PromiseRow.account_id == account_id, PromiseRow.idempotency_key == idempotency_key)
        )
        return promise_of(row) if row else None

    def pending_promise(self, account_id: str) -> Promise | None:
        """The account's pending promise due first, if any."""
        row = self.session.scalar(
            select(PromiseRow)
            .where(PromiseRow.account_id == account_id, PromiseRow.status == PromiseStatus.PENDING.value)
            .order_by(PromiseRow.due_date, PromiseRow.created_at)
            .limit(1)
        )
        return promise_of(row) if row else None

    def add_promise(self, promise: Promise, *, idempotency_key: str) -> None:
        """Store a new promise; a key used before fails on flush (`IntegrityError`)."""
        self.session.add(
            PromiseRow(
                id=promise.id,
                account_id=promise.account_id,
                due_date=promise.due_date,
                amount_cents=promise.amount.amount_cents,
                currency=promise.amount.currency,
                status=promise.status.value,
                channel=promise.channel,
                conversation_id=promise.conversation_id,
                idempotency_key=idempotency_key,
                created_at=promise.created_at,
            )
        )
        self.session.flush()

    # --- rows, inside this module only ---

    def _row(self, plan_id: str, *, for_update: bool = False) -> PlanRow | None:
        query = select(PlanRow).where(PlanRow.id == plan_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def _stored(self, plan_id: str, *, for_update: bool = False) -> PlanRow:
        row = self._row(plan_id, for_update=for_update)
        if row is None:  # pragma: no cover - callers write only plans they just read
            raise LookupError(f"no plan {plan_id}")
        return row
