"""StandingService on a real database: flags, pending reports, the plan in force and a promise."""

from datetime import date, timedelta

import pytest

from payments.adapters.orm import PlanRow
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import Medium
from payments.domain.errors import NotFound
from payments.domain.policy import PlanPolicy
from payments.domain.standing import MediumUse, PauseReason, Purpose, ReportKind
from payments.services.compliance import ComplianceService
from payments.services.plans import PlanService
from payments.services.reports import ReportService
from payments.services.standing import StandingService

MARIA, BANKRUPT = "A1001", "A1004"
CONSENT = "Customer agreed on SMS to 3 monthly payments of the past-due amount."


@pytest.fixture
def standing(sessions) -> StandingService:
    return StandingService(sessions)


def test_a_healthy_account_may_collect(standing):
    s = standing.standing(MARIA)
    assert s.collection_allowed and s.status == "open" and s.active_plan is None and s.pending_promise is None
    assert s.may(Medium.SMS, Purpose.COLLECTION)


def test_the_seeded_bankruptcy_account_is_paused(standing):
    s = standing.standing(BANKRUPT)
    assert not s.collection_allowed and PauseReason.BANKRUPTCY in s.pause_reasons
    assert s.media[Medium.SMS] is MediumUse.NOTICE_ONLY


def test_unknown_account(standing):
    with pytest.raises(NotFound):
        standing.standing("A9999")


def test_a_flag_set_now_is_seen_at_once(standing, sessions, clock):
    ComplianceService(sessions, clock=clock).set_flag(MARIA, AccountFlag.ATTORNEY, actor="customer", channel="sms")
    s = standing.standing(MARIA)
    assert s.pause_reasons == (PauseReason.ATTORNEY,) and s.media[Medium.VOICE] is MediumUse.NONE


def test_a_pending_report_pauses_and_a_dismissal_lifts_it(standing, sessions, clock):
    reports = ReportService(sessions, clock=clock)
    receipt = reports.record(
        ReportKind.DECEASED,
        account_id=MARIA,
        phone=None,
        conversation_id="c1",
        channel="voice",
        reported_by="third_party",
        summary="caller says he passed",
    )
    assert standing.standing(MARIA).pause_reasons == (PauseReason.PENDING_REVIEW,)
    [pending] = reports.pending(account_id=MARIA, conversation_id=None)
    assert pending.report_id == receipt.report_id
    reports.dismiss(pending.id, "sam")
    assert standing.standing(MARIA).collection_allowed


def test_the_active_plan_and_its_next_installment(standing, sessions, clock):
    plans = PlanService(sessions, PlanPolicy(), clock=clock)
    plan = plans.book(MARIA, offer_id="installments_3", channel="sms", idempotency_key="k1", consent_text=CONSENT).plan
    with sessions.begin() as session:
        session.get(PlanRow, plan.id).installments[0].status = "paid"
    s = standing.standing(MARIA)
    assert s.active_plan is not None
    assert (s.active_plan.plan_id, s.active_plan.kind, s.active_plan.status) == (plan.id, "installments", "active")
    second = plan.installments[1]
    assert s.active_plan.next_installment.due_date == second.due_date
    assert s.active_plan.next_installment.amount.amount_cents == second.amount_cents


def test_a_pending_promise(standing, sessions, clock):
    plans = PlanService(sessions, PlanPolicy(), clock=clock)
    due = clock().date() + timedelta(days=5)
    promise, _ = plans.promise(MARIA, amount_cents=9500, due_date=due, channel="sms", idempotency_key="p1")
    s = standing.standing(MARIA)
    assert s.pending_promise is not None
    assert (s.pending_promise.promise_id, s.pending_promise.amount.amount_cents, s.pending_promise.due_date) == (
        promise.id,
        9500,
        due,
    )
    assert isinstance(s.pending_promise.due_date, date)
