"""The installment scheduler on a real database with fake vendors: reminders within contact
rules, off-session charges, fresh links after a failure, broken and completed plans, and the
outbox delivered once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AccountFlagRow, AccountRow, AuditEventRow, InstallmentRow, NotificationRow, PlanRow
from payments.domain.policy import PlanPolicy
from payments.seed import seed_demo_data
from payments.services.notifications import DeliveryFailed, NotificationService
from payments.services.plans import PlanService
from payments.services.scheduler import FAILED, SUCCEEDED, UNAVAILABLE, Scheduler

CONSENT = "Customer agreed on SMS to 3 monthly payments of the past-due amount."


@dataclass
class FakeVendors:
    charge_outcome: str = SUCCEEDED
    contact_allowed: bool = True
    charges: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    intents: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    sms: list[tuple[str, str]] = field(default_factory=list)
    rasa_down: bool = False

    def charge_installment(self, installment_id: int, now: datetime) -> str:
        self.charges.append(installment_id)
        return self.charge_outcome

    def allowed(self, account_id: str, medium: str, at: datetime) -> tuple[bool, str | None]:
        return (True, None) if self.contact_allowed else (False, "outside_hours")

    def issue_link(self, installment_id: int, now: datetime) -> str:
        self.links.append(installment_id)
        return f"http://pay.example/pay/tok-{installment_id}"

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> None:
        if self.rasa_down:
            raise DeliveryFailed("rasa down")
        self.intents.append((conversation_id, intent, entities))

    async def send_sms(self, to: str, body: str) -> None:
        self.sms.append((to, body))


@pytest.fixture
def world(migrated_url, clock):  # type: ignore[no-untyped-def]
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_demo_data(session, today=clock().date())
    vendors = FakeVendors()
    notifications = NotificationService(sessions, vendors, vendors, clock=clock)
    scheduler = Scheduler(sessions, notifications, vendors, vendors, vendors, clock=clock)
    plans = PlanService(sessions, PlanPolicy(), clock=clock)
    yield sessions, vendors, scheduler, plans, clock
    engine.dispose()


def book(plans: PlanService, channel: str = "sms", conversation: str | None = "conv-sms-1", card: bool = True) -> str:
    plan = plans.book(
        "A1001",
        offer_id="installments_3",
        channel=channel,
        idempotency_key=f"k-{channel}-{card}",
        consent_text=CONSENT,
        conversation_id=conversation,
    ).plan
    with plans.sessions.begin() as session:
        row = session.get(PlanRow, plan.id)
        if card:
            row.stripe_customer_id, row.stripe_payment_method_id = "cus_1", "pm_1"
        row.installments[0].status = "paid"  # the first payment was taken in the conversation
    return plan.id


def installments(sessions, plan_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [i.status for i in session.get(PlanRow, plan_id).installments]


async def test_reminder_goes_to_the_sms_conversation_once(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans)
    clock.now = clock.now + timedelta(days=29)  # 2026-03-31: installment 2 is due 2026-04-02
    report = await scheduler.run_once()
    assert report.reminders_sent == 1
    [(conversation, intent, entities)] = vendors.intents
    assert (conversation, intent) == ("conv-sms-1", "installment_reminder")
    assert entities["amount_cents"] == 10333 and entities["due_date"] == "2026-04-02"
    again = await scheduler.run_once()
    assert again.reminders_sent == 0 and len(vendors.intents) == 1


async def test_no_reminder_when_the_contact_check_refuses_then_sent_later(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans)
    clock.now = clock.now + timedelta(days=29)
    vendors.contact_allowed = False
    report = await scheduler.run_once()
    assert report.reminders_sent == 0 and report.reminders_deferred == {"outside_hours": 1}
    assert vendors.intents == [] and vendors.sms == []
    vendors.contact_allowed = True
    assert (await scheduler.run_once()).reminders_sent == 1


async def test_web_plans_are_reminded_by_sms_with_the_opt_out(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans, channel="web", conversation="conv-web")
    clock.now = clock.now + timedelta(days=29)
    await scheduler.run_once()
    [(to, body)] = vendors.sms
    assert to == "+15125550101"
    assert "$103.33" in body and "April 2, 2026" in body and body.endswith("Reply STOP to opt out.")


async def test_due_installment_is_charged_off_session(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    clock.now = clock.now + timedelta(days=31)  # 2026-04-02
    report = await scheduler.run_once()
    assert report.charged == 1 and len(vendors.charges) == 1
    with sessions() as session:
        second = session.scalar(
            select(InstallmentRow).where(InstallmentRow.plan_id == plan_id, InstallmentRow.seq == 2)
        )
    assert vendors.charges == [second.id]


async def test_failed_charge_sends_a_fresh_link_and_records_a_broken_promise(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    vendors.charge_outcome = FAILED
    clock.now = clock.now + timedelta(days=31)
    report = await scheduler.run_once()
    assert (report.charge_failed, report.links_sent) == (1, 1)
    assert installments(sessions, plan_id) == ["paid", "failed", "scheduled"]
    [(_, intent, entities)] = [i for i in vendors.intents if i[1] == "installment_failed"]
    assert entities["link_url"].startswith("http://pay.example/pay/")
    with sessions() as session:
        [event] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "installment_charge_failed")).all()
    assert event.detail["broken_promise"] is True
    # The next pass neither charges again nor sends a second link.
    await scheduler.run_once()
    assert len(vendors.charges) == 1 and len(vendors.links) == 1


async def test_stripe_down_leaves_the_installment_scheduled_for_the_next_pass(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    vendors.charge_outcome = UNAVAILABLE
    clock.now = clock.now + timedelta(days=31)
    assert (await scheduler.run_once()).charge_unavailable == 1
    assert installments(sessions, plan_id)[1] == "scheduled"
    vendors.charge_outcome = SUCCEEDED
    assert (await scheduler.run_once()).charged == 1


async def test_plan_without_a_saved_card_gets_a_link_on_the_due_date(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans, card=False)
    clock.now = clock.now + timedelta(days=31)
    report = await scheduler.run_once()
    assert report.links_sent == 1 and vendors.charges == []
    assert [i[1] for i in vendors.intents if i[1] != "installment_reminder"] == ["installment_due"]


async def test_the_first_installment_is_left_to_the_conversation_on_the_booking_day(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans, card=False)
    with sessions.begin() as session:
        session.get(PlanRow, plan_id).installments[0].status = "scheduled"  # its link is not paid yet
    report = await scheduler.run_once()  # the same day: the conversation has just sent its link
    assert report.links_sent == 0 and vendors.charges == [] and vendors.intents == []
    clock.now = clock.now + timedelta(days=1)  # still unpaid the next day: collected as usual
    report = await scheduler.run_once()
    assert report.links_sent == 1 and [i[1] for i in vendors.intents] == ["installment_due"]


def sms_bodies(vendors: FakeVendors) -> list[str]:
    return [body for _, body in vendors.sms]


async def test_a_week_late_the_customer_is_told_and_given_the_grace_period_before_the_plan_breaks(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    vendors.charge_outcome = FAILED
    clock.now = clock.now + timedelta(days=31)  # 2026-04-02: installment 2 declined
    await scheduler.run_once()
    clock.now = clock.now + timedelta(days=7)  # a week late: missed, told, not broken
    report = await scheduler.run_once()
    assert (report.missed, report.plans_broken) == (1, 0)
    assert installments(sessions, plan_id) == ["paid", "missed", "scheduled"]
    [notice] = [b for b in sms_bodies(vendors) if "has not been paid" in b]
    assert "Pay it by April 19, 2026 to keep your plan: http://pay.example/pay/tok-" in notice  # 10 grace days
    assert notice.endswith("Reply STOP to opt out.")
    with sessions() as session:
        assert session.get(PlanRow, plan_id).status == "active"
        [missed] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "installment_missed")).all()
    assert missed.detail["grace_until"] == "2026-04-19"
    clock.now = clock.now + timedelta(days=10)  # the last day of grace: still not broken
    assert (await scheduler.run_once()).plans_broken == 0
    clock.now = clock.now + timedelta(days=1)
    report = await scheduler.run_once()
    assert report.plans_broken == 1 and report.errors == 0
    with sessions() as session:
        assert session.get(PlanRow, plan_id).status == "broken"
        kinds = session.scalars(select(AuditEventRow.kind).where(AuditEventRow.kind == "plan_broken")).all()
    assert kinds == ["plan_broken"]
    [ended] = [b for b in sms_bodies(vendors) if "has ended" in b]
    assert plan_id in ended and "settlement" not in ended
    assert installments(sessions, plan_id) == ["paid", "missed", "cancelled"]


async def test_paying_within_the_grace_period_keeps_the_plan(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    vendors.charge_outcome = FAILED
    clock.now = clock.now + timedelta(days=31)
    await scheduler.run_once()
    clock.now = clock.now + timedelta(days=7)
    await scheduler.run_once()
    with sessions.begin() as session:
        session.get(PlanRow, plan_id).installments[1].status = "paid"  # paid through the notice's link
    clock.now = clock.now + timedelta(days=11)
    report = await scheduler.run_once()
    assert report.plans_broken == 0
    with sessions() as session:
        assert session.get(PlanRow, plan_id).status == "active"


async def test_the_missed_notice_waits_for_contact_hours_and_so_does_the_grace_period(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans, card=False)
    clock.now = clock.now + timedelta(days=38)  # a week after installment 2 was due
    vendors.contact_allowed = False
    assert (await scheduler.run_once()).missed == 0
    assert installments(sessions, plan_id)[1] == "scheduled"
    vendors.contact_allowed = True
    clock.now = clock.now + timedelta(days=2)
    assert (await scheduler.run_once()).missed == 1
    with sessions() as session:
        assert session.get(PlanRow, plan_id).installments[1].grace_until.isoformat() == "2026-04-21"


async def test_a_broken_settlement_is_void_and_the_customer_is_told_the_balance_owed(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan = plans.book(
        "A1002",
        offer_id="settlement_3",
        channel="sms",
        idempotency_key="settle-1",
        consent_text=CONSENT,
        conversation_id=None,
    ).plan
    with sessions.begin() as session:
        row = session.get(PlanRow, plan.id)
        row.installments[0].status = "paid"
        session.get(AccountRow, "A1002").balance_cents -= row.installments[0].amount_cents
    clock.now = clock.now + timedelta(days=31 + 7)
    await scheduler.run_once()
    clock.now = clock.now + timedelta(days=11)
    assert (await scheduler.run_once()).plans_broken == 1
    [ended] = [b for b in sms_bodies(vendors) if "has ended" in b]
    owed = 64050 - row.installments[0].amount_cents
    assert f"The settlement no longer applies: your balance of ${owed // 100}.{owed % 100:02d} is owed" in ended
    with sessions() as session:
        [event] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "plan_broken")).all()
        assert session.get(AccountRow, "A1002").status == "charged_off"
    assert (event.detail["settlement"], event.detail["balance_owed_cents"]) == ("void", owed)


async def test_fully_paid_plan_is_completed(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    with sessions.begin() as session:
        for installment in session.get(PlanRow, plan_id).installments:
            installment.status = "paid"
    assert (await scheduler.run_once()).plans_completed == 1
    with sessions() as session:
        assert session.get(PlanRow, plan_id).status == "completed"


async def test_outbox_retries_while_rasa_is_down_and_sends_once_when_back(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans)
    clock.now = clock.now + timedelta(days=29)
    vendors.rasa_down = True
    await scheduler.run_once()
    with sessions() as session:
        [row] = session.scalars(select(NotificationRow)).all()
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > clock.now
    vendors.rasa_down = False
    clock.now = clock.now + timedelta(minutes=1)
    await scheduler.run_once()
    await scheduler.run_once()
    assert [i[1] for i in vendors.intents] == ["installment_reminder"]
    with sessions() as session:
        assert session.scalars(select(NotificationRow.status)).all() == ["sent"]


async def test_outbox_gives_up_after_the_maximum_attempts(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans)
    clock.now = clock.now + timedelta(days=29)
    vendors.rasa_down = True
    for _ in range(8):
        await scheduler.run_once()
        clock.now = clock.now + timedelta(hours=3)
    with sessions() as session:
        row = session.scalars(select(NotificationRow)).one()
    assert (row.status, row.attempts, row.last_error) == ("failed", 8, "rasa down")


async def test_a_failure_link_held_back_by_contact_rules_goes_out_on_a_later_pass(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    book(plans)
    vendors.charge_outcome = FAILED
    clock.now = clock.now + timedelta(days=31)
    vendors.contact_allowed = False
    report = await scheduler.run_once()
    assert (report.charge_failed, report.links_sent) == (1, 0)
    vendors.contact_allowed = True
    assert (await scheduler.run_once()).links_sent == 1
    assert (await scheduler.run_once()).links_sent == 0
    assert len(vendors.links) == 1 and len(vendors.charges) == 1


def flag(sessions, account_id: str, name: str, clock) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        session.add(AccountFlagRow(account_id=account_id, flag=name, created_at=clock()))


def unflag(sessions, account_id: str, name: str) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        session.delete(session.get(AccountFlagRow, (account_id, name)))


async def test_a_pause_suspends_the_plan_and_it_resumes_when_the_pause_lifts(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    flag(sessions, "A1001", "dispute", clock)
    clock.now = clock.now + timedelta(days=31)  # installment 2 due
    report = await scheduler.run_once()
    assert (report.plans_suspended, report.charged, report.errors) == (1, 0, 0)
    assert vendors.charges == [] and vendors.intents == [] and vendors.sms == []
    with sessions() as session:
        plan = session.get(PlanRow, plan_id)
        assert (plan.status, plan.suspended_reason) == ("suspended", "dispute")
    clock.now = clock.now + timedelta(days=10)  # long past the missed threshold: still not broken
    report = await scheduler.run_once()
    assert (report.missed, report.plans_broken, report.plans_suspended) == (0, 0, 0)
    unflag(sessions, "A1001", "dispute")
    report = await scheduler.run_once()
    assert report.plans_resumed == 1
    # The missed countdown restarts at the resume: installment 2 is collected, not missed.
    assert report.charged == 1 and report.missed == 0 and len(vendors.charges) == 1
    with sessions() as session:
        kinds = session.scalars(
            select(AuditEventRow.kind)
            .where(AuditEventRow.kind.in_(("plan_suspended", "plan_resumed")))
            .order_by(AuditEventRow.id)
        ).all()
        assert session.get(PlanRow, plan_id).status == "active"
    assert kinds == ["plan_suspended", "plan_resumed"]


async def test_a_suspended_plan_still_blocks_a_second_plan(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    with sessions.begin() as session:
        session.get(PlanRow, plan_id).status = "suspended"
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), sessions.begin() as session:  # the one-plan index covers suspended plans
        session.add(
            PlanRow(
                id="PLN-SECOND",
                account_id="A1001",
                offer_id="installments_6",
                kind="installments",
                status="active",
                currency="USD",
                total_cents=1,
                channel="sms",
                consent_text="x",
                idempotency_key="second",
                created_at=clock(),
            )
        )


async def test_a_charge_refused_for_a_pause_set_meanwhile_suspends_instead_of_stopping_the_pass(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    from payments.domain.errors import PolicyRefused

    def refuse(installment_id: int, now):  # type: ignore[no-untyped-def]
        raise PolicyRefused("collection_paused", "collection is paused on this account")

    vendors.charge_installment = refuse  # type: ignore[method-assign]
    clock.now = clock.now + timedelta(days=31)
    report = await scheduler.run_once()
    assert (report.plans_suspended, report.errors) == (1, 0)
    with sessions() as session:
        assert session.get(PlanRow, plan_id).status == "suspended"


async def test_an_error_on_one_installment_never_stops_the_others(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, scheduler, plans, clock = world
    first = book(plans)
    other = plans.book(
        "A1005",
        offer_id="installments_3",
        channel="sms",
        idempotency_key="k-other",
        consent_text=CONSENT,
        conversation_id="conv-sms-2",
    ).plan.id
    with sessions.begin() as session:
        for plan_id in (first, other):
            row = session.get(PlanRow, plan_id)
            row.stripe_customer_id, row.stripe_payment_method_id = "cus_1", "pm_1"
            row.installments[0].status = "paid"
        broken_installment = session.get(PlanRow, first).installments[1].id
    charged: list[int] = []

    def charge(installment_id: int, now):  # type: ignore[no-untyped-def]
        if installment_id == broken_installment:
            raise RuntimeError("database hiccup")
        charged.append(installment_id)
        return SUCCEEDED

    vendors.charge_installment = charge  # type: ignore[method-assign]
    clock.now = clock.now + timedelta(days=31)
    report = await scheduler.run_once()
    assert (report.errors, report.charged) == (1, 1)
    assert charged and broken_installment not in charged
    assert installments(sessions, first)[1] == "scheduled"  # retried on the next pass


async def test_a_pending_report_from_anyone_suspends_the_plan_until_it_is_dismissed(world) -> None:  # type: ignore[no-untyped-def]
    from payments.domain.standing import ReportKind
    from payments.services.reports import ReportService

    sessions, vendors, scheduler, plans, clock = world
    plan_id = book(plans)
    reports = ReportService(sessions, clock=clock)
    reports.record(
        ReportKind.DECEASED,
        account_id=None,
        phone="+15125550101",
        conversation_id="voice-CA1",
        channel="voice",
        reported_by="third_party",
        summary="caller says the cardholder died",
    )
    clock.now = clock.now + timedelta(days=31)
    report = await scheduler.run_once()
    assert (report.plans_suspended, report.charged) == (1, 0) and vendors.charges == []
    with sessions() as session:
        assert session.get(PlanRow, plan_id).suspended_reason == "pending_review"
    [pending] = reports.pending(account_id="A1001", conversation_id=None)
    reports.dismiss(pending.id, "sam")
    report = await scheduler.run_once()
    assert (report.plans_resumed, report.charged) == (1, 1)


async def test_a_settled_account_is_told_once_that_nothing_more_is_owed(world) -> None:  # type: ignore[no-untyped-def]
    from payments.services.compliance import ComplianceService

    sessions, vendors, _, plans, clock = world
    # Through the outbox's send-time gate, as the real scheduler delivers (the notice is a notice).
    gated = NotificationService(sessions, vendors, vendors, clock=clock, gate=ComplianceService(sessions, clock=clock))
    scheduler = Scheduler(sessions, gated, vendors, vendors, vendors, clock=clock)
    plan = plans.book(
        "A1002", offer_id="settlement_lump", channel="web", idempotency_key="settle-told", conversation_id=None
    ).plan
    with sessions.begin() as session:  # as the last settlement payment leaves it (services/payment_events.py)
        row = session.get(PlanRow, plan.id)
        row.installments[0].status, row.status, row.ended_at = "paid", "completed", clock()
        account = session.get(AccountRow, "A1002")
        account.status, account.balance_cents, account.past_due_cents, account.minimum_due_cents = "settled", 0, 0, 0
    report = await scheduler.run_once()
    assert report.settled_notices == 1
    [(to, body)] = vendors.sms
    assert to == "+12125550102" and "is settled and nothing more is owed" in body and "1190" in body
    assert body.endswith("Reply STOP to opt out.")
    assert (await scheduler.run_once()).settled_notices == 0 and len(vendors.sms) == 1


async def test_each_pass_cancels_the_intents_of_expired_links_and_survives_a_failure(world) -> None:  # type: ignore[no-untyped-def]
    sessions, vendors, _, _, clock = world

    class ExpiredLinks:
        def __init__(self) -> None:
            self.calls = 0

        async def cancel_expired_intents(self, limit: int = 50) -> int:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("Stripe said something odd")
            return 1

    links = ExpiredLinks()
    scheduler = Scheduler(
        sessions,
        NotificationService(sessions, vendors, vendors, clock=clock),
        vendors,
        vendors,
        vendors,
        expired_links=links,
        clock=clock,
    )
    assert (await scheduler.run_once()).errors == 1
    assert (await scheduler.run_once()).errors == 0
    assert links.calls == 2
