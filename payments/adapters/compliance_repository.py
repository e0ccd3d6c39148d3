"""Flags, contact events and write serialization. Each works inside the caller's session."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from payments.adapters.db import rows_matched
from payments.adapters.orm import AccountFlagRow, AccountReportRow, AccountRow, ContactEventRow, ContactWindowRow
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import ContactEvent, ContactKind, ContactWindow, Direction, Medium
from payments.domain.standing import ReportKind


def serialize_writes(session: Session, key: str) -> None:
    """Make check-then-write use cases on `key` run one at a time, until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on the key. SQLite: take the database write
    lock now (`BEGIN IMMEDIATE`, waiting up to the busy timeout). pysqlite runs reads outside a
    transaction until the first write, so nothing read earlier holds a stale snapshot; once a
    write has run, this transaction holds the lock already.
    https://www.sqlite.org/lang_transaction.html
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
    elif dialect == "sqlite":
        # The DBAPI connection is typed optional; inside a session's transaction it is always there.
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]  # typed Optional; always set inside a session's transaction
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:  # pragma: no cover - only the two databases above are supported
        raise NotImplementedError(f"no write serialization for {dialect}")


class FlagRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def flags_of(self, account_id: str) -> frozenset[AccountFlag]:
        """Read from the table, not through `AccountRow.flags`, which may be stale in this session."""
        rows = self.session.scalars(select(AccountFlagRow.flag).where(AccountFlagRow.account_id == account_id))
        return frozenset(AccountFlag(f) for f in rows)

    def add(self, account_id: str, flag: AccountFlag, at: datetime) -> None:
        self.session.add(AccountFlagRow(account_id=account_id, flag=flag.value, created_at=at))
        self.session.flush()

    def remove(self, account_id: str, flag: AccountFlag) -> bool:
        result = self.session.execute(
            delete(AccountFlagRow).where(AccountFlagRow.account_id == account_id, AccountFlagRow.flag == flag.value)
        )
        return rows_matched(result) > 0

    def account_ids_with_phone(self, phone: str) -> list[str]:
        return list(
            self.session.scalars(select(AccountRow.id).where(AccountRow.phone == phone).order_by(AccountRow.id))
        )

    def account_exists(self, account_id: str) -> bool:
        return self.session.scalar(select(AccountRow.id).where(AccountRow.id == account_id)) is not None


class ContactEventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account_id: str, event: ContactEvent, conversation_id: str | None = None) -> int:
        row = ContactEventRow(
            account_id=account_id,
            medium=event.medium.value,
            kind=event.kind.value,
            direction=event.direction.value,
            at=event.at,
            conversation_id=conversation_id,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def find(self, account_id: str, medium: Medium, kind: ContactKind, conversation_id: str) -> int | None:
        """The id of this conversation's event of this kind, if one was recorded already."""
        return self.session.scalar(
            select(ContactEventRow.id)
            .where(
                ContactEventRow.account_id == account_id,
                ContactEventRow.medium == medium.value,
                ContactEventRow.kind == kind.value,
                ContactEventRow.conversation_id == conversation_id,
            )
            .order_by(ContactEventRow.id)
            .limit(1)
        )

    def between(self, account_id: str, medium: Medium, since: datetime, until: datetime) -> list[ContactEvent]:
        rows = self.session.scalars(
            select(ContactEventRow)
            .where(
                ContactEventRow.account_id == account_id,
                ContactEventRow.medium == medium.value,
                ContactEventRow.at >= since,
                ContactEventRow.at <= until,
            )
            .order_by(ContactEventRow.at, ContactEventRow.id)
        )
        return [ContactEvent(Medium(r.medium), ContactKind(r.kind), Direction(r.direction), r.at) for r in rows]


PENDING_REVIEW = "pending_review"


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: AccountReportRow) -> None:
        self.session.add(row)
        self.session.flush()

    def pending_kinds(self, account_id: str) -> list[ReportKind]:
        rows = self.session.scalars(
            select(AccountReportRow.kind).where(
                AccountReportRow.account_id == account_id, AccountReportRow.status == PENDING_REVIEW
            )
        )
        return [ReportKind(k) for k in rows]

    def pending(self, *, account_id: str | None, conversation_id: str | None) -> list[AccountReportRow]:
        """Pending rows on the account or from the conversation, oldest first."""
        conditions = []
        if account_id:
            conditions.append(AccountReportRow.account_id == account_id)
        if conversation_id:
            conditions.append(AccountReportRow.conversation_id == conversation_id)
        if not conditions:
            return []
        return list(
            self.session.scalars(
                select(AccountReportRow)
                .where(AccountReportRow.status == PENDING_REVIEW, or_(*conditions))
                .order_by(AccountReportRow.id)
            )
        )

    def all_pending(self, limit: int) -> list[AccountReportRow]:
        """Every pending row, oldest first: reports no case points to must still reach a person."""
        return list(
            self.session.scalars(
                select(AccountReportRow)
                .where(AccountReportRow.status == PENDING_REVIEW)
                .order_by(AccountReportRow.id)
                .limit(limit)
            )
        )

    def get(self, row_id: int) -> AccountReportRow | None:
        return self.session.get(AccountReportRow, row_id)


class ContactWindowRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: ContactWindowRow) -> None:
        self.session.add(row)
        self.session.flush()

    def windows_of(self, account_id: str) -> list[ContactWindow]:
        rows = self.session.scalars(
            select(ContactWindowRow).where(ContactWindowRow.account_id == account_id).order_by(ContactWindowRow.id)
        )
        return [ContactWindow(_time(r.not_before), _time(r.not_after)) for r in rows]

    def places_of(self, account_id: str) -> set[str]:
        """Every place the consumer said is inconvenient (12 CFR 1006.6(b)(1))."""
        rows = self.session.scalars(select(ContactWindowRow.places).where(ContactWindowRow.account_id == account_id))
        return {place for places in rows for place in (places or ())}


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None
