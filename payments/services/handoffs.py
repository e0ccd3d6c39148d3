"""Warm handoffs: cases for the agent console (DESIGN.md, handoff).

A conversation has at most one open-or-claimed case: asking again returns it (more urgent if
the new reason is). A verification lock-out has at most one per account, whichever conversation
it came from (issue 11: an attack spread over new conversations files one case, not one each).
A case's summary and context never hold verification answers (date of birth, ZIP, card last 4)
or card digits: `scrub_context` drops the one and masks the other before anything is stored. Agents claim, note, release and resolve; the state changes are conditional
UPDATEs, so two agents clicking "claim" at once get one winner and one `already_claimed`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.masking import mask_card_numbers
from payments.adapters.compliance_repository import FlagRepository, serialize_writes
from payments.adapters.handoff_repository import HandoffRepository
from payments.adapters.orm import HandoffRow
from payments.adapters.repositories import AuditLog, VerificationAttemptRepository
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import HandoffReason, HandoffStatus, handoff_priority
from payments.domain.errors import Conflict, InvalidRequest, NotFound
from payments.domain.ids import new_public_id
from payments.services.clock import Clock, utc_now
from payments.services.compliance import set_flag_in

MAX_CONTEXT_BYTES = 16 * 1024
LOCKOUT_LOOKBACK = timedelta(hours=24)
# Keys whose values are verification answers (or a card): dropped from a case's context, at any depth.
VERIFICATION_KEYS = frozenset(
    {
        "dob",
        "date_of_birth",
        "birth_date",
        "birthdate",
        "zip",
        "zip_code",
        "postal_code",
        "zipcode",
        "card_last4",
        "last4",
        "last_4",
        "card_number",
        "card",
        "pan",
        "cvc",
        "cvv",
        "factors",
    }
)
# 13 to 19 digits, single spaces, dots or dashes between them allowed: a card number or a piece
# of one, whatever the Luhn check says (the channels' detector is stricter so as not to swallow
# dates; a case needs none of that precision).
_DIGIT_RUN = re.compile(r"(?<![\d])\d(?:[ .\-]?\d){12,18}(?![\d])")
DIGITS_MASK = "[card number removed]"
CONSOLE = "console"  # the audit channel of what agents do in the console
ASSISTANT_AUTHOR = "assistant"


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Case:
    id: str
    conversation_id: str
    channel: str
    reason: HandoffReason
    priority: int
    status: HandoffStatus
    verified: bool
    account_id: str | None
    summary: str
    context: dict[str, Any]
    waiting_since: datetime
    created_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None
    queue_position: int | None
    notes: tuple[Note, ...] = ()


def mask_digit_runs(text: str) -> str:
    """`text` with card numbers (channels' detector) and any run of 13-19 digits masked."""
    masked, _ = mask_card_numbers(text)
    return _DIGIT_RUN.sub(DIGITS_MASK, masked)


def scrub_context(value: Any) -> Any:
    """A copy of a case context without verification answers (`VERIFICATION_KEYS`, at any depth)
    and with card digits masked in every string."""
    if isinstance(value, dict):
        return {k: scrub_context(v) for k, v in value.items() if str(k).lower() not in VERIFICATION_KEYS}
    if isinstance(value, list | tuple):
        return [scrub_context(v) for v in value]
    if isinstance(value, str):
        return mask_digit_runs(value)
    if isinstance(value, int) and not isinstance(value, bool) and 13 <= len(str(abs(value))) <= 19:
        return DIGITS_MASK
    return value


def context_size(context: dict[str, Any]) -> int:
    """Bytes of the context as stored (compact JSON)."""
    return len(json.dumps(context, separators=(",", ":"), default=str).encode())


class HandoffService:
    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.clock = clock

    def create(
        self,
        *,
        conversation_id: str,
        channel: str,
        reason: HandoffReason,
        verified: bool,
        summary: str,
        context: dict[str, Any] | None = None,
        account_id: str | None = None,
    ) -> tuple[Case, bool]:
        """Open a case, or return the conversation's open-or-claimed one. Returns (case, created).

        Again for the same conversation: a more urgent reason raises the priority, a different
        summary becomes an assistant note, a newly known account or verification is filled in.
        A dispute also sets the account's dispute flag in the same transaction.
        """
        context = dict(context or {})
        if context_size(context) > MAX_CONTEXT_BYTES:
            raise InvalidRequest(f"context is larger than {MAX_CONTEXT_BYTES} bytes")
        context, summary = scrub_context(context), mask_digit_runs(summary)
        now = self.clock()
        priority = handoff_priority(reason)
        with self.sessions.begin() as session:
            # One case per conversation: creators of the same conversation take turns.
            serialize_writes(session, f"handoff:conversation:{conversation_id}")
            if account_id is not None and not FlagRepository(session).account_exists(account_id):
                raise NotFound(f"no account {account_id}")
            repo = HandoffRepository(session)
            audit = AuditLog(session)
            row = repo.active_for_conversation(conversation_id)
            if row is None and reason is HandoffReason.VERIFICATION_LOCKED:
                account_id = account_id or self._locked_account(session, conversation_id, now)
                if account_id is not None:
                    serialize_writes(session, f"handoff:lockout:{account_id}")
                    row = repo.active_lockout_for_account(account_id)
                    if row is not None:
                        repo.add_note(
                            row.id,
                            ASSISTANT_AUTHOR,
                            f"Locked out again, from conversation {conversation_id} ({channel}).",
                            now,
                        )
                        return self._case(repo, row), False
            created = row is None
            if row is None:
                row = HandoffRow(
                    id=self._new_id(repo),
                    account_id=account_id,
                    conversation_id=conversation_id,
                    channel=channel,
                    reason=reason.value,
                    priority=priority,
                    status=HandoffStatus.OPEN.value,
                    verified=verified,
                    summary=summary,
                    context=context,
                    waiting_since=now,
                    created_at=now,
                )
                repo.add(row)
                audit.record(
                    "handoff_created",
                    at=now,
                    actor="system",
                    channel=channel,
                    account_id=account_id,
                    conversation_id=conversation_id,
                    detail={"case_id": row.id, "reason": reason.value, "priority": priority, "verified": verified},
                )
            else:
                self._update_existing(session, repo, audit, row, reason, priority, verified, summary, account_id, now)
            case_account = row.account_id
            if reason is HandoffReason.DISPUTE and case_account is not None:
                set_flag_in(
                    session,
                    case_account,
                    AccountFlag.DISPUTE,
                    actor="customer",
                    channel=channel,
                    at=now,
                    conversation_id=conversation_id,
                    detail={"source": "handoff", "case_id": row.id},
                )
            reread = repo.get(row.id)
            assert reread is not None  # written above in this transaction
            case = self._case(repo, reread)
        return case, created

    @staticmethod
    def _locked_account(session: Session, conversation_id: str, now: datetime) -> str | None:
        """The one account this conversation's failed verifications were aimed at, if one."""
        attempts = VerificationAttemptRepository(session)
        since = now - LOCKOUT_LOOKBACK
        targeted = attempts.targeted_accounts(conversation_id, since) or attempts.refused_while_locked(
            conversation_id, since
        )
        return targeted[0] if len(targeted) == 1 else None

    def _update_existing(
        self,
        session: Session,
        repo: HandoffRepository,
        audit: AuditLog,
        row: HandoffRow,
        reason: HandoffReason,
        priority: int,
        verified: bool,
        summary: str,
        account_id: str | None,
        now: datetime,
    ) -> None:
        before = {"from_reason": row.reason, "from_priority": row.priority}
        if repo.raise_priority(row.id, priority, reason.value):
            audit.record(
                "handoff_escalated",
                at=now,
                actor="system",
                channel=row.channel,
                account_id=row.account_id or account_id,
                conversation_id=row.conversation_id,
                detail={"case_id": row.id, **before, "to_reason": reason.value, "to_priority": priority},
            )
        if summary != row.summary:
            repo.add_note(row.id, ASSISTANT_AUTHOR, summary, now)
        if row.account_id is None and account_id is not None:
            row.account_id = account_id
        if verified and not row.verified:
            row.verified = True
        session.flush()

    def list_cases(
        self, status: HandoffStatus = HandoffStatus.OPEN, limit: int = 100, *, with_notes: bool = False
    ) -> list[Case]:
        """Open and claimed: most urgent first, then longest waiting. Resolved: newest first."""
        with self.sessions() as session:
            rows = HandoffRepository(session).by_status(status, limit)
            open_ = status is HandoffStatus.OPEN
            return [
                _to_case(row, position=i + 1 if open_ else None, with_notes=with_notes) for i, row in enumerate(rows)
            ]

    def get(self, case_id: str) -> Case:
        with self.sessions() as session:
            repo = HandoffRepository(session)
            return self._case(repo, self._require(repo, case_id))

    def claim(self, case_id: str, agent: str) -> Case:
        """Exactly one agent wins. The loser gets `Conflict("already_claimed")` naming the winner;
        the winner claiming again gets the case back."""
        now = self.clock()
        with self.sessions.begin() as session:
            repo = HandoffRepository(session)
            # The conditional UPDATE comes first: the database picks the winner.
            if repo.claim(case_id, agent, now):
                row = repo.get(case_id)
                assert row is not None
                self._audit(session, "handoff_claimed", row, agent, now)
                return self._case(repo, row)
            row = self._require(repo, case_id)
            if row.status == HandoffStatus.CLAIMED.value and row.claimed_by == agent:
                return self._case(repo, row)
            raise _state_conflict(row)

    def release(self, case_id: str, agent: str) -> Case:
        """Put a claimed case back in the queue, at the place its waiting time gives it."""
        now = self.clock()
        with self.sessions.begin() as session:
            repo = HandoffRepository(session)
            if not repo.release(case_id, agent):
                raise _state_conflict(self._require(repo, case_id), agent=agent)
            row = repo.get(case_id)
            assert row is not None
            self._audit(session, "handoff_released", row, agent, now)
            return self._case(repo, row)

    def resolve(self, case_id: str, agent: str, outcome: str, resume_assistant: bool) -> Case:
        """Close a case; only the agent who claimed it may. `resume_assistant` is recorded in the
        audit trail; handing the conversation back to Rasa is the caller's job."""
        now = self.clock()
        with self.sessions.begin() as session:
            repo = HandoffRepository(session)
            if not repo.resolve(case_id, agent, outcome, now):
                raise _state_conflict(self._require(repo, case_id), agent=agent)
            row = repo.get(case_id)
            assert row is not None
            self._audit(session, "handoff_resolved", row, agent, now, resume_assistant=resume_assistant)
            return self._case(repo, row)

    def mark_dispute(self, case_id: str, agent: str) -> Case:
        """The claiming agent records that the customer disputes the debt: the account's dispute
        flag (collection pauses) and a note on the case. Needs a verified account on the case."""
        now = self.clock()
        with self.sessions.begin() as session:
            repo = HandoffRepository(session)
            row = self._require(repo, case_id)
            if row.status != HandoffStatus.CLAIMED.value or row.claimed_by != agent:
                raise _state_conflict(row, agent=agent)
            if row.account_id is None:
                raise Conflict(f"case {case_id} has no verified account to flag", code="no_account")
            set_flag_in(
                session,
                row.account_id,
                AccountFlag.DISPUTE,
                actor=f"agent:{agent}",
                channel=CONSOLE,
                at=now,
                conversation_id=row.conversation_id,
                detail={"source": "console", "case_id": row.id},
            )
            repo.add_note(row.id, agent, "Marked as a dispute: collection paused while it is reviewed.", now)
            self._audit(session, "handoff_dispute_marked", row, agent, now)
            return self._case(repo, self._require(repo, case_id))  # reloaded: with the new note

    def add_note(self, case_id: str, author: str, text: str) -> Case:
        now = self.clock()
        with self.sessions.begin() as session:
            repo = HandoffRepository(session)
            if not repo.exists(case_id):
                raise NotFound(f"no case {case_id}")
            note_id = repo.add_note(case_id, author, text, now)
            row = repo.get(case_id)
            assert row is not None
            self._audit(session, "handoff_note_added", row, author, now, note_id=note_id)
            return self._case(repo, row)

    def _audit(self, session: Session, kind: str, row: HandoffRow, agent: str, now: datetime, **detail: Any) -> None:
        AuditLog(session).record(
            kind,
            at=now,
            actor=f"agent:{agent}",
            channel=CONSOLE,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            detail={"case_id": row.id, **detail},
        )

    @staticmethod
    def _require(repo: HandoffRepository, case_id: str) -> HandoffRow:
        row = repo.get(case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    @staticmethod
    def _new_id(repo: HandoffRepository) -> str:
        for _ in range(10):
            case_id = new_public_id("CASE")
            if not repo.exists(case_id):
                return case_id
        raise RuntimeError("could not find a free case id")  # 30^6 ids: practically unreachable

    @staticmethod
    def _case(repo: HandoffRepository, row: HandoffRow) -> Case:
        return _to_case(row, position=repo.queue_position(row), with_notes=True)


def _state_conflict(row: HandoffRow, agent: str | None = None) -> Conflict:
    return state_conflict(row.id, HandoffStatus(row.status), row.claimed_by, agent)


def state_conflict(case_id: str, status: HandoffStatus, claimed_by: str | None, agent: str | None = None) -> Conflict:
    """Why a claim, release or resolve did not apply to a case in this state."""
    if status is HandoffStatus.RESOLVED:
        return Conflict(f"case {case_id} is already resolved", code="already_resolved")
    if status is HandoffStatus.OPEN:
        return Conflict(f"case {case_id} is not claimed; claim it first", code="not_claimed")
    if agent is None:
        return Conflict(f"case {case_id} is already claimed by {claimed_by}", code="already_claimed")
    return Conflict(f"case {case_id} is claimed by {claimed_by}, not {agent}", code="claimed_by_other")


def _to_case(row: HandoffRow, *, position: int | None, with_notes: bool) -> Case:
    return Case(
        id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        reason=HandoffReason(row.reason),
        priority=row.priority,
        status=HandoffStatus(row.status),
        verified=row.verified,
        account_id=row.account_id,
        summary=mask_digit_runs(row.summary),
        context=scrub_context(dict(row.context or {})),  # rows stored before scrubbing, too
        waiting_since=row.waiting_since,
        created_at=row.created_at,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        resolved_at=row.resolved_at,
        outcome=row.outcome,
        queue_position=position,
        notes=tuple(Note(n.id, n.author, n.text, n.created_at) for n in row.notes) if with_notes else (),
    )
