"""Property test on the real payment use cases and database: whatever Stripe sends for a settlement
plan's payments (successes, failures, replays, in any order), money is applied once per payment
and a settled account owes nothing, with the forgiven remainder recorded once."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from payments.adapters.orm import AccountRow, AuditEventRow, InstallmentRow, PlanRow
from testkit.fake_gateway import FakeGateway
from tests.payments.payment_services import PaymentServices
from tests.payments.services.payment_support import event, page_opened

EXAMPLES = settings(
    max_examples=int(os.environ.get("FUZZ_N", "20")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
START = 64050  # A1002's balance
AMOUNTS = (14945, 14945, 14945)  # 70% over 3
serial = itertools.count(1)

# An event: (installment 1..3, "succeeded" | "payment_failed", delivery 0..2: the same delivery is a replay)
events = st.lists(
    st.tuples(st.integers(1, 3), st.sampled_from(["succeeded", "payment_failed"]), st.integers(0, 2)), max_size=10
)


def fresh_account_with_plan(sessions, clock) -> tuple[str, str, list[int]]:  # type: ignore[no-untyped-def]
    """A copy of A1002 (charged off, $640.50) with a settlement plan of three payments."""
    n = next(serial)
    account_id = f"S{n:04d}"
    with sessions.begin() as session:
        template = session.get(AccountRow, "A1002")
        session.add(
            AccountRow(
                **{
                    **{c.key: getattr(template, c.key) for c in AccountRow.__table__.columns},
                    "id": account_id,
                    "phone": f"+1212555{n:04d}",
                }
            )
        )
        session.flush()
        plan = PlanRow(
            id=f"PLN-S{n:05d}",
            account_id=account_id,
            offer_id="settlement_3",
            kind="settlement_installments",
            status="active",
            currency="USD",
            total_cents=sum(AMOUNTS),
            settles_balance=True,
            channel="sms",
            consent_text="I agree to settle with 3 payments.",
            idempotency_key="settle",
            created_at=clock(),
        )
        plan.installments = [
            InstallmentRow(seq=i, due_date=clock().date(), amount_cents=a, status="scheduled")
            for i, a in enumerate(AMOUNTS, start=1)
        ]
        session.add(plan)
        session.flush()
        return account_id, plan.id, [i.id for i in plan.installments]


@pytest.fixture
def service(sessions, clock) -> PaymentServices:  # type: ignore[no-untyped-def]
    return PaymentServices(sessions, FakeGateway(), public_url="https://pay.example.test", clock=clock)


@EXAMPLES
@given(sequence=events)
# Settled for sure: a decline then a success, replays, a late failure after the close.
@example(
    sequence=[
        (1, "payment_failed", 0),
        (1, "succeeded", 0),
        (1, "succeeded", 0),
        (2, "succeeded", 1),
        (3, "succeeded", 0),
        (3, "payment_failed", 1),
        (2, "succeeded", 2),
    ]
)
def test_any_sequence_of_stripe_events_applies_money_once_and_settles_once(service, sessions, clock, sequence):
    account_id, plan_id, installment_ids = fresh_account_with_plan(sessions, clock)
    payments = {
        seq: service.create_payment(
            account_id, amount, "sms", f"settle-{seq}", plan_id=plan_id, installment_id=installment_id
        ).payment.id
        for seq, amount, installment_id in zip(range(1, 4), AMOUNTS, installment_ids, strict=False)
    }
    intents = {seq: page_opened(sessions, pid, f"pi_{pid}") for seq, pid in payments.items()}
    succeeded: set[int] = set()
    for seq, kind, delivery in sequence:
        pid = payments[seq]
        service.handle_stripe_event(
            event(
                kind,
                pid,
                intents[seq],
                event_id=f"evt_{pid}_{kind}_{delivery}",
                amount=AMOUNTS[seq - 1],
                failure_code="card_declined" if kind == "payment_failed" else None,
            )
        )
        if kind == "succeeded":
            succeeded.add(seq)  # a success counts even after a failure; a failure never undoes one

    with sessions() as session:
        account = session.get(AccountRow, account_id)
        audit = list(session.scalars(select(AuditEventRow).where(AuditEventRow.account_id == account_id)))
    applied = [e for e in audit if e.kind == "payment_succeeded"]
    settled = [e for e in audit if e.kind == "account_settled"]
    assert sorted(e.detail["payment_id"] for e in applied) == sorted(payments[s] for s in succeeded)  # once each
    paid = sum(AMOUNTS[s - 1] for s in succeeded)
    if succeeded == {1, 2, 3}:
        assert (account.status, account.balance_cents, account.past_due_cents, account.minimum_due_cents) == (
            "settled",
            0,
            0,
            0,
        )
        [close] = settled
        assert close.detail["forgiven_cents"] == START - paid and close.detail["paid_cents"] == paid
    else:
        assert account.status == "charged_off" and settled == []
        assert account.balance_cents == START - paid  # nothing forgiven before the last payment
