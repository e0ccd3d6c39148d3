"""Verify a customer's identity against the account on file (DESIGN.md, identity and disclosure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.repositories import AccountRepository, AuditLog, VerificationAttemptRepository
from payments.domain.errors import InvalidRequest, VerificationLocked
from payments.domain.verification import (
    Channel,
    Factors,
    LockState,
    factors_match,
    factors_satisfy_channel,
    lock_state,
)
from payments.services.clock import Clock, utc_now


@dataclass(frozen=True)
class VerificationResult:
    verified: bool
    account_id: str | None
    attempts_left: int
    locked_until: datetime | None = None


class VerificationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_failures: int = 3,
        lock_minutes: int = 30,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.max_failures = max_failures
        self.window = timedelta(minutes=lock_minutes)
        self.clock = clock

    def verify(
        self, channel: Channel, conversation_id: str, factors: Factors, phone: str | None = None,
        disclosure: str | None = None,
    ) -> VerificationResult:
        """Check the factors; record the attempt and an audit event either way.

        `disclosure` names the disclosure the assistant gives on success (`first_party` |
        `third_party`); it is recorded as a `disclosure_given` audit event with the verification.

        Raises `VerificationLocked` (nothing recorded against the account) while locked, and
        `InvalidRequest` when the channel's required factors are missing. A failure never says
        which factor was wrong.
        """
        if not factors_satisfy_channel(channel, factors):
            required = "card_last4 and (dob or zip)" if channel.has_caller_id else "card_last4, dob and zip"
            raise InvalidRequest(f"{channel.value} verification needs {required}")
        if channel.has_caller_id and not phone:
            raise InvalidRequest(f"{channel.value} verification needs the caller's phone number")

        # SMS and voice lock by phone number, so a new conversation cannot reset the count.
        subject = f"phone:{phone}" if channel.has_caller_id else f"conversation:{conversation_id}"
        now = self.clock()
        with self.sessions.begin() as session:
            attempts = VerificationAttemptRepository(session)
            audit = AuditLog(session)
            state = self._lock_state(attempts, subject, now)
            if state.locked_until is None:
                result = self._check(session, attempts, audit, subject, channel, conversation_id, factors, phone, now)
                if result.verified and disclosure:
                    audit.record("disclosure_given", at=now, actor="assistant", channel=channel.value,
                                 account_id=result.account_id, conversation_id=conversation_id,
                                 detail={"mode": disclosure})
            else:
                # Recorded and committed before raising: a refused attempt belongs in the audit trail.
                audit.record(
                    "verification_refused_locked",
                    at=now,
                    actor="customer",
                    channel=channel.value,
                    conversation_id=conversation_id,
                )
        if state.locked_until is not None:
            raise VerificationLocked(
                "verification is locked after repeated failures",
                retry_after_seconds=int((state.locked_until - now).total_seconds()) + 1,
            )
        return result

    def _check(
        self,
        session: Session,
        attempts: VerificationAttemptRepository,
        audit: AuditLog,
        subject: str,
        channel: Channel,
        conversation_id: str,
        factors: Factors,
        phone: str | None,
        now: datetime,
    ) -> VerificationResult:
        accounts = AccountRepository(session)
        candidates = (
            accounts.find_by_phone(phone) if channel.has_caller_id and phone
            else accounts.find_by_card_last4(factors.card_last4 or "")
        )
        matches = [a for a in candidates if factors_match(a, factors)]
        # Two accounts matching every factor cannot be told apart: treat it as a failure.
        account = matches[0] if len(matches) == 1 else None

        attempts.add(subject, channel.value, account.id if account else None, account is not None, now)
        if account is not None:
            result = VerificationResult(True, account.id, self.max_failures)
        else:
            session.flush()
            after = self._lock_state(attempts, subject, now)
            result = VerificationResult(False, None, after.attempts_left, after.locked_until)
        # A failed attempt on SMS/voice names the phone's account, so its audit trail shows it.
        audited_account = account.id if account else (candidates[0].id if channel.has_caller_id and candidates else None)
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

    def _lock_state(self, attempts: VerificationAttemptRepository, subject: str, now: datetime) -> LockState:
        # Two windows back is enough history: older failures can neither lock nor count.
        failures = attempts.failures_since(subject, now - 2 * self.window)
        return lock_state(failures, now, self.max_failures, self.window)
