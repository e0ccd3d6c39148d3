"""SQLAlchemy 2 tables. Schema changes go through Alembic migrations (payments/migrations)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    card_last4: Mapped[str] = mapped_column(String(4), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    zip_code: Mapped[str] = mapped_column(String(10))
    time_zone: Mapped[str] = mapped_column(String(64))
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    balance_cents: Mapped[int] = mapped_column(Integer)
    past_due_cents: Mapped[int] = mapped_column(Integer)
    minimum_due_cents: Mapped[int] = mapped_column(Integer)
    payment_due_date: Mapped[date] = mapped_column(Date)
    delinquent_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    statement_previous_balance_cents: Mapped[int] = mapped_column(Integer)
    statement_purchases_cents: Mapped[int] = mapped_column(Integer)
    statement_interest_cents: Mapped[int] = mapped_column(Integer)
    statement_fees_cents: Mapped[int] = mapped_column(Integer)
    statement_payments_cents: Mapped[int] = mapped_column(Integer)

    flags: Mapped[list[AccountFlagRow]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )


class AccountFlagRow(Base):
    __tablename__ = "account_flags"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    flag: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[AccountRow] = relationship(back_populates="flags")


class VerificationAttemptRow(Base):
    """One row per attempt; lock-out counts recent failures per subject (conversation or phone)."""

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "phone:<E.164>" or "conversation:<id>", and a conversation id is up to 128 characters.
    subject: Mapped[str] = mapped_column(String(len("conversation:") + 128))
    channel: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The conversation the attempt came from, so a lock-out case can name the account it targeted.
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)


class VerificationSessionRow(Base):
    """A verified conversation's proof of identity (contract C2). Only a SHA-256 of the opaque id
    is stored, so a copy of the database cannot be used to act as a verified customer."""

    __tablename__ = "verification_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # absolute limit
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)


class AuditEventRow(Base):
    """Append-only audit trail: who did what, when, through which channel."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_id_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlanRow(Base):
    """A booked plan. At most one active plan per account (partial unique index)."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key", name="uq_plans_account_id_idempotency_key"),
        Index(
            "uq_plans_one_active_per_account",
            "account_id",
            unique=True,
            # A suspended plan is still the account's plan: it resumes when the pause lifts.
            sqlite_where=text("status IN ('active', 'suspended')"),
            postgresql_where=text("status IN ('active', 'suspended')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # confirmation number, e.g. PLN-7K3Q9X
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    offer_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # active | suspended | completed | broken | cancelled
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int] = mapped_column(Integer)
    settles_balance: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    consent_text: Mapped[str] = mapped_column(Text)
    # When the customer agreed (on `channel`), and whether `consent_text` is the client's exact
    # words shown ("client") or the service's canonical wording ("canonical"). Null on old plans.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    consent_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The recurring-charge authorization page /receipts/{token}: only the token's SHA-256.
    receipt_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)
    # A pause on the account suspends the plan (why, since when); it resumes when the pause lifts.
    suspended_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    # Stripe ids for off-session installments: tokens, never card data.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    installments: Mapped[list[InstallmentRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", lazy="selectin", order_by="InstallmentRow.seq"
    )


class InstallmentRow(Base):
    __tablename__ = "installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_installments_plan_id_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1-based
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # scheduled | paid | failed | missed
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when the customer was told the installment is missed: the plan breaks only after this day.
    grace_until: Mapped[date | None] = mapped_column(Date, nullable=True)

    plan: Mapped[PlanRow] = relationship(back_populates="installments")


class PromiseRow(Base):
    """A promise to pay a given amount by a given date."""

    __tablename__ = "promises"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key", name="uq_promises_account_id_idempotency_key"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # pending | kept | broken
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentRow(Base):
    """One payment attempt. Card data never reaches this table: only Stripe ids."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # e.g. PAY-4K2M8Q
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"), nullable=True, index=True)
    installment_id: Mapped[int | None] = mapped_column(ForeignKey("installments.id"), nullable=True, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # pending | processing | succeeded | failed | expired | canceled
    status: Mapped[str] = mapped_column(String(16), index=True)
    method: Mapped[str] = mapped_column(String(16))  # link | ivr | off_session
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # Only a hash of the single-use link token is stored.
    link_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When Stripe cancelled the PaymentIntent of an expired link (so its client secret pays nothing).
    stripe_intent_canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The customer's answer on the page to "save this card for your plan?" (None: not asked).
    save_card: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StripeEventRow(Base):
    """Webhook events already handled: a replayed event changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationRow(Base):
    """Outbox of messages to customers (via rasa) and to Twilio, delivered with retries."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # rasa_trigger_intent | sms
    account_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HandoffRow(Base):
    """A case for the agent console."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status_priority_waiting_since", "status", "priority", "waiting_since"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # e.g. CASE-3F9K2A
    account_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer)  # 0 = most urgent (distress)
    status: Mapped[str] = mapped_column(String(16))  # open | claimed | resolved
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(500), nullable=True)

    notes: Mapped[list[HandoffNoteRow]] = relationship(
        back_populates="handoff", cascade="all, delete-orphan", lazy="selectin", order_by="HandoffNoteRow.id"
    )


class HandoffNoteRow(Base):
    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    handoff: Mapped[HandoffRow] = relationship(back_populates="notes")


class AgentRow(Base):
    """A person who works handoff cases in the agent console. Only a hash of the password."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))  # what customers see ("Sam")
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, PHC string
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sign-in failures are counted per client address (services/agents.py), never per agent: a
    # per-agent lock-out let anyone lock every agent out.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentSessionRow(Base):
    """A signed-in console session. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # absolute limit
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ContactEventRow(Base):
    """Contacts with a consumer, for Reg F call counting and the 7-days-after-a-conversation rule."""

    __tablename__ = "contact_events"
    __table_args__ = (Index("ix_contact_events_account_id_medium_at", "account_id", "medium", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    medium: Mapped[str] = mapped_column(String(16))  # sms | voice | email
    kind: Mapped[str] = mapped_column(String(16))  # attempt | conversation
    direction: Mapped[str] = mapped_column(String(16))  # outbound | inbound
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The call or conversation it belongs to: a connector's retried report of one call counts once.
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)


class AccountReportRow(Base):
    """A report from anyone (a death, a bankruptcy, an attorney, a dispute, a cease request),
    one row per account it points to (account_id None: it pointed to none). Pending, it pauses
    collection on the account until an agent confirms it (the flag is set) or dismisses it."""

    __tablename__ = "account_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(16), index=True)  # e.g. RPT-7K3Q9X, shared by its rows
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # deceased | bankruptcy | attorney | dispute | cease
    status: Mapped[str] = mapped_column(String(16))  # pending_review | confirmed | dismissed
    reported_by: Mapped[str] = mapped_column(String(16))  # cardholder | third_party | unknown
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    summary: Mapped[str] = mapped_column(String(500))  # masked by the caller
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ContactWindowRow(Base):
    """Times and places the consumer told us are inconvenient (12 CFR 1006.6(b)(1)); the contact
    check keeps to `not_before`-`not_after` ("HH:MM", local wherever the consumer is)."""

    __tablename__ = "contact_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    not_before: Mapped[str | None] = mapped_column(String(5), nullable=True)
    not_after: Mapped[str | None] = mapped_column(String(5), nullable=True)
    places: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str | None] = mapped_column(String(500), nullable=True)  # the consumer's words, masked
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
