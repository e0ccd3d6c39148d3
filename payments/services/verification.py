"""Verify a customer's identity against the account on file, and keep the proof of it
(DESIGN.md, identity and disclosure; contract C2).

A successful verification opens a verification session: an opaque id (32 random bytes; only its
SHA-256 is stored) bound to the channel, the conversation and the account. Every call that
discloses account facts or moves money must present it (`require_verification_session`). A
session ends `idle_minutes` after its last use, `max_minutes` after it opened, when the
conversation verifies again, when it is ended (sign-off, hand-back, end of a call), and on
lock-out.

Lock-out counts failed attempts per conversation, per caller phone number and per account the
attempt was aimed at (the accounts of the caller's phone, or on web chat the accounts with the
card last 4 given), so neither a new conversation nor a new phone number resets the count. The
first lock lasts `lock_minutes`; each repeat within 24 hours doubles (domain `lock_state`). A
lock aimed at an account blocks that account's self-service verification from every
conversation: the trade-off is that someone who knows a customer's last 4 can delay that
customer's self-service (never an agent's help), which is why each lock-out is a case for a
person (one per account, `HandoffService`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.orm import VerificationSessionRow
from payments.adapters.repositories import (
    AccountRepository,
    AuditLog,
    VerificationAttemptRepository,
    VerificationSessionRepository,
)
from payments.domain.accounts import Account
from payments.domain.errors import InvalidRequest, VerificationLocked, VerificationRequired
from payments.domain.verification import (
    MAX_LOCK,
    REPEAT_LOCK_WINDOW,
    Channel,
    Factors,
    LockState,
    factors_match,
    factors_satisfy_channel,
    lock_state,
    session_expired,
)
from payments.services.clock import Clock, utc_now

END_REASONS = ("sign_off", "hand_back", "call_ended", "lockout")
_REQUIRED = "verify the customer again in this conversation"


@dataclass(frozen=True)
class VerificationResult:
    verified: bool
    account_id: str | None
    attempts_left: int
    locked_until: datetime | None = None
    # Set when verified: the opaque session id (shown once, never stored) and its absolute limit.
    session_id: str | None = None
    session_expires_at: datetime | None = None


@dataclass(frozen=True)
class VerifiedSession:
    """What a request learns from a live verification session."""

    account_id: str
    channel: str
    conversation_id: str
    expires_at: datetime

    def require_account(self, account_id: str) -> None:
        """Refuse (403 `verification_required`) when the call is about another account."""
        if account_id != self.account_id:
            raise VerificationRequired(_REQUIRED)


def session_id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class VerificationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_failures: int = 3,
        lock_minutes: int = 30,
        idle_minutes: int = 15,
        session_max_minutes: int = 60,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.max_failures = max_failures
        self.window = timedelta(minutes=lock_minutes)
        self.idle = timedelta(minutes=idle_minutes)
        self.session_max = timedelta(minutes=session_max_minutes)
        self.clock = clock

    def verify(
        self,
        channel: Channel,
        conversation_id: str,
        factors: Factors,
        phone: str | None = None,
        disclosure: str | None = None,
    ) -> VerificationResult:
        """Check the factors; record the attempt and an audit event either way. On success, open
        a verification session (ending the conversation's earlier ones).

        `disclosure` names the disclosure the assistant gives on success (`first_party` |
        `third_party`); it is recorded as a `disclosure_given` audit event with the verification.

        Raises `VerificationLocked` (nothing recorded against the account) while the
        conversation, the phone or an account aimed at is locked, and `InvalidRequest` when the
        channel's required factors are missing. A failure never says which factor was wrong.
        """
        if not factors_satisfy_channel(channel, factors):
            required = "card_last4 and (dob or zip)" if channel.has_caller_id else "card_last4, dob and zip"
            raise InvalidRequest(f"{channel.value} verification needs {required}")
        if channel.has_caller_id and not phone:
            raise InvalidRequest(f"{channel.value} verification needs the caller's phone number")

        now = self.clock()
        with self.sessions.begin() as session:
            attempts = VerificationAttemptRepository(session)
            audit = AuditLog(session)
            accounts = AccountRepository(session)
            candidates = (
                accounts.find_by_phone(phone)
                if channel.has_caller_id and phone
                else accounts.find_by_card_last4(factors.card_last4 or "")
            )
            subjects = _subjects(conversation_id, phone if channel.has_caller_id else None, candidates)
            locked_until = self._locked_until(attempts, subjects, now)
            if locked_until is None:
                result = self._check(
                    session, attempts, audit, subjects, candidates, channel, conversation_id, factors, now
                )
                if result.verified and disclosure:
                    audit.record(
                        "disclosure_given",
                        at=now,
                        actor="assistant",
                        channel=channel.value,
                        account_id=result.account_id,
                        conversation_id=conversation_id,
                        detail={"mode": disclosure},
                    )
            else:
                # Recorded and committed before raising: a refused attempt belongs in the audit trail.
                audit.record(
                    "verification_refused_locked",
                    at=now,
                    actor="customer",
                    channel=channel.value,
                    conversation_id=conversation_id,
                    # Ids only, never the answers: lets the lock-out case join the account's one case.
                    detail={"accounts_aimed_at": sorted(a.id for a in candidates)},
                )
        if locked_until is not None:
            raise VerificationLocked(
                "verification is locked after repeated failures",
                retry_after_seconds=int((locked_until - now).total_seconds()) + 1,
            )
        return result

    def _check(
        self,
        session: Session,
        attempts: VerificationAttemptRepository,
        audit: AuditLog,
        subjects: dict[str, str | None],
        candidates: list[Account],
        channel: Channel,
        conversation_id: str,
        factors: Factors,
        now: datetime,
    ) -> VerificationResult:
        matches = [a for a in candidates if factors_match(a, factors)]
        # Two accounts matching every factor cannot be told apart: treat it as a failure.
        account = matches[0] if len(matches) == 1 else None

        if account is not None:
            # A success clears the conversation's, the phone's and this account's count; the
            # other accounts with the same last 4 keep theirs.
            for subject, subject_account in subjects.items():
                if subject_account in (None, account.id):
                    attempts.add(subject, channel.value, account.id, True, now, conversation_id)
            session_id, expires_at = self._open_session(session, channel, conversation_id, account.id, now)
            result = VerificationResult(True, account.id, self.max_failures, None, session_id, expires_at)
        else:
            for subject, subject_account in subjects.items():
                attempts.add(subject, channel.value, subject_account, False, now, conversation_id)
            session.flush()
            states = {s: self._lock_state(attempts, s, now) for s in subjects}
            locked = [s for s, state in states.items() if state.locked_until is not None]
            if locked:
                until = max(u for s in locked if (u := states[s].locked_until) is not None)
                result = VerificationResult(False, None, 0, until)
                self._end_on_lockout(session, audit, subjects, locked, channel, conversation_id, now)
            else:
                result = VerificationResult(False, None, min(s.attempts_left for s in states.values()))
        # A failed attempt on SMS/voice names the phone's account, so its audit trail shows it.
        audited_account = (
            account.id if account else (candidates[0].id if channel.has_caller_id and candidates else None)
        )
        audit.record(
            "verification_attempt",
            at=now,
            actor="customer",
            channel=channel.value,
            account_id=audited_account,
            conversation_id=conversation_id,
            detail={"verified": result.verified, "attempts_left": result.attempts_left},
        )
        return result

    def _end_on_lockout(
        self,
        session: Session,
        audit: AuditLog,
        subjects: dict[str, str | None],
        locked: list[str],
        channel: Channel,
        conversation_id: str,
        now: datetime,
    ) -> None:
        repo = VerificationSessionRepository(session)
        repo.end_open(now, "lockout", conversation_id=conversation_id)
        for subject in locked:
            account_id = subjects[subject]
            if subject.startswith("account:") and account_id is not None:
                repo.end_open(now, "lockout", account_id=account_id)
            audit.record(
                "verification_locked_out",
                at=now,
                actor="system",
                channel=channel.value,
                account_id=account_id,
                conversation_id=conversation_id,
                detail={"subject": subject.split(":", 1)[0]},
            )

    def _open_session(
        self, session: Session, channel: Channel, conversation_id: str, account_id: str, now: datetime
    ) -> tuple[str, datetime]:
        repo = VerificationSessionRepository(session)
        repo.end_open(now, "reverified", conversation_id=conversation_id)
        session_id = secrets.token_urlsafe(32)
        expires_at = now + self.session_max
        repo.add(
            VerificationSessionRow(
                id_hash=session_id_hash(session_id),
                channel=channel.value,
                conversation_id=conversation_id,
                account_id=account_id,
                created_at=now,
                last_used_at=now,
                expires_at=expires_at,
            )
        )
        return session_id, expires_at

    def check_session(
        self, session_id: str | None, conversation_id: str | None, account_id: str | None = None
    ) -> VerifiedSession:
        """The live session of this id, bound to this conversation (and account, when given),
        its idle clock restarted. Raises `VerificationRequired` otherwise, the same for every reason."""
        if not session_id or not conversation_id:
            raise VerificationRequired(_REQUIRED)
        now = self.clock()
        with self.sessions.begin() as session:
            row = VerificationSessionRepository(session).get(session_id_hash(session_id))
            if row is None or row.ended_at is not None or row.conversation_id != conversation_id:
                live = None
            elif session_expired(now, row.last_used_at, row.expires_at, self.idle):
                row.ended_at, row.end_reason = now, "expired"
                live = None
            else:
                row.last_used_at = now
                live = VerifiedSession(row.account_id, row.channel, row.conversation_id, row.expires_at)
        if live is None:
            raise VerificationRequired(_REQUIRED)
        if account_id is not None:
            live.require_account(account_id)
        return live

    def end_sessions(self, conversation_id: str, reason: str) -> int:
        """End every open session of the conversation; audited. Returns how many were open."""
        if reason not in END_REASONS:
            raise InvalidRequest(f"reason must be one of {', '.join(END_REASONS)}")
        now = self.clock()
        with self.sessions.begin() as session:
            ended = VerificationSessionRepository(session).end_open(now, reason, conversation_id=conversation_id)
            if ended:
                AuditLog(session).record(
                    "verification_session_ended",
                    at=now,
                    actor="system",
                    conversation_id=conversation_id,
                    detail={"reason": reason, "ended": ended},
                )
        return ended

    def _locked_until(
        self, attempts: VerificationAttemptRepository, subjects: dict[str, str | None], now: datetime
    ) -> datetime | None:
        ends = [s.locked_until for s in (self._lock_state(attempts, x, now) for x in subjects) if s.locked_until]
        return max(ends) if ends else None

    def _lock_state(self, attempts: VerificationAttemptRepository, subject: str, now: datetime) -> LockState:
        # Enough history for repeats within a day and the longest lock; older failures cannot matter.
        failures = attempts.failures_since(subject, now - REPEAT_LOCK_WINDOW - MAX_LOCK)
        return lock_state(failures, now, self.max_failures, self.window)


def _subjects(conversation_id: str, phone: str | None, candidates: list[Account]) -> dict[str, str | None]:
    """Lock-out subjects of one attempt → the account each names (None: not one account)."""
    subjects: dict[str, str | None] = {f"conversation:{conversation_id}": None}
    if phone:
        subjects[f"phone:{phone}"] = None
    for account in candidates:
        subjects[f"account:{account.id}"] = account.id
    return subjects
