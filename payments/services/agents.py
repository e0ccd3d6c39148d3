"""Agents of the console: accounts with argon2id password hashes, sign-in, expiring sessions.

A session token is 32 random bytes in an HttpOnly cookie; the database keeps only its SHA-256,
so a copy of the database cannot be used to sign in. A session ends after `idle_minutes`
without a request or `max_hours` after sign-in, whichever comes first. Five wrong passwords in
a row lock the agent out for `lock_minutes`. Every sign-in, failure, lock-out and sign-out is
an audit event (channel "console").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.orm import AgentRow, AgentSessionRow
from payments.adapters.repositories import AuditLog
from payments.domain.errors import Conflict, InvalidRequest
from payments.services.clock import Clock, utc_now

CONSOLE = "console"
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Compared against when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class ConsoleSession:
    """What a request learns from a valid session cookie."""

    agent: Agent
    csrf_token: str
    expires_at: datetime


class SignInFailed(Exception):
    """Wrong username or password, an inactive agent, or a lock-out. `detail` never says which
    factor was wrong."""

    def __init__(self, detail: str, *, locked: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.locked = locked


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgentService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        idle_minutes: int = 30,
        max_hours: int = 10,
        max_failures: int = 5,
        lock_minutes: int = 15,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.idle = timedelta(minutes=idle_minutes)
        self.max_age = timedelta(hours=max_hours)
        self.max_failures = max_failures
        self.lock = timedelta(minutes=lock_minutes)
        self.clock = clock

    def add_agent(self, username: str, display_name: str, password: str) -> Agent:
        """Create an agent. Refuses a short password or a username already taken."""
        username = username.strip().lower()
        if not username or len(username) > 64 or not display_name.strip():
            raise InvalidRequest("an agent needs a username (at most 64 characters) and a display name")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidRequest(f"passwords have at least {MIN_PASSWORD_LENGTH} characters")
        now = self.clock()
        with self.sessions.begin() as session:
            if session.scalar(select(AgentRow.id).where(AgentRow.username == username)) is not None:
                raise Conflict(f"agent {username} exists", code="agent_exists")
            row = AgentRow(username=username, display_name=display_name.strip()[:100],
                           password_hash=_hasher.hash(password), active=True, failed_sign_ins=0, created_at=now)
            session.add(row)
            session.flush()
            AuditLog(session).record("agent_created", at=now, actor="system", channel=CONSOLE,
                                     detail={"agent": username})
            return _agent(row)

    def sign_in(self, username: str, password: str) -> tuple[str, ConsoleSession]:
        """A new session for the right password: (cookie token, session). Raises SignInFailed."""
        username = username.strip().lower()
        now = self.clock()
        # A refusal is written (failure count, audit) and committed before it is raised.
        refusal: SignInFailed | None = None
        with self.sessions.begin() as session:
            audit = AuditLog(session)
            row = session.scalar(select(AgentRow).where(AgentRow.username == username[:64]))
            if row is not None and row.locked_until is not None and row.locked_until > now:
                audit.record("agent_sign_in_refused", at=now, actor=f"agent:{row.username}", channel=CONSOLE,
                             detail={"why": "locked"})
                refusal = SignInFailed("Too many wrong passwords. Try again later or ask a supervisor.", locked=True)
            elif row is None or not _password_matches(row.password_hash, password) or not row.active:
                if row is None:
                    _password_matches(_DUMMY_HASH, password)  # as slow as a known username
                else:
                    self._count_failure(session, row, now)
                audit.record("agent_sign_in_failed", at=now, actor=f"agent:{username[:64]}", channel=CONSOLE)
                refusal = SignInFailed("Wrong username or password.")
            else:
                if _hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = _hasher.hash(password)
                row.failed_sign_ins = 0
                row.locked_until = None
                token = secrets.token_urlsafe(32)
                csrf = secrets.token_urlsafe(32)
                session.add(AgentSessionRow(token_hash=token_hash(token), agent_id=row.id, csrf_token=csrf,
                                            created_at=now, last_seen_at=now, expires_at=now + self.max_age))
                audit.record("agent_signed_in", at=now, actor=f"agent:{row.username}", channel=CONSOLE)
                signed_in = ConsoleSession(_agent(row), csrf, now + self.max_age)
        if refusal is not None:
            raise refusal
        return token, signed_in

    def _count_failure(self, session: Session, row: AgentRow, now: datetime) -> None:
        row.failed_sign_ins += 1
        if row.failed_sign_ins >= self.max_failures:
            row.failed_sign_ins = 0
            row.locked_until = now + self.lock
            AuditLog(session).record("agent_locked_out", at=now, actor=f"agent:{row.username}", channel=CONSOLE,
                                     detail={"minutes": int(self.lock.total_seconds() // 60)})

    def session_for(self, token: str | None) -> ConsoleSession | None:
        """The live session of a cookie token, its idle clock restarted; None when there is none,
        it was signed out, it sat idle too long, or it is past its absolute limit."""
        if not token:
            return None
        now = self.clock()
        with self.sessions.begin() as session:
            found = session.execute(
                select(AgentSessionRow, AgentRow)
                .join(AgentRow, AgentRow.id == AgentSessionRow.agent_id)
                .where(AgentSessionRow.token_hash == token_hash(token))
            ).first()
            if found is None:
                return None
            row, agent = found
            if row.ended_at is not None or not agent.active:
                return None
            if row.expires_at <= now or row.last_seen_at + self.idle <= now:
                row.ended_at = now
                AuditLog(session).record("agent_session_expired", at=now, actor=f"agent:{agent.username}",
                                         channel=CONSOLE)
                return None
            row.last_seen_at = now
            return ConsoleSession(_agent(agent), row.csrf_token, row.expires_at)

    def sign_out(self, token: str) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(AgentSessionRow, token_hash(token))
            if row is None or row.ended_at is not None:
                return
            session.execute(update(AgentSessionRow).where(AgentSessionRow.token_hash == row.token_hash)
                            .values(ended_at=now))
            agent = session.get(AgentRow, row.agent_id)
            AuditLog(session).record("agent_signed_out", at=now, actor=f"agent:{agent.username if agent else '?'}",
                                     channel=CONSOLE)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _agent(row: AgentRow) -> Agent:
    return Agent(row.id, row.username, row.display_name)
