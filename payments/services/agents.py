"""Agents of the console: accounts with argon2id password hashes, sign-in, expiring sessions.

A session token is 32 random bytes in an HttpOnly cookie; the database keeps only its SHA-256,
so a copy of the database cannot be used to sign in. A session ends after `idle_minutes`
without a request or `max_hours` after sign-in, whichever comes first. Every sign-in, failure,
refusal and sign-out is an audit event (channel "console").

Sign-in refusals all look alike: a wrong password, an unknown username, an inactive agent and a
throttled attempt get the same `SignInFailed` message and take as long (an unknown username is
checked against a dummy hash). Throttling is per client address (`SignInThrottle`), never per
username alone, so nobody can lock an agent out from everywhere: five wrong passwords for one
username from one address lock that pair for `lock_minutes` (doubling for each repeat within a
day), and many failures from one address, whatever the usernames, make it wait longer and longer
between tries.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, field
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


SIGN_IN_REFUSED = "Wrong username or password. After several tries, wait a few minutes before trying again."


class SignInFailed(Exception):
    """Any refused sign-in. The same `detail` whatever the reason, so a refusal never tells a
    real username from an unknown one, or a throttled attempt from a wrong password."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_REFUSED)
        self.detail = SIGN_IN_REFUSED


@dataclass
class _Failures:
    times: list[datetime] = field(default_factory=list)  # recent failures, oldest first
    locks: list[datetime] = field(default_factory=list)  # when each lock-out started
    locked_until: datetime | None = None


class SignInThrottle:
    """Sign-in failures per (username, client address) and per client address.

    In-process: each worker process counts its own (the console runs in one uvicorn worker; with
    more, an attacker gets that many times the tries, still throttled). Forgotten after a day.
    - a pair is locked for `lock` after `max_failures` failures within `lock` of each other; a
      repeat lock within a day lasts twice as long as the one before (at most a day); a right
      password clears the pair;
    - an address with `address_free` or more failures within `address_window` waits 2, 4, 8 ...
      seconds after its latest failure before it may try again (at most `max_delay`).
    """

    DAY = timedelta(hours=24)

    def __init__(
        self,
        *,
        max_failures: int = 5,
        lock: timedelta = timedelta(minutes=15),
        address_free: int = 10,
        address_window: timedelta = timedelta(minutes=15),
        max_delay: timedelta = timedelta(minutes=15),
    ) -> None:
        self.max_failures = max_failures
        self.lock = lock
        self.address_free = address_free
        self.address_window = address_window
        self.max_delay = max_delay
        self._pairs: dict[tuple[str, str], _Failures] = {}
        self._addresses: dict[str, list[datetime]] = {}
        self._guard = threading.Lock()

    def refused(self, username: str, address: str, now: datetime) -> str | None:
        """Why this attempt may not be tried now (`locked` | `throttled`), or None."""
        with self._guard:
            pair = self._pairs.get((username, address))
            if pair is not None and pair.locked_until is not None and now < pair.locked_until:
                return "locked"
            recent = [t for t in self._addresses.get(address, ()) if now - t <= self.address_window]
            if len(recent) >= self.address_free:
                wait = min(timedelta(seconds=2 ** min(len(recent) - self.address_free + 1, 20)), self.max_delay)
                if now < recent[-1] + wait:
                    return "throttled"
            return None

    def failed(self, username: str, address: str, now: datetime) -> bool:
        """Count a failure; True when it locks the pair."""
        with self._guard:
            self._forget_old(now)
            self._addresses.setdefault(address, []).append(now)
            pair = self._pairs.setdefault((username, address), _Failures())
            if pair.locked_until is not None and now >= pair.locked_until:
                pair.locked_until = None
            pair.times = [t for t in pair.times if now - t <= self.lock] + [now]
            if len(pair.times) < self.max_failures:
                return False
            repeats = sum(1 for start in pair.locks if now - start <= self.DAY)
            pair.locked_until = now + min(self.lock * 2 ** min(repeats, 16), self.DAY)
            pair.locks = [t for t in pair.locks if now - t <= self.DAY] + [now]
            pair.times = []
            return True

    def succeeded(self, username: str, address: str) -> None:
        with self._guard:
            self._pairs.pop((username, address), None)

    def _forget_old(self, now: datetime) -> None:
        if len(self._pairs) + len(self._addresses) < 10_000:
            return
        self._addresses = {a: ts for a, ts in self._addresses.items() if ts and now - ts[-1] <= self.DAY}
        self._pairs = {
            k: f
            for k, f in self._pairs.items()
            if (f.times and now - f.times[-1] <= self.DAY) or (f.locks and now - f.locks[-1] <= self.DAY)
        }


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
        self.throttle = SignInThrottle(max_failures=max_failures, lock=timedelta(minutes=lock_minutes))
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
            row = AgentRow(
                username=username,
                display_name=display_name.strip()[:100],
                password_hash=_hasher.hash(password),
                active=True,
                created_at=now,
            )
            session.add(row)
            session.flush()
            AuditLog(session).record(
                "agent_created", at=now, actor="system", channel=CONSOLE, detail={"agent": username}
            )
            return _agent(row)

    def sign_in(self, username: str, password: str, client: str = "unknown") -> tuple[str, ConsoleSession]:
        """A new session for the right password: (cookie token, session). Raises SignInFailed,
        the same for every reason; `client` is the caller's address, for throttling."""
        username = username.strip().lower()[:64]
        now = self.clock()
        refused_because = self.throttle.refused(username, client, now)
        with self.sessions.begin() as session:
            audit = AuditLog(session)
            row = session.scalar(select(AgentRow).where(AgentRow.username == username))
            # Every attempt costs one hash check, refused or not, known username or not.
            matches = _password_matches(row.password_hash if row is not None else _DUMMY_HASH, password)
            if refused_because is not None:
                audit.record(
                    "agent_sign_in_refused",
                    at=now,
                    actor=f"agent:{username}",
                    channel=CONSOLE,
                    detail={"why": refused_because, "client": client},
                )
            elif row is None or not matches or not row.active:
                if self.throttle.failed(username, client, now):
                    audit.record(
                        "agent_locked_out",
                        at=now,
                        actor=f"agent:{username}",
                        channel=CONSOLE,
                        detail={"client": client},
                    )
                audit.record(
                    "agent_sign_in_failed",
                    at=now,
                    actor=f"agent:{username}",
                    channel=CONSOLE,
                    detail={"client": client},
                )
            else:
                self.throttle.succeeded(username, client)
                if _hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = _hasher.hash(password)
                token = secrets.token_urlsafe(32)
                csrf = secrets.token_urlsafe(32)
                session.add(
                    AgentSessionRow(
                        token_hash=token_hash(token),
                        agent_id=row.id,
                        csrf_token=csrf,
                        created_at=now,
                        last_seen_at=now,
                        expires_at=now + self.max_age,
                    )
                )
                audit.record(
                    "agent_signed_in", at=now, actor=f"agent:{row.username}", channel=CONSOLE, detail={"client": client}
                )
                return token, ConsoleSession(_agent(row), csrf, now + self.max_age)
        # A refusal is written (audit) and committed before it is raised.
        raise SignInFailed()

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
                AuditLog(session).record(
                    "agent_session_expired", at=now, actor=f"agent:{agent.username}", channel=CONSOLE
                )
                return None
            row.last_seen_at = now
            return ConsoleSession(_agent(agent), row.csrf_token, row.expires_at)

    def sign_out(self, token: str) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(AgentSessionRow, token_hash(token))
            if row is None or row.ended_at is not None:
                return
            session.execute(
                update(AgentSessionRow).where(AgentSessionRow.token_hash == row.token_hash).values(ended_at=now)
            )
            agent = session.get(AgentRow, row.agent_id)
            AuditLog(session).record(
                "agent_signed_out", at=now, actor=f"agent:{agent.username if agent else '?'}", channel=CONSOLE
            )


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _agent(row: AgentRow) -> Agent:
    return Agent(row.id, row.username, row.display_name)
