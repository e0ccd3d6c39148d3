import json
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import AccountRow, AuditEventRow, ContactEventRow
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import ContactKind, ContactRule, Direction, Medium
from payments.domain.errors import InvalidRequest, NotFound, PolicyRefused
from payments.services.accounts import AccountService
from payments.services.compliance import ComplianceService

MARIA, MARIA_PHONE = "A1001", "+15125550101"  # America/Chicago


@pytest.fixture
def service(sessions, clock) -> ComplianceService:
    return ComplianceService(sessions, clock=clock)


def audit_rows(sessions, kind=None):
    with sessions() as session:
        query = select(AuditEventRow).order_by(AuditEventRow.id)
        if kind:
            query = query.where(AuditEventRow.kind == kind)
        return session.scalars(query).all()


def count(sessions, row_type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(row_type))


def run_together(n, work):
    """Start `n` threads at once (a barrier), wait for all; return their results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    return results


# --- flags -------------------------------------------------------------------------------------


def test_set_flag_returns_the_flags_and_is_audited(service, sessions):
    state = service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms", conversation_id="c1")
    assert (state.flags, state.changed, state.collection_allowed) == (frozenset({AccountFlag.STOP_SMS}), True, True)
    [event] = audit_rows(sessions)
    assert (event.kind, event.actor, event.channel, event.account_id, event.conversation_id, event.detail) == (
        "flag_set",
        "customer",
        "sms",
        MARIA,
        "c1",
        {"flag": "stop_sms"},
    )


def test_setting_a_flag_again_changes_nothing_and_is_audited_once(service, sessions):
    service.set_flag(MARIA, AccountFlag.DISPUTE, actor="customer", channel="web")
    again = service.set_flag(MARIA, AccountFlag.DISPUTE, actor="agent:alice", channel="console")
    assert (again.flags, again.changed) == (frozenset({AccountFlag.DISPUTE}), False)
    assert len(audit_rows(sessions, "flag_set")) == 1


@pytest.mark.parametrize("flag", ["dispute", "bankruptcy", "attorney", "deceased", "cease_communication"])
def test_a_no_collection_flag_pauses_collection(service, sessions, flag):
    state = service.set_flag(MARIA, AccountFlag(flag), actor="customer", channel="sms")
    assert state.collection_allowed is False
    assert AccountService(sessions).get(MARIA).collection_allowed is False


def test_a_note_is_kept_in_the_audit_detail(service, sessions):
    service.set_flag(MARIA, AccountFlag.ATTORNEY, actor="agent:alice", channel="console", note="letter from counsel")
    assert audit_rows(sessions)[0].detail == {"flag": "attorney", "note": "letter from counsel"}


def test_unknown_account_is_not_found_and_nothing_is_written(service, sessions):
    with pytest.raises(NotFound):
        service.set_flag("A9999", AccountFlag.STOP_SMS, actor="customer", channel="sms")
    with pytest.raises(NotFound):
        service.clear_flag("A9999", AccountFlag.STOP_SMS, actor="customer", channel="sms")
    assert audit_rows(sessions) == []


def test_a_malformed_actor_is_refused(service):
    with pytest.raises(InvalidRequest):
        service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="bot", channel="sms")


def test_a_customer_gives_back_consent(service, sessions):
    service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms")
    state = service.clear_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms", conversation_id="c2")
    assert (state.flags, state.changed) == (frozenset(), True)
    cleared = audit_rows(sessions, "flag_cleared")
    assert [(e.actor, e.conversation_id, e.detail) for e in cleared] == [("customer", "c2", {"flag": "stop_sms"})]


def test_a_customer_cannot_lift_a_dispute_but_an_agent_can(service, sessions):
    service.set_flag(MARIA, AccountFlag.DISPUTE, actor="customer", channel="sms")
    with pytest.raises(PolicyRefused) as refused:
        service.clear_flag(MARIA, AccountFlag.DISPUTE, actor="customer", channel="sms")
    assert refused.value.code == "flag_requires_agent"
    assert service.clear_flag(MARIA, AccountFlag.DISPUTE, actor="agent:alice", channel="console").flags == frozenset()
    assert AccountService(sessions).get(MARIA).collection_allowed is True


def test_clearing_a_flag_that_is_not_set_is_a_no_op(service, sessions):
    state = service.clear_flag(MARIA, AccountFlag.STOP_VOICE, actor="customer", channel="voice")
    assert (state.flags, state.changed) == (frozenset(), False)
    assert audit_rows(sessions) == []


def test_the_same_flag_set_at_once_is_one_change(service, sessions):
    results = run_together(6, lambda i: service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms"))
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.changed for r in results) == 1
    assert len(audit_rows(sessions, "flag_set")) == 1


# --- the phone's STOP and START ----------------------------------------------------------------


@pytest.fixture
def shared_phone(sessions):
    """A second account on Maria's number (a household sharing a phone)."""
    with sessions.begin() as session:
        maria = session.get(AccountRow, MARIA)
        twin = AccountRow(**{c.key: getattr(maria, c.key) for c in AccountRow.__table__.columns})
        twin.id = "A1099"
        session.add(twin)
    return "A1099"


def test_stop_from_a_phone_stops_sms_on_every_account_with_it(service, sessions, shared_phone):
    change = service.opt_out_phone(MARIA_PHONE, Medium.SMS)
    assert change.account_ids == change.changed_account_ids == (MARIA, shared_phone)
    for account_id in (MARIA, shared_phone):
        assert service.check_contact(account_id, Medium.SMS).decision.rule == ContactRule.OPTED_OUT
        assert service.check_contact(account_id, Medium.VOICE).decision.allowed
    events = audit_rows(sessions, "flag_set")
    assert [(e.account_id, e.actor, e.channel, e.detail) for e in events] == [
        (MARIA, "customer", "sms", {"flag": "stop_sms", "source": "phone_opt_out"}),
        (shared_phone, "customer", "sms", {"flag": "stop_sms", "source": "phone_opt_out"}),
    ]


def test_stop_twice_changes_nothing_the_second_time(service, sessions):
    service.opt_out_phone(MARIA_PHONE, Medium.SMS)
    change = service.opt_out_phone(MARIA_PHONE, Medium.SMS)
    assert (change.account_ids, change.changed_account_ids) == ((MARIA,), ())
    assert len(audit_rows(sessions, "flag_set")) == 1


def test_start_gives_sms_back(service, sessions):
    service.opt_out_phone(MARIA_PHONE, Medium.SMS)
    change = service.opt_in_phone(MARIA_PHONE, Medium.SMS)
    assert change.changed_account_ids == (MARIA,)
    assert service.check_contact(MARIA, Medium.SMS).decision.allowed
    assert [e.detail for e in audit_rows(sessions, "flag_cleared")] == [{"flag": "stop_sms", "source": "phone_opt_in"}]


def test_stop_from_an_unknown_phone_is_audited_without_the_number(service, sessions):
    change = service.opt_out_phone("+15125550199", Medium.SMS)
    assert change.account_ids == ()
    [event] = audit_rows(sessions)
    assert (event.kind, event.account_id, event.detail) == ("phone_opt_out_unmatched", None, {"flag": "stop_sms"})
    assert "5550199" not in json.dumps(event.detail)


def test_wrong_number_by_phone_stops_texts_and_calls_to_it(service, sessions, shared_phone):
    change = service.mark_wrong_number_phone(MARIA_PHONE, channel="voice", conversation_id="call-3")
    assert change.changed_account_ids == (MARIA, shared_phone)
    for account_id in (MARIA, shared_phone):
        assert service.check_contact(account_id, Medium.SMS).decision.rule == ContactRule.WRONG_NUMBER
        assert service.check_contact(account_id, Medium.VOICE).decision.rule == ContactRule.WRONG_NUMBER
        assert service.check_contact(account_id, Medium.EMAIL).decision.allowed
    # Not a pause: the cardholder may still pay when they reach us.
    assert AccountService(sessions).get(MARIA).collection_allowed is True
    events = audit_rows(sessions, "flag_set")
    assert {(e.account_id, e.channel, e.conversation_id) for e in events} == {
        (MARIA, "voice", "call-3"),
        (shared_phone, "voice", "call-3"),
    }
    assert all(e.detail == {"flag": "wrong_number", "source": "phone_wrong_number"} for e in events)
    assert service.mark_wrong_number_phone(MARIA_PHONE).changed_account_ids == ()


def test_a_voice_opt_out_by_phone_stops_calls_only(service):
    service.opt_out_phone(MARIA_PHONE, Medium.VOICE, channel="sms")
    assert service.check_contact(MARIA, Medium.VOICE).decision.rule == ContactRule.OPTED_OUT
    assert service.check_contact(MARIA, Medium.SMS).decision.allowed


# --- the contact check -------------------------------------------------------------------------


def test_wrong_number_stops_sms_and_voice_but_not_email(service):
    service.set_flag(MARIA, AccountFlag.WRONG_NUMBER, actor="customer", channel="sms")
    assert service.check_contact(MARIA, Medium.SMS).decision.rule == ContactRule.WRONG_NUMBER
    assert service.check_contact(MARIA, Medium.VOICE).decision.rule == ContactRule.WRONG_NUMBER
    assert service.check_contact(MARIA, Medium.EMAIL).decision.allowed


def test_seeded_bankruptcy_pauses_every_medium(service):
    for medium in Medium:
        assert service.check_contact("A1004", medium).decision.rule == ContactRule.COLLECTION_PAUSED


def test_the_check_uses_the_accounts_time_zone(service):
    at = datetime(2026, 3, 2, 13, 30, tzinfo=timezone.utc)  # 08:30 New York, 07:30 Chicago
    assert service.check_contact("A1002", Medium.SMS, at).decision.allowed
    maria = service.check_contact(MARIA, Medium.SMS, at).decision
    assert (maria.rule, maria.next_allowed_at) == (
        ContactRule.OUTSIDE_HOURS,
        datetime(2026, 3, 2, 14, tzinfo=timezone.utc),
    )


def test_every_check_is_audited(service, sessions, clock):
    service.check_contact(MARIA, Medium.SMS)
    service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms")
    service.check_contact(MARIA, Medium.SMS, conversation_id="c9")
    checks = audit_rows(sessions, "contact_check")
    assert [(e.actor, e.channel, e.conversation_id, e.detail["allowed"], e.detail["rule"]) for e in checks] == [
        ("system", "sms", None, True, None),
        ("system", "sms", "c9", False, "opted_out"),
    ]
    assert checks[0].detail["at"] == clock().isoformat()


def test_unknown_account_check_is_not_found(service, sessions):
    with pytest.raises(NotFound):
        service.check_contact("A9999", Medium.SMS)
    assert audit_rows(sessions) == []


def test_a_naive_time_is_refused(service):
    with pytest.raises(InvalidRequest):
        service.check_contact(MARIA, Medium.SMS, datetime(2026, 3, 2, 12))


def place_calls(service, clock, n, minutes_apart=30):
    for _ in range(n):
        service.record_contact(MARIA, Medium.VOICE, ContactKind.ATTEMPT, Direction.OUTBOUND)
        clock.advance(minutes=minutes_apart)


def test_seven_recorded_calls_refuse_the_eighth_for_seven_days(service, clock):
    place_calls(service, clock, 6)
    assert service.check_contact(MARIA, Medium.VOICE).decision.allowed
    place_calls(service, clock, 1)
    decision = service.check_contact(MARIA, Medium.VOICE).decision
    assert decision.rule == ContactRule.CALL_FREQUENCY
    # Calls were on 2 March in Chicago; the window clears on the 9th, at 08:00 CDT (13:00 UTC).
    assert decision.next_allowed_at == datetime(2026, 3, 9, 13, tzinfo=timezone.utc)
    assert service.check_contact(MARIA, Medium.SMS).decision.allowed
    clock.now = decision.next_allowed_at
    assert service.check_contact(MARIA, Medium.VOICE).decision.allowed


def test_a_conversation_refuses_calls_for_seven_days(service, clock):
    service.record_contact(MARIA, Medium.VOICE, ContactKind.CONVERSATION, Direction.INBOUND)
    clock.advance(days=6)
    assert service.check_contact(MARIA, Medium.VOICE).decision.rule == ContactRule.RECENT_CONVERSATION
    assert service.check_contact(MARIA, Medium.SMS).decision.allowed
    clock.advance(days=1)
    assert service.check_contact(MARIA, Medium.VOICE).decision.allowed


def test_calls_are_counted_per_account(service, clock):
    place_calls(service, clock, 7)
    assert service.check_contact("A1005", Medium.VOICE).decision.allowed


def test_recording_a_contact_is_audited(service, sessions):
    event_id = service.record_contact(
        MARIA, Medium.VOICE, ContactKind.CONVERSATION, Direction.INBOUND, conversation_id="call-1"
    )
    [event] = audit_rows(sessions)
    assert (event.kind, event.actor, event.channel, event.conversation_id) == (
        "contact_event",
        "customer",
        "voice",
        "call-1",
    )
    assert event.detail == {"event_id": event_id, "medium": "voice", "kind": "conversation", "direction": "inbound"}
    with pytest.raises(NotFound):
        service.record_contact("A9999", Medium.VOICE, ContactKind.ATTEMPT, Direction.OUTBOUND)


def test_check_and_record_counts_the_attempt_only_when_allowed(service, sessions, clock):
    place_calls(service, clock, 6)
    allowed = service.check_contact(MARIA, Medium.VOICE, record_attempt=True)
    assert allowed.decision.allowed and allowed.recorded_event_id is not None
    refused = service.check_contact(MARIA, Medium.VOICE, record_attempt=True)
    assert (refused.decision.rule, refused.recorded_event_id) == (ContactRule.CALL_FREQUENCY, None)
    assert count(sessions, ContactEventRow) == 7


def test_dialers_checking_at_once_never_exceed_seven_calls(service, sessions, clock):
    place_calls(service, clock, 5, minutes_apart=0)
    results = run_together(8, lambda i: service.check_contact(MARIA, Medium.VOICE, record_attempt=True))
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.decision.allowed for r in results) == 2
    assert count(sessions, ContactEventRow) == 7


# --- the audit trail ---------------------------------------------------------------------------


def test_events_are_newest_first_and_limited(service, clock):
    service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms")
    clock.advance(minutes=1)
    service.check_contact(MARIA, Medium.SMS)
    clock.advance(minutes=1)
    service.clear_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms")
    events = service.events(MARIA)
    assert [e.kind for e in events] == ["flag_cleared", "contact_check", "flag_set"]
    assert events[0].at == clock()
    assert [e.kind for e in service.events(MARIA, limit=2)] == ["flag_cleared", "contact_check"]
    assert service.events("A1002") == []
    with pytest.raises(NotFound):
        service.events("A9999")


def test_the_audit_trail_holds_no_phone_number(service, sessions):
    service.opt_out_phone(MARIA_PHONE, Medium.SMS)
    service.opt_in_phone(MARIA_PHONE, Medium.SMS)
    assert all("5550101" not in json.dumps(e.detail) for e in audit_rows(sessions))


# --- revocations (contract C4) -----------------------------------------------------------------


def flags_of(sessions, account_id):
    with sessions() as session:
        return {f.flag for f in session.get(AccountRow, account_id).flags}


def revoke(service, **overrides):
    values = dict(
        phone=MARIA_PHONE,
        account_id=None,
        media=["voice"],
        cease=False,
        channel="sms",
        conversation_id=MARIA_PHONE,
        summary="stop calling me",
    )
    return service.revoke(**{**values, **overrides})


def test_a_revocation_stops_the_medium_named_not_the_channel_used(service, sessions):
    result = revoke(service)  # "stop calling me", typed by text
    assert result.media == (Medium.VOICE,) and result.account_ids == (MARIA,) and not result.cease
    assert flags_of(sessions, MARIA) == {"stop_voice"}
    assert service.check_contact(MARIA, Medium.SMS).decision.allowed


def test_a_revocation_by_phone_applies_across_accounts(service, sessions):
    with sessions.begin() as session:
        session.get(AccountRow, "A1002").phone = MARIA_PHONE
    result = revoke(service, media=["sms"])
    assert result.account_ids == ("A1001", "A1002")
    assert "stop_sms" in flags_of(sessions, "A1002")
    [event] = [e for e in audit_rows(sessions, "revocation") if e.account_id == "A1002"]
    assert MARIA_PHONE not in json.dumps(event.detail)


def test_all_media_and_cease(service, sessions):
    assert revoke(service, media=["all"]).media == tuple(Medium)
    result = revoke(service, media=[], cease=True, account_id="A1003")  # Aisha's account given too
    assert result.cease and result.account_ids == ("A1001", "A1003")
    for account_id in result.account_ids:
        assert {"cease_communication", "stop_sms", "stop_voice", "stop_email"} <= flags_of(sessions, account_id)
    decision = service.check_contact("A1003", Medium.EMAIL).decision
    assert decision.rule is ContactRule.CEASE_COMMUNICATION


def test_an_unmatched_revocation_is_still_recorded(service, sessions):
    result = revoke(service, phone="+19995550000", media=["sms"])
    assert result.account_ids == ()
    [event] = audit_rows(sessions, "revocation_unmatched")
    assert event.detail["media"] == ["sms"]


def test_inconvenient_times_are_kept_by_the_contact_check(service, clock):
    from payments.services.compliance import Inconvenient

    revoke(service, media=[], inconvenient=Inconvenient(not_before="13:00", text="not before 1"))
    decision = service.check_contact(MARIA, Medium.SMS).decision  # noon in Chicago
    assert (decision.allowed, decision.rule) == (False, ContactRule.INCONVENIENT_TIME)
    assert decision.next_allowed_at == datetime(2026, 3, 2, 19, 0, tzinfo=timezone.utc)
    assert service.check_contact(MARIA, Medium.SMS, decision.next_allowed_at).decision.allowed


def test_not_at_work_is_kept_by_the_contact_check(service, clock):
    from payments.services.compliance import Inconvenient

    revoke(service, media=[], inconvenient=Inconvenient(places=("work",), text="don't call me at work"))
    for medium in (Medium.SMS, Medium.VOICE):
        decision = service.check_contact(MARIA, medium).decision  # noon on a Monday in Chicago
        assert (decision.allowed, decision.rule) == (False, ContactRule.INCONVENIENT_PLACE)
        assert decision.next_allowed_at == datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc)  # 18:00 CST
    assert service.check_contact(MARIA, Medium.SMS, decision.next_allowed_at).decision.allowed
    assert service.check_contact(MARIA, Medium.EMAIL).decision.allowed
    saturday_noon = datetime(2026, 3, 7, 18, 0, tzinfo=timezone.utc)
    assert service.check_contact(MARIA, Medium.VOICE, saturday_noon).decision.allowed


def test_a_revocation_with_nothing_in_it_is_refused(service):
    with pytest.raises(InvalidRequest):
        revoke(service, media=[])
    with pytest.raises(InvalidRequest):
        revoke(service, media=["fax"])


# --- the call ledger (12 CFR 1006.14(b)(2)) ------------------------------------------------------


def test_a_conversation_the_voice_connector_records_blocks_calls_for_seven_days(service, clock):
    service.record_contact(
        MARIA, Medium.VOICE, ContactKind.CONVERSATION, Direction.INBOUND, conversation_id="voice-CA123"
    )
    decision = service.check_contact(MARIA, Medium.VOICE).decision
    assert (decision.allowed, decision.rule) == (False, ContactRule.RECENT_CONVERSATION)
    # The conversation's day is day 1: calls again from local midnight seven days later.
    assert decision.next_allowed_at == datetime(2026, 3, 9, 13, 0, tzinfo=timezone.utc)  # 08:00 CDT (DST from 8 March)
    assert service.check_contact(MARIA, Medium.SMS).decision.allowed  # texts are not calls


def test_the_eighth_call_attempt_in_seven_days_is_refused(service, clock):
    for day in range(7):  # one a day at noon, the first six days; the seventh day twice
        check = service.check_contact(MARIA, Medium.VOICE, record_attempt=True)
        assert check.decision.allowed and check.recorded_event_id
        clock.advance(days=1 if day < 5 else 0, minutes=10)
    assert service.check_contact(MARIA, Medium.VOICE).decision.rule is ContactRule.CALL_FREQUENCY


def test_one_call_reported_twice_counts_once(service, sessions):
    first = service.record_contact(
        MARIA, Medium.VOICE, ContactKind.CONVERSATION, Direction.INBOUND, conversation_id="voice-CA9"
    )
    again = service.record_contact(
        MARIA, Medium.VOICE, ContactKind.CONVERSATION, Direction.INBOUND, conversation_id="voice-CA9"
    )
    assert first == again and count(sessions, ContactEventRow) == 1
    other = service.record_contact(
        MARIA, Medium.VOICE, ContactKind.ATTEMPT, Direction.OUTBOUND, conversation_id="voice-CA9"
    )
    assert other != first and count(sessions, ContactEventRow) == 2


# --- the outbox gate -----------------------------------------------------------------------------


def test_the_outbox_gate_defers_for_hours_and_holds_for_a_pause(service, clock):
    from payments.domain.standing import Purpose

    night = datetime(2026, 3, 3, 4, 0, tzinfo=timezone.utc)  # 22:00 in Chicago
    verdict = service.outbox_verdict(MARIA, Medium.SMS, Purpose.COLLECTION, night)
    assert not verdict.send and verdict.not_before == datetime(2026, 3, 3, 14, 0, tzinfo=timezone.utc)
    assert verdict.reason == "outside_hours"
    service.set_flag(MARIA, AccountFlag.DISPUTE, actor="customer", channel="sms")
    held = service.outbox_verdict(MARIA, Medium.SMS, Purpose.COLLECTION, clock())
    assert (held.send, held.not_before, held.reason) == (False, None, "collection_paused")
    # A notice (a payment's result) may still go to a disputed account; not after an opt-out.
    assert service.outbox_verdict(MARIA, Medium.SMS, Purpose.NOTICE, clock()).send
    service.set_flag(MARIA, AccountFlag.STOP_SMS, actor="customer", channel="sms")
    assert not service.outbox_verdict(MARIA, Medium.SMS, Purpose.NOTICE, clock()).send


def test_a_card_number_in_the_customers_words_is_never_stored(service, sessions):
    from payments.adapters.orm import ContactWindowRow
    from payments.services.compliance import Inconvenient

    revoke(
        service,
        summary="stop, my card 4111 1111 1111 1111 is cancelled",
        inconvenient=Inconvenient(not_before="12:00", text="not before noon, card 4111111111111111"),
    )
    [event] = audit_rows(sessions, "revocation")
    with sessions() as session:
        stored = session.scalars(select(ContactWindowRow.text)).all()
    assert "4111" not in json.dumps(event.detail) and stored and all("4111" not in t for t in stored)
