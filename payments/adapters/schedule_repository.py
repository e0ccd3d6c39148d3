"""What the scheduler reads and writes: the plans and installments it collects, suspends, resumes,
breaks and completes. Reads return domain objects; every write is a named method, so the
scheduler never touches a row. Works inside the caller's session; the scheduler commits.

Storage-only facts of the schedule stay columns, not fields of `Plan` or `Installment`: when a
plan resumed and why it was suspended, an installment's reminder and a missed one's grace period.
No read here locks and no write compares-and-sets, as before the move: each scheduler step reads,
decides and writes in one transaction, and the outbox's unique dedupe key keeps a second worker's
message from going out twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select

from payments.adapters.orm import AccountRow, InstallmentRow, NotificationRow, PlanRow
from payments.adapters.plan_repository import PlanRepository, installment_of, plan_of
from payments.adapters.repositories import AccountRepository
from payments.domain.accounts import Account, AccountStatus
from payments.domain.plan import UNPAID, Installment, InstallmentStatus, Plan, PlanStatus


@dataclass(frozen=True)
class OpenInstallment:
    """An unpaid installment of an active plan, with the stored facts that decide what is due."""

    plan: Plan
    installment: Installment
    time_zone: str  # the account's
    resumed_at: datetime | None  # when the plan last resumed after a pause
    grace_until: date | None  # a missed installment's last day to be paid


class ScheduleRepository(PlanRepository):
    """The plan reads and writes every use case shares (`get`, `installment_in_plan`,
    `set_installment_status`, `end`) are `PlanRepository`'s; these are the scheduler's own."""

    # --- reads ---

    def open_installments(self) -> list[OpenInstallment]:
        """Unpaid installments (scheduled, failed, or missed within their grace period) of active
        plans, oldest due first."""
        rows = self.session.execute(
            select(InstallmentRow, PlanRow, AccountRow.time_zone)
            .join(PlanRow, InstallmentRow.plan_id == PlanRow.id)
            .join(AccountRow, PlanRow.account_id == AccountRow.id)
            .where(PlanRow.status == PlanStatus.ACTIVE, InstallmentRow.status.in_([s.value for s in UNPAID]))
            .order_by(InstallmentRow.due_date, InstallmentRow.id)
        ).all()
        return [
            OpenInstallment(
                plan_of(plan), installment_of(row, plan.currency), time_zone, plan.resumed_at, row.grace_until
            )
            for row, plan, time_zone in rows
        ]

    def reminder_sent(self, installment_id: int) -> bool:
        row = self.session.get(InstallmentRow, installment_id)
        return row is not None and row.reminder_sent_at is not None

    def account(self, account_id: str) -> Account:
        account = AccountRepository(self.session).get(account_id)
        assert account is not None  # a plan's account: a foreign key guarantees it
        return account

    def suspended_plans(self) -> list[Plan]:
        return self._plans(select(PlanRow).where(PlanRow.status == PlanStatus.SUSPENDED).order_by(PlanRow.id))

    def active_plans(self) -> list[Plan]:
        return self._plans(select(PlanRow).where(PlanRow.status == PlanStatus.ACTIVE))

    def settlements_closed_since(self, since: datetime) -> list[Plan]:
        """Completed settlement plans, ended at `since` or later, whose account is settled."""
        return self._plans(
            select(PlanRow)
            .join(AccountRow, PlanRow.account_id == AccountRow.id)
            .where(
                PlanRow.status == PlanStatus.COMPLETED,
                PlanRow.settles_balance.is_(True),
                AccountRow.status == AccountStatus.SETTLED.value,
                PlanRow.ended_at >= since,
            )
        )

    def queued(self, dedupe_keys: Iterable[str]) -> set[str]:
        """Those of `dedupe_keys` the outbox holds a notification for."""
        query = select(NotificationRow.dedupe_key).where(NotificationRow.dedupe_key.in_(list(dedupe_keys)))
        return set(self.session.scalars(query))

    # --- writes ---

    def mark_reminder_sent(self, installment_id: int, now: datetime) -> None:
        self._installment(installment_id).reminder_sent_at = now
        self.session.flush()

    def miss_installment(self, installment_id: int, status: InstallmentStatus, grace_until: date) -> None:
        row = self._installment(installment_id)
        row.status, row.grace_until = status.value, grace_until
        self.session.flush()

    def suspend_plan(self, plan_id: str, status: PlanStatus, reason: str, now: datetime) -> None:
        row = self._stored(plan_id)
        row.status, row.suspended_reason, row.suspended_at = status.value, reason[:32], now  # a 32-character column
        self.session.flush()

    def resume_plan(self, plan_id: str, status: PlanStatus, now: datetime) -> str | None:
        """Resume the plan and forget why it was suspended; returns that reason."""
        row = self._stored(plan_id)
        reason = row.suspended_reason
        row.status, row.resumed_at, row.suspended_reason = status.value, now, None
        self.session.flush()
        return reason

    # --- rows, inside this module only ---

    def _plans(self, query: Select[PlanRow]) -> list[Plan]:
        return [plan_of(row) for row in self.session.scalars(query)]

    def _installment(self, installment_id: int) -> InstallmentRow:
        row = self.session.get(InstallmentRow, installment_id)
        assert row is not None  # installments are never deleted (a plan ends by status)
        return row
