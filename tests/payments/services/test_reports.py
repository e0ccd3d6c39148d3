"""Reports from anyone: recorded pending on every account they point to, audited, collection held
until an agent confirms (the flag) or dismisses (held messages released)."""

import pytest
from sqlalchemy import select

from payments.adapters.orm import AccountRow, AuditEventRow, NotificationRow
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import ContactRule, Medium
from payments.domain.errors import Conflict, NotFound
from payments.domain.standing import ReportKind
from payments.services.compliance import ComplianceService
from payments.services.notifications import enqueue_sms
from payments.services.reports import ReportService

MARIA, MARIA_PHONE, JAMES = "A1001", "+15125550101", "A1002"


@pytest.fixture
def reports(sessions, clock) -> ReportService:
    return ReportService(sessions, clock=clock)


def record(reports, kind=ReportKind.DECEASED, account_id=None, phone=MARIA_PHONE, conversation_id="voice-CA1"):
    return reports.record(
        kind,
        account_id=account_id,
        phone=phone,
        conversation_id=conversation_id,
        channel="voice",
        reported_by="third_party",
        summary="his wife says he passed away",
    )


def audit(sessions, kind):
    with sessions() as session:
        return session.scalars(select(AuditEventRow).where(AuditEventRow.kind == kind).order_by(AuditEventRow.id)).all()


def test_a_report_by_phone_is_pending_on_every_account_with_that_number(reports, sessions):
    with sessions.begin() as session:  # a second account on Maria's number
        session.get(AccountRow, JAMES).phone = MARIA_PHONE
    receipt = record(reports)
    assert receipt.account_ids == (MARIA, JAMES) and receipt.status == "pending_review"
    assert receipt.report_id.startswith("RPT-")
    assert [e.account_id for e in audit(sessions, "report_received")] == [MARIA, JAMES]
    assert {r.account_id for r in reports.pending(account_id=None, conversation_id="voice-CA1")} == {MARIA, JAMES}


def test_a_pending_report_pauses_the_contact_check(reports, sessions, clock):
    record(reports, account_id=MARIA, phone=None)
    decision = ComplianceService(sessions, clock=clock).check_contact(MARIA, Medium.SMS).decision
    assert (decision.allowed, decision.rule) == (False, ContactRule.COLLECTION_PAUSED)
    assert "pending_review" in decision.detail


def test_an_unknown_account_is_kept_for_an_agent_without_an_account(reports, sessions):
    receipt = record(reports, account_id="A9999", phone="+19995550000")
    assert receipt.account_ids == ()
    [row] = reports.pending(account_id=None, conversation_id="voice-CA1")
    assert row.account_id is None and row.kind is ReportKind.DECEASED
    [event] = audit(sessions, "report_received")
    assert event.account_id is None and event.detail["matched"] is False


def test_a_retried_report_is_recorded_once(reports):
    first = record(reports, account_id=MARIA)
    again = record(reports, account_id=MARIA)
    assert again.report_id == first.report_id
    assert len(reports.pending(account_id=MARIA, conversation_id=None)) == 1


def test_confirming_sets_the_real_flag_as_the_agent(reports, sessions, clock):
    record(reports, kind=ReportKind.BANKRUPTCY, account_id=MARIA, phone=None)
    [row] = reports.pending(account_id=MARIA, conversation_id=None)
    reviewed = reports.confirm(row.id, "sam")
    assert reviewed.status == "confirmed"
    flags = ComplianceService(sessions, clock=clock).events(MARIA)
    assert any(e.kind == "flag_set" and e.detail["flag"] == "bankruptcy" and e.actor == "agent:sam" for e in flags)
    assert [e.kind for e in flags][:2] == ["report_confirmed", "flag_set"]
    assert reports.pending(account_id=MARIA, conversation_id=None) == []
    with pytest.raises(Conflict) as exc:
        reports.dismiss(row.id, "sam")
    assert exc.value.code == "report_reviewed"


@pytest.mark.parametrize(
    ("kind", "flag"),
    [
        (ReportKind.CEASE, AccountFlag.CEASE_COMMUNICATION),
        (ReportKind.ATTORNEY, AccountFlag.ATTORNEY),
        (ReportKind.DISPUTE, AccountFlag.DISPUTE),
        (ReportKind.DECEASED, AccountFlag.DECEASED),
    ],
)
def test_each_kind_confirms_into_its_flag(reports, sessions, kind, flag):
    record(reports, kind=kind, account_id=MARIA, phone=None)
    [row] = reports.pending(account_id=MARIA, conversation_id=None)
    reports.confirm(row.id, "sam")
    with sessions() as session:
        assert flag.value in {f.flag for f in session.get(AccountRow, MARIA).flags}


def test_a_report_without_an_account_cannot_be_confirmed(reports):
    record(reports, phone="+19995550000")
    [row] = reports.pending(account_id=None, conversation_id="voice-CA1")
    with pytest.raises(Conflict) as exc:
        reports.confirm(row.id, "sam")
    assert exc.value.code == "report_has_no_account"
    assert reports.dismiss(row.id, "sam").status == "dismissed"


def test_unknown_report(reports):
    with pytest.raises(NotFound):
        reports.confirm(424242, "sam")


def test_dismissing_releases_the_messages_held_meanwhile(reports, sessions, clock):
    record(reports, account_id=MARIA, phone=None)
    with sessions.begin() as session:
        enqueue_sms(
            session, to=MARIA_PHONE, body="Your payment is due.", dedupe_key="r1", now=clock(), account_id=MARIA
        )
        session.scalar(select(NotificationRow).where(NotificationRow.dedupe_key == "r1")).status = "held"
    [row] = reports.pending(account_id=MARIA, conversation_id=None)
    reports.dismiss(row.id, "sam")
    with sessions() as session:
        assert session.scalar(select(NotificationRow.status).where(NotificationRow.dedupe_key == "r1")) == "pending"
    assert audit(sessions, "report_dismissed")[0].actor == "agent:sam"


def test_a_card_number_in_the_summary_is_never_stored(reports, sessions):
    reports.record(
        ReportKind.DISPUTE,
        account_id=MARIA,
        phone=None,
        conversation_id="c9",
        channel="sms",
        reported_by="cardholder",
        summary="never charged 4242 4242 4242 4242 for this",
    )
    [row] = reports.pending(account_id=MARIA, conversation_id=None)
    assert "4242" not in row.summary and "[card number removed]" in row.summary


def test_a_pending_report_refuses_every_request_for_money_and_hides_the_offers(reports, sessions, clock):
    """A report from anyone holds collection in the service itself, not only in the assistant:
    no payment link, plan, promise or offer while it waits for an agent."""
    from datetime import timedelta

    from payments.domain.errors import PolicyRefused
    from payments.domain.policy import PlanPolicy
    from payments.services.payment_links import PaymentLinks
    from payments.services.plans import PlanService
    from testkit.fake_gateway import FakeGateway

    plans = PlanService(sessions, PlanPolicy(), clock=clock)
    offer_id = plans.offers(MARIA).offers[0].id  # offers exist before the report
    record(reports)
    assert plans.offers(MARIA).offers == [] and plans.offers(MARIA).collection_allowed is False
    payments = PaymentLinks(sessions, FakeGateway(), public_url="https://pay.example", link_ttl_minutes=30, clock=clock)
    refusals = [
        lambda: payments.create_payment(MARIA, 9500, "sms", "k-pay"),
        lambda: plans.book(MARIA, offer_id=offer_id, channel="sms", idempotency_key="k-plan"),
        lambda: plans.promise(
            MARIA,
            amount_cents=9500,
            due_date=clock().date() + timedelta(days=3),
            channel="sms",
            idempotency_key="k-promise",
        ),
    ]
    for attempt in refusals:
        with pytest.raises(PolicyRefused) as refused:
            attempt()
        assert refused.value.code == "collection_paused"
