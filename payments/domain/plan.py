"""Plans, their installments and promises to pay: states and the rules that move them. Pure.

A plan is `active` when booked; a pause on the account `suspends` it and lifting the pause
`resumes` it; it ends `completed` (every installment paid, or a settlement's last payment),
`broken` (an installment missed past its grace period) or `cancelled` (by the customer or an
agent). An installment is `scheduled`, `paid`, `failed` (a charge or a link payment failed),
`missed` (unpaid after its due date: the grace period runs) or `cancelled` (its plan ended).
A promise is `pending` until it is `kept` or `broken`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from payments.domain.money import Money


class PlanStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"

    @property
    def in_force(self) -> bool:
        """The account's current plan: active, or suspended while a pause lasts."""
        return self in PLAN_IN_FORCE

    @staticmethod
    def in_force_values() -> tuple[str, ...]:
        """The stored spellings of the states in force, for a query."""
        return (PlanStatus.ACTIVE.value, PlanStatus.SUSPENDED.value)


PLAN_IN_FORCE = frozenset({PlanStatus.ACTIVE, PlanStatus.SUSPENDED})


class InstallmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"

    @property
    def unpaid(self) -> bool:
        """Still to be collected (a link or a charge may pay it)."""
        return self in UNPAID


UNPAID = frozenset({InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED, InstallmentStatus.MISSED})


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class PlanEvent(StrEnum):
    SUSPEND = "suspend"  # a pause reason appeared on the account
    RESUME = "resume"  # every pause reason lifted
    COMPLETE = "complete"  # every installment paid
    SETTLE = "settle"  # a settlement's last payment closed the account
    BREAK = "break"  # an installment missed past its grace period
    CANCEL = "cancel"  # the customer or an agent cancelled it


class InstallmentEvent(StrEnum):
    PAID = "paid"  # a payment for it succeeded
    FAILED = "failed"  # a payment for it failed (charge declined, link payment failed)
    MISSED = "missed"  # unpaid after its due date: the grace period starts
    PLAN_ENDED = "plan_ended"  # its plan was cancelled
    PLAN_BROKEN = "plan_broken"  # its plan broke (another installment was missed)


# Plan event → (states it applies from, state it leads to).
_PLAN_MOVES: dict[PlanEvent, tuple[frozenset[PlanStatus], PlanStatus]] = {
    PlanEvent.SUSPEND: (frozenset({PlanStatus.ACTIVE}), PlanStatus.SUSPENDED),
    PlanEvent.RESUME: (frozenset({PlanStatus.SUSPENDED}), PlanStatus.ACTIVE),
    PlanEvent.COMPLETE: (frozenset({PlanStatus.ACTIVE}), PlanStatus.COMPLETED),
    PlanEvent.SETTLE: (PLAN_IN_FORCE, PlanStatus.COMPLETED),
    PlanEvent.BREAK: (frozenset({PlanStatus.ACTIVE}), PlanStatus.BROKEN),
    PlanEvent.CANCEL: (PLAN_IN_FORCE, PlanStatus.CANCELLED),
}

# Installment event → (states it applies from, state it leads to). A success is the truth: it
# pays the installment from any state but paid (also a cancelled one, after its plan ended).
_INSTALLMENT_MOVES: dict[InstallmentEvent, tuple[frozenset[InstallmentStatus], InstallmentStatus]] = {
    InstallmentEvent.PAID: (frozenset(InstallmentStatus) - {InstallmentStatus.PAID}, InstallmentStatus.PAID),
    InstallmentEvent.FAILED: (frozenset(InstallmentStatus) - {InstallmentStatus.PAID}, InstallmentStatus.FAILED),
    InstallmentEvent.MISSED: (
        frozenset({InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED}),
        InstallmentStatus.MISSED,
    ),
    InstallmentEvent.PLAN_ENDED: (UNPAID, InstallmentStatus.CANCELLED),
    InstallmentEvent.PLAN_BROKEN: (frozenset({InstallmentStatus.SCHEDULED}), InstallmentStatus.CANCELLED),
}


def plan_after(status: PlanStatus | str, event: PlanEvent) -> PlanStatus | None:
    """The plan's state after `event`, or None when the event does not apply from `status`."""
    sources, target = _PLAN_MOVES[event]
    return target if PlanStatus(status) in sources else None


def installment_after(status: InstallmentStatus | str, event: InstallmentEvent) -> InstallmentStatus | None:
    """The installment's state after `event`, or None when the event does not apply from `status`."""
    sources, target = _INSTALLMENT_MOVES[event]
    return target if InstallmentStatus(status) in sources else None


@dataclass(frozen=True)
class Installment:
    id: int
    seq: int  # 1-based
    due_date: date
    amount: Money
    status: InstallmentStatus

    @property
    def amount_cents(self) -> int:
        return self.amount.amount_cents


@dataclass(frozen=True)
class Plan:
    id: str
    account_id: str
    offer_id: str
    kind: str
    status: PlanStatus
    total: Money
    settles_balance: bool
    channel: str
    conversation_id: str | None
    consent_text: str
    consent_at: datetime | None
    consent_source: str | None  # "client" (the words shown) | "canonical"
    created_at: datetime
    ended_at: datetime | None
    installments: tuple[Installment, ...]
    stripe_customer_id: str | None = None
    stripe_payment_method_id: str | None = None

    @property
    def has_saved_card(self) -> bool:
        return bool(self.stripe_customer_id and self.stripe_payment_method_id)

    def installment(self, installment_id: int) -> Installment | None:
        return next((i for i in self.installments if i.id == installment_id), None)

    def payments_due_after(self, installment_id: int | None) -> bool:
        """Whether an installment other than `installment_id` is still to be paid (a card saved
        now would pay it)."""
        return any(i.id != installment_id and i.status.unpaid for i in self.installments)


@dataclass(frozen=True)
class Promise:
    id: str
    account_id: str
    amount: Money
    due_date: date
    status: PromiseStatus
    channel: str
    conversation_id: str | None
    created_at: datetime
