"""The account's standing (contract C4), for the API and in-process callers alike: the scheduler
before a reminder or a charge, the outbox before each attempt, the console before an agent writes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.compliance_repository import ReportRepository
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AccountRepository
from payments.domain.errors import NotFound, PolicyRefused
from payments.domain.plan import InstallmentStatus, PlanStatus
from payments.domain.standing import (
    ActivePlan,
    NextInstallment,
    PendingPromise,
    Standing,
    compute_standing,
    plan_kind,
)

OPEN_INSTALLMENT = (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)


def standing_in(session: Session, account_id: str) -> Standing:
    """The standing read inside the caller's session (`NotFound` for an unknown account)."""
    account = AccountRepository(session).get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return compute_standing(
        account,
        pending_reports=ReportRepository(session).pending_kinds(account_id),
        active_plan=_active_plan(session, account_id),
        pending_promise=_pending_promise(session, account_id),
    )


def refuse_unless_collectable(session: Session, account_id: str) -> None:
    """The one check before money is asked for (a payment, a plan, a promise, a charge): any
    pause reason of the standing (a flag, a pending report from anyone, a settled account)
    refuses with `PolicyRefused("collection_paused")`."""
    reasons = standing_in(session, account_id).pause_reasons
    if reasons:
        raise PolicyRefused("collection_paused", f"collection is paused on this account ({reasons[0].value})")


def _active_plan(session: Session, account_id: str) -> ActivePlan | None:
    plan = PlanRepository(session).in_force(account_id)
    if plan is None:
        return None
    due = next((i for i in plan.installments if i.status in OPEN_INSTALLMENT), None)  # ordered by seq
    return ActivePlan(
        plan_id=plan.id,
        kind=plan_kind(plan.kind),
        status="suspended" if plan.status is PlanStatus.SUSPENDED else "active",
        next_installment=NextInstallment(due.amount, due.due_date) if due else None,
    )


def _pending_promise(session: Session, account_id: str) -> PendingPromise | None:
    promise = PlanRepository(session).pending_promise(account_id)
    return PendingPromise(promise.id, promise.amount, promise.due_date) if promise else None


class StandingService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def standing(self, account_id: str) -> Standing:
        """`collection_allowed`, `pause_reasons`, the plan and promise in force, and
        `may(medium, purpose)` for what each medium may carry now."""
        with self.sessions() as session:
            return standing_in(session, account_id)
