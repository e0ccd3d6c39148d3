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

from contracts.names import HandoffReason as Handoff
from contracts.notices import OPT_OUT_NOTICE as OPT_OUT_NOTICE  # re-exported: 1006.6(e)
from contracts.notices import with_opt_out as with_opt_out
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
    INCONVENIENT_TIME = "inconvenient_time"  # a time the consumer told us is inconvenient
    INCONVENIENT_PLACE = "inconvenient_place"  # a place the consumer told us is inconvenient ("not at work")

    @property
    def is_time_or_place(self) -> bool:
        """A refusal for when or where the consumer would be reached: one answer to a message
        the consumer just sent is not refused for it (12 CFR 1006.6(b)(1), comment 6(b)(1)-2)."""
        return self in (ContactRule.OUTSIDE_HOURS, ContactRule.INCONVENIENT_TIME, ContactRule.INCONVENIENT_PLACE)


@dataclass(frozen=True)
class ContactEvent:
    medium: Medium
    kind: ContactKind
    direction: Direction
    at: datetime


@dataclass(frozen=True)
class ContactWindow:
    """Hours the consumer told us are convenient ("not before noon", "not after 6"), local time
    wherever they are; None is no limit on that side (12 CFR 1006.6(b)(1): a time known to be
    inconvenient)."""

    not_before: time | None = None
    not_after: time | None = None  # exclusive


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

# 12 CFR 1006.6(b)(1): no communication "at a time or place that the debt collector knows or should
# know is inconvenient to the consumer". A place ("not at work", "not at school") is recorded by
# `channels/revocation.py` as "work", "school" or "home" (the API takes other names too). We hold
# one phone number and cannot tell where it rings, so the rule kept is the conservative one: the
# consumer may be at that place whenever people usually are, so we start no call and no text
# (email does not ring at a place) on a weekday (Monday to Friday, the local calendar) from 08:00
# to 18:00 local time in EVERY zone the consumer may be in (the zones of the hours rule). Any place
# other than home (school, a hospital, a name we do not know) gets that same window: we have no
# better documented basis for its hours. Home is the opposite case: people are home outside those
# hours, so a window would protect nothing; a consumer who said "not at home" may be there at any
# hour, so no call or text we start is allowed at all (next_allowed_at None: only a person can
# lift it). To give home the weekday window instead, drop it from _ANY_HOUR_PLACES.
PLACE_DAYS = frozenset(range(5))  # date.weekday(): Monday 0 .. Friday 4
PLACE_HOURS = (time(8, 0), time(18, 0))  # 18:00 itself is outside
_ANY_HOUR_PLACES = frozenset({"home"})


def _place_names(places: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(places with the weekday window, places inconvenient at any hour), normalized and sorted."""
    named = {" ".join(p.split()).lower() for p in places} - {""}
    return tuple(sorted(named - _ANY_HOUR_PLACES)), tuple(sorted(named & _ANY_HOUR_PLACES))


def evaluate_contact(
    *,
    flags: Iterable[AccountFlag],
    time_zone: str | Sequence[str],
    medium: Medium,
    at: datetime,
    history: Sequence[ContactEvent] = (),
    policy: ContactPolicy = DEFAULT_POLICY,
    pauses: Iterable[str] = (),
    windows: Sequence[ContactWindow] = (),
    places: Iterable[str] = (),
) -> ContactDecision:
    """Decide whether we may start a `medium` contact at `at` (timezone-aware).

    `time_zone` is every zone the consumer may be in (IANA names, `payments.domain.zones`): the
    hours must be convenient in all of them; the first is the consumer's own calendar, which counts
    the Reg F days. DST is handled by the zones. `pauses`: reasons beyond the flags that pause
    collection (the standing's `pending_review`: a report no agent has reviewed yet; `settled`).
    `windows` are hours the consumer asked for, applied in every zone. `places` are the places
    they said are inconvenient ("work"): SMS and voice are refused while the consumer may be there
    (`PLACE_HOURS` on `PLACE_DAYS` in any zone; "home" at any hour, see above). `history` may hold
    any events; only voice events at or before `at` count.
    """
    if at.tzinfo is None:
        raise ValueError("evaluate_contact needs a timezone-aware datetime")
    names = (time_zone,) if isinstance(time_zone, str) else tuple(time_zone)
    if not names:
        raise ValueError("evaluate_contact needs at least one time zone")
    zones = tuple(ZoneInfo(n) for n in names)
    flags = frozenset(flags)

    if AccountFlag.CEASE_COMMUNICATION in flags:
        return _refused(ContactRule.CEASE_COMMUNICATION, "the consumer asked us to stop all communication")
    paused = sorted({f.value for f in flags & _PAUSING_FLAGS} | set(pauses))
    if paused:
        return _refused(ContactRule.COLLECTION_PAUSED, f"collection is paused ({', '.join(paused)})")
    if medium.uses_phone and AccountFlag.WRONG_NUMBER in flags:
        return _refused(ContactRule.WRONG_NUMBER, "the phone number on file reached someone else")
    if medium.stop_flag in flags:
        return _refused(ContactRule.OPTED_OUT, f"the consumer opted out of {medium.value}")

    hours = _Hours.of(policy, windows, places if medium.uses_phone else ())
    calls = _voice_history(history, at) if medium is Medium.VOICE else []
    rule, detail = _first_timed_refusal(calls, zones, medium, at, policy, hours)
    if rule is None:
        return ContactDecision(True, None, f"{medium.value} contact is allowed now")
    return ContactDecision(False, rule, detail, _next_allowed(calls, zones, medium, at, policy, hours))


def _refused(rule: ContactRule, detail: str) -> ContactDecision:
    return ContactDecision(False, rule, detail, None)


def _voice_history(history: Sequence[ContactEvent], at: datetime) -> list[ContactEvent]:
    return [e for e in history if e.medium is Medium.VOICE and e.at <= at]


@dataclass(frozen=True)
class _Hours:
    """The policy's hours and, narrower where the consumer asked, their own (None: no hour is left)."""

    policy: tuple[time, time]
    consumer: tuple[time, time] | None
    places: tuple[str, ...] = ()  # inconvenient during PLACE_HOURS on PLACE_DAYS
    any_hour_places: tuple[str, ...] = ()  # inconvenient at every hour: no contact is ever allowed

    @classmethod
    def of(cls, policy: ContactPolicy, windows: Sequence[ContactWindow], places: Iterable[str] = ()) -> _Hours:
        earliest, latest = policy.earliest, policy.latest
        for w in windows:
            earliest = max(earliest, w.not_before or earliest)
            latest = min(latest, w.not_after or latest)
        timed, always = _place_names(places)
        return cls((policy.earliest, policy.latest), (earliest, latest) if earliest < latest else None, timed, always)


def _first_timed_refusal(
    calls: list[ContactEvent],
    zones: tuple[ZoneInfo, ...],
    medium: Medium,
    at: datetime,
    policy: ContactPolicy,
    hours: _Hours,
) -> tuple[ContactRule | None, str]:
    home = zones[0]
    if medium is Medium.VOICE:
        if _frequency_clear_at(calls, home, at, policy) > at:
            return ContactRule.CALL_FREQUENCY, (
                f"{policy.max_call_attempts} call attempts already placed within {policy.window_days} consecutive days"
            )
        if _conversation_clear_at(calls, home, at, policy) > at:
            return ContactRule.RECENT_CONVERSATION, (
                f"a telephone conversation took place within the last {policy.window_days} days"
            )
    outside = [z for z in zones if not _within(z, at, hours.policy)]
    if outside:
        return ContactRule.OUTSIDE_HOURS, "; ".join(f"it is {at.astimezone(z):%H:%M} in {z.key}" for z in outside) + (
            f": contact only {policy.earliest:%H:%M}-{policy.latest:%H:%M} local time in every place the "
            f"consumer may be ({', '.join(z.key for z in zones)})"
        )
    if hours.consumer is None or any(not _within(z, at, hours.consumer) for z in zones):
        return ContactRule.INCONVENIENT_TIME, "the consumer told us this time is inconvenient"
    if hours.any_hour_places:
        return ContactRule.INCONVENIENT_PLACE, (
            f"the consumer told us calls and texts at {_joined(hours.any_hour_places)} are inconvenient, and they "
            f"may be there at any hour: only a person can lift this"
        )
    at_place = [z for z in zones if _at_place(z, at)] if hours.places else []
    if at_place:
        return ContactRule.INCONVENIENT_PLACE, (
            f"the consumer told us calls and texts at {_joined(hours.places)} are inconvenient, and it is a weekday "
            f"between {PLACE_HOURS[0]:%H:%M} and {PLACE_HOURS[1]:%H:%M} in "
            f"{', '.join(z.key for z in at_place)}, when they may be there"
        )
    return None, ""


def _joined(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _next_allowed(
    calls: list[ContactEvent],
    zones: tuple[ZoneInfo, ...],
    medium: Medium,
    at: datetime,
    policy: ContactPolicy,
    hours: _Hours,
) -> datetime | None:
    """The earliest moment every time-based rule passes together (each can push the others); None
    when no hour is convenient in every zone and the consumer's own hours and places."""
    if hours.consumer is None or hours.any_hour_places:
        return None
    home = zones[0]
    when = at
    # Each round either ends or moves `when` to some zone's next opening; a fortnight of rounds
    # without an hour convenient everywhere means there is none.
    for _ in range(64):
        later = when
        if medium is Medium.VOICE:
            later = max(later, _frequency_clear_at(calls, home, later, policy))
            later = max(later, _conversation_clear_at(calls, home, later, policy))
        for zone in zones:
            later = max(later, _hours_clear_at(zone, later, hours.consumer))
            if hours.places:
                later = max(later, _place_clear_at(zone, later))
        if later == when:
            return when.astimezone(timezone.utc)
        when = later
    return None


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
        (
            e.at.astimezone(zone).date()
            for e in calls
            if e.kind is ContactKind.ATTEMPT and e.direction is Direction.OUTBOUND
        ),
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


def _within(zone: ZoneInfo, at: datetime, hours: tuple[time, time]) -> bool:
    return hours[0] <= at.astimezone(zone).time() < hours[1]


def _at_place(zone: ZoneInfo, at: datetime) -> bool:
    """Whether, local time in `zone`, `at` falls on a weekday between PLACE_HOURS."""
    local = at.astimezone(zone)
    return local.weekday() in PLACE_DAYS and _within(zone, at, PLACE_HOURS)


def _place_clear_at(zone: ZoneInfo, at: datetime) -> datetime:
    """`at` when outside the place window in `zone`, else the window's end there (18:00 local)."""
    if not _at_place(zone, at):
        return at
    return datetime.combine(at.astimezone(zone).date(), PLACE_HOURS[1], tzinfo=zone)


def _hours_clear_at(zone: ZoneInfo, at: datetime, hours: tuple[time, time]) -> datetime:
    """`at` when within `hours` local time in `zone`, else the next opening there."""
    if _within(zone, at, hours):
        return at
    local = at.astimezone(zone)
    day = local.date() if local.time() < hours[0] else local.date() + timedelta(days=1)
    # Built from the wall-clock date and time, so DST days give the right UTC instant.
    return datetime.combine(day, hours[0], tzinfo=zone)


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
    """The reasons the rasa side sends, spelled once in contracts/names.py."""

    DISTRESS = Handoff.DISTRESS
    DISPUTE = Handoff.DISPUTE
    REQUEST_AGENT = Handoff.REQUEST_AGENT
    BANKRUPTCY = Handoff.BANKRUPTCY
    ATTORNEY = Handoff.ATTORNEY
    DECEASED = Handoff.DECEASED
    MISUNDERSTANDING = Handoff.MISUNDERSTANDING
    VERIFICATION_LOCKED = Handoff.VERIFICATION_LOCKED
    HARDSHIP = Handoff.HARDSHIP
    OTHER = Handoff.OTHER


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
