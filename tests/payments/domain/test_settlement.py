"""The money rules of a payment and a settlement, with property tests: no sequence of payment
events applies money twice or leaves a settled account owing anything."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain.settlement import (
    ZERO,
    Balances,
    BrokenSettlementRule,
    LedgerStatus,
    SettlementLedger,
    after_broken_settlement,
    pay,
    settle,
    settlement_paid,
)

cents = st.integers(min_value=0, max_value=10_000_000)


@st.composite
def balances(draw) -> Balances:  # type: ignore[no-untyped-def]
    balance = draw(cents)
    past_due = draw(st.integers(0, balance))
    minimum = draw(st.integers(past_due, balance)) if draw(st.booleans()) else draw(st.integers(0, balance))
    return Balances(balance, past_due, minimum)


@st.composite
def ledgers_and_events(draw):  # type: ignore[no-untyped-def]
    start = draw(balances())
    n = draw(st.integers(1, 3))
    installments = tuple(draw(st.lists(st.integers(1, 500_000), min_size=n, max_size=n)))
    # Events: a payment id (few, so replays happen), the installment it pays (or none), or a break.
    event = st.one_of(
        st.tuples(st.just("paid"), st.sampled_from(["p1", "p2", "p3", "p4", "p5"]), st.integers(1, n) | st.none()),
        st.tuples(st.just("broken"), st.none(), st.none()),
    )
    return SettlementLedger(start, installments), draw(st.lists(event, max_size=12))


def run(ledger: SettlementLedger, events) -> tuple[SettlementLedger, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Fold the events; a payment id always carries the same amount (its installment's, or 1000)."""
    amounts: dict[str, int] = {}
    for kind, payment_id, seq in events:
        if kind == "broken":
            ledger = ledger.broken()
            continue
        amount = amounts.setdefault(payment_id, ledger.installments[seq - 1] if seq else 1000)
        ledger = ledger.payment_succeeded(payment_id, seq, amount)
    return ledger, amounts


@given(balances(), cents)
def test_a_payment_never_takes_a_balance_below_zero_and_takes_off_at_most_its_amount(start, amount):
    after = pay(start, amount)
    assert after.balance_cents == max(0, start.balance_cents - amount)
    assert 0 <= after.past_due_cents <= start.past_due_cents
    assert 0 <= after.minimum_due_cents <= after.balance_cents


@given(ledgers_and_events())
def test_no_sequence_of_events_applies_money_twice(case):
    ledger, events = case
    final, amounts = run(ledger, events)
    start = ledger.balances.balance_cents
    # Each distinct payment counts once, whatever the replays: the balance moved by at most their sum.
    total = sum(amounts.values())
    assert final.applied_payments == set(amounts)
    # Every distinct payment is counted exactly once: off the balance, or as an overpayment owed back.
    assert final.paid_cents + final.overpaid_cents == total
    assert final.paid_cents <= start
    if final.status is not LedgerStatus.SETTLED:
        assert final.paid_cents == min(total, start)
        assert final.balances.balance_cents == max(0, start - total)
        assert final.forgiven_cents == 0


@given(ledgers_and_events())
def test_a_settled_account_owes_nothing_and_forgives_exactly_what_was_left(case):
    ledger, events = case
    final, _ = run(ledger, events)
    if final.status is LedgerStatus.SETTLED:
        assert final.balances == ZERO
        assert final.forgiven_cents >= 0
        assert final.paid_cents + final.forgiven_cents == ledger.balances.balance_cents
        assert final.paid_seqs == set(range(1, len(ledger.installments) + 1))


@given(ledgers_and_events())
def test_a_broken_settlement_forgives_nothing_and_stays_broken(case):
    ledger, events = case
    final, _ = run(ledger, events)
    if final.status is LedgerStatus.BROKEN:
        assert final.forgiven_cents == 0
        assert final.balances.balance_cents == ledger.balances.balance_cents - final.paid_cents
        assert final.payment_succeeded("late", 1, 1).status is LedgerStatus.BROKEN


def test_the_third_of_three_settles_and_the_remainder_is_forgiven():
    ledger = SettlementLedger(Balances(64050, 64050, 64050), (14945, 14945, 14945))
    ledger = ledger.payment_succeeded("a", 1, 14945).payment_succeeded("a", 1, 14945)
    assert (ledger.status, ledger.balances.balance_cents) == (LedgerStatus.ACTIVE, 64050 - 14945)
    ledger = ledger.payment_succeeded("b", 2, 14945).payment_succeeded("c", 3, 14945)
    assert (ledger.status, ledger.balances, ledger.forgiven_cents) == (LedgerStatus.SETTLED, ZERO, 64050 - 44835)


def test_a_payment_after_the_account_settled_is_an_overpayment_not_lost():
    ledger = SettlementLedger(Balances(1000, 0, 0), (600,)).payment_succeeded("a", 1, 600)
    late = ledger.payment_succeeded("late", None, 250)
    assert (late.status, late.balances, late.overpaid_cents, late.paid_cents) == (LedgerStatus.SETTLED, ZERO, 250, 600)


def test_settle_forgives_the_balance():
    closed = settle(Balances(25620, 1000, 1000))
    assert (closed.balances, closed.forgiven_cents) == (ZERO, 25620)


@pytest.mark.parametrize(
    ("settles", "statuses", "expected"),
    [
        (True, ["paid", "paid", "paid"], True),
        (True, ["paid", "paid", "failed"], False),
        (True, [], False),
        (False, ["paid"], False),
    ],
)
def test_settlement_paid(settles, statuses, expected):
    assert settlement_paid(settles, statuses) is expected


def test_a_void_broken_settlement_owes_the_balance_as_it_stands():
    owed = Balances(34160, 0, 0)
    assert after_broken_settlement(owed, BrokenSettlementRule.VOID) == owed


def test_balances_are_never_negative():
    with pytest.raises(ValueError):
        Balances(-1, 0, 0)
