"""Identity verification rules (DESIGN.md, identity and disclosure). Pure functions only."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from payments.domain.accounts import Account


class Channel(StrEnum):
    WEB = "web"
    SMS = "sms"
    VOICE = "voice"
    # Rasa's REST channel: tests, load generation and terminal chat. Verified like web chat.
    REST = "rest"

    @property
    def has_caller_id(self) -> bool:
        return self in (Channel.SMS, Channel.VOICE)


@dataclass(frozen=True)
class Factors:
    """What the customer gave us. Any field may be missing; never logged."""

    card_last4: str | None = None
    date_of_birth: date | None = None
    zip_code: str | None = None


def factors_satisfy_channel(channel: Channel, factors: Factors) -> bool:
    """SMS/voice: phone plus last 4 and (date of birth or ZIP). Web chat: last 4, DOB and ZIP."""
    if not factors.card_last4:
        return False
    if channel.has_caller_id:
        return factors.date_of_birth is not None or bool(factors.zip_code)
    return factors.date_of_birth is not None and bool(factors.zip_code)


def factors_match(account: Account, factors: Factors) -> bool:
    """True when every factor given matches the account. Compared in constant time."""

    def same(given: str | None, expected: str) -> bool:
        return given is None or hmac.compare_digest(given.encode(), expected.encode())

    dob = factors.date_of_birth.isoformat() if factors.date_of_birth else None
    return (
        same(factors.card_last4, account.card_last4)
        and same(dob, account.date_of_birth.isoformat())
        and same(factors.zip_code, account.zip_code)
    )


@dataclass(frozen=True)
class LockState:
    locked_until: datetime | None
    attempts_left: int


def lock_state(failures: list[datetime], now: datetime, max_failures: int, window: timedelta) -> LockState:
    """Where a subject stands after these failed attempts (oldest first, none before its last success).

    Any `max_failures` failures within `window` of each other lock verification (a sliding
    window). The first lock lasts `window`; each further lock within `REPEAT_LOCK_WINDOW` of
    earlier ones lasts twice as long as the one before (`lock_length`). Once a lock expires,
    counting starts afresh.
    """
    counted: list[datetime] = []
    locks: list[datetime] = []
    locked_until: datetime | None = None
    for at in failures:
        if locked_until is not None:
            if at < locked_until:
                continue  # attempts are refused while locked; none should be recorded
            locked_until = None
        counted = [t for t in counted if at - t <= window] + [at]
        if len(counted) >= max_failures:
            earlier = sum(1 for start in locks if at - start <= REPEAT_LOCK_WINDOW)
            locked_until, counted = at + lock_length(window, earlier), []
            locks.append(at)
    if locked_until is not None and now < locked_until:
        return LockState(locked_until=locked_until, attempts_left=0)
    recent = [t for t in counted if now - t <= window] if locked_until is None else []
    return LockState(locked_until=None, attempts_left=max_failures - len(recent))


# Lock-outs repeated within this long of each other double the next one's length (issue 11:
# growing delays), up to `MAX_LOCK`: 30 minutes, then 1 h, 2 h, 4 h ... capped at a day.
REPEAT_LOCK_WINDOW = timedelta(hours=24)
MAX_LOCK = timedelta(hours=24)


def lock_length(base: timedelta, earlier_locks: int) -> timedelta:
    """How long a lock-out lasts after `earlier_locks` others within `REPEAT_LOCK_WINDOW`."""
    doubled: timedelta = base * 2 ** min(earlier_locks, 16)  # int ** int is typed Any
    return min(doubled, MAX_LOCK)


def session_expired(now: datetime, last_used_at: datetime, expires_at: datetime, idle: timedelta) -> bool:
    """A verification session ends `idle` after its last use, or at its absolute limit, whichever
    comes first (contract C2)."""
    return now >= expires_at or now >= last_used_at + idle
