from datetime import date, datetime, timedelta, timezone

import pytest

from payments.domain.verification import (
    MAX_LOCK,
    Channel,
    Factors,
    LockState,
    factors_match,
    factors_satisfy_channel,
    lock_length,
    lock_state,
    session_expired,
)

LAST4, DOB, ZIP = "4821", date(1985, 3, 14), "78701"

WINDOW = timedelta(minutes=30)
T0 = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def state(failure_minutes: list[float], now_minutes: float) -> LockState:
    return lock_state([at(m) for m in failure_minutes], at(now_minutes), max_failures=3, window=WINDOW)


# --- which factors each channel needs -------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.WEB, Channel.REST])
@pytest.mark.parametrize(
    ("factors", "enough"),
    [
        (Factors(LAST4, DOB, ZIP), True),
        (Factors(LAST4, DOB, None), False),
        (Factors(LAST4, None, ZIP), False),
        (Factors(None, DOB, ZIP), False),
        (Factors("", DOB, ZIP), False),
        (Factors(LAST4, DOB, ""), False),
    ],
)
def test_web_and_rest_need_all_three_factors(channel, factors, enough):
    assert factors_satisfy_channel(channel, factors) is enough


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
@pytest.mark.parametrize(
    ("factors", "enough"),
    [
        (Factors(LAST4, DOB, ZIP), True),
        (Factors(LAST4, DOB, None), True),
        (Factors(LAST4, None, ZIP), True),
        (Factors(LAST4, None, None), False),
        (Factors(LAST4, None, ""), False),
        (Factors(None, DOB, ZIP), False),
    ],
)
def test_sms_and_voice_need_last4_and_dob_or_zip(channel, factors, enough):
    assert factors_satisfy_channel(channel, factors) is enough


def test_only_sms_and_voice_have_caller_id():
    assert {c for c in Channel if c.has_caller_id} == {Channel.SMS, Channel.VOICE}


# --- matching ----------------------------------------------------------------------------------


@pytest.mark.parametrize("factors", [Factors(LAST4, DOB, ZIP), Factors(LAST4, DOB, None), Factors(LAST4, None, ZIP)])
def test_factors_match_when_every_given_factor_is_right(maria, factors):
    assert factors_match(maria, factors)


@pytest.mark.parametrize(
    "factors",
    [
        Factors("4822", DOB, ZIP),
        Factors(LAST4, date(1985, 3, 15), ZIP),
        Factors(LAST4, DOB, "78702"),
        Factors(LAST4, None, "78702"),
        Factors(LAST4, DOB, ""),
    ],
)
def test_factors_do_not_match_when_any_given_factor_is_wrong(maria, factors):
    assert not factors_match(maria, factors)


# --- lock-out: 3 failures within 30 minutes lock for 30 minutes after the last --------------------


def test_no_failures_leave_every_attempt():
    assert state([], 0) == LockState(locked_until=None, attempts_left=3)


def test_two_failures_leave_one_attempt():
    assert state([0, 5], 6) == LockState(locked_until=None, attempts_left=1)


def test_three_failures_within_the_window_lock_until_the_last_plus_30_minutes():
    assert state([0, 10, 29], 29) == LockState(locked_until=at(59), attempts_left=0)


def test_failures_exactly_30_minutes_apart_still_count_together():
    assert state([0, 15, 30], 30) == LockState(locked_until=at(60), attempts_left=0)


def test_lock_holds_until_just_before_it_ends():
    assert state([0, 1, 2], 31.99).locked_until == at(32)


def test_lock_expires_30_minutes_after_the_last_failure():
    assert state([0, 1, 2], 32) == LockState(locked_until=None, attempts_left=3)


def test_failures_older_than_the_window_stop_counting():
    # Sliding window: at minute 31 only the failures at 20 and 31 are within 30 minutes.
    assert state([0, 20, 31], 31) == LockState(locked_until=None, attempts_left=1)


def test_failures_age_out_with_time_alone():
    assert state([0, 1], 31) == LockState(locked_until=None, attempts_left=2)
    assert state([0, 1], 32) == LockState(locked_until=None, attempts_left=3)


def test_any_three_within_the_window_lock_even_after_an_old_failure():
    # 10, 35 and 36 are three failures within 26 minutes; the one at 0 must not hide them.
    assert state([0, 10, 35, 36], 37) == LockState(locked_until=at(66), attempts_left=0)


def test_failures_after_lock_expiry_start_a_new_run():
    assert state([0, 1, 2, 40], 41) == LockState(locked_until=None, attempts_left=2)


def test_a_second_run_of_three_locks_again_for_twice_as_long():
    assert state([0, 1, 2, 40, 41, 42], 43) == LockState(locked_until=at(42 + 60), attempts_left=0)


def test_each_repeat_within_a_day_doubles_the_lock():
    # Locks at 2 (30 min), 40 (60 min), 110 (120 min), 240 (240 min).
    failures = [0, 1, 2, 38, 39, 40, 108, 109, 110, 238, 239, 240]
    assert state(failures, 241).locked_until == at(240 + 240)
    assert lock_length(WINDOW, 20) == MAX_LOCK == timedelta(hours=24)


def test_a_lock_more_than_a_day_after_the_last_lasts_the_base_time():
    day = 24 * 60
    assert state([0, 1, 2, day + 10, day + 11, day + 12], day + 13).locked_until == at(day + 12 + 30)


@pytest.mark.parametrize("max_failures", [1, 5])
def test_max_failures_is_configurable(max_failures):
    failures = [at(m) for m in range(max_failures)]
    result = lock_state(failures, at(max_failures), max_failures=max_failures, window=WINDOW)
    assert result.locked_until == failures[-1] + WINDOW


# --- verification sessions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "last_used", "expected"),
    [(14, 0, False), (15, 0, True), (50, 40, False), (60, 50, True), (59, 58, False)],
)
def test_a_session_ends_after_idle_time_or_at_its_absolute_limit(now, last_used, expected):
    assert session_expired(at(now), at(last_used), expires_at=at(60), idle=timedelta(minutes=15)) is expected
