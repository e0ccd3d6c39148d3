"""Background work for installment plans, run by `python -m payments scheduler`.

Each pass (`run_once`), idempotent so a crash or a second worker repeats nothing:
1. reminders: before each due date, when the contact check allows, one reminder per installment;
2. charges: installments due today (consumer's local date) are charged off-session on the plan's
   saved payment method (idempotency key per installment); a failed charge sends a fresh payment
   link and records a broken-promise event; plans without a saved card get the link instead;
3. missed installments: unpaid `missed_after_days` after the due date → installment missed, plan broken;
4. plans whose installments are all paid are completed;
5. the notification outbox is delivered.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.orm import AccountRow, InstallmentRow, NotificationRow, PlanRow
from payments.adapters.repositories import AuditLog
from payments.domain.money import Money
from payments.domain.offers import format_date
from payments.services.clock import Clock, utc_now
from payments.services.notifications import NotificationService, enqueue_rasa_intent, enqueue_sms

log = logging.getLogger(__name__)

SUCCEEDED, FAILED, UNAVAILABLE = "succeeded", "failed", "unavailable"


class InstallmentCharger(Protocol):
    """Charges one installment off-session; returns `succeeded`, `failed` or `unavailable`."""

    def charge_installment(self, installment_id: int, now: datetime) -> Any: ...


class ContactChecker(Protocol):
    """The compliance check for anything we start. Returns (allowed, refusing rule or None)."""

    def allowed(self, account_id: str, medium: str, at: datetime) -> tuple[bool, str | None]: ...


class LinkIssuer(Protocol):
    """Creates a pending payment for an installment and returns its one-time link URL."""

    def issue_link(self, installment_id: int, now: datetime) -> Any: ...


class ComplianceContactChecker:
    """`ContactChecker` on the compliance service: every check is audited there."""

    def __init__(self, compliance: Any) -> None:
        self.compliance = compliance

    def allowed(self, account_id: str, medium: str, at: datetime) -> tuple[bool, str | None]:
        from payments.domain.compliance import Medium

        decision = self.compliance.check_contact(account_id, Medium(medium), at).decision
        return decision.allowed, (decision.rule.value if decision.rule else None)


@dataclass
class RunReport:
    reminders_sent: int = 0
    reminders_deferred: dict[str, int] = field(default_factory=dict)
    charged: int = 0
    charge_failed: int = 0
    charge_unavailable: int = 0
    links_sent: int = 0
    missed: int = 0
    plans_broken: int = 0
    plans_completed: int = 0
    notifications_sent: int = 0


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Scheduler:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifications: NotificationService,
        charger: InstallmentCharger,
        contact: ContactChecker,
        links: LinkIssuer,
        *,
        reminder_days_before_due: int = 3,
        missed_after_days: int = 7,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.notifications = notifications
        self.charger = charger
        self.contact = contact
        self.links = links
        self.reminder_days = reminder_days_before_due
        self.missed_after_days = missed_after_days
        self.clock = clock

    async def run_once(self) -> RunReport:
        report = RunReport()
        now = self.clock()
        for installment_id, plan_id, account_id, local_today, due, booked_on in self._open_installments(now):
            if due == local_today == booked_on:
                # Booked today: the conversation that booked the plan hands out its first payment
                # link; a second link (or a charge) from here would ask the customer to pay twice.
                # Still unpaid tomorrow, it is collected like any installment.
                continue
            if due > local_today:
                if due - local_today <= timedelta(days=self.reminder_days):
                    self._remind(installment_id, account_id, now, report)
            elif due == local_today or local_today - due < timedelta(days=self.missed_after_days):
                await self._collect(installment_id, plan_id, now, report)
            else:
                self._mark_missed(installment_id, now, report)
        self._complete_paid_plans(now, report)
        delivered = await self.notifications.deliver_due()
        report.notifications_sent = delivered.sent
        return report

    def _open_installments(self, now: datetime) -> list[tuple[int, str, str, date, date, date]]:
        """(installment id, plan id, account id, consumer's local today, due date, local date the
        plan was booked) for unpaid installments of active plans, oldest due first."""
        with self.sessions() as session:
            rows = session.execute(
                select(InstallmentRow.id, PlanRow.id, AccountRow.id, AccountRow.time_zone, InstallmentRow.due_date,
                       PlanRow.created_at)
                .join(PlanRow, InstallmentRow.plan_id == PlanRow.id)
                .join(AccountRow, PlanRow.account_id == AccountRow.id)
                .where(PlanRow.status == "active", InstallmentRow.status.in_(("scheduled", "failed")))
                .order_by(InstallmentRow.due_date, InstallmentRow.id)
            ).all()
        return [(i, p, a, now.astimezone(ZoneInfo(tz)).date(), due, booked.astimezone(ZoneInfo(tz)).date())
                for i, p, a, tz, due, booked in rows]

    def _remind(self, installment_id: int, account_id: str, now: datetime, report: RunReport) -> None:
        with self.sessions() as session:
            installment = session.get(InstallmentRow, installment_id)
            if installment is None or installment.reminder_sent_at is not None or installment.status != "scheduled":
                return
        # The compliance check runs (and is audited) in its own transaction, before ours.
        allowed, rule = self.contact.allowed(account_id, "sms", now)
        if not allowed:
            # Tried again on the next pass (e.g. after 08:00 local); never sent outside the rules.
            report.reminders_deferred[rule or "refused"] = report.reminders_deferred.get(rule or "refused", 0) + 1
            return
        with self.sessions.begin() as session:
            installment = session.get(InstallmentRow, installment_id)
            if installment is None or installment.reminder_sent_at is not None:
                return  # another worker sent it meanwhile
            plan = installment.plan
            account = session.get(AccountRow, plan.account_id)
            assert account is not None
            amount = Money(installment.amount_cents, plan.currency)
            self._tell(session, plan, account, "installment_reminder", {
                "plan_id": plan.id, "amount_cents": amount.amount_cents, "currency": amount.currency,
                "due_date": installment.due_date.isoformat(),
            }, sms_body=(
                f"Lakeside Bank: your plan payment of {amount.display()} ({plan.id}) is due "
                f"{format_date(installment.due_date)}. Reply STOP to opt out."
            ), dedupe_key=f"reminder-{installment.id}", now=now)
            installment.reminder_sent_at = now
            AuditLog(session).record("installment_reminder_queued", at=now, actor="system", channel=plan.channel,
                                     account_id=account.id, detail={"plan_id": plan.id, "seq": installment.seq})
            report.reminders_sent += 1

    async def _collect(self, installment_id: int, plan_id: str, now: datetime, report: RunReport) -> None:
        with self.sessions() as session:
            installment = session.get(InstallmentRow, installment_id)
            plan = session.get(PlanRow, plan_id)
            assert installment is not None and plan is not None
            has_card = bool(plan.stripe_customer_id and plan.stripe_payment_method_id)
            already_failed = installment.status == "failed"
        if already_failed:
            # The fresh link goes out once (it may have waited for contact hours); the
            # installment is missed if still unpaid `missed_after_days` after its due date.
            await self._send_link(installment_id, "installment_failed", now, report)
            return
        if not has_card:
            await self._send_link(installment_id, "installment_due", now, report)
            return
        outcome = await _maybe_await(self.charger.charge_installment(installment_id, now))
        status = getattr(outcome, "status", outcome)
        if status == SUCCEEDED:
            report.charged += 1
        elif status == FAILED:
            report.charge_failed += 1
            with self.sessions.begin() as session:
                row = session.get(InstallmentRow, installment_id)
                assert row is not None
                row.status = "failed"
                AuditLog(session).record(
                    "installment_charge_failed", at=now, actor="system", channel=row.plan.channel,
                    account_id=row.plan.account_id,
                    detail={"plan_id": row.plan_id, "seq": row.seq, "broken_promise": True,
                            "decline_code": getattr(outcome, "decline_code", None)},
                )
            await self._send_link(installment_id, "installment_failed", now, report)
        else:
            report.charge_unavailable += 1  # Stripe down: stays scheduled, retried next pass

    async def _send_link(self, installment_id: int, intent: str, now: datetime, report: RunReport) -> None:
        dedupe_key = f"{intent}-{installment_id}"
        with self.sessions() as session:
            if session.scalar(select(NotificationRow.id).where(NotificationRow.dedupe_key == dedupe_key)):
                return  # already sent
            account_id = session.get(InstallmentRow, installment_id).plan.account_id  # type: ignore[union-attr]
        allowed, _ = self.contact.allowed(account_id, "sms", now)
        if not allowed:
            return  # nothing sent; the next pass tries again within the rules
        link = await _maybe_await(self.links.issue_link(installment_id, now))
        link_url = getattr(link, "link_url", link)
        with self.sessions.begin() as session:
            installment = session.get(InstallmentRow, installment_id)
            assert installment is not None
            plan = installment.plan
            account = session.get(AccountRow, plan.account_id)
            assert account is not None
            amount = Money(installment.amount_cents, plan.currency)
            lead = "didn't go through" if intent == "installment_failed" else "is due today"
            self._tell(session, plan, account, intent, {
                "plan_id": plan.id, "amount_cents": amount.amount_cents, "currency": amount.currency,
                "link_url": link_url,
            }, sms_body=(
                f"Lakeside Bank: your plan payment of {amount.display()} {lead}. "
                f"Pay securely: {link_url} Reply STOP to opt out."
            ), dedupe_key=dedupe_key, now=now)
            report.links_sent += 1

    def _mark_missed(self, installment_id: int, now: datetime, report: RunReport) -> None:
        with self.sessions.begin() as session:
            installment = session.get(InstallmentRow, installment_id)
            if installment is None or installment.status not in ("scheduled", "failed"):
                return
            plan = installment.plan
            installment.status = "missed"
            report.missed += 1
            if plan.status == "active":
                plan.status, plan.ended_at = "broken", now
                report.plans_broken += 1
                AuditLog(session).record(
                    "plan_broken", at=now, actor="system", channel=plan.channel, account_id=plan.account_id,
                    detail={"plan_id": plan.id, "missed_seq": installment.seq},
                )

    def _complete_paid_plans(self, now: datetime, report: RunReport) -> None:
        with self.sessions.begin() as session:
            for plan in session.scalars(select(PlanRow).where(PlanRow.status == "active")):
                if plan.installments and all(i.status == "paid" for i in plan.installments):
                    plan.status, plan.ended_at = "completed", now
                    report.plans_completed += 1
                    AuditLog(session).record("plan_completed", at=now, actor="system", channel=plan.channel,
                                             account_id=plan.account_id, detail={"plan_id": plan.id})

    @staticmethod
    def _tell(
        session: Session, plan: PlanRow, account: AccountRow, intent: str, entities: dict[str, Any], *,
        sms_body: str, dedupe_key: str, now: datetime,
    ) -> None:
        """Through the plan's SMS conversation when there is one (the bot's own wording, in the
        thread), else a direct SMS to the number on file. Web and voice conversations cannot be
        reached later, so their reminders go by SMS too."""
        if plan.channel == "sms" and plan.conversation_id:
            enqueue_rasa_intent(session, conversation_id=plan.conversation_id, channel="sms", intent=intent,
                                entities=entities, dedupe_key=dedupe_key, now=now, account_id=account.id)
        else:
            enqueue_sms(session, to=account.phone, body=sms_body, dedupe_key=dedupe_key, now=now,
                        account_id=account.id)
