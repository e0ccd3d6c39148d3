import json
from dataclasses import asdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import AuditEventRow, VerificationAttemptRow, VerificationSessionRow
from payments.domain.errors import InvalidRequest, VerificationLocked, VerificationRequired
from payments.domain.verification import Channel, Factors
from payments.services.verification import VerificationService

PHONE, LAST4, DOB, ZIP = "+15125550101", "4821", date(1985, 3, 14), "78701"  # A1001, Maria Lopez
RIGHT = Factors(LAST4, DOB, ZIP)
WRONG = Factors(LAST4, DOB, "78702")


@pytest.fixture
def service(sessions, clock) -> VerificationService:
    return VerificationService(sessions, max_failures=3, lock_minutes=30, clock=clock)


def fail_three_times(service, clock, channel=Channel.WEB, conversation_id="c1", phone=None):
    """Three wrong attempts a minute apart; the clock is left at the third."""
    for _ in range(3):
        clock.advance(minutes=1)
        service.verify(channel, conversation_id, WRONG, phone=phone)


def count(sessions, row_type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(row_type))


def test_web_verifies_with_all_three_factors(service):
    result = service.verify(Channel.WEB, "c1", RIGHT)
    assert (result.verified, result.account_id, result.locked_until) == (True, "A1001", None)


@pytest.mark.parametrize(
    "wrong", [Factors("4822", DOB, ZIP), Factors(LAST4, date(1985, 3, 15), ZIP), Factors(LAST4, DOB, "78702")]
)
def test_web_failure_never_says_which_factor(service, wrong):
    result = service.verify(Channel.WEB, "c1", wrong)
    assert asdict(result) == {
        "verified": False,
        "account_id": None,
        "attempts_left": 2,
        "locked_until": None,
        "session_id": None,
        "session_expires_at": None,
    }


@pytest.mark.parametrize(
    ("channel", "factors", "phone"),
    [
        (Channel.WEB, Factors(LAST4, DOB, None), None),
        (Channel.REST, Factors(None, DOB, ZIP), None),
        (Channel.SMS, Factors(LAST4, None, None), PHONE),
        (Channel.SMS, RIGHT, None),
        (Channel.VOICE, Factors(LAST4, DOB, None), None),
    ],
)
def test_missing_factors_are_refused_and_not_counted(service, sessions, channel, factors, phone):
    with pytest.raises(InvalidRequest):
        service.verify(channel, "c1", factors, phone=phone)
    assert count(sessions, VerificationAttemptRow) == 0
    assert count(sessions, AuditEventRow) == 0


@pytest.mark.parametrize("factors", [Factors(LAST4, DOB, None), Factors(LAST4, None, ZIP)])
def test_sms_verifies_with_phone_last4_and_dob_or_zip(service, factors):
    result = service.verify(Channel.SMS, "c1", factors, phone=PHONE)
    assert (result.verified, result.account_id) == (True, "A1001")


def test_sms_from_another_phone_fails(service):
    result = service.verify(Channel.SMS, "c1", Factors(LAST4, DOB, None), phone="+15125550199")
    assert (result.verified, result.account_id, result.attempts_left) == (False, None, 2)


def test_third_failure_locks_for_30_minutes(service, clock):
    first, second = service.verify(Channel.WEB, "c1", WRONG), service.verify(Channel.WEB, "c1", WRONG)
    third = service.verify(Channel.WEB, "c1", WRONG)
    assert [first.attempts_left, second.attempts_left, third.attempts_left] == [2, 1, 0]
    assert third.locked_until == clock() + timedelta(minutes=30)


def test_locked_refuses_even_the_right_factors(service, sessions, clock):
    fail_three_times(service, clock)
    with pytest.raises(VerificationLocked) as locked:
        service.verify(Channel.WEB, "c1", RIGHT)
    assert locked.value.retry_after_seconds == pytest.approx(30 * 60, abs=1)
    # Each failure counts for the conversation and for the account its last 4 names; the refusal adds none.
    with sessions() as session:
        subjects = session.scalars(select(VerificationAttemptRow.subject)).all()
    assert sorted(subjects) == ["account:A1001"] * 3 + ["conversation:c1"] * 3


def test_lock_ends_30_minutes_after_the_third_failure(service, clock):
    fail_three_times(service, clock)
    clock.advance(minutes=29, seconds=59)
    with pytest.raises(VerificationLocked):
        service.verify(Channel.WEB, "c1", RIGHT)
    clock.advance(seconds=1)
    assert service.verify(Channel.WEB, "c1", RIGHT).verified


def test_success_resets_the_failure_count(service, clock):
    for factors in (WRONG, WRONG, RIGHT):
        service.verify(Channel.WEB, "c1", factors)
        clock.advance(seconds=10)
    assert service.verify(Channel.WEB, "c1", WRONG).attempts_left == 2


def test_sms_lock_follows_the_phone_across_conversations(service, clock):
    for conversation_id in ("sms-1", "sms-2", "sms-3"):
        clock.advance(minutes=1)
        service.verify(Channel.SMS, conversation_id, WRONG, phone=PHONE)
    with pytest.raises(VerificationLocked):
        service.verify(Channel.SMS, "sms-4", RIGHT, phone=PHONE)


def test_a_web_failure_aimed_at_no_account_locks_only_its_conversation(service, clock):
    for _ in range(3):
        clock.advance(minutes=1)
        service.verify(Channel.WEB, "web-1", Factors("0000", DOB, ZIP))
    assert service.verify(Channel.WEB, "web-2", RIGHT).verified
    with pytest.raises(VerificationLocked):
        service.verify(Channel.WEB, "web-1", RIGHT)


def test_web_lock_follows_the_account_across_conversations(service, clock):
    # The attack of issue 11: failures for one account spread over new conversation ids.
    for conversation_id in ("web-1", "web-2", "web-3"):
        clock.advance(minutes=1)
        service.verify(Channel.WEB, conversation_id, WRONG)
    with pytest.raises(VerificationLocked):
        service.verify(Channel.WEB, "web-4", RIGHT)
    with pytest.raises(VerificationLocked):  # and from the customer's own phone
        service.verify(Channel.SMS, "sms-1", RIGHT, phone=PHONE)


def test_a_phone_lock_holds_for_a_new_account_guess(service, clock):
    # Three wrong answers from one caller ID lock that number, whichever account they aimed at.
    for conversation_id in ("voice-CA1", "voice-CA2", "voice-CA3"):
        clock.advance(minutes=1)
        service.verify(Channel.VOICE, conversation_id, Factors("9999", DOB, None), phone="+15005550199")
    with pytest.raises(VerificationLocked):
        service.verify(Channel.VOICE, "voice-CA4", Factors("9999", DOB, None), phone="+15005550199")


def test_a_repeat_lockout_within_a_day_lasts_twice_as_long(service, clock):
    fail_three_times(service, clock, conversation_id="web-1")
    clock.advance(minutes=30)
    fail_three_times(service, clock, conversation_id="web-2")
    with pytest.raises(VerificationLocked) as locked:
        service.verify(Channel.WEB, "web-3", RIGHT)
    assert locked.value.retry_after_seconds == pytest.approx(60 * 60, abs=1)


def test_success_opens_a_session_and_a_lockout_ends_it(service, sessions, clock):
    result = service.verify(Channel.SMS, "+15125550101", RIGHT, phone=PHONE)
    assert result.session_id and result.session_expires_at == clock() + timedelta(minutes=60)
    assert service.check_session(result.session_id, "+15125550101", "A1001").account_id == "A1001"
    fail_three_times(service, clock, conversation_id="web-9")
    with pytest.raises(VerificationRequired):
        service.check_session(result.session_id, "+15125550101", "A1001")
    with sessions() as session:
        ended = session.scalars(select(VerificationSessionRow.end_reason)).all()
    assert ended == ["lockout"]


def test_every_attempt_is_audited_without_factor_values(service, sessions, clock):
    service.verify(Channel.WEB, "c1", WRONG)
    clock.advance(seconds=10)
    service.verify(Channel.WEB, "c1", RIGHT)
    service.verify(Channel.SMS, "c2", Factors(LAST4, DOB, None), phone=PHONE)
    with sessions() as session:
        events = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
    assert [(e.kind, e.channel, e.account_id, e.conversation_id) for e in events] == [
        ("verification_attempt", "web", None, "c1"),
        ("verification_attempt", "web", "A1001", "c1"),
        ("verification_attempt", "sms", "A1001", "c2"),
    ]
    for event in events:
        detail = json.dumps(event.detail)
        assert not any(secret in detail for secret in ("4821", "1985", "78701", "78702", "5550101"))


def test_failed_sms_attempt_is_audited_against_the_phones_account(service, sessions):
    service.verify(Channel.SMS, "c1", WRONG, phone=PHONE)
    with sessions() as session:
        event = session.scalars(select(AuditEventRow)).one()
    assert (event.account_id, event.detail) == ("A1001", {"verified": False, "attempts_left": 2})


def test_refusal_while_locked_is_audited(service, sessions, clock):
    fail_three_times(service, clock)
    with pytest.raises(VerificationLocked):
        service.verify(Channel.WEB, "c1", RIGHT)
    with sessions() as session:
        kinds = session.scalars(select(AuditEventRow.kind)).all()
    assert "verification_refused_locked" in kinds
