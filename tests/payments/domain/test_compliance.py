from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from payments.domain.accounts import NO_COLLECTION_FLAGS, AccountFlag
from payments.domain.compliance import (
    ContactEvent,
    ContactKind,
    ContactPolicy,
    ContactRule,
    Direction,
    HandoffReason,
    Medium,
    evaluate_contact,
    handoff_priority,
    is_valid_actor,
    may_clear_flag,
)

# The time zones of the five demo accounts (DESIGN.md).
DEMO_ZONES = {
    "A1001": "America/Chicago",
    "A1002": "America/New_York",
    "A1003": "America/Los_Angeles",
    "A1004": "America/Chicago",
    "A1005": "America/New_York",
}
NY, CHICAGO, LA = "America/New_York", "America/Chicago", "America/Los_Angeles"
UTC = timezone.utc


def local(zone: str, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone), fold=fold)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def check(at, medium=Medium.SMS, zone=NY, flags=(), history=(), policy=ContactPolicy()):
    return evaluate_contact(flags=flags, time_zone=zone, medium=medium, at=at, history=history, policy=policy)


def attempt(at, direction=Direction.OUTBOUND, medium=Medium.VOICE):
    return ContactEvent(medium, ContactKind.ATTEMPT, direction, at)


def conversation(at, direction=Direction.OUTBOUND):
    return ContactEvent(Medium.VOICE, ContactKind.CONVERSATION, direction, at)


# --- hours -------------------------------------------------------------------------------------


@pytest.mark.parametrize("account_id", DEMO_ZONES)
@pytest.mark.parametrize("medium", list(Medium))
@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(0, 0, False), (7, 59, False), (8, 0, True), (12, 0, True), (20, 59, True), (21, 0, False), (23, 59, False)],
)
def test_contact_hours_are_8_to_21_local(account_id, medium, hour, minute, allowed):
    zone = DEMO_ZONES[account_id]
    decision = check(local(zone, 2026, 3, 2, hour, minute), medium=medium, zone=zone)
    assert decision.allowed is allowed
    assert decision.rule == (None if allowed else ContactRule.OUTSIDE_HOURS)


@pytest.mark.parametrize("account_id", DEMO_ZONES)
@pytest.mark.parametrize(("hour", "minute", "next_day"), [(0, 0, 2), (7, 59, 2), (21, 0, 3), (23, 59, 3)])
def test_outside_hours_gives_the_next_8am_local(account_id, hour, minute, next_day):
    zone = DEMO_ZONES[account_id]
    decision = check(local(zone, 2026, 3, 2, hour, minute), zone=zone)
    assert decision.next_allowed_at == local(zone, 2026, 3, next_day, 8, 0)
    assert decision.next_allowed_at.tzinfo == UTC
    assert decision.next_allowed_at.astimezone(ZoneInfo(zone)).time() == time(8, 0)


def test_allowed_has_no_next_time():
    decision = check(local(NY, 2026, 3, 2, 12, 0))
    assert (decision.allowed, decision.rule, decision.next_allowed_at) == (True, None, None)


def test_one_instant_means_different_hours_in_each_zone():
    at = utc(2026, 3, 2, 13, 30)  # 08:30 New York, 07:30 Chicago, 05:30 Los Angeles
    assert [check(at, zone=z).allowed for z in (NY, CHICAGO, LA)] == [True, False, False]
    late = utc(2026, 3, 3, 4, 30)  # 23:30 New York, 22:30 Chicago, 20:30 Los Angeles
    assert [check(late, zone=z).allowed for z in (NY, CHICAGO, LA)] == [False, False, True]


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        # 2026-03-08: US clocks spring forward at 02:00; New York is UTC-4 from then on.
        (utc(2026, 3, 8, 11, 59), False),  # 07:59 EDT (would be 06:59 EST)
        (utc(2026, 3, 8, 12, 0), True),  # 08:00 EDT
        (utc(2026, 3, 9, 0, 59), True),  # 20:59 EDT
        (utc(2026, 3, 9, 1, 0), False),  # 21:00 EDT (would be 20:00 EST)
        # 2026-11-01: clocks fall back at 02:00; New York is UTC-5 from then on.
        (utc(2026, 11, 1, 12, 59), False),  # 07:59 EST (would be 08:59 EDT)
        (utc(2026, 11, 1, 13, 0), True),  # 08:00 EST
        (utc(2026, 11, 2, 1, 59), True),  # 20:59 EST
        (utc(2026, 11, 2, 2, 0), False),  # 21:00 EST
    ],
)
def test_hours_follow_daylight_saving_time(at, allowed):
    assert check(at, zone=NY).allowed is allowed


def test_next_8am_across_spring_forward_is_an_hour_sooner():
    # 21:30 EST on Saturday; the night is an hour short, and 08:00 EDT is 12:00 UTC.
    decision = check(local(NY, 2026, 3, 7, 21, 30), zone=NY)
    assert decision.next_allowed_at == utc(2026, 3, 8, 12, 0)
    assert decision.next_allowed_at - local(NY, 2026, 3, 7, 21, 30) == timedelta(hours=9, minutes=30)


def test_next_8am_across_fall_back_is_an_hour_later():
    decision = check(local(CHICAGO, 2026, 10, 31, 21, 30), zone=CHICAGO)
    assert decision.next_allowed_at == utc(2026, 11, 1, 14, 0)  # 08:00 CST
    assert decision.next_allowed_at - local(CHICAGO, 2026, 10, 31, 21, 30) == timedelta(hours=11, minutes=30)


@pytest.mark.parametrize("fold", [0, 1])
def test_the_repeated_hour_at_fall_back_is_outside_hours(fold):
    at = local(LA, 2026, 11, 1, 1, 30, fold=fold)  # 01:30 happens twice
    decision = check(at, zone=LA)
    assert decision.rule == ContactRule.OUTSIDE_HOURS
    assert decision.next_allowed_at == utc(2026, 11, 1, 16, 0)  # 08:00 PST


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        check(datetime(2026, 3, 2, 12, 0))


def test_an_operator_may_narrow_the_hours():
    policy = ContactPolicy(earliest=time(9, 0), latest=time(20, 0))
    assert not check(local(NY, 2026, 3, 2, 8, 30), policy=policy).allowed
    assert check(local(NY, 2026, 3, 2, 9, 0), policy=policy).allowed
    assert not check(local(NY, 2026, 3, 2, 20, 0), policy=policy).allowed


def test_a_policy_with_no_hours_is_rejected():
    with pytest.raises(ValueError):
        ContactPolicy(earliest=time(21, 0), latest=time(8, 0))


# --- flags -------------------------------------------------------------------------------------

NOON = local(NY, 2026, 3, 2, 12, 0)
ALL = list(Medium)


@pytest.mark.parametrize(
    ("flag", "refused_media", "rule"),
    [
        (AccountFlag.CEASE_COMMUNICATION, ALL, ContactRule.CEASE_COMMUNICATION),
        (AccountFlag.DISPUTE, ALL, ContactRule.COLLECTION_PAUSED),
        (AccountFlag.BANKRUPTCY, ALL, ContactRule.COLLECTION_PAUSED),
        (AccountFlag.ATTORNEY, ALL, ContactRule.COLLECTION_PAUSED),
        (AccountFlag.DECEASED, ALL, ContactRule.COLLECTION_PAUSED),
        (AccountFlag.HARDSHIP_HOLD, ALL, ContactRule.COLLECTION_PAUSED),
        (AccountFlag.WRONG_NUMBER, [Medium.SMS, Medium.VOICE], ContactRule.WRONG_NUMBER),
        (AccountFlag.STOP_SMS, [Medium.SMS], ContactRule.OPTED_OUT),
        (AccountFlag.STOP_VOICE, [Medium.VOICE], ContactRule.OPTED_OUT),
        (AccountFlag.STOP_EMAIL, [Medium.EMAIL], ContactRule.OPTED_OUT),
    ],
)
@pytest.mark.parametrize("medium", ALL)
def test_each_flag_refuses_its_media_for_good(flag, refused_media, rule, medium):
    decision = check(NOON, medium=medium, flags={flag})
    if medium in refused_media:
        assert (decision.allowed, decision.rule, decision.next_allowed_at) == (False, rule, None)
        assert decision.detail
    else:
        assert (decision.allowed, decision.rule) == (True, None)


def test_every_flag_is_covered_above():
    covered = {
        AccountFlag.CEASE_COMMUNICATION,
        AccountFlag.DISPUTE,
        AccountFlag.BANKRUPTCY,
        AccountFlag.ATTORNEY,
        AccountFlag.DECEASED,
        AccountFlag.HARDSHIP_HOLD,
        AccountFlag.WRONG_NUMBER,
        AccountFlag.STOP_SMS,
        AccountFlag.STOP_VOICE,
        AccountFlag.STOP_EMAIL,
    }
    assert covered == set(AccountFlag)
    assert NO_COLLECTION_FLAGS <= covered


def test_the_paused_detail_names_the_flags():
    decision = check(NOON, flags={AccountFlag.DISPUTE, AccountFlag.ATTORNEY})
    assert "attorney" in decision.detail and "dispute" in decision.detail


@pytest.mark.parametrize(
    ("flags", "medium", "rule"),
    [
        (
            {AccountFlag.CEASE_COMMUNICATION, AccountFlag.BANKRUPTCY, AccountFlag.STOP_SMS},
            Medium.SMS,
            ContactRule.CEASE_COMMUNICATION,
        ),
        ({AccountFlag.BANKRUPTCY, AccountFlag.WRONG_NUMBER}, Medium.VOICE, ContactRule.COLLECTION_PAUSED),
        ({AccountFlag.WRONG_NUMBER, AccountFlag.STOP_SMS}, Medium.SMS, ContactRule.WRONG_NUMBER),
    ],
)
def test_the_strongest_rule_is_reported(flags, medium, rule):
    assert check(NOON, medium=medium, flags=flags).rule == rule


def test_a_flag_outranks_the_hour_and_has_no_next_time():
    decision = check(local(NY, 2026, 3, 2, 22, 0), flags={AccountFlag.STOP_SMS})
    assert (decision.rule, decision.next_allowed_at) == (ContactRule.OPTED_OUT, None)


# --- Reg F: seven calls in seven days ---------------------------------------------------------

TODAY_NOON = local(NY, 2026, 3, 10, 12, 0)


def calls_on(days_ago: list[int], hour: int = 10) -> list[ContactEvent]:
    return [attempt(local(NY, 2026, 3, 10, hour) - timedelta(days=d)) for d in days_ago]


def voice(history, at=TODAY_NOON, zone=NY, **kw):
    return check(at, medium=Medium.VOICE, zone=zone, history=history, **kw)


def test_six_attempts_in_seven_days_allow_a_seventh():
    assert voice(calls_on([0, 1, 2, 3, 4, 6])).allowed


def test_seven_attempts_in_the_trailing_seven_days_refuse_the_eighth():
    decision = voice(calls_on([0, 1, 2, 3, 4, 5, 6]))
    assert (decision.allowed, decision.rule) == (False, ContactRule.CALL_FREQUENCY)
    assert "7 call attempts" in decision.detail


def test_seven_attempts_today_refuse_the_eighth():
    assert voice(calls_on([0] * 7, hour=9)).rule == ContactRule.CALL_FREQUENCY


def test_attempts_eight_days_ago_do_not_count():
    assert voice(calls_on([8] * 7)).allowed
    assert voice(calls_on([8, 0, 1, 2, 3, 4, 5])).allowed


def test_the_window_is_seven_calendar_days_counting_today():
    assert voice(calls_on([7] * 7)).allowed  # a week ago today is outside the window
    assert not voice(calls_on([6] * 7)).allowed


def test_inbound_calls_and_conversation_records_are_not_attempts():
    inbound = [attempt(local(NY, 2026, 3, 10, 9), Direction.INBOUND)] * 7
    assert voice(inbound).allowed


def test_attempts_after_the_checked_time_are_ignored():
    assert voice(calls_on([0] * 7, hour=13)).allowed  # all after noon


def test_frequency_limits_voice_only():
    history = calls_on([0] * 9, hour=9)
    assert check(TODAY_NOON, medium=Medium.SMS, history=history).allowed
    assert check(TODAY_NOON, medium=Medium.EMAIL, history=history).allowed


def test_sms_attempts_do_not_count_toward_calls():
    sms = [attempt(local(NY, 2026, 3, 10, 9), medium=Medium.SMS)] * 7
    assert voice(sms).allowed


def test_frequency_refusal_says_when_the_oldest_counted_call_leaves_the_window():
    # Seven attempts: one 6 days ago, three 3 days ago, three today. Tomorrow only six remain.
    decision = voice(calls_on([6, 3, 3, 3, 0, 0, 0]))
    assert decision.next_allowed_at == local(NY, 2026, 3, 11, 8, 0)
    # Eight attempts: tomorrow seven remain (3 days ago + today), so four days from now.
    decision = voice(calls_on([6, 3, 3, 3, 0, 0, 0, 0]))
    assert decision.next_allowed_at == local(NY, 2026, 3, 14, 8, 0)


def test_frequency_days_are_the_consumers_days_not_utc():
    # 23:30 in Los Angeles on 3 March is already 4 March in UTC.
    history = [attempt(local(LA, 2026, 3, 3, 23, 30))] * 7
    assert voice(history, at=local(LA, 2026, 3, 9, 12, 0), zone=LA).rule == ContactRule.CALL_FREQUENCY
    assert voice(history, at=local(LA, 2026, 3, 10, 8, 0), zone=LA).allowed


def test_frequency_next_time_across_spring_forward():
    history = [attempt(local(NY, 2026, 3, 2, 10))] * 7
    decision = voice(history, at=local(NY, 2026, 3, 8, 12, 0))
    assert decision.next_allowed_at == utc(2026, 3, 9, 12, 0)  # 08:00 EDT


def test_an_operator_may_lower_the_call_limit():
    assert voice(calls_on([0, 1, 2]), policy=ContactPolicy(max_call_attempts=3)).rule == ContactRule.CALL_FREQUENCY
    assert voice(calls_on([0, 1]), policy=ContactPolicy(max_call_attempts=3)).allowed


# --- Reg F: no call within seven days after a conversation -------------------------------------


def test_a_conversation_six_days_ago_refuses_a_call_but_not_a_text():
    history = [conversation(local(NY, 2026, 3, 4, 15))]
    decision = voice(history)
    assert (decision.allowed, decision.rule) == (False, ContactRule.RECENT_CONVERSATION)
    assert decision.next_allowed_at == local(NY, 2026, 3, 11, 8, 0)
    assert check(TODAY_NOON, medium=Medium.SMS, history=history).allowed
    assert check(TODAY_NOON, medium=Medium.EMAIL, history=history).allowed


def test_a_conversation_seven_days_ago_no_longer_counts():
    assert voice([conversation(local(NY, 2026, 3, 3, 15))]).allowed


def test_a_conversation_earlier_today_refuses_a_call():
    assert voice([conversation(local(NY, 2026, 3, 10, 9))]).rule == ContactRule.RECENT_CONVERSATION


def test_a_conversation_the_consumer_started_counts_too():
    assert voice([conversation(local(NY, 2026, 3, 8, 9), Direction.INBOUND)]).rule == ContactRule.RECENT_CONVERSATION


def test_the_conversation_day_is_the_consumers_day():
    # 23:30 on 2 March in New York is 3 March in UTC; day 1 is 2 March, so 9 March is clear.
    history = [conversation(local(NY, 2026, 3, 2, 23, 30))]
    assert voice(history, at=local(NY, 2026, 3, 9, 10, 0)).allowed
    assert not voice(history, at=local(NY, 2026, 3, 8, 20, 0)).allowed


def test_the_latest_conversation_counts():
    history = [conversation(local(NY, 2026, 3, 1, 10)), conversation(local(NY, 2026, 3, 5, 10))]
    assert voice(history).next_allowed_at == local(NY, 2026, 3, 12, 8, 0)


def test_frequency_is_reported_before_conversation_and_hours():
    history = calls_on([0, 0, 0, 1, 1, 2, 2]) + [conversation(local(NY, 2026, 3, 10, 10, 30))]
    decision = voice(history, at=local(NY, 2026, 3, 10, 22, 0))
    assert decision.rule == ContactRule.CALL_FREQUENCY
    # Frequency clears on the 15th, but the conversation on the 10th keeps calls off until the 17th.
    assert decision.next_allowed_at == local(NY, 2026, 3, 17, 8, 0)


def test_a_recent_conversation_outside_hours_reports_the_conversation():
    decision = voice([conversation(local(NY, 2026, 3, 9, 10))], at=local(NY, 2026, 3, 10, 6, 0))
    assert decision.rule == ContactRule.RECENT_CONVERSATION
    assert decision.next_allowed_at == local(NY, 2026, 3, 16, 8, 0)


def test_next_allowed_at_is_allowed():
    history = calls_on([0, 0, 0, 1, 1, 2, 6]) + [conversation(local(NY, 2026, 3, 5, 20))]
    decision = voice(history, at=local(NY, 2026, 3, 10, 23, 0))
    assert decision.next_allowed_at is not None
    assert voice(history, at=decision.next_allowed_at).allowed
    assert not voice(history, at=decision.next_allowed_at - timedelta(minutes=1)).allowed


# --- places the consumer named (12 CFR 1006.6(b)(1)) --------------------------------------------
# 2026-03-02 is a Monday, 2026-03-06 a Friday, 2026-03-07 a Saturday.


def at_place(at, places=("work",), zones=NY, medium=Medium.SMS, windows=()):
    return evaluate_contact(flags=(), time_zone=zones, medium=medium, at=at, places=places, windows=windows)


@pytest.mark.parametrize("medium", [Medium.SMS, Medium.VOICE])
@pytest.mark.parametrize(
    ("hour", "minute", "allowed"), [(8, 0, False), (12, 0, False), (17, 59, False), (18, 0, True), (20, 59, True)]
)
def test_at_work_no_call_or_text_on_weekdays_8_to_18_local(medium, hour, minute, allowed):
    decision = at_place(local(NY, 2026, 3, 2, hour, minute), medium=medium)
    assert decision.allowed is allowed
    assert decision.rule == (None if allowed else ContactRule.INCONVENIENT_PLACE)


def test_the_place_refusal_says_why_and_when():
    decision = at_place(local(NY, 2026, 3, 2, 10, 0))
    assert decision.detail == (
        "the consumer told us calls and texts at work are inconvenient, and it is a weekday "
        "between 08:00 and 18:00 in America/New_York, when they may be there"
    )
    assert decision.next_allowed_at == local(NY, 2026, 3, 2, 18, 0)
    assert decision.next_allowed_at.tzinfo == UTC


def test_a_place_does_not_stop_email():
    assert at_place(local(NY, 2026, 3, 2, 12, 0), medium=Medium.EMAIL).allowed


@pytest.mark.parametrize(
    "at", [local(NY, 2026, 3, 7, 8, 0), local(NY, 2026, 3, 7, 12, 0), local(NY, 2026, 3, 8, 17, 0)]
)
def test_weekends_are_not_working_days(at):
    assert at_place(at, medium=Medium.VOICE).allowed


def test_the_place_holds_in_every_zone_the_consumer_may_be_in():
    # 18:30 in New York is 17:30 in Chicago: they may still be at work there.
    decision = at_place(local(NY, 2026, 3, 2, 18, 30), zones=(NY, CHICAGO))
    assert decision.rule == ContactRule.INCONVENIENT_PLACE
    assert "America/Chicago" in decision.detail and "America/New_York" not in decision.detail
    assert decision.next_allowed_at == local(CHICAGO, 2026, 3, 2, 18, 0)
    assert at_place(decision.next_allowed_at, zones=(NY, CHICAGO)).allowed


def test_new_york_and_los_angeles_at_work_leave_only_the_weekend():
    # After 18:00 in Los Angeles it is 21:00 in New York: no weekday hour is left.
    decision = at_place(local(NY, 2026, 3, 2, 10, 0), zones=(NY, LA))
    assert decision.next_allowed_at == local(LA, 2026, 3, 7, 8, 0)
    assert at_place(decision.next_allowed_at, zones=(NY, LA)).allowed


def test_the_weekday_is_the_consumers_local_day_not_utc():
    honolulu = "Pacific/Honolulu"
    friday = at_place(utc(2026, 3, 7, 3, 0), zones=(honolulu,))  # Saturday in UTC, Friday 17:00 in Honolulu
    assert friday.rule == ContactRule.INCONVENIENT_PLACE
    assert friday.next_allowed_at == local(honolulu, 2026, 3, 6, 18, 0)
    assert at_place(local(honolulu, 2026, 3, 7, 12, 0), zones=(honolulu,)).allowed


def test_the_consumers_hours_and_work_together_move_to_saturday():
    from payments.domain.compliance import ContactWindow

    windows = (ContactWindow(not_after=time(17, 0)),)  # "not after 5" and "not at work"
    decision = at_place(local(NY, 2026, 3, 5, 10, 0), windows=windows)
    assert decision.next_allowed_at == local(NY, 2026, 3, 7, 8, 0)
    assert at_place(decision.next_allowed_at, windows=windows).allowed
    assert not at_place(decision.next_allowed_at - timedelta(minutes=1), windows=windows).allowed


@pytest.mark.parametrize("places", [("school",), ("Hospital ",), ("work", "school")])
def test_other_places_get_the_same_weekday_window(places):
    assert at_place(local(NY, 2026, 3, 2, 12, 0), places=places).rule == ContactRule.INCONVENIENT_PLACE
    assert at_place(local(NY, 2026, 3, 2, 18, 0), places=places).allowed
    assert at_place(local(NY, 2026, 3, 7, 12, 0), places=places).allowed


@pytest.mark.parametrize("medium", [Medium.SMS, Medium.VOICE])
@pytest.mark.parametrize("at", [local(NY, 2026, 3, 2, 19, 0), local(NY, 2026, 3, 7, 12, 0)])
def test_not_at_home_refuses_calls_and_texts_at_any_hour_until_a_person_acts(medium, at):
    decision = at_place(at, places=("home",), medium=medium)
    assert (decision.allowed, decision.rule, decision.next_allowed_at) == (False, ContactRule.INCONVENIENT_PLACE, None)
    assert "at home" in decision.detail
    assert at_place(at, places=("home",), medium=Medium.EMAIL).allowed


def test_hours_and_the_consumers_own_times_are_reported_before_the_place():
    from payments.domain.compliance import ContactWindow

    assert at_place(local(NY, 2026, 3, 2, 7, 0)).rule == ContactRule.OUTSIDE_HOURS
    noon = at_place(local(NY, 2026, 3, 2, 11, 0), windows=(ContactWindow(not_before=time(12, 0)),))
    assert noon.rule == ContactRule.INCONVENIENT_TIME
    assert noon.next_allowed_at == local(NY, 2026, 3, 2, 18, 0)  # the place still applies at noon


def test_no_place_changes_nothing():
    assert at_place(local(NY, 2026, 3, 2, 12, 0), places=()).allowed
    assert at_place(local(NY, 2026, 3, 2, 12, 0), places=("",)).allowed


# --- actors and handoff priorities -------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "valid"),
    [
        ("customer", True),
        ("system", True),
        ("agent:alice", True),
        ("agent:a.b-c@x", True),
        ("agent:", False),
        ("agent", False),
        ("Customer", False),
        ("bot", False),
        ("agent:al ice", False),
        ("agent:" + "x" * 59, False),
    ],
)
def test_actor_forms(actor, valid):
    assert is_valid_actor(actor) is valid


@pytest.mark.parametrize("flag", list(AccountFlag))
def test_a_customer_may_only_give_back_consent(flag):
    assert may_clear_flag("customer", flag) is flag.value.startswith("stop_")
    assert may_clear_flag("agent:alice", flag)
    assert may_clear_flag("system", flag)
    assert not may_clear_flag("someone", flag)


@pytest.mark.parametrize(
    ("reason", "priority"),
    [
        ("distress", 0),
        ("dispute", 1),
        ("bankruptcy", 1),
        ("attorney", 1),
        ("deceased", 1),
        ("verification_locked", 2),
        ("request_agent", 2),
        ("hardship", 2),
        ("misunderstanding", 3),
        ("other", 3),
    ],
)
def test_handoff_priority_by_reason(reason, priority):
    assert handoff_priority(HandoffReason(reason)) == priority


def test_every_reason_has_a_priority():
    assert {handoff_priority(r) for r in HandoffReason} == {0, 1, 2, 3}
