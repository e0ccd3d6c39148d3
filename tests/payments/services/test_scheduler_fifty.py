"""One paused account among fifty healthy ones with plans due today: all fifty are charged and the
paused one is suspended, not charged and not broken. Through the services with the fake gateway,
and through the real scheduler entry point (`python -m payments scheduler --once`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from payments import cli
from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AccountFlagRow, AccountRow, InstallmentRow, PaymentRow, PlanRow
from payments.config import Settings
from payments.seed import seed_demo_data
from payments.services.compliance import ComplianceService
from payments.services.notifications import NotificationService
from payments.services.scheduler import ComplianceContactChecker, Scheduler
from testkit.fake_gateway import FakeGateway
from tests.payments.payment_services import PaymentServices

HEALTHY = 50
PAUSED = "A3000"


class NoMessages:
    """Charges that succeed tell nobody from the scheduler; a message here would be a bug."""

    async def trigger_intent(self, conversation_id, intent, entities):  # type: ignore[no-untyped-def]
        raise AssertionError(f"unexpected message {intent}")

    async def send_sms(self, to, body):  # type: ignore[no-untyped-def]
        raise AssertionError(f"unexpected SMS {body}")


def add_accounts_with_plans_due(sessions, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    """Fifty healthy copies of A1001 and one with a dispute, each with a saved card and a plan
    whose second installment is due today (their local day), booked a month ago."""
    with sessions.begin() as session:
        template = session.get(AccountRow, "A1001")
        columns = {c.key: getattr(template, c.key) for c in AccountRow.__table__.columns}
        ids = [f"A{3000 + n}" for n in range(HEALTHY + 1)]
        for n, account_id in enumerate(ids):
            session.add(AccountRow(**{**columns, "id": account_id, "phone": f"+1512555{2000 + n:04d}"}))
        session.flush()
        session.add(AccountFlagRow(account_id=PAUSED, flag="dispute", created_at=now))
        today = now.astimezone(ZoneInfo(template.time_zone)).date()
        for account_id in ids:
            plan = PlanRow(
                id=f"PLN-{account_id}",
                account_id=account_id,
                offer_id="installments_3",
                kind="installments",
                status="active",
                currency="USD",
                total_cents=30000,
                channel="web",
                conversation_id=None,
                consent_text="I agree to three payments of $100.00 on these dates.",
                idempotency_key="fifty",
                created_at=now - timedelta(days=31),
                stripe_customer_id=f"cus_{account_id}",
                stripe_payment_method_id=f"pm_{account_id}",
            )
            plan.installments = [
                InstallmentRow(seq=1, due_date=today - timedelta(days=31), amount_cents=10000, status="paid"),
                InstallmentRow(seq=2, due_date=today, amount_cents=10000, status="scheduled"),
                InstallmentRow(seq=3, due_date=today + timedelta(days=30), amount_cents=10000, status="scheduled"),
            ]
            session.add(plan)
    return ids


def outcome(sessions) -> tuple[int, str, int, int]:  # type: ignore[no-untyped-def]
    """(second installments paid, the paused plan's status, its payments, balances lowered)."""
    with sessions() as session:
        paid = session.scalar(
            select(func.count())
            .select_from(InstallmentRow)
            .where(InstallmentRow.seq == 2, InstallmentRow.status == "paid")
        )
        paused_plan = session.get(PlanRow, f"PLN-{PAUSED}").status
        paused_payments = session.scalar(
            select(func.count()).select_from(PaymentRow).where(PaymentRow.account_id == PAUSED)
        )
        lowered = session.scalar(
            select(func.count())
            .select_from(AccountRow)
            .where(AccountRow.id.like("A3%"), AccountRow.balance_cents == 245000 - 10000)
        )
    return paid, paused_plan, paused_payments, lowered


async def test_one_paused_account_among_fifty_healthy_ones_all_fifty_charged(migrated_url, clock):
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_demo_data(session, today=clock().date())
    add_accounts_with_plans_due(sessions, clock())
    gateway = FakeGateway()
    payments = PaymentServices(sessions, gateway, public_url="https://pay.example.test", clock=clock)
    quiet = NoMessages()
    scheduler = Scheduler(
        sessions,
        NotificationService(sessions, quiet, quiet, clock=clock),
        payments,
        ComplianceContactChecker(ComplianceService(sessions, clock=clock)),
        payments,
        clock=clock,
    )
    try:
        report = await scheduler.run_once()
        assert (report.charged, report.plans_suspended, report.errors, report.plans_broken) == (HEALTHY, 1, 0, 0)
        assert outcome(sessions) == (HEALTHY, "suspended", 0, HEALTHY)
        assert len(gateway.calls) == HEALTHY
        assert all(call["customer_id"] != f"cus_{PAUSED}" for _, call in gateway.calls)
        # A second pass charges nobody twice and still leaves the paused plan alone.
        again = await scheduler.run_once()
        assert (again.charged, again.errors) == (0, 0) and len(gateway.calls) == HEALTHY
    finally:
        engine.dispose()


def test_the_scheduler_entry_point_charges_all_fifty(migrated_url, monkeypatch):
    """`run_scheduler(settings, once=True)` as `python -m payments scheduler --once` runs it, with
    Stripe replaced by the fake gateway (the real clock: plans are due on today's local date)."""
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_demo_data(session)
    add_accounts_with_plans_due(sessions, datetime.now(timezone.utc))
    gateway = FakeGateway()
    monkeypatch.setattr(cli, "StripeGateway", lambda *args, **kwargs: gateway)
    settings = Settings(
        _env_file=None,
        evenkeel_env="test",
        database_url=migrated_url,
        rasa_url="http://127.0.0.1:9",
        twilio_api_base="http://127.0.0.1:9",
    )
    try:
        import asyncio

        asyncio.run(cli.run_scheduler(settings, once=True))
        assert outcome(sessions) == (HEALTHY, "suspended", 0, HEALTHY)
        assert [name for name, _ in gateway.calls] == ["charge_off_session"] * HEALTHY
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):  # type: ignore[no-untyped-def]
    caplog.set_level("WARNING")
