"""Every zone the consumer may be in, and the contact hours across conflicting zones
(12 CFR 1006.6(b)(1)(i): convenient in every location we know of)."""

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.domain.compliance import ContactRule, ContactWindow, Medium, evaluate_contact
from payments.domain.zones import US_ZONES, _table, consumer_zones, zones_for_phone, zones_for_zip

NY, CHICAGO, DENVER, LA, HONOLULU = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Pacific/Honolulu",
)
UTC = timezone.utc


def at_utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def check(at, zones, windows=(), medium=Medium.SMS):
    return evaluate_contact(flags=(), time_zone=zones, medium=medium, at=at, windows=windows)


# --- the table ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+12125550100", NY),
        ("+13125550100", CHICAGO),
        ("+13035550100", DENVER),
        ("+14155550100", LA),
        ("+18085550100", HONOLULU),
        ("+16025550100", "America/Phoenix"),
        ("+19075550100", "America/Anchorage"),
        ("+17875550100", "America/Puerto_Rico"),
    ],
)
def test_an_area_code_names_its_zone(phone, zone):
    assert zone in zones_for_phone(phone)


def test_an_area_code_across_a_boundary_names_both_zones():
    # 850: Tallahassee keeps New York time, Pensacola Chicago time.
    assert {NY, CHICAGO} <= set(zones_for_phone("+18505550100"))


def test_every_state_has_area_codes_and_zip3_prefixes():
    table = _table()
    zones = {z for zs in table["area_codes"].values() for z in zs}
    assert {NY, CHICAGO, DENVER, LA, HONOLULU, "America/Anchorage", "America/Phoenix"} <= zones
    assert len(table["area_codes"]) >= 330  # every US area code in service, and Canada's and the Caribbean's
    assert len(table["zip3"]) >= 900


@pytest.mark.parametrize(
    ("zip_code", "zones"),
    [
        ("10027", (NY,)),
        ("60614", (CHICAGO,)),
        ("94110", (LA,)),
        ("80202", (DENVER,)),
        ("96813", (HONOLULU,)),
        ("79901", (DENVER,)),  # El Paso is Mountain, the rest of Texas Central
        ("32501", (CHICAGO,)),  # Pensacola
        ("42101", (CHICAGO,)),
        ("40202", (NY,)),  # Bowling Green, Louisville
    ],
)
def test_a_zip_names_its_zone(zip_code, zones):
    assert zones_for_zip(zip_code) == zones


@pytest.mark.parametrize("value", ["", None, "ABCDE", "12", "+4420", "+1212"])
def test_nothing_known_from_nonsense(value):
    assert zones_for_zip(value) == () and zones_for_phone(value) == ()


def test_the_account_zone_comes_first_without_duplicates():
    assert consumer_zones(CHICAGO, "60614", "+13125550100") == (CHICAGO,)
    assert consumer_zones(CHICAGO, "10027", "+14155550100") == (CHICAGO, NY, LA)


def test_with_nothing_known_every_us_zone_counts():
    assert consumer_zones(None, None, None) == US_ZONES
    assert consumer_zones("Not/AZone", "", "+4420") == US_ZONES


# --- hours across zones ------------------------------------------------------------------------


def test_conflicting_zones_allow_only_hours_convenient_in_both():
    # A Chicago account with a Los Angeles phone: 08:30 in Chicago is 06:30 in Los Angeles.
    zones = (CHICAGO, LA)
    early = datetime(2026, 3, 2, 8, 30, tzinfo=ZoneInfo(CHICAGO))
    decision = check(early, zones)
    assert (decision.allowed, decision.rule) == (False, ContactRule.OUTSIDE_HOURS)
    assert LA in decision.detail
    # Next allowed: 08:00 in Los Angeles.
    assert decision.next_allowed_at == datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo(LA)).astimezone(UTC)
    assert check(decision.next_allowed_at, zones).allowed


def test_the_evening_end_is_the_eastern_one():
    # New York phone, Los Angeles account: 18:30 in LA is 21:30 in New York.
    evening = datetime(2026, 3, 2, 18, 30, tzinfo=ZoneInfo(LA))
    decision = check(evening, (LA, NY))
    assert (decision.allowed, decision.rule) == (False, ContactRule.OUTSIDE_HOURS)
    # Tomorrow 08:00 in LA is 11:00 in New York: the first moment both are open.
    assert decision.next_allowed_at == datetime(2026, 3, 3, 8, 0, tzinfo=ZoneInfo(LA)).astimezone(UTC)


def test_with_no_zone_known_only_hours_convenient_across_the_us_pass():
    # Winter: 08:00 in Honolulu (and Adak) is 13:00 in New York; 21:00 in Puerto Rico, an hour
    # ahead of New York without DST, is 20:00 there.
    assert not check(at_utc(2026, 1, 15, 17, 59), US_ZONES).allowed  # 12:59 New York, 07:59 Honolulu
    assert check(at_utc(2026, 1, 15, 18, 0), US_ZONES).allowed
    assert check(at_utc(2026, 1, 16, 0, 59), US_ZONES).allowed  # 19:59 New York, 20:59 San Juan
    decision = check(at_utc(2026, 1, 16, 1, 0), US_ZONES)
    assert (decision.allowed, decision.rule) == (False, ContactRule.OUTSIDE_HOURS)
    assert decision.next_allowed_at == at_utc(2026, 1, 16, 18, 0)


def test_the_consumers_own_hours_narrow_every_zone():
    noon_window = [ContactWindow(not_before=time(12, 0))]
    ten = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo(NY))
    decision = check(ten, (NY,), noon_window)
    assert (decision.allowed, decision.rule) == (False, ContactRule.INCONVENIENT_TIME)
    assert decision.next_allowed_at == datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo(NY)).astimezone(UTC)
    assert check(decision.next_allowed_at, (NY,), noon_window).allowed


def test_windows_that_leave_no_hour_refuse_for_good():
    windows = [ContactWindow(not_before=time(18, 0)), ContactWindow(not_after=time(12, 0))]
    decision = check(datetime(2026, 3, 2, 13, 0, tzinfo=ZoneInfo(NY)), (NY,), windows)
    assert (decision.allowed, decision.rule, decision.next_allowed_at) == (False, ContactRule.INCONVENIENT_TIME, None)


def test_the_policy_hours_are_reported_before_the_consumers_own():
    decision = check(datetime(2026, 3, 2, 7, 0, tzinfo=ZoneInfo(NY)), (NY,), [ContactWindow(not_after=time(18, 0))])
    assert decision.rule is ContactRule.OUTSIDE_HOURS


def test_call_days_are_counted_in_the_account_zone_while_hours_hold_everywhere():
    decision = check(datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo(NY)), (NY, HONOLULU), medium=Medium.VOICE)
    assert decision.rule is ContactRule.OUTSIDE_HOURS  # 07:00 in Honolulu


# --- property: convenient everywhere, and the next allowed time is the first one ----------------

INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
ZONE_SETS = st.lists(
    st.sampled_from(US_ZONES + ("Pacific/Guam", "Pacific/Pago_Pago")), min_size=1, max_size=4, unique=True
)


def convenient_everywhere(at: datetime, zones) -> bool:
    return all(time(8) <= at.astimezone(ZoneInfo(z)).time() < time(21) for z in zones)


@settings(max_examples=300, deadline=None)
@given(at=INSTANTS, zones=ZONE_SETS)
def test_allowed_exactly_when_convenient_in_every_zone(at, zones):
    decision = check(at, tuple(zones))
    assert decision.allowed is convenient_everywhere(at, zones)
    if not decision.allowed:
        nxt = decision.next_allowed_at
        assert nxt is not None and nxt > at and convenient_everywhere(nxt, zones)
        # Nothing earlier was convenient: step back through the gap a quarter hour at a time.
        probe = nxt - timedelta(minutes=15)
        while probe > at:
            assert not convenient_everywhere(probe, zones)
            probe -= timedelta(minutes=15)
