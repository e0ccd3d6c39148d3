"""Booking plans and promises on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import threading
from datetime import date

import pytest
from sqlalchemy import select

from payments.adapters.orm import AuditEventRow, PlanRow
from payments.domain.errors import Conflict, InvalidRequest, NotFound, PolicyRefused
from payments.domain.money import Money
from payments.domain.policy import PlanPolicy
from payments.seed import seed_demo_data
from payments.services.plans import PlanService

CONSENT = "Customer agreed on chat to 3 monthly payments of the past-due amount."


@pytest.fixture
def service(migrated_url, clock):  # type: ignore[no-untyped-def]
    from payments.adapters.db import make_engine, make_session_factory

    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_demo_data(session, today=clock().date())
    yield PlanService(sessions, PlanPolicy(), clock=clock)
    engine.dispose()


def book(service: PlanService, key: str = "key-000001", offer: str = "installments_3", account: str = "A1001"):  # type: ignore[no-untyped-def]
    return service.book(
        account, offer_id=offer, channel="web", idempotency_key=key, consent_text=CONSENT, conversation_id="conv-1"
    )


def test_offers_use_the_consumer_local_day(service: PlanService) -> None:
    result = service.offers("A1001")
    assert result.collection_allowed
    assert [o.id for o in result.offers][:3] == ["past_due", "full", "minimum"]
    assert result.offers[0].schedule[0].due_date == date(2026, 3, 2)


def test_bankrupt_account_gets_no_offers_and_cannot_book(service: PlanService) -> None:
    assert service.offers("A1004").offers == []
    assert not service.offers("A1004").collection_allowed
    with pytest.raises(PolicyRefused) as refused:
        book(service, account="A1004", offer="past_due")
    assert refused.value.code == "collection_paused"


def test_booking_stores_the_exact_schedule_and_audits_the_consent(service: PlanService) -> None:
    booking = book(service)
    plan = booking.plan
    assert booking.created and plan.status == "active" and plan.id.startswith("PLN-")
    assert plan.total == Money(31000, "USD")
    assert [(i.seq, i.due_date, i.amount_cents, i.status) for i in plan.installments] == [
        (1, date(2026, 3, 2), 10334, "scheduled"),
        (2, date(2026, 4, 2), 10333, "scheduled"),
        (3, date(2026, 5, 2), 10333, "scheduled"),
    ]
    with service.sessions() as session:
        [event] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "plan_booked")).all()
    assert event.account_id == "A1001" and event.detail["consent_text"] == CONSENT
    assert event.detail["plan_id"] == plan.id


def test_same_idempotency_key_returns_the_same_plan(service: PlanService) -> None:
    first, again = book(service), book(service)
    assert again.plan.id == first.plan.id and not again.created
    assert len(service.plans("A1001")) == 1


def test_second_active_plan_is_refused(service: PlanService) -> None:
    book(service)
    with pytest.raises(Conflict) as conflict:
        book(service, key="key-000002", offer="installments_6")
    assert conflict.value.code == "plan_already_active"


def test_an_offer_the_policy_does_not_allow_is_refused_with_a_stable_code(service: PlanService) -> None:
    for offer in ("settlement_lump", "installments_24", "hardship_7"):
        with pytest.raises(PolicyRefused) as refused:
            book(service, offer=offer)
        assert refused.value.code == "offer_not_allowed"


def test_hardship_plan_can_be_booked(service: PlanService) -> None:
    plan = book(service, offer="hardship_6").plan
    assert plan.kind == "hardship" and len(plan.installments) == 6


def test_consent_must_be_recorded(service: PlanService) -> None:
    with pytest.raises(InvalidRequest):
        service.book("A1001", offer_id="past_due", channel="web", idempotency_key="key-000009", consent_text="ok")


def test_unknown_account(service: PlanService) -> None:
    with pytest.raises(NotFound):
        service.offers("A9999")


def test_cancel_is_audited_and_frees_the_account_for_a_new_plan(service: PlanService) -> None:
    plan = book(service).plan
    cancelled = service.cancel("A1001", plan.id, actor="agent:sam", channel="web", reason="customer changed mind")
    assert cancelled.status == "cancelled"
    assert {i.status for i in cancelled.installments} == {"cancelled"}
    assert service.cancel("A1001", plan.id, actor="agent:sam", channel="web", reason="again").status == "cancelled"
    assert book(service, key="key-000003", offer="installments_6").created
    with service.sessions() as session:
        kinds = session.scalars(select(AuditEventRow.kind).where(AuditEventRow.account_id == "A1001")).all()
    assert kinds.count("plan_cancelled") == 1


def test_concurrent_bookings_for_one_account_give_exactly_one_plan(service: PlanService) -> None:
    """Two channels book at the same moment with different keys: one plan, one refusal."""
    for round_ in range(5):
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        # Each round's threads are joined before the next round rebinds these names.
        def attempt(key: str) -> None:
            barrier.wait()  # noqa: B023
            try:
                book(service, key=f"{key}-{round_}", offer="installments_3")  # noqa: B023
                outcomes.append("booked")  # noqa: B023
            except Conflict as exc:
                outcomes.append(exc.code)  # noqa: B023

        threads = [threading.Thread(target=attempt, args=(k,)) for k in ("race-a", "race-b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["booked", "plan_already_active"], outcomes
        with service.sessions() as session:
            active = session.scalars(select(PlanRow).where(PlanRow.status == "active")).all()
        assert len(active) == 1
        service.cancel("A1001", active[0].id, actor="test", channel="web", reason="next round")


def test_concurrent_retries_with_one_key_give_one_plan(service: PlanService) -> None:
    barrier = threading.Barrier(2)
    plan_ids: list[str] = []

    def attempt() -> None:
        barrier.wait()
        plan_ids.append(book(service, key="double-click").plan.id)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(plan_ids) == 2 and plan_ids[0] == plan_ids[1]


def test_promise_rules(service: PlanService) -> None:
    def promise(amount: int, due: date, key: str):  # type: ignore[no-untyped-def]
        return service.promise("A1001", amount_cents=amount, due_date=due, channel="sms", idempotency_key=key)

    made, created = promise(9500, date(2026, 3, 16), "promise-01")
    assert created and made.id.startswith("PTP-") and made.status == "pending"
    again, created_again = promise(9500, date(2026, 3, 16), "promise-01")
    assert again.id == made.id and not created_again
    cases = {
        "promise_date_out_of_range": (9500, date(2026, 3, 17)),
        "promise_amount_too_low": (9499, date(2026, 3, 10)),
        "amount_exceeds_balance": (245001, date(2026, 3, 10)),
    }
    for code, (amount, due) in cases.items():
        with pytest.raises(PolicyRefused) as refused:
            promise(amount, due, f"promise-{code}")
        assert refused.value.code == code
    with pytest.raises(PolicyRefused):
        promise(9500, date(2026, 3, 1), "promise-past")
    assert [p.id for p in service.promises("A1001")] == [made.id]


# ------------------------------------------------------------------ consent and the receipt (C5)


def test_the_consent_shown_is_stored_exactly_with_the_channel_and_the_time(service: PlanService, clock) -> None:
    shown = "Here is the plan: 3 payments. Do you agree to this plan, and to us charging your card on these dates?"
    plan = service.book(
        "A1001",
        offer_id="installments_3",
        channel="sms",
        idempotency_key="key-consent",
        consent_text=shown,
        conversation_id="+15125550101",
    ).plan
    assert (plan.consent_text, plan.consent_source, plan.channel, plan.consent_at) == (shown, "client", "sms", clock())


def test_without_consent_text_the_canonical_read_back_with_the_charge_words_is_stored(service: PlanService) -> None:
    plan = service.book("A1001", offer_id="installments_3", channel="web", idempotency_key="key-canonical").plan
    assert plan.consent_source == "canonical"
    assert "and to us charging your card on these dates" in plan.consent_text
    assert "$103.34 on March 2, 2026; $103.33 on April 2, 2026; $103.33 on May 2, 2026" in plan.consent_text
    with service.sessions() as session:
        [event] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "plan_booked")).all()
    assert event.detail["consent_text"] == plan.consent_text and event.detail["consent_source"] == "canonical"


def test_the_receipt_token_is_unguessable_only_its_hash_is_kept_and_a_replay_renews_it(service: PlanService) -> None:
    first = book(service)
    assert len(first.receipt_token) >= 40
    with service.sessions() as session:
        row = session.get(PlanRow, first.plan.id)
        assert row.receipt_token_hash == hashlib.sha256(first.receipt_token.encode()).hexdigest()
        assert first.receipt_token not in (row.receipt_token_hash, row.idempotency_key, row.id)
    receipt = service.receipt(first.receipt_token)
    assert (receipt.plan_id, receipt.first_name, receipt.card_last4) == (first.plan.id, "Maria", "4821")
    assert [(line.due_date, line.amount.amount_cents) for line in receipt.schedule] == [
        (date(2026, 3, 2), 10334),
        (date(2026, 4, 2), 10333),
        (date(2026, 5, 2), 10333),
    ]
    assert receipt.consent_text == CONSENT and receipt.consent_channel == "web"
    assert "3 business days" in receipt.how_to_cancel
    assert receipt.summary.startswith("You authorized 3 card payments, $310.00 in all")
    again = book(service)
    assert not again.created and again.receipt_token != first.receipt_token
    assert service.receipt(again.receipt_token).plan_id == first.plan.id
    with pytest.raises(NotFound):
        service.receipt(first.receipt_token)
    with pytest.raises(NotFound):
        service.receipt("guess")


def test_a_suspended_plan_is_still_the_accounts_plan(service: PlanService) -> None:
    plan = book(service).plan
    with service.sessions.begin() as session:
        session.get(PlanRow, plan.id).status = "suspended"
    with pytest.raises(Conflict) as conflict:
        book(service, key="key-000002", offer="installments_6")
    assert conflict.value.code == "plan_already_active"
    cancelled = service.cancel("A1001", plan.id, actor="agent:sam", channel="web", reason="dispute: the customer asked")
    assert cancelled.status == "cancelled" and {i.status for i in cancelled.installments} == {"cancelled"}
