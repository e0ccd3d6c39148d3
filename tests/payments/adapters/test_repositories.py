from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from payments.adapters.compliance_repository import ContactWindowRepository
from payments.adapters.orm import AccountFlagRow, AccountRow, ContactWindowRow
from payments.adapters.repositories import AccountRepository, AuditLog, VerificationAttemptRepository
from payments.domain.accounts import Account, AccountFlag, AccountStatus, StatementBreakdown
from payments.domain.money import Money

T0 = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def euro_account_row() -> AccountRow:
    row = AccountRow(
        id="T1",
        full_name="Test Person",
        phone="+4930555000",
        card_last4="0001",
        date_of_birth=date(2000, 2, 29),
        zip_code="10115",
        time_zone="Europe/Berlin",
        preferred_language="de",
        status="delinquent",
        currency="EUR",
        balance_cents=1050,
        past_due_cents=1000,
        minimum_due_cents=500,
        payment_due_date=date(2026, 3, 12),
        delinquent_since=date(2026, 2, 1),
        statement_previous_balance_cents=1000,
        statement_purchases_cents=100,
        statement_interest_cents=25,
        statement_fees_cents=25,
        statement_payments_cents=100,
    )
    row.flags = [AccountFlagRow(flag=f, created_at=T0) for f in ("dispute", "stop_sms")]
    return row


def test_account_round_trip(empty_sessions):
    with empty_sessions.begin() as session:
        session.add(euro_account_row())
    with empty_sessions() as session:
        account = AccountRepository(session).get("T1")

    def eur(cents: int) -> Money:
        return Money(cents, "EUR")

    assert account == Account(
        id="T1",
        full_name="Test Person",
        phone="+4930555000",
        card_last4="0001",
        date_of_birth=date(2000, 2, 29),
        zip_code="10115",
        time_zone="Europe/Berlin",
        preferred_language="de",
        status=AccountStatus.DELINQUENT,
        balance=eur(1050),
        past_due=eur(1000),
        minimum_due=eur(500),
        payment_due_date=date(2026, 3, 12),
        delinquent_since=date(2026, 2, 1),
        statement=StatementBreakdown(eur(1000), eur(100), eur(25), eur(25), eur(100)),
        flags=frozenset({AccountFlag.DISPUTE, AccountFlag.STOP_SMS}),
    )


def test_get_unknown_account_is_none(sessions):
    with sessions() as session:
        assert AccountRepository(session).get("A9999") is None


def test_find_by_phone_and_card_last4(sessions):
    with sessions() as session:
        accounts = AccountRepository(session)
        assert [a.id for a in accounts.find_by_phone("+13125550104")] == ["A1004"]
        assert [a.id for a in accounts.find_by_card_last4("9902")] == ["A1005"]
        assert accounts.find_by_phone("+10000000000") == []
        assert accounts.find_by_card_last4("0000") == []


def test_flag_for_unknown_account_is_refused(empty_sessions):
    with pytest.raises(IntegrityError):
        with empty_sessions.begin() as session:
            session.add(AccountFlagRow(account_id="NOPE", flag="dispute", created_at=T0))


def test_failures_since_counts_only_this_subjects_failures_after_its_last_success(empty_sessions):
    with empty_sessions.begin() as session:
        attempts = VerificationAttemptRepository(session)
        for minutes, subject, ok in [(5, "s", False), (1, "s", False), (3, "other", False), (4, "s", True)]:
            attempts.add(subject, "web", None, ok, T0 + timedelta(minutes=minutes))
        attempts.add("s", "web", None, False, T0 - timedelta(minutes=1))
    with empty_sessions() as session:
        assert VerificationAttemptRepository(session).failures_since("s", T0 - timedelta(hours=1)) == [
            T0 + timedelta(minutes=5)
        ]


def test_failures_since_is_oldest_first_and_after_since(empty_sessions):
    with empty_sessions.begin() as session:
        attempts = VerificationAttemptRepository(session)
        for minutes in (2, 0, 1):
            attempts.add("s", "sms", "A1001", False, T0 + timedelta(minutes=minutes))
    with empty_sessions() as session:
        assert VerificationAttemptRepository(session).failures_since("s", T0) == [
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=2),
        ]


def test_audit_log_for_account_is_newest_first_and_limited(empty_sessions):
    with empty_sessions.begin() as session:
        audit = AuditLog(session)
        for minutes in (0, 2, 1):
            audit.record(
                "k", at=T0 + timedelta(minutes=minutes), actor="customer", account_id="A1001", detail={"n": minutes}
            )
        audit.record("k", at=T0, actor="customer", account_id="A1002")
    with empty_sessions() as session:
        events = AuditLog(session).for_account("A1001", limit=2)
    assert [e.detail for e in events] == [{"n": 2}, {"n": 1}]


def test_contact_windows_give_the_hours_and_every_place_refused(empty_sessions):
    with empty_sessions.begin() as session:
        session.add(euro_account_row())
        windows = ContactWindowRepository(session)
        for not_before, places in (("12:00", ["work"]), (None, ["work", "school"]), (None, [])):
            windows.add(
                ContactWindowRow(account_id="T1", not_before=not_before, places=places, channel="sms", created_at=T0)
            )
    with empty_sessions() as session:
        windows = ContactWindowRepository(session)
        assert windows.places_of("T1") == {"work", "school"} and windows.places_of("T2") == set()
        assert [w.not_before for w in windows.windows_of("T1")] == [time(12, 0), None, None]
