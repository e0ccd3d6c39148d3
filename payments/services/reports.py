"""Reports from anyone (contract C4, `POST /api/reports`): a death, a bankruptcy, an attorney, a
dispute or a cease request, said by the cardholder or by someone else, verified or not.

A report is recorded at once as pending on every account the account id or the phone number
points to; while pending it pauses collection there (the standing's `pending_review`, the contact
check, the outbox holds collection messages). An agent reviews it in the console: confirmed, it
becomes the real flag; dismissed, collection may go on and the messages it held are released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from contracts.masking import mask_card_numbers
from payments.adapters.compliance_repository import PENDING_REVIEW, FlagRepository, ReportRepository, serialize_writes
from payments.adapters.orm import AccountReportRow
from payments.adapters.repositories import AuditLog
from payments.domain.errors import Conflict, NotFound
from payments.domain.ids import new_public_id
from payments.domain.standing import ReportKind
from payments.services.clock import Clock, utc_now
from payments.services.compliance import set_flag_in
from payments.services.notifications import release_held

CONFIRMED, DISMISSED = "confirmed", "dismissed"


@dataclass(frozen=True)
class ReportReceipt:
    report_id: str
    account_ids: tuple[str, ...]
    status: str = PENDING_REVIEW


@dataclass(frozen=True)
class PendingReport:
    """One account's share of a report, as an agent sees it (`id` is what they confirm or dismiss)."""

    id: int
    report_id: str
    account_id: str | None
    kind: ReportKind
    reported_by: str
    channel: str
    conversation_id: str
    summary: str
    created_at: datetime
    status: str

    @classmethod
    def of(cls, row: AccountReportRow) -> PendingReport:
        return cls(
            row.id,
            row.report_id,
            row.account_id,
            ReportKind(row.kind),
            row.reported_by,
            row.channel,
            row.conversation_id,
            row.summary,
            row.created_at,
            row.status,
        )


class ReportService:
    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.clock = clock

    def record(
        self,
        kind: ReportKind,
        *,
        account_id: str | None,
        phone: str | None,
        conversation_id: str,
        channel: str,
        reported_by: str,
        summary: str,
    ) -> ReportReceipt:
        """Record the report as pending on each account it points to (none: kept without an
        account for an agent to find by conversation). An unknown account id is ignored, not an
        error: the person reporting may have it wrong. The same report again from the same
        conversation (a retry) returns the first one."""
        now = self.clock()
        with self.sessions.begin() as session:
            flags, reports, audit = FlagRepository(session), ReportRepository(session), AuditLog(session)
            ids = set(flags.account_ids_with_phone(phone)) if phone else set()
            if account_id and flags.account_exists(account_id):
                ids.add(account_id)
            targets = sorted(ids)
            for account in targets:
                serialize_writes(session, f"account:{account}")
            earlier = [
                r for r in reports.pending(account_id=None, conversation_id=conversation_id) if r.kind == kind.value
            ]
            aimed_at: list[str | None] = [*targets] or [None]  # a report that points nowhere is kept too
            if earlier and {r.account_id for r in earlier} >= set(aimed_at):
                return ReportReceipt(earlier[0].report_id, tuple(targets))
            report_id = new_public_id("RPT")
            for target in aimed_at:
                reports.add(
                    AccountReportRow(
                        report_id=report_id,
                        account_id=target,
                        kind=kind.value,
                        status=PENDING_REVIEW,
                        reported_by=reported_by,
                        channel=channel,
                        conversation_id=conversation_id,
                        summary=mask_card_numbers(summary)[0][:500],  # masked by the caller; again, to be sure
                        created_at=now,
                    )
                )
                audit.record(
                    "report_received",
                    at=now,
                    actor="customer" if reported_by == "cardholder" else "system",
                    channel=channel,
                    account_id=target,
                    conversation_id=conversation_id,
                    detail={
                        "report_id": report_id,
                        "kind": kind.value,
                        "reported_by": reported_by,
                        "matched": target is not None,
                    },
                )
        return ReportReceipt(report_id, tuple(targets))

    def pending(self, *, account_id: str | None, conversation_id: str | None) -> list[PendingReport]:
        """Pending reports on the account or from the conversation, oldest first."""
        with self.sessions() as session:
            rows = ReportRepository(session).pending(account_id=account_id, conversation_id=conversation_id)
            return [PendingReport.of(r) for r in rows]

    def all_pending(self, limit: int = 100) -> list[PendingReport]:
        """Every report waiting for review, oldest first (the console's queue shows them all, so
        one that no handoff case points to still reaches a person)."""
        with self.sessions() as session:
            return [PendingReport.of(r) for r in ReportRepository(session).all_pending(limit)]

    def confirm(self, row_id: int, agent: str) -> PendingReport:
        """The agent confirms the report: its flag is set on the account (audited as set by them)."""
        return self._review(row_id, agent, CONFIRMED)

    def dismiss(self, row_id: int, agent: str) -> PendingReport:
        """The agent dismisses the report; the collection messages it held go out again (when no
        other pause holds them)."""
        return self._review(row_id, agent, DISMISSED)

    def _review(self, row_id: int, agent: str, outcome: str) -> PendingReport:
        now, actor = self.clock(), f"agent:{agent}"
        with self.sessions.begin() as session:
            reports = ReportRepository(session)
            row = reports.get(row_id)
            if row is None:
                raise NotFound(f"no report {row_id}")
            if row.account_id:
                serialize_writes(session, f"account:{row.account_id}")
                session.refresh(row)
            if row.status != PENDING_REVIEW:
                raise Conflict(f"report {row.report_id} was {row.status} already", code="report_reviewed")
            if outcome == CONFIRMED:
                if row.account_id is None:
                    raise Conflict(
                        "the report names no account: find the account, or dismiss it", code="report_has_no_account"
                    )
                set_flag_in(
                    session,
                    row.account_id,
                    ReportKind(row.kind).flag,
                    actor=actor,
                    channel="console",
                    at=now,
                    conversation_id=row.conversation_id,
                    detail={"source": "report", "report_id": row.report_id},
                )
            row.status, row.reviewed_by, row.reviewed_at = outcome, agent, now
            AuditLog(session).record(
                f"report_{outcome}",
                at=now,
                actor=actor,
                channel="console",
                account_id=row.account_id,
                conversation_id=row.conversation_id,
                detail={"report_id": row.report_id, "kind": row.kind},
            )
            if outcome == DISMISSED and row.account_id and not reports.pending_kinds(row.account_id):
                release_held(session, row.account_id, now)
            return PendingReport.of(row)
