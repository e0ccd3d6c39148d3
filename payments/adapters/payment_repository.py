"""SQL for payments: payment rows, handled Stripe events, and the plan, installment and account
rows a payment changes. Works inside the caller's session; the service commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from payments.adapters.db import rows_matched
from payments.adapters.orm import AccountRow, InstallmentRow, PaymentRow, PlanRow, StripeEventRow


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: PaymentRow) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRow | None:
        """`for_update` locks the row (PostgreSQL) so two webhooks for one payment take turns."""
        query = select(PaymentRow).where(PaymentRow.id == payment_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def exists(self, payment_id: str) -> bool:
        return self.session.scalar(select(PaymentRow.id).where(PaymentRow.id == payment_id)) is not None

    def by_idempotency_key(self, key: str) -> PaymentRow | None:
        return self.session.scalar(select(PaymentRow).where(PaymentRow.idempotency_key == key))

    def by_link_token_hash(self, token_hash: str) -> PaymentRow | None:
        return self.session.scalar(select(PaymentRow).where(PaymentRow.link_token_hash == token_hash))

    def by_payment_intent(self, payment_intent_id: str, *, for_update: bool = False) -> PaymentRow | None:
        query = select(PaymentRow).where(PaymentRow.stripe_payment_intent_id == payment_intent_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def for_account(self, account_id: str, limit: int) -> list[PaymentRow]:
        rows = self.session.scalars(
            select(PaymentRow)
            .where(PaymentRow.account_id == account_id)
            .order_by(PaymentRow.created_at.desc(), PaymentRow.id.desc())
            .limit(limit)
        )
        return list(rows)

    def links_past_expiry(self, now: datetime, limit: int) -> list[PaymentRow]:
        """Pending link payments whose link ran out (not yet marked expired)."""
        return list(
            self.session.scalars(
                select(PaymentRow)
                .where(PaymentRow.status == "pending", PaymentRow.method == "link", PaymentRow.link_expires_at <= now)
                .order_by(PaymentRow.link_expires_at)
                .limit(limit)
            )
        )

    def expired_intents_to_cancel(self, limit: int) -> list[PaymentRow]:
        """Expired (or cancelled: e.g. the account settled meanwhile) link payments whose
        PaymentIntent Stripe has not cancelled yet."""
        return list(
            self.session.scalars(
                select(PaymentRow)
                .where(
                    PaymentRow.status.in_(("expired", "canceled")),
                    PaymentRow.method == "link",
                    PaymentRow.stripe_payment_intent_id.is_not(None),
                    PaymentRow.stripe_intent_canceled_at.is_(None),
                )
                .order_by(PaymentRow.updated_at)
                .limit(limit)
            )
        )

    def for_installment(self, installment_id: int) -> list[PaymentRow]:
        """Payments made for an installment, newest first."""
        rows = self.session.scalars(
            select(PaymentRow)
            .where(PaymentRow.installment_id == installment_id)
            .order_by(PaymentRow.created_at.desc(), PaymentRow.id.desc())
        )
        return list(rows)

    def mark_event_handled(self, event_id: str, event_type: str, now: datetime) -> bool:
        """Record a Stripe event id, first thing in the transaction that applies the event; False
        when it was recorded before (a replay).

        A concurrent delivery of the same event fails on the primary key when it flushes
        (`IntegrityError`, after waiting for the first on PostgreSQL): the caller rolls back
        and treats it as a replay. No savepoint: on SQLite (pysqlite) a savepoint that opens the
        transaction commits it when released, which would record the event apart from its effects.
        """
        if self.session.get(StripeEventRow, event_id) is not None:
            return False
        self.session.add(StripeEventRow(id=event_id, type=event_type, received_at=now))
        self.session.flush()
        return True

    def claim_transition(self, row: PaymentRow, from_status: str, to_status: str) -> bool:
        """Compare-and-set the status in the database: True for the one caller that moved it.

        This, not a lock, is what makes a state change happen once on every database (SQLite has
        no SELECT ... FOR UPDATE). The winner keeps the write lock until it commits.
        """
        self.session.flush()
        result = self.session.execute(
            update(PaymentRow)
            .where(PaymentRow.id == row.id, PaymentRow.status == from_status)
            .values(status=to_status)
            .execution_options(synchronize_session=False)
        )
        if rows_matched(result) != 1:
            self.session.refresh(row)
            return False
        set_committed_value(row, "status", to_status)
        return True

    # --- rows a payment changes ---

    def account(self, account_id: str, *, for_update: bool = False) -> AccountRow | None:
        query = select(AccountRow).where(AccountRow.id == account_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def plan(self, plan_id: str, *, for_update: bool = False) -> PlanRow | None:
        query = select(PlanRow).where(PlanRow.id == plan_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def installment(self, installment_id: int) -> InstallmentRow | None:
        return self.session.get(InstallmentRow, installment_id)

    def next_unpaid_installment(self, plan_id: str, amount_cents: int) -> InstallmentRow | None:
        """The plan's earliest unpaid installment of exactly this amount, if any."""
        return self.session.scalar(
            select(InstallmentRow)
            .where(
                InstallmentRow.plan_id == plan_id,
                InstallmentRow.status.in_(("scheduled", "failed", "missed")),
                InstallmentRow.amount_cents == amount_cents,
            )
            .order_by(InstallmentRow.seq)
            .limit(1)
        )
