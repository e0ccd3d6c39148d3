"""Plan and installment moves: each event from each state."""

from __future__ import annotations

import pytest

from payments.domain.plan import (
    InstallmentEvent,
    InstallmentStatus,
    PlanEvent,
    PlanStatus,
    installment_after,
    plan_after,
)

A, SU, CO, BR, CA = PlanStatus


@pytest.mark.parametrize(
    ("event", "moves"),
    [
        (PlanEvent.SUSPEND, {A: SU}),
        (PlanEvent.RESUME, {SU: A}),
        (PlanEvent.COMPLETE, {A: CO}),
        (PlanEvent.SETTLE, {A: CO, SU: CO}),
        (PlanEvent.BREAK, {A: BR}),
        (PlanEvent.CANCEL, {A: CA, SU: CA}),
    ],
)
def test_each_plan_event_from_each_state(event, moves):
    assert {s: plan_after(s, event) for s in PlanStatus} == {s: moves.get(s) for s in PlanStatus}


def test_only_active_and_suspended_plans_are_in_force():
    assert [s for s in PlanStatus if s.in_force] == [A, SU]


SC, PA, FA, MI, CX = InstallmentStatus


@pytest.mark.parametrize(
    ("event", "moves"),
    [
        (InstallmentEvent.PAID, {SC: PA, FA: PA, MI: PA, CX: PA}),  # a success is the truth
        (InstallmentEvent.FAILED, {SC: FA, FA: FA, MI: FA, CX: FA}),  # never over a paid one
        (InstallmentEvent.MISSED, {SC: MI, FA: MI}),
        (InstallmentEvent.PLAN_ENDED, {SC: CX, FA: CX, MI: CX}),
        (InstallmentEvent.PLAN_BROKEN, {SC: CX}),  # the missed one stays missed
    ],
)
def test_each_installment_event_from_each_state(event, moves):
    assert {s: installment_after(s, event) for s in InstallmentStatus} == {s: moves.get(s) for s in InstallmentStatus}


def test_unpaid_installments_are_scheduled_failed_or_missed():
    assert [s for s in InstallmentStatus if s.unpaid] == [SC, FA, MI]
