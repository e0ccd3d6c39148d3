"""What a payment does to an account's money, and how a settlement closes it. Pure: no I/O.

A settlement plan (`settles_balance`) closes the account for less than the balance: the payments
reduce the balance like any payment, and when the plan's last payment succeeds the remainder is
forgiven (balance, past due and minimum due to zero) and the account is `settled`. Until then
nothing is forgiven, so a settlement that breaks owes exactly the balance minus what was paid
(`BrokenSettlementRule.VOID`, the default policy).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from payments.domain.accounts import AccountStatus


@dataclass(frozen=True)
class Balances:
    """An account's money in integer cents; none is ever below zero."""

    balance_cents: int
    past_due_cents: int
    minimum_due_cents: int

    def __post_init__(self) -> None:
        if min(self.balance_cents, self.past_due_cents, self.minimum_due_cents) < 0:
            raise ValueError("balances are never below zero")


ZERO = Balances(0, 0, 0)


def apply_payment(balance: int, past_due: int, minimum_due: int, amount: int) -> tuple[int, int, int]:
    """Balance, past due and minimum due after paying `amount` cents: past due first, the rest
    toward the minimum due, the whole amount off the balance; nothing goes below zero."""
    to_past_due = min(past_due, amount)
    to_minimum = min(minimum_due, amount - to_past_due)
    new_balance = max(0, balance - amount)
    return new_balance, past_due - to_past_due, min(new_balance, minimum_due - to_minimum)


def pay(balances: Balances, amount_cents: int) -> Balances:
    return Balances(
        *apply_payment(balances.balance_cents, balances.past_due_cents, balances.minimum_due_cents, amount_cents)
    )


@dataclass(frozen=True)
class Credit:
    """What one succeeded payment did to the account."""

    before: Balances
    after: Balances
    status: AccountStatus  # paying the whole past due brings a delinquent account current
    applied_cents: int  # what came off the balance
    overpaid_cents: int  # what arrived beyond the balance (e.g. after the account settled): owed back


def credit(balances: Balances, status: AccountStatus, amount_cents: int) -> Credit:
    """Apply a succeeded payment of `amount_cents` (DESIGN.md, plan policy). Only ever called
    once per payment: on its one move to `succeeded`."""
    after = pay(balances, amount_cents)
    applied = min(amount_cents, balances.balance_cents)
    if after.past_due_cents == 0 and status is AccountStatus.DELINQUENT:
        status = AccountStatus.CURRENT
    return Credit(balances, after, status, applied, amount_cents - applied)


@dataclass(frozen=True)
class Settled:
    balances: Balances  # always ZERO
    forgiven_cents: int  # what was still owed when the settlement was paid, now forgiven


def settle(balances: Balances) -> Settled:
    """Close the account as settled: whatever is still owed is forgiven."""
    return Settled(ZERO, balances.balance_cents)


def settlement_paid(settles_balance: bool, installment_statuses: Iterable[str]) -> bool:
    """True when a settlement plan has every installment paid: its last payment closes the account."""
    statuses = list(installment_statuses)
    return settles_balance and bool(statuses) and all(s == "paid" for s in statuses)


class BrokenSettlementRule(StrEnum):
    """What a broken settlement means (policy `settlement.broken`)."""

    # The settlement no longer applies: nothing is forgiven, the full remaining balance (the
    # balance at booking minus every payment made) is owed again.
    VOID = "void"


def after_broken_settlement(balances: Balances, rule: BrokenSettlementRule) -> Balances:
    """The balances owed once a settlement broke. Payments already reduced the balance, and
    nothing is forgiven before the last payment, so under `VOID` they stand as they are."""
    if rule is BrokenSettlementRule.VOID:
        return balances
    raise ValueError(f"unknown broken-settlement rule {rule!r}")  # pragma: no cover - enum is closed


class LedgerStatus(StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    BROKEN = "broken"


@dataclass(frozen=True)
class SettlementLedger:
    """One settlement plan on one account as a fold over payment events, the rules the payments
    service applies row by row: a payment id counts once, an installment is paid once, the last
    installment settles the account, a broken plan forgives nothing."""

    balances: Balances
    installments: tuple[int, ...]  # amounts in cents, seq 1..n
    paid_seqs: frozenset[int] = frozenset()
    applied_payments: frozenset[str] = frozenset()
    status: LedgerStatus = LedgerStatus.ACTIVE
    paid_cents: int = 0  # what the payments took off the balance
    overpaid_cents: int = 0  # what arrived beyond the balance (e.g. after the account settled): owed back
    forgiven_cents: int = 0
    rule: BrokenSettlementRule = field(default=BrokenSettlementRule.VOID)

    def payment_succeeded(self, payment_id: str, seq: int | None, amount_cents: int) -> SettlementLedger:
        """A payment reported as succeeded (Stripe is the truth: also after a break or a close)."""
        if payment_id in self.applied_payments:
            return self  # a replayed event: the money moved once
        credited = credit(self.balances, AccountStatus.CURRENT, amount_cents)
        state = replace(
            self,
            balances=credited.after,
            applied_payments=self.applied_payments | {payment_id},
            paid_cents=self.paid_cents + credited.applied_cents,
            overpaid_cents=self.overpaid_cents + credited.overpaid_cents,
        )
        if self.status is not LedgerStatus.ACTIVE or seq is None or not 1 <= seq <= len(self.installments):
            return state
        state = replace(state, paid_seqs=state.paid_seqs | {seq})
        if settlement_paid(
            True, ("paid" if s in state.paid_seqs else "open" for s in range(1, len(self.installments) + 1))
        ):
            closed = settle(state.balances)
            return replace(
                state, balances=closed.balances, status=LedgerStatus.SETTLED, forgiven_cents=closed.forgiven_cents
            )
        return state

    def broken(self) -> SettlementLedger:
        if self.status is not LedgerStatus.ACTIVE:
            return self
        return replace(self, balances=after_broken_settlement(self.balances, self.rule), status=LedgerStatus.BROKEN)
