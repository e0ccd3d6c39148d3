"""Contact rules (DESIGN.md, compliance rules) and handoff priorities. Pure functions only.

`evaluate_contact` answers "may we start a contact with this consumer on this medium now?" for
anything we start (proactive SMS, reminders, outbound calls). It never looks at a database: the
service loads the account's flags, time zone and contact history and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

from payments.domain.accounts import NO_COLLECTION_FLAGS, AccountFlag


class Medium(StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"

    @property
    def stop_flag(self) -> AccountFlag:
        return AccountFlag(f"stop_{self.value}")

    @property
    def uses_phone(self) -> bool:
        return self in (Medium.SMS, Medium.VOICE)


class ContactKind(StrEnum):
    ATTEMPT = "attempt"  # a call placed (or message sent), answered or not
    CONVERSATION = "conversation"  # a person was actually talked with


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class ContactRule(StrEnum):
    """Stable codes for a refused contact, in the order they are checked (the first that applies
    is reported). Permanent rules come first: a time-of-day refusal is only reported when nothing
    stronger applies."""

    CEASE_COMMUNICATION = "cease_communication"
    COLLECTION_PAUSED = "collection_paused"
    WRONG_NUMBER = "wrong_number"
    OPTED_OUT = "opted_out"
    CALL_FREQUENCY = "call_frequency"
    RECENT_CONVERSATION = "recent_conversation"
    OUTSIDE_HOURS = "outside_hours"


@dataclass(frozen=True)
class ContactEvent:
    medium: Medium
    kind: ContactKind
    direction: Direction
    at: datetime


@dataclass(frozen=True)
class ContactPolicy:
    """Defaults are the US rules; an operator may only make them stricter."""

    # 12 CFR 1006.6(b)(1)(i): 8 a.m. to 9 p.m. local time at the consumer's location is convenient.
    earliest: time = time(8, 0)
    latest: time = time(21, 0)  # exclusive: 21:00 itself is outside
    # 12 CFR 1006.14(b)(2): more than 7 calls within 7 consecutive days, or any call within 7 days
    # after a telephone conversation (the conversation's date is day 1), is presumed harassment.
    # https://www.ecfr.gov/current/title-12/chapter-X/part-1006/subpart-B/section-1006.14
    max_call_attempts: int = 7
    window_days: int = 7

    def __post_init__(self) -> None:
        if not (self.earliest < self.latest and self.max_call_attempts >= 1 and self.window_days >= 1):
            raise ValueError("contact policy needs earliest < latest and positive limits")


DEFAULT_POLICY = ContactPolicy()


@dataclass(frozen=True)
class ContactDecision:
    allowed: bool
    rule: ContactRule | None
    detail: str
    # When the same contact would next be allowed (UTC), if no flag changes and nothing else
    # happens; None when allowed now or when only a person can lift the refusal (a flag).
    next_allowed_at: datetime | None = None


_PAUSING_FLAGS = NO_COLLECTION_FLAGS - {AccountFlag.CEASE_COMMUNICATION}


def evaluate_contact(
    *,
    flags: Iterable[AccountFlag],
    time_zone: str,
    medium: Medium,
    at: datetime,
    history: Sequence[ContactEvent] = (),
    policy: ContactPolicy = DEFAULT_POLICY,
) -> ContactDecision:
    """Decide whether we may start a `medium` contact at `at` (timezone-aware).

    Days and hours are the consumer's (`time_zone`, an IANA name), so DST is handled by the zone.
    `history` may hold any events; only voice events at or before `at` count.
    """
    if at.tzinfo is None:
        raise ValueError("evaluate_contact needs a timezone-aware datetime")
    zone = ZoneInfo(time_zone)
    flags = frozenset(flags)

    if AccountFlag.CEASE_COMMUNICATION in flags:
        return _refused(ContactRule.CEASE_COMMUNICATION, "the consumer asked us to stop all communication")
    paused = sorted(f.value for f in flags & _PAUSING_FLAGS)
    if paused:
        return _refused(ContactRule.COLLECTION_PAUSED, f"collection is paused ({', '.join(paused)})")
    if medium.uses_phone and AccountFlag.WRONG_NUMBER in flags:
        return _refused(ContactRule.WRONG_NUMBER, "the phone number on file reached someone else")
    if medium.stop_flag in flags:
        return _refused(ContactRule.OPTED_OUT, f"the consumer opted out of {medium.value}")

    calls = _voice_history(history, at) if medium is Medium.VOICE else []
    rule, detail = _first_timed_refusal(calls, zone, medium, at, policy)
    if rule is None:
        return ContactDecision(True, None, f"{medium.value} contact is allowed now")
    return ContactDecision(False, rule, detail, _next_allowed(calls, zone, medium, at, policy))


def _refused(rule: ContactRule, detail: str) -> ContactDecision:
    return ContactDecision(False, rule, detail, None)


def _voice_history(history: Sequence[ContactEvent], at: datetime) -> list[ContactEvent]:
    return [e for e in history if e.medium is Medium.VOICE and e.at <= at]


def _first_timed_refusal(
    calls: list[ContactEvent], zone: ZoneInfo, medium: Medium, at: datetime, policy: ContactPolicy
) -> tuple[ContactRule | None, str]:
    if medium is Medium.VOICE:
        if _frequency_clear_at(calls, zone, at, policy) > at:
            return ContactRule.CALL_FREQUENCY, (
                f"{policy.max_call_attempts} call attempts already placed within "
                f"{policy.window_days} consecutive days"
            )
        if _conversation_clear_at(calls, zone, at, policy) > at:
            return ContactRule.RECENT_CONVERSATION, (
                f"a telephone conversation took place within the last {policy.window_days} days"
            )
    if _hours_clear_at(zone, at, policy) > at:
        local = at.astimezone(zone)
        return ContactRule.OUTSIDE_HOURS, (
            f"it is {local:%H:%M} for the consumer ({zone.key}); contact only "
            f"{policy.earliest:%H:%M}-{policy.latest:%H:%M} local time"
        )
    return None, ""


def _next_allowed(
    calls: list[ContactEvent], zone: ZoneInfo, medium: Medium, at: datetime, policy: ContactPolicy
) -> datetime:
    """The earliest moment every time-based rule passes together (each can push the others)."""
    when = at
    while True:
        later = when
        if medium is Medium.VOICE:
            later = max(later, _frequency_clear_at(calls, zone, later, policy))
            later = max(later, _conversation_clear_at(calls, zone, later, policy))
        later = _hours_clear_at(zone, later, policy)
        if later == when:
            return when.astimezone(timezone.utc)
        when = later


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _window_start(day: date, policy: ContactPolicy) -> date:
    """The first day of the `window_days` consecutive days ending on `day`."""
    return day - timedelta(days=policy.window_days - 1)


def _frequency_clear_at(calls: list[ContactEvent], zone: ZoneInfo, at: datetime, policy: ContactPolicy) -> datetime:
    """`at` if another call would not exceed the limit; else the local midnight when enough of the
    counted attempts leave the window."""
    today = at.astimezone(zone).date()
    attempt_days = sorted(
        (e.at.astimezone(zone).date() for e in calls
         if e.kind is ContactKind.ATTEMPT and e.direction is Direction.OUTBOUND),
        reverse=True,
    )
    counted = [d for d in attempt_days if d >= _window_start(today, policy)]
    if len(counted) < policy.max_call_attempts:
        return at
    # The window ending on day D counts attempts on or after D - (window - 1); it drops below the
    # limit once the max_call_attempts-th most recent attempt falls out of it.
    oldest_to_drop = counted[policy.max_call_attempts - 1]
    return _local_midnight(oldest_to_drop + timedelta(days=policy.window_days), zone)


def _conversation_clear_at(calls: list[ContactEvent], zone: ZoneInfo, at: datetime, policy: ContactPolicy) -> datetime:
    """`at`, or the local midnight after the 7-day period that began on the last conversation's date.

    Conversations count whoever started the call: the rule speaks of "having had" one.
    """
    days = [e.at.astimezone(zone).date() for e in calls if e.kind is ContactKind.CONVERSATION]
    if not days:
        return at
    clear = _local_midnight(max(days) + timedelta(days=policy.window_days), zone)
    return max(at, clear)


def _hours_clear_at(zone: ZoneInfo, at: datetime, policy: ContactPolicy) -> datetime:
    """`at` when within the consumer's hours, else the next `earliest` local time."""
    local = at.astimezone(zone)
    if policy.earliest <= local.time() < policy.latest:
        return at
    day = local.date() if local.time() < policy.earliest else local.date() + timedelta(days=1)
    # Built from the wall-clock date and time, so DST days give the right UTC instant.
    return datetime.combine(day, policy.earliest, tzinfo=zone)


# --- Flags: who may change what -------------------------------------------------------------

ACTOR_PATTERN = r"^(customer|system|agent:[A-Za-z0-9._@-]{1,58})$"
_ACTOR_RE = re.compile(ACTOR_PATTERN)

# Setting a flag only ever restricts what we do, so anyone may set any flag. Clearing one
# loosens it: a customer may only give back consent they withdrew (STOP → START); the rest
# (a validated dispute, a number corrected, a bankruptcy discharged) needs an agent or the system.
CUSTOMER_CLEARABLE_FLAGS = frozenset({AccountFlag.STOP_SMS, AccountFlag.STOP_VOICE, AccountFlag.STOP_EMAIL})


def is_valid_actor(actor: str) -> bool:
    """`customer`, `system` or `agent:<name>`."""
    return bool(_ACTOR_RE.fullmatch(actor))


def may_clear_flag(actor: str, flag: AccountFlag) -> bool:
    if actor == "customer":
        return flag in CUSTOMER_CLEARABLE_FLAGS
    return is_valid_actor(actor)


# --- Handoffs --------------------------------------------------------------------------------


class HandoffReason(StrEnum):
    DISTRESS = "distress"
    DISPUTE = "dispute"
    REQUEST_AGENT = "request_agent"
    BANKRUPTCY = "bankruptcy"
    ATTORNEY = "attorney"
    DECEASED = "deceased"
    MISUNDERSTANDING = "misunderstanding"
    VERIFICATION_LOCKED = "verification_locked"
    HARDSHIP = "hardship"
    OTHER = "other"


class HandoffStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


_PRIORITY = {
    HandoffReason.DISTRESS: 0,
    HandoffReason.DISPUTE: 1,
    HandoffReason.BANKRUPTCY: 1,
    HandoffReason.ATTORNEY: 1,
    HandoffReason.DECEASED: 1,
    HandoffReason.VERIFICATION_LOCKED: 2,
    HandoffReason.REQUEST_AGENT: 2,
    HandoffReason.HARDSHIP: 2,
    HandoffReason.MISUNDERSTANDING: 3,
    HandoffReason.OTHER: 3,
}


def handoff_priority(reason: HandoffReason) -> int:
    """0 is most urgent: a person in distress is answered before anyone else."""
    return _PRIORITY[reason]
