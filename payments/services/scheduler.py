"""Background work for installment plans, run by `python -m payments scheduler`.

Each pass (`run_once`), idempotent so a crash or a second worker repeats nothing:
1. suspended plans whose account pause has lifted resume;
2. for each unpaid installment of an active plan, standing is checked first (`StandingCheck`): a
   pause on the account (dispute, bankruptcy, attorney, deceased, cease, a pending report, ...)
   suspends the plan instead of collecting or breaking it; then
   - reminders: before each due date, when the contact check allows, one reminder per installment;
   - charges: installments due today (consumer's local date) are charged off-session on the plan's
     saved payment method (idempotency key per installment); a failed charge sends a fresh payment
     link and records a broken-promise event; plans without a saved card get the link instead;
   - missed: unpaid `missed_after_days` after the due date (or after the plan resumed) → the
     installment is missed and the customer is told, with a link, that the plan stays if it is paid
     within the policy's `grace_days`; still unpaid after that → the plan is broken, and the
     customer is told (a broken settlement is void: the remaining balance is owed again);
3. plans whose installments are all paid are completed; a settled account is told it is settled;
4. expired payment links get their PaymentIntents cancelled at Stripe (their client secrets pay
   nothing more);
5. the notification outbox is delivered.

Every installment and every plan is handled on its own, in its own transactions: a refusal or an
error on one is logged and counted (`RunReport.errors`) and the pass goes on with the others.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from contracts.names import ExternalIntent
from payments.adapters.repositories import AuditLog
from payments.adapters.schedule_repository import OpenInstallment, ScheduleRepository
from payments.domain.accounts import Account
from payments.domain.compliance import OPT_OUT_NOTICE
from payments.domain.errors import PolicyRefused
from payments.domain.money import Money
from payments.domain.offers import format_date
from payments.domain.plan import (
    InstallmentEvent,
    InstallmentStatus,
    Plan,
    PlanEvent,
    installment_after,
    plan_after,
)
from payments.domain.settlement import Balances, BrokenSettlementRule, after_broken_settlement
from payments.domain.standing import Purpose
from payments.services.clock import Clock, utc_now
from payments.services.notifications import NotificationService, enqueue_rasa_intent, enqueue_sms
from payments.services.standing import StandingService

log = logging.getLogger(__name__)

SUCCEEDED, FAILED, UNAVAILABLE = "succeeded", "failed", "unavailable"
OPT_OUT = OPT_OUT_NOTICE  # the one spelling (12 CFR 1006.6(e)); enqueue_sms ensures it too
# A settled account is told once; plans settled longer ago than this are not looked at again.
SETTLED_NOTICE_WITHIN = timedelta(days=30)


class InstallmentCharger(Protocol):
    """Charges one installment off-session; returns `succeeded`, `failed` or `unavailable`."""

    def charge_installment(self, installment_id: int, now: datetime) -> Any: ...


class ContactChecker(Protocol):
    """The compliance check for anything we start. Returns (allowed, refusing rule or None)."""

    def allowed(self, account_id: str, medium: str, at: datetime) -> tuple[bool, str | None]: ...


class LinkIssuer(Protocol):
    """Creates a pending payment for an installment and returns its one-time link URL."""

    def issue_link(self, installment_id: int, now: datetime) -> Any: ...


class ExpiredLinks(Protocol):
    """Expires run-out payment links and cancels their PaymentIntents at Stripe."""

    async def cancel_expired_intents(self, limit: int = 50) -> int: ...


class StandingCheck(Protocol):
    """Whether collection on an account is paused right now, read fresh at every call."""

    def collection_pause(self, account_id: str) -> str | None:
        """The reason collection is paused (`dispute`, `bankruptcy`, `settled`, ...), or None."""
        ...


class ComplianceContactChecker:
    """`ContactChecker` on the compliance service: every check is audited there."""

    def __init__(self, compliance: Any) -> None:
        self.compliance = compliance

    def allowed(self, account_id: str, medium: str, at: datetime) -> tuple[bool, str | None]:
        from payments.domain.compliance import Medium

        decision = self.compliance.check_contact(account_id, Medium(medium), at).decision
        return decision.allowed, (decision.rule.value if decision.rule else None)


class StandingPause:
    """`StandingCheck` on the standing service (contract C4): paused for any of its pause reasons
    (bankruptcy, dispute, attorney, deceased, cease, hardship hold, a pending report, settled)."""

    def __init__(self, standing: StandingService) -> None:
        self.standing = standing

    def collection_pause(self, account_id: str) -> str | None:
        reasons = self.standing.standing(account_id).pause_reasons
        return reasons[0].value if reasons else None


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
    plans_suspended: int = 0
    plans_resumed: int = 0
    settled_notices: int = 0
    errors: int = 0  # installments or plans whose step raised; logged, retried on the next pass
    notifications_sent: int = 0


@dataclass(frozen=True)
class _Open:
    """An unpaid installment of an active plan, with the dates that decide what is due."""

    installment_id: int
    plan_id: str
    account_id: str
    local_today: date
    due: date
    booked_on: date
    resumed_on: date | None
    status: InstallmentStatus
    grace_until: date | None

    @classmethod
    def of(cls, stored: OpenInstallment, now: datetime) -> _Open:
        """With the consumer's local dates."""
        zone = ZoneInfo(stored.time_zone)
        return cls(
            stored.installment.id,
            stored.plan.id,
            stored.plan.account_id,
            now.astimezone(zone).date(),
            stored.installment.due_date,
            stored.plan.created_at.astimezone(zone).date(),
            stored.resumed_at.astimezone(zone).date() if stored.resumed_at else None,
            stored.installment.status,
            stored.grace_until,
        )

    @property
    def overdue_from(self) -> date:
        """The missed countdown starts at the due date, or when the plan resumed after a pause."""
        return max(self.due, self.resumed_on) if self.resumed_on else self.due


def _all_paid(plan: Plan) -> bool:
    return bool(plan.installments) and all(i.status == InstallmentStatus.PAID for i in plan.installments)


def _audit(session: Session, kind: str, plan: Plan, now: datetime, detail: dict[str, Any]) -> None:
    """A change the scheduler made to a plan or an installment, in the plan's channel."""
    AuditLog(session).record(
        kind, at=now, actor="system", channel=plan.channel, account_id=plan.account_id, detail=detail
    )


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
        standing: StandingCheck | None = None,
        expired_links: ExpiredLinks | None = None,
        reminder_days_before_due: int = 3,
        missed_after_days: int = 7,
        grace_days: int = 10,
        broken_settlement: BrokenSettlementRule = BrokenSettlementRule.VOID,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.notifications = notifications
        self.charger = charger
        self.contact = contact
        self.links = links
        self.standing = standing or StandingPause(StandingService(sessions))
        self.expired_links = expired_links
        self.reminder_days = reminder_days_before_due
        self.missed_after_days = missed_after_days
        self.grace_days = grace_days
        self.broken_settlement = broken_settlement
        self.clock = clock

    async def run_once(self) -> RunReport:
        report = RunReport()
        now = self.clock()
        for plan_id, account_id in self._suspended_plans():
            self._isolated(f"plan {plan_id}", report, self._resume_if_lifted, plan_id, account_id, now, report)
        for item in self._open_installments(now):
            await self._isolated_async(f"installment {item.installment_id}", report, self._handle, item, now, report)
        for plan_id in self._plans_to_complete():
            self._isolated(f"plan {plan_id}", report, self._complete, plan_id, now, report)
        for plan_id, account_id in self._settled_to_tell(now):
            self._isolated(f"plan {plan_id}", report, self._tell_settled, plan_id, account_id, now, report)
        if self.expired_links is not None:
            await self._isolated_async("expired links", report, self.expired_links.cancel_expired_intents)
        try:
            delivered = await self.notifications.deliver_due()
            report.notifications_sent = delivered.sent
        except Exception:
            log.exception("scheduler: delivering the outbox failed")
            report.errors += 1
        return report

    @staticmethod
    def _isolated(what: str, report: RunReport, step: Any, *args: Any) -> None:
        try:
            step(*args)
        except Exception:
            log.exception("scheduler: %s failed; the pass goes on", what)
            report.errors += 1

    @staticmethod
    async def _isolated_async(what: str, report: RunReport, step: Any, *args: Any) -> None:
        try:
            await step(*args)
        except Exception:
            log.exception("scheduler: %s failed; the pass goes on", what)
            report.errors += 1

    # ------------------------------------------------------------------ one installment

    async def _handle(self, item: _Open, now: datetime, report: RunReport) -> None:
        if item.due == item.local_today == item.booked_on:
            # Booked today: the conversation that booked the plan hands out its first payment
            # link; a second link (or a charge) from here would ask the customer to pay twice.
            # Still unpaid tomorrow, it is collected like any installment.
            return
        # Standing first, fresh for every installment: a pause suspends the plan, never breaks it.
        reason = self.standing.collection_pause(item.account_id)
        if reason is not None:
            self._suspend(item.plan_id, reason, now, report)
            return
        if item.status == InstallmentStatus.MISSED:
            if item.grace_until is not None and item.local_today > item.grace_until:
                self._break(item, now, report)
            return  # within the grace period: the customer has the link from the notice
        if item.due > item.local_today:
            if item.due - item.local_today <= timedelta(days=self.reminder_days):
                self._remind(item.installment_id, item.account_id, now, report)
        elif item.local_today - item.overdue_from < timedelta(days=self.missed_after_days):
            await self._collect(item, now, report)
        else:
            await self._miss(item, now, report)

    def _open_installments(self, now: datetime) -> list[_Open]:
        """Unpaid installments (scheduled, failed, or missed within their grace period) of active
        plans, oldest due first, with the consumer's local dates."""
        with self.sessions() as session:
            return [_Open.of(stored, now) for stored in ScheduleRepository(session).open_installments()]

    def _remind(self, installment_id: int, account_id: str, now: datetime, report: RunReport) -> None:
        with self.sessions() as session:
            repo = ScheduleRepository(session)
            found = repo.installment_in_plan(installment_id)
            if found is None or repo.reminder_sent(installment_id) or found[1].status != InstallmentStatus.SCHEDULED:
                return
        # The compliance check runs (and is audited) in its own transaction, before ours.
        allowed, rule = self.contact.allowed(account_id, "sms", now)
        if not allowed:
            # Tried again on the next pass (e.g. after 08:00 local); never sent outside the rules.
            report.reminders_deferred[rule or "refused"] = report.reminders_deferred.get(rule or "refused", 0) + 1
            return
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            found = repo.installment_in_plan(installment_id)
            if found is None or repo.reminder_sent(installment_id):
                return  # another worker sent it meanwhile
            plan, installment = found
            account = repo.account(plan.account_id)
            amount = installment.amount
            self._tell(
                session,
                plan,
                account,
                ExternalIntent.INSTALLMENT_REMINDER,
                {
                    "plan_id": plan.id,
                    "amount_cents": amount.amount_cents,
                    "currency": amount.currency,
                    "due_date": installment.due_date.isoformat(),
                },
                sms_body=(
                    f"Lakeside Bank: your plan payment of {amount.display()} ({plan.id}) is due "
                    f"{format_date(installment.due_date)}. {OPT_OUT}"
                ),
                dedupe_key=f"reminder-{installment.id}",
                now=now,
            )
            repo.mark_reminder_sent(installment.id, now)
            _audit(session, "installment_reminder_queued", plan, now, {"plan_id": plan.id, "seq": installment.seq})
            report.reminders_sent += 1

    async def _collect(self, item: _Open, now: datetime, report: RunReport) -> None:
        installment_id = item.installment_id
        with self.sessions() as session:
            found = ScheduleRepository(session).installment_in_plan(installment_id)
            assert found is not None
            has_card = found[0].has_saved_card
            already_failed = found[1].status == InstallmentStatus.FAILED
        if already_failed:
            # The fresh link goes out once (it may have waited for contact hours); the
            # installment is missed if still unpaid `missed_after_days` after its due date.
            await self._send_link(installment_id, ExternalIntent.INSTALLMENT_FAILED, now, report)
            return
        if not has_card:
            await self._send_link(installment_id, ExternalIntent.INSTALLMENT_DUE, now, report)
            return
        try:
            outcome = await _maybe_await(self.charger.charge_installment(installment_id, now))
        except PolicyRefused as refused:
            if refused.code != "collection_paused":
                raise
            # The charge's own standing check saw a pause set since ours: suspend, charge nothing.
            self._suspend(item.plan_id, "collection_paused", now, report)
            return
        status = getattr(outcome, "status", outcome)
        if status == SUCCEEDED:
            report.charged += 1
        elif status == FAILED:
            report.charge_failed += 1
            with self.sessions.begin() as session:
                repo = ScheduleRepository(session)
                found = repo.installment_in_plan(installment_id)
                assert found is not None
                plan, installment = found
                failed = installment_after(installment.status, InstallmentEvent.FAILED)
                if failed is not None:
                    repo.set_installment_status(installment_id, failed)
                detail = {
                    "plan_id": plan.id,
                    "seq": installment.seq,
                    "broken_promise": True,
                    "decline_code": getattr(outcome, "decline_code", None),
                }
                _audit(session, "installment_charge_failed", plan, now, detail)
            await self._send_link(installment_id, ExternalIntent.INSTALLMENT_FAILED, now, report)
        else:
            report.charge_unavailable += 1  # Stripe down: stays scheduled, retried next pass

    async def _send_link(self, installment_id: int, intent: str, now: datetime, report: RunReport) -> None:
        dedupe_key = f"{intent}-{installment_id}"
        with self.sessions() as session:
            repo = ScheduleRepository(session)
            if repo.queued([dedupe_key]):
                return  # already sent
            found = repo.installment_in_plan(installment_id)
            assert found is not None  # installments are never deleted (a plan ends by status)
            account_id = found[0].account_id
        if not self._may_text(account_id, now):
            return  # nothing sent; the next pass tries again within the rules
        link = await _maybe_await(self.links.issue_link(installment_id, now))
        link_url = getattr(link, "link_url", link)
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            found = repo.installment_in_plan(installment_id)
            assert found is not None
            plan, installment = found
            account = repo.account(plan.account_id)
            amount = installment.amount
            lead = "didn't go through" if intent == ExternalIntent.INSTALLMENT_FAILED else "is due today"
            self._tell(
                session,
                plan,
                account,
                intent,
                {
                    "plan_id": plan.id,
                    "amount_cents": amount.amount_cents,
                    "currency": amount.currency,
                    "link_url": link_url,
                },
                sms_body=(
                    f"Lakeside Bank: your plan payment of {amount.display()} {lead}. Pay securely: {link_url} {OPT_OUT}"
                ),
                dedupe_key=dedupe_key,
                now=now,
            )
            report.links_sent += 1

    async def _miss(self, item: _Open, now: datetime, report: RunReport) -> None:
        """Missed: tell the customer, with a payment link, that the plan stays if this payment is
        made within `grace_days`. The grace period starts when the notice is queued, so a notice
        held back by the contact rules never shortens it."""
        if not self._may_text(item.account_id, now):
            return  # the next pass tries again; the plan is not broken meanwhile
        link = await _maybe_await(self.links.issue_link(item.installment_id, now))
        link_url = getattr(link, "link_url", link)
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            found = repo.installment_in_plan(item.installment_id)
            missed = installment_after(found[1].status, InstallmentEvent.MISSED) if found else None
            if found is None or missed is None:
                return  # paid or handled meanwhile
            plan, installment = found
            account = repo.account(plan.account_id)
            grace_until = item.local_today + timedelta(days=self.grace_days)
            repo.miss_installment(installment.id, missed, grace_until)
            enqueue_sms(
                session,
                to=account.phone,
                dedupe_key=f"installment_missed-{installment.id}",
                now=now,
                account_id=account.id,
                body=(
                    f"Lakeside Bank: your plan payment of {installment.amount.display()} ({plan.id}) was due "
                    f"{format_date(installment.due_date)} and has not been paid. Pay it by "
                    f"{format_date(grace_until)} to keep your plan: {link_url} {OPT_OUT}"
                ),
            )
            detail = {
                "plan_id": plan.id,
                "seq": installment.seq,
                "grace_until": grace_until.isoformat(),
                "broken_promise": True,
            }
            _audit(session, "installment_missed", plan, now, detail)
            report.missed += 1

    def _break(self, item: _Open, now: datetime, report: RunReport) -> None:
        """The grace period is over and the installment is still unpaid: the plan is broken and
        the customer is told; a broken settlement follows the policy (void: nothing forgiven)."""
        if not self._may_text(item.account_id, now):
            return  # broken on a pass that can also tell the customer
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            found = repo.installment_in_plan(item.installment_id)
            if found is None or found[1].status != InstallmentStatus.MISSED:
                return
            plan, installment = found
            broken = plan_after(plan.status, PlanEvent.BREAK)
            if broken is None:
                return
            account = repo.account(plan.account_id)
            repo.end(plan.id, broken, now)
            for later in plan.installments:
                cancelled = installment_after(later.status, InstallmentEvent.PLAN_BROKEN)
                if cancelled is not None:
                    repo.set_installment_status(later.id, cancelled)
            detail: dict[str, Any] = {"plan_id": plan.id, "missed_seq": installment.seq}
            body = (
                f"Lakeside Bank: your payment plan {plan.id} has ended because the "
                f"{installment.amount.display()} payment due "
                f"{format_date(installment.due_date)} was not made."
            )
            if plan.settles_balance:
                owed = after_broken_settlement(
                    Balances(
                        account.balance.amount_cents, account.past_due.amount_cents, account.minimum_due.amount_cents
                    ),
                    self.broken_settlement,
                )
                detail |= {"settlement": self.broken_settlement.value, "balance_owed_cents": owed.balance_cents}
                body += (
                    f" The settlement no longer applies: your balance of "
                    f"{Money(owed.balance_cents, account.balance.currency).display()} is owed; the payments you "
                    f"made count toward it."
                )
            enqueue_sms(
                session,
                to=account.phone,
                body=f"{body} Call us or reply to talk about it. {OPT_OUT}",
                dedupe_key=f"plan_broken-{plan.id}",
                now=now,
                account_id=account.id,
            )
            _audit(session, "plan_broken", plan, now, detail)
            report.plans_broken += 1

    # ------------------------------------------------------------------ plans

    def _suspend(self, plan_id: str, reason: str, now: datetime, report: RunReport) -> None:
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            plan = repo.get(plan_id)
            suspended = plan_after(plan.status, PlanEvent.SUSPEND) if plan else None
            if plan is None or suspended is None:
                return  # already suspended by an earlier installment of this pass
            repo.suspend_plan(plan.id, suspended, reason, now)
            _audit(session, "plan_suspended", plan, now, {"plan_id": plan.id, "reason": reason})
            report.plans_suspended += 1

    def _suspended_plans(self) -> list[tuple[str, str]]:
        with self.sessions() as session:
            return [(p.id, p.account_id) for p in ScheduleRepository(session).suspended_plans()]

    def _resume_if_lifted(self, plan_id: str, account_id: str, now: datetime, report: RunReport) -> None:
        if self.standing.collection_pause(account_id) is not None:
            return
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            plan = repo.get(plan_id)
            resumed = plan_after(plan.status, PlanEvent.RESUME) if plan else None
            if plan is None or resumed is None:
                return
            reason = repo.resume_plan(plan.id, resumed, now)
            _audit(session, "plan_resumed", plan, now, {"plan_id": plan.id, "suspended_reason": reason})
            report.plans_resumed += 1

    def _plans_to_complete(self) -> list[str]:
        with self.sessions() as session:
            return [p.id for p in ScheduleRepository(session).active_plans() if _all_paid(p)]

    def _complete(self, plan_id: str, now: datetime, report: RunReport) -> None:
        with self.sessions.begin() as session:
            repo = ScheduleRepository(session)
            plan = repo.get(plan_id)
            completed = plan_after(plan.status, PlanEvent.COMPLETE) if plan else None
            if plan is None or completed is None or not _all_paid(plan):
                return
            repo.end(plan.id, completed, now)
            report.plans_completed += 1
            _audit(session, "plan_completed", plan, now, {"plan_id": plan.id})

    def _settled_to_tell(self, now: datetime) -> list[tuple[str, str]]:
        """Settlement plans that closed their account recently and whose notice is not queued."""
        with self.sessions() as session:
            repo = ScheduleRepository(session)
            plans = repo.settlements_closed_since(now - SETTLED_NOTICE_WITHIN)
            queued = repo.queued(f"settled-{p.id}" for p in plans)
        return [(p.id, p.account_id) for p in plans if f"settled-{p.id}" not in queued]

    def _tell_settled(self, plan_id: str, account_id: str, now: datetime, report: RunReport) -> None:
        if not self._may_text(account_id, now):
            return
        with self.sessions.begin() as session:
            account = ScheduleRepository(session).account(account_id)
            # A notice, not collection: a settled account's standing holds anything that asks for money.
            enqueue_sms(
                session,
                to=account.phone,
                dedupe_key=f"settled-{plan_id}",
                now=now,
                account_id=account_id,
                purpose=Purpose.NOTICE,
                body=(
                    f"Lakeside Bank: your settlement ({plan_id}) is paid. Your account for the card "
                    f"ending {account.card_last4} is settled and nothing more is owed. {OPT_OUT}"
                ),
            )
            AuditLog(session).record(
                "settled_notice_queued", at=now, actor="system", account_id=account_id, detail={"plan_id": plan_id}
            )
            report.settled_notices += 1

    def _may_text(self, account_id: str, now: datetime) -> bool:
        """Whether the contact rules let us send this account an SMS now (the check is audited)."""
        allowed, _ = self.contact.allowed(account_id, "sms", now)
        return allowed

    @staticmethod
    def _tell(
        session: Session,
        plan: Plan,
        account: Account,
        intent: str,
        entities: dict[str, Any],
        *,
        sms_body: str,
        dedupe_key: str,
        now: datetime,
    ) -> None:
        """Through the plan's SMS conversation when there is one (the bot's own wording, in the
        thread), else a direct SMS to the number on file. Web and voice conversations cannot be
        reached later, so their reminders go by SMS too."""
        if plan.channel == "sms" and plan.conversation_id:
            enqueue_rasa_intent(
                session,
                conversation_id=plan.conversation_id,
                channel="sms",
                intent=intent,
                entities=entities,
                dedupe_key=dedupe_key,
                now=now,
                account_id=account.id,
            )
        else:
            enqueue_sms(session, to=account.phone, body=sms_body, dedupe_key=dedupe_key, now=now, account_id=account.id)
