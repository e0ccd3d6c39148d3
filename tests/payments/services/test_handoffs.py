import json
import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AuditEventRow, HandoffRow
from payments.domain.compliance import HandoffReason, HandoffStatus
from payments.domain.errors import Conflict, InvalidRequest, NotFound
from payments.domain.verification import Channel, Factors
from payments.services.accounts import AccountService
from payments.services.handoffs import MAX_CONTEXT_BYTES, HandoffService
from payments.services.verification import VerificationService

MARIA = "A1001"
CONTEXT = {
    "asked_for": "a payment plan",
    "offers_made": ["installments_3"],
    "plan_booked": None,
    "balance_cents": 245000,
    "past_due_cents": 31000,
}


@pytest.fixture
def service(sessions, clock) -> HandoffService:
    return HandoffService(sessions, clock=clock)


def open_case(service, conversation_id="c1", reason=HandoffReason.REQUEST_AGENT, account_id=MARIA, **kw):
    values = dict(
        conversation_id=conversation_id,
        channel="sms",
        reason=reason,
        verified=True,
        summary="Maria asked for a person about her payment plan.",
        context=CONTEXT,
        account_id=account_id,
    )
    return service.create(**{**values, **kw})


def audit_kinds(sessions):
    with sessions() as session:
        return session.scalars(select(AuditEventRow.kind).order_by(AuditEventRow.id)).all()


def audit_rows(sessions, kind):
    with sessions() as session:
        return session.scalars(select(AuditEventRow).where(AuditEventRow.kind == kind).order_by(AuditEventRow.id)).all()


def count_cases(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(HandoffRow))


# --- creating ----------------------------------------------------------------------------------


def test_a_new_case_is_open_and_first_in_the_queue(service, clock):
    case, created = open_case(service)
    assert created
    assert re.fullmatch(r"CASE-[2-9A-HJKMNP-TV-Z]{6}", case.id)
    assert (case.status, case.reason, case.priority, case.queue_position) == (
        HandoffStatus.OPEN,
        HandoffReason.REQUEST_AGENT,
        2,
        1,
    )
    assert (case.waiting_since, case.created_at, case.claimed_by) == (clock(), clock(), None)
    assert (case.account_id, case.verified, case.channel, case.context) == (MARIA, True, "sms", CONTEXT)


def test_creation_is_audited(service, sessions):
    case, _ = open_case(service)
    [event] = audit_rows(sessions, "handoff_created")
    assert (event.actor, event.channel, event.account_id, event.conversation_id) == ("system", "sms", MARIA, "c1")
    assert event.detail == {"case_id": case.id, "reason": "request_agent", "priority": 2, "verified": True}


@pytest.mark.parametrize(
    ("reason", "priority"),
    [
        ("distress", 0),
        ("dispute", 1),
        ("bankruptcy", 1),
        ("attorney", 1),
        ("deceased", 1),
        ("hardship", 2),
        ("verification_locked", 2),
        ("request_agent", 2),
        ("misunderstanding", 3),
        ("other", 3),
    ],
)
def test_priority_comes_from_the_reason(service, reason, priority):
    assert open_case(service, reason=HandoffReason(reason))[0].priority == priority


def test_queue_is_priority_then_waiting_time(service, clock):
    first, _ = open_case(service, "c1", HandoffReason.OTHER)
    clock.advance(minutes=1)
    second, _ = open_case(service, "c2", HandoffReason.REQUEST_AGENT)
    clock.advance(minutes=1)
    third, _ = open_case(service, "c3", HandoffReason.REQUEST_AGENT)
    clock.advance(minutes=1)
    urgent, _ = open_case(service, "c4", HandoffReason.DISTRESS, account_id=None, verified=False)
    assert urgent.queue_position == 1
    queue = service.list_cases(HandoffStatus.OPEN)
    assert [c.id for c in queue] == [urgent.id, second.id, third.id, first.id]
    assert [c.queue_position for c in queue] == [1, 2, 3, 4]
    assert [service.get(c.id).queue_position for c in (first, second, third)] == [4, 2, 3]


def test_the_same_conversation_gets_its_case_back(service, sessions, clock):
    case, _ = open_case(service)
    clock.advance(minutes=5)
    again, created = open_case(service)
    assert (again.id, created, again.waiting_since) == (case.id, False, case.waiting_since)
    assert count_cases(sessions) == 1
    assert again.notes == ()  # same summary: nothing new to note


def test_a_more_urgent_reason_raises_the_priority(service, sessions):
    case, _ = open_case(service, reason=HandoffReason.MISUNDERSTANDING)
    again, _ = open_case(service, reason=HandoffReason.DISTRESS, summary="Maria said she cannot go on.")
    assert (again.id, again.priority, again.reason) == (case.id, 0, HandoffReason.DISTRESS)
    assert [(n.author, n.text) for n in again.notes] == [("assistant", "Maria said she cannot go on.")]
    [event] = audit_rows(sessions, "handoff_escalated")
    assert event.detail == {
        "case_id": case.id,
        "from_reason": "misunderstanding",
        "from_priority": 3,
        "to_reason": "distress",
        "to_priority": 0,
    }


def test_a_less_urgent_reason_never_lowers_the_priority(service, sessions):
    open_case(service, reason=HandoffReason.DISTRESS)
    again, _ = open_case(service, reason=HandoffReason.OTHER)
    assert (again.priority, again.reason) == (0, HandoffReason.DISTRESS)
    assert "handoff_escalated" not in audit_kinds(sessions)


def test_a_later_request_fills_in_the_account_and_verification(service):
    case, _ = open_case(service, reason=HandoffReason.VERIFICATION_LOCKED, account_id=None, verified=False)
    again, _ = open_case(service, account_id=MARIA, verified=True)
    assert (again.id, again.account_id, again.verified) == (case.id, MARIA, True)


def test_a_claimed_case_is_still_the_conversations_case(service):
    case, _ = open_case(service)
    service.claim(case.id, "alice")
    again, created = open_case(service)
    assert (again.id, again.status, created) == (case.id, HandoffStatus.CLAIMED, False)


def test_after_resolution_the_conversation_gets_a_new_case(service):
    case, _ = open_case(service)
    service.claim(case.id, "alice")
    service.resolve(case.id, "alice", "plan explained", resume_assistant=True)
    again, created = open_case(service)
    assert created and again.id != case.id


def test_a_dispute_flags_the_account_in_the_same_transaction(service, sessions):
    case, _ = open_case(service, reason=HandoffReason.DISPUTE)
    account = AccountService(sessions).get(MARIA)
    assert "dispute" in account.flags and not account.collection_allowed
    [event] = audit_rows(sessions, "flag_set")
    assert (event.actor, event.account_id, event.conversation_id, event.detail) == (
        "customer",
        MARIA,
        "c1",
        {"flag": "dispute", "source": "handoff", "case_id": case.id},
    )


def test_a_dispute_on_an_existing_case_flags_the_account_once(service, sessions):
    open_case(service, reason=HandoffReason.REQUEST_AGENT)
    open_case(service, reason=HandoffReason.DISPUTE)
    open_case(service, reason=HandoffReason.DISPUTE)
    assert "dispute" in AccountService(sessions).get(MARIA).flags
    assert len(audit_rows(sessions, "flag_set")) == 1


def test_a_dispute_without_an_account_opens_the_case_only(service, sessions):
    case, _ = open_case(service, reason=HandoffReason.DISPUTE, account_id=None, verified=False)
    assert case.priority == 1
    assert "flag_set" not in audit_kinds(sessions)


def test_an_unknown_account_writes_nothing(service, sessions):
    with pytest.raises(NotFound):
        open_case(service, reason=HandoffReason.DISPUTE, account_id="A9999")
    assert count_cases(sessions) == 0 and audit_kinds(sessions) == []


def test_verification_answers_and_card_digits_are_never_stored_or_shown(service, sessions):
    context = {
        **CONTEXT,
        "dob": "1985-03-14",
        "zip": "78701",
        "card_last4": "4821",
        "slots": {"date_of_birth": "1985-03-14", "zip_code": "78701", "intent": "agent"},
        "last_messages": ["my card is 4111 1111 1111 1111", "or 4000-0000-0000-0002", "acct 1234567890123"],
        "number": 4242424242424242,
    }
    case, _ = open_case(service, context=context, summary="Customer typed 4111111111111111 and 1985-03-14.")
    with sessions() as session:
        row = session.get(HandoffRow, case.id)
        stored = json.dumps([row.context, row.summary])
    for secret in ('1985-03-14"', "78701", "4821", "4111", "4000-0000", "1234567890123", "4242424242424242"):
        assert secret not in stored, secret
    assert case.context["slots"] == {"intent": "agent"}
    assert case.context["asked_for"] == "a payment plan" and case.context["balance_cents"] == 245000
    assert case.context["last_messages"][0] == "my card is [card number removed]"
    assert case.summary == "Customer typed [card number removed] and 1985-03-14."


def test_a_case_stored_before_scrubbing_is_shown_scrubbed(service, sessions):
    case, _ = open_case(service)
    with sessions.begin() as session:
        session.get(HandoffRow, case.id).context = {"dob": "1985-03-14", "note": "card 4111 1111 1111 1111"}
    assert service.get(case.id).context == {"note": "card [card number removed]"}


def test_one_lockout_case_per_account_across_conversations(service, sessions, clock):
    verification = VerificationService(sessions, clock=clock)
    cases = []
    for conversation_id in ("web-a", "web-b", "web-c"):
        clock.advance(minutes=1)
        verification.verify(Channel.WEB, conversation_id, Factors("4821", date(1985, 3, 14), "00000"))
        cases.append(
            open_case(
                service,
                conversation_id=conversation_id,
                reason=HandoffReason.VERIFICATION_LOCKED,
                account_id=None,
                verified=False,
            )
        )
    (first, created), *again = cases
    assert created and first.account_id == MARIA
    assert [(c.id, made) for c, made in again] == [(first.id, False), (first.id, False)]
    assert count_cases(sessions) == 1
    assert [n.text for n in service.get(first.id).notes][-1].startswith("Locked out again, from conversation web-c")
    service.claim(first.id, "sam")
    service.resolve(first.id, "sam", "called the customer", resume_assistant=False)
    later, created = open_case(
        service, conversation_id="web-d", reason=HandoffReason.VERIFICATION_LOCKED, account_id=MARIA, verified=False
    )
    assert created and later.id != first.id


def test_an_oversized_context_is_refused(service, sessions):
    with pytest.raises(InvalidRequest):
        open_case(service, context={"transcript": "x" * MAX_CONTEXT_BYTES})
    assert count_cases(sessions) == 0


# --- the console: claim, note, release, resolve -------------------------------------------------


def test_claim_takes_the_case_out_of_the_queue(service, sessions, clock):
    case, _ = open_case(service)
    clock.advance(minutes=3)
    claimed = service.claim(case.id, "alice")
    assert (claimed.status, claimed.claimed_by, claimed.claimed_at, claimed.queue_position) == (
        HandoffStatus.CLAIMED,
        "alice",
        clock(),
        None,
    )
    assert service.list_cases(HandoffStatus.OPEN) == []
    assert [c.id for c in service.list_cases(HandoffStatus.CLAIMED)] == [case.id]
    [event] = audit_rows(sessions, "handoff_claimed")
    assert (event.actor, event.channel, event.account_id, event.detail) == (
        "agent:alice",
        "console",
        MARIA,
        {"case_id": case.id},
    )


def test_the_second_agent_is_told_who_has_it(service):
    case, _ = open_case(service)
    service.claim(case.id, "alice")
    with pytest.raises(Conflict) as conflict:
        service.claim(case.id, "bob")
    assert conflict.value.code == "already_claimed"
    assert "alice" in conflict.value.detail


def test_claiming_again_is_harmless_for_the_holder(service, sessions):
    case, _ = open_case(service)
    service.claim(case.id, "alice")
    assert service.claim(case.id, "alice").claimed_by == "alice"
    assert len(audit_rows(sessions, "handoff_claimed")) == 1


def test_unknown_case(service):
    for action in (
        lambda: service.get("CASE-ZZZZZZ"),
        lambda: service.claim("CASE-ZZZZZZ", "alice"),
        lambda: service.release("CASE-ZZZZZZ", "alice"),
        lambda: service.resolve("CASE-ZZZZZZ", "alice", "done", False),
        lambda: service.add_note("CASE-ZZZZZZ", "alice", "hello"),
    ):
        with pytest.raises(NotFound):
            action()


def test_only_the_claiming_agent_resolves(service, sessions, clock):
    case, _ = open_case(service)
    with pytest.raises(Conflict) as not_claimed:
        service.resolve(case.id, "alice", "done", resume_assistant=False)
    assert not_claimed.value.code == "not_claimed"
    service.claim(case.id, "alice")
    with pytest.raises(Conflict) as other:
        service.resolve(case.id, "bob", "done", resume_assistant=False)
    assert other.value.code == "claimed_by_other" and "alice" in other.value.detail
    clock.advance(minutes=10)
    resolved = service.resolve(case.id, "alice", "set up a 6-month plan", resume_assistant=True)
    assert (resolved.status, resolved.resolved_at, resolved.outcome, resolved.queue_position) == (
        HandoffStatus.RESOLVED,
        clock(),
        "set up a 6-month plan",
        None,
    )
    [event] = audit_rows(sessions, "handoff_resolved")
    assert (event.actor, event.detail) == ("agent:alice", {"case_id": case.id, "resume_assistant": True})


def test_a_resolved_case_stays_resolved(service):
    case, _ = open_case(service)
    service.claim(case.id, "alice")
    service.resolve(case.id, "alice", "done", resume_assistant=False)
    for action in (
        lambda: service.claim(case.id, "bob"),
        lambda: service.resolve(case.id, "alice", "again", False),
        lambda: service.release(case.id, "alice"),
    ):
        with pytest.raises(Conflict) as conflict:
            action()
        assert conflict.value.code == "already_resolved"


def test_release_puts_the_case_back_in_its_place(service, sessions, clock):
    older, _ = open_case(service, "c1")
    clock.advance(minutes=1)
    newer, _ = open_case(service, "c2")
    service.claim(older.id, "alice")
    assert service.get(newer.id).queue_position == 1
    with pytest.raises(Conflict) as other:
        service.release(older.id, "bob")
    assert other.value.code == "claimed_by_other"
    released = service.release(older.id, "alice")
    assert (released.status, released.claimed_by, released.waiting_since, released.queue_position) == (
        HandoffStatus.OPEN,
        None,
        older.waiting_since,
        1,
    )
    assert service.claim(older.id, "bob").claimed_by == "bob"
    assert [e.actor for e in audit_rows(sessions, "handoff_released")] == ["agent:alice"]
    with pytest.raises(Conflict) as not_claimed:
        service.release(newer.id, "alice")
    assert not_claimed.value.code == "not_claimed"


def test_notes_are_kept_in_order_and_audited_without_their_text(service, sessions, clock):
    case, _ = open_case(service)
    service.add_note(case.id, "alice", "Called back, no answer.")
    clock.advance(minutes=2)
    withnotes = service.add_note(case.id, "bob", "Customer prefers texts.")
    assert [(n.author, n.text) for n in withnotes.notes] == [
        ("alice", "Called back, no answer."),
        ("bob", "Customer prefers texts."),
    ]
    assert withnotes.notes[1].created_at == clock()
    assert [n.text for n in service.get(case.id).notes] == ["Called back, no answer.", "Customer prefers texts."]
    events = audit_rows(sessions, "handoff_note_added")
    assert [e.actor for e in events] == ["agent:alice", "agent:bob"]
    assert all("Customer" not in str(e.detail) and "Called" not in str(e.detail) for e in events)


def test_resolved_cases_are_listed_newest_first(service, clock):
    ids = []
    for i in range(3):
        case, _ = open_case(service, f"c{i}")
        service.claim(case.id, "alice")
        clock.advance(minutes=1)
        service.resolve(case.id, "alice", "done", resume_assistant=False)
        ids.append(case.id)
    assert [c.id for c in service.list_cases(HandoffStatus.RESOLVED)] == ids[::-1]
    assert [c.id for c in service.list_cases(HandoffStatus.RESOLVED, limit=2)] == ids[:0:-1]


def test_every_action_is_audited(service, sessions):
    case, _ = open_case(service, reason=HandoffReason.DISPUTE)
    service.claim(case.id, "alice")
    service.add_note(case.id, "alice", "Dispute letter requested.")
    service.release(case.id, "alice")
    service.claim(case.id, "bob")
    service.resolve(case.id, "bob", "validation notice sent", resume_assistant=False)
    assert audit_kinds(sessions) == [
        "handoff_created",
        "flag_set",
        "handoff_claimed",
        "handoff_note_added",
        "handoff_released",
        "handoff_claimed",
        "handoff_resolved",
    ]


# --- races -------------------------------------------------------------------------------------


def race(seeded_url, n, work):
    """Run `work(service, i)` in `n` threads at once, each with its own engine (like separate
    replicas of the service); return what each got, result or exception."""
    engines = [make_engine(seeded_url) for _ in range(n)]
    services = [HandoffService(make_session_factory(e)) for e in engines]
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(services[i], i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a thread did not finish"
    finally:
        for e in engines:
            e.dispose()
    return results


@pytest.mark.parametrize("round_", range(20))
def test_two_agents_claiming_at_once_exactly_one_wins(service, seeded_url, round_):
    case, _ = open_case(service, conversation_id=f"race-{round_}")
    agents = ["alice", "bob"]
    results = race(seeded_url, 2, lambda svc, i: svc.claim(case.id, agents[i]))
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Conflict) and losers[0].code == "already_claimed", losers
    winner = winners[0].claimed_by
    assert winner in agents and winner in losers[0].detail
    assert service.get(case.id).claimed_by == winner


def test_many_agents_claiming_at_once_exactly_one_wins(service, seeded_url):
    case, _ = open_case(service)
    results = race(seeded_url, 6, lambda svc, i: svc.claim(case.id, f"agent{i}"))
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert all(r.code == "already_claimed" for r in results if isinstance(r, Exception)), results


@pytest.mark.parametrize("round_", range(5))
def test_one_conversation_handed_off_twice_at_once_gets_one_case(service, sessions, seeded_url, round_):
    results = race(
        seeded_url,
        3,
        lambda svc, i: open_case(
            svc,
            conversation_id=f"dup-{round_}",
            reason=[HandoffReason.OTHER, HandoffReason.DISTRESS, HandoffReason.DISPUTE][i],
        ),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({case.id for case, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert count_cases(sessions) == 1
    final = service.get(results[0][0].id)
    assert final.priority == 0  # the most urgent reason won, whichever order they ran in


def test_a_conversation_refused_while_the_account_is_locked_joins_its_one_case(service, sessions, clock):
    """Its attempts never count (refused before checking), yet its case is the account's case."""
    from payments.domain.errors import VerificationLocked

    verification = VerificationService(sessions, clock=clock)
    for _ in range(3):
        verification.verify(Channel.WEB, "web-x", Factors("4821", date(1985, 3, 14), "00000"))
    first, created = open_case(
        service, conversation_id="web-x", reason=HandoffReason.VERIFICATION_LOCKED, account_id=None, verified=False
    )
    assert created and first.account_id == MARIA
    clock.advance(minutes=1)
    with pytest.raises(VerificationLocked):
        verification.verify(Channel.WEB, "web-y", Factors("4821", date(1985, 3, 14), "78701"))
    again, created = open_case(
        service, conversation_id="web-y", reason=HandoffReason.VERIFICATION_LOCKED, account_id=None, verified=False
    )
    assert (again.id, created) == (first.id, False) and count_cases(sessions) == 1
