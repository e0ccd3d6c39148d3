"""SQLAlchemy 2 tables. Schema changes go through Alembic migrations (payments/migrations)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, MetaData, String
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

    flags: Mapped[list["AccountFlagRow"]] = relationship(
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
    subject: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime())


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
