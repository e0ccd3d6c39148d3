"""Repositories: the only code that writes SQL. Each works inside the caller's session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from payments.adapters.db import rows_matched
from payments.adapters.orm import AccountRow, AuditEventRow, VerificationAttemptRow, VerificationSessionRow
from payments.domain.accounts import Account, AccountFlag, AccountStatus, StatementBreakdown
from payments.domain.money import Money
from payments.domain.settlement import Balances


def account_of(row: AccountRow) -> Account:
    def money(cents: int) -> Money:
        return Money(cents, row.currency)

    return Account(
        id=row.id,
        full_name=row.full_name,
        phone=row.phone,
        card_last4=row.card_last4,
        date_of_birth=row.date_of_birth,
        zip_code=row.zip_code,
        time_zone=row.time_zone,
        preferred_language=row.preferred_language,
        status=AccountStatus(row.status),
        balance=money(row.balance_cents),
        past_due=money(row.past_due_cents),
        minimum_due=money(row.minimum_due_cents),
        payment_due_date=row.payment_due_date,
        delinquent_since=row.delinquent_since,
        statement=StatementBreakdown(
            previous_balance=money(row.statement_previous_balance_cents),
            purchases=money(row.statement_purchases_cents),
            interest=money(row.statement_interest_cents),
            fees=money(row.statement_fees_cents),
            payments_and_credits=money(row.statement_payments_cents),
        ),
        flags=frozenset(AccountFlag(f.flag) for f in row.flags),
    )


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """`for_update` locks the row (PostgreSQL) so two payments credit the account in turn."""
        if for_update:
            query = select(AccountRow).where(AccountRow.id == account_id).with_for_update()
            row = self.session.scalar(query.execution_options(populate_existing=True))
        else:
            row = self.session.get(AccountRow, account_id)
        return account_of(row) if row else None

    def set_balances(self, account_id: str, balances: Balances, *, status: AccountStatus | None = None) -> None:
        """New balances; a new status (current, settled) also ends the delinquency."""
        row = self.session.get(AccountRow, account_id)
        assert row is not None  # a foreign key guarantees it
        row.balance_cents, row.past_due_cents, row.minimum_due_cents = (
            balances.balance_cents,
            balances.past_due_cents,
            balances.minimum_due_cents,
        )
        if status is not None:
            row.status, row.delinquent_since = status.value, None
        self.session.flush()

    def find_by_phone(self, phone: str) -> list[Account]:
        rows = self.session.scalars(select(AccountRow).where(AccountRow.phone == phone).order_by(AccountRow.id))
        return [account_of(r) for r in rows]

    def find_by_card_last4(self, card_last4: str) -> list[Account]:
        rows = self.session.scalars(
            select(AccountRow).where(AccountRow.card_last4 == card_last4).order_by(AccountRow.id)
        )
        return [account_of(r) for r in rows]


class VerificationAttemptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        subject: str,
        channel: str,
        account_id: str | None,
        succeeded: bool,
        at: datetime,
        conversation_id: str | None = None,
    ) -> None:
        self.session.add(
            VerificationAttemptRow(
                subject=subject,
                channel=channel,
                account_id=account_id,
                succeeded=succeeded,
                at=at,
                conversation_id=conversation_id,
            )
        )

    def targeted_accounts(self, conversation_id: str, since: datetime) -> list[str]:
        """Accounts that failed attempts from this conversation counted against (`account:` subjects)."""
        rows = self.session.scalars(
            select(VerificationAttemptRow.account_id)
            .where(
                VerificationAttemptRow.conversation_id == conversation_id,
                VerificationAttemptRow.subject.startswith("account:"),
                VerificationAttemptRow.succeeded.is_(False),
                VerificationAttemptRow.at > since,
            )
            .distinct()
        )
        return sorted(a for a in rows if a)

    def refused_while_locked(self, conversation_id: str, since: datetime) -> list[str]:
        """Accounts this conversation aimed at while verification was already locked (audit
        `verification_refused_locked`): such attempts are refused before they count."""
        details = self.session.scalars(
            select(AuditEventRow.detail).where(
                AuditEventRow.kind == "verification_refused_locked",
                AuditEventRow.conversation_id == conversation_id,
                AuditEventRow.at > since,
            )
        )
        return sorted({a for d in details for a in (d or {}).get("accounts_aimed_at", [])})

    def failures_since(self, subject: str, since: datetime) -> list[datetime]:
        """Times of failed attempts for `subject` after `since` and after its last success."""
        last_success = self.session.scalar(
            select(func.max(VerificationAttemptRow.at)).where(
                VerificationAttemptRow.subject == subject, VerificationAttemptRow.succeeded.is_(True)
            )
        )
        if last_success is not None:
            since = max(since, last_success)
        rows = self.session.scalars(
            select(VerificationAttemptRow.at)
            .where(
                VerificationAttemptRow.subject == subject,
                VerificationAttemptRow.succeeded.is_(False),
                VerificationAttemptRow.at > since,
            )
            .order_by(VerificationAttemptRow.at)
        )
        return list(rows)


class VerificationSessionRepository:
    """Rows of contract C2's sessions, found by the SHA-256 of their opaque id."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: VerificationSessionRow) -> None:
        self.session.add(row)

    def get(self, id_hash: str) -> VerificationSessionRow | None:
        return self.session.get(VerificationSessionRow, id_hash)

    def end_open(
        self, at: datetime, reason: str, *, conversation_id: str | None = None, account_id: str | None = None
    ) -> int:
        """End every open session of the conversation (or of the account). Returns how many."""
        where: list[ColumnElement[bool]] = [VerificationSessionRow.ended_at.is_(None)]
        if conversation_id is not None:
            where.append(VerificationSessionRow.conversation_id == conversation_id)
        if account_id is not None:
            where.append(VerificationSessionRow.account_id == account_id)
        if len(where) == 1:
            raise ValueError("end_open needs a conversation or an account")
        result = self.session.execute(
            update(VerificationSessionRow).where(*where).values(ended_at=at, end_reason=reason)
        )
        return rows_matched(result)


class AuditLog:
    """Append-only. `detail` must never hold card data or verification factors."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        kind: str,
        *,
        at: datetime,
        actor: str,
        channel: str | None = None,
        account_id: str | None = None,
        conversation_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEventRow(
                at=at,
                kind=kind,
                actor=actor,
                channel=channel,
                account_id=account_id,
                conversation_id=conversation_id,
                detail=detail or {},
            )
        )

    def for_account(self, account_id: str, limit: int = 200) -> list[AuditEventRow]:
        rows = self.session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.account_id == account_id)
            .order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc())
            .limit(limit)
        )
        return list(rows)
