"""Payments as the domain sees them (`payment_of`), and the handled Stripe events. Reads return
domain objects; every write is a named method, so the use cases never touch a row (the plan and
account changes a payment makes go through `PlanRepository` and `AccountRepository`). Works inside the caller's session; the
service commits.

Storage-only facts stay here: the idempotency key, the hash of the link token and when Stripe
cancelled an expired link's PaymentIntent are columns, not fields of `Payment`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from payments.adapters.db import rows_matched
from payments.adapters.orm import PaymentRow, StripeEventRow
from payments.domain.money import Money
from payments.domain.payment import Move, Payment, PaymentMethod, PaymentStatus


def payment_of(row: PaymentRow) -> Payment:
    return Payment(
        id=row.id,
        account_id=row.account_id,
        amount=Money(row.amount_cents, row.currency),
        status=PaymentStatus(row.status),
        method=PaymentMethod(row.method),
        channel=row.channel,
        conversation_id=row.conversation_id,
        plan_id=row.plan_id,
        installment_id=row.installment_id,
        failure_code=row.failure_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        link_expires_at=row.link_expires_at,
        payment_intent_id=row.stripe_payment_intent_id,
        save_card=row.save_card,
    )


def _locked(query: Select[PaymentRow], for_update: bool) -> Select[PaymentRow]:
    """`for_update` locks the row (PostgreSQL) so two writers of one row take turns."""
    return query.with_for_update().execution_options(populate_existing=True) if for_update else query


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- payments: reads ---

    def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        row = self._row(payment_id, for_update=for_update)
        return payment_of(row) if row else None

    def exists(self, payment_id: str) -> bool:
        return self.session.scalar(select(PaymentRow.id).where(PaymentRow.id == payment_id)) is not None

    def by_idempotency_key(self, key: str) -> Payment | None:
        return self._one(select(PaymentRow).where(PaymentRow.idempotency_key == key))

    def by_link_token_hash(self, token_hash: str) -> Payment | None:
        return self._one(select(PaymentRow).where(PaymentRow.link_token_hash == token_hash))

    def by_payment_intent(self, payment_intent_id: str, *, for_update: bool = False) -> Payment | None:
        query = select(PaymentRow).where(PaymentRow.stripe_payment_intent_id == payment_intent_id)
        return self._one(_locked(query, for_update))

    def for_account(self, account_id: str, limit: int) -> list[Payment]:
        """Newest first."""
        return self._all(
            select(PaymentRow)
            .where(PaymentRow.account_id == account_id)
            .order_by(PaymentRow.created_at.desc(), PaymentRow.id.desc())
            .limit(limit)
        )

    def links_past_expiry(self, now: datetime, limit: int) -> list[Payment]:
        """Pending link payments whose link ran out (not yet marked expired)."""
        return self._all(
            select(PaymentRow)
            .where(PaymentRow.status == "pending", PaymentRow.method == "link", PaymentRow.link_expires_at <= now)
            .order_by(PaymentRow.link_expires_at)
            .limit(limit)
        )

    def expired_intents_to_cancel(self, limit: int) -> list[Payment]:
        """Expired (or cancelled: e.g. the account settled meanwhile) link payments whose
        PaymentIntent Stripe has not cancelled yet."""
        return self._all(
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

    def for_installment(self, installment_id: int) -> list[Payment]:
        """Payments made for an installment, newest first."""
        return self._all(
            select(PaymentRow)
            .where(PaymentRow.installment_id == installment_id)
            .order_by(PaymentRow.created_at.desc(), PaymentRow.id.desc())
        )

    # --- payments: writes ---

    def add(self, payment: Payment, *, idempotency_key: str) -> None:
        """Store a new payment under its (account-scoped) idempotency key; a key stored before
        fails on flush (`IntegrityError`)."""
        self.session.add(
            PaymentRow(
                id=payment.id,
                account_id=payment.account_id,
                plan_id=payment.plan_id,
                installment_id=payment.installment_id,
                amount_cents=payment.amount.amount_cents,
                currency=payment.amount.currency,
                status=payment.status.value,
                method=payment.method.value,
                channel=payment.channel,
                conversation_id=payment.conversation_id,
                idempotency_key=idempotency_key,
                created_at=payment.created_at,
                updated_at=payment.updated_at,
            )
        )
        self.session.flush()

    def claim_move(self, payment: Payment, move: Move, now: datetime) -> Payment | None:
        """Make the domain's move, compare-and-set on the stored status: the payment as moved,
        for the one caller that moved it, or None when another caller moved it first (then
        `get` returns the state the winner left). Stamps `updated_at`, and on a final state
        `completed_at` and the move's failure code.

        The compare-and-set, not a lock, is what makes a state change happen once on every
        database (SQLite has no SELECT ... FOR UPDATE). The winner keeps the write lock until it
        commits.
        """
        row = self._stored(payment.id)
        self.session.flush()
        result = self.session.execute(
            update(PaymentRow)
            .where(PaymentRow.id == payment.id, PaymentRow.status == move.was.value)
            .values(status=move.to.value)
            .execution_options(synchronize_session=False)
        )
        if rows_matched(result) != 1:
            self.session.refresh(row)
            return None
        set_committed_value(row, "status", move.to.value)
        row.updated_at = now
        if move.completes:
            row.completed_at = now
            row.failure_code = move.failure_code
        self.session.flush()
        return payment_of(row)

    def issue_link(self, payment_id: str, token_hash: str, expires_at: datetime, now: datetime) -> Payment:
        """A new link for the payment: only the token's hash is kept; the previous link stops working."""
        row = self._stored(payment_id)
        row.link_token_hash, row.link_expires_at, row.updated_at = token_hash, expires_at, now
        self.session.flush()
        return payment_of(row)

    def store_intent(self, payment_id: str, payment_intent_id: str, now: datetime) -> Payment:
        """Remember the payment's PaymentIntent, unless one is stored already (that one wins)."""
        row = self._stored(payment_id, for_update=True)
        if row.stripe_payment_intent_id is None:
            row.stripe_payment_intent_id, row.updated_at = payment_intent_id, now
            self.session.flush()
        return payment_of(row)

    def switch_method(self, payment_id: str, method: PaymentMethod, now: datetime) -> Payment:
        """Pay another way (a link paid by phone: the link's page refuses it from now on)."""
        row = self._stored(payment_id, for_update=True)
        row.method, row.updated_at = method.value, now
        self.session.flush()
        return payment_of(row)

    def record_card_saving(self, payment_id: str, save: bool, now: datetime) -> Payment:
        row = self._stored(payment_id, for_update=True)
        row.save_card, row.updated_at = save, now
        self.session.flush()
        return payment_of(row)

    def mark_intent_canceled(self, payment_id: str, now: datetime) -> Payment:
        row = self._stored(payment_id, for_update=True)
        row.stripe_intent_canceled_at = now
        self.session.flush()
        return payment_of(row)

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

    # --- rows, inside this module only ---

    def _row(self, payment_id: str, *, for_update: bool = False) -> PaymentRow | None:
        return self.session.scalar(_locked(select(PaymentRow).where(PaymentRow.id == payment_id), for_update))

    def _stored(self, payment_id: str, *, for_update: bool = False) -> PaymentRow:
        row = self._row(payment_id, for_update=for_update)
        if row is None:  # pragma: no cover - callers write only payments they just read
            raise LookupError(f"no payment {payment_id}")
        return row

    def _one(self, query: Select[PaymentRow]) -> Payment | None:
        row = self.session.scalar(query)
        return payment_of(row) if row else None

    def _all(self, query: Select[PaymentRow]) -> list[Payment]:
        return [payment_of(row) for row in self.session.scalars(query)]
