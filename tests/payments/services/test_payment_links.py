"""Creating payments and their one-time links, replaying keys, an installment's fresh link, reading
payments (payments/services/payment_links.py), with the FakeGateway, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from payments.adapters.orm import (
    AuditEventRow,
    PaymentRow,
    PlanRow,
)
from payments.domain.errors import Conflict, InvalidRequest, NotFound, PolicyRefused
from payments.domain.money import Money
from payments.domain.payment import PaymentStatus
from tests.payments.services.payment_support import (
    add_plan,
    count,
    event,
    page_opened,
    token_of,
)


def test_create_payment_makes_a_pending_payment_and_a_one_time_link(service, sessions, clock):
    created = service.create_payment("A1001", 9500, "sms", "key-1", conversation_id="conv-1")
    payment = created.payment
    assert payment.id.startswith("PAY-") and len(payment.id) == 10
    assert (payment.status, payment.method, payment.amount) == (PaymentStatus.PENDING, "link", Money(9500, "USD"))
    assert created.link_expires_at == clock() + timedelta(minutes=30)
    token = token_of(created.link_url)
    assert len(token) >= 40
    with sessions() as session:
        row = session.get(PaymentRow, payment.id)
        assert row.link_token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.link_token_hash, row.idempotency_key, row.id)
        audit = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "payment_created")).all()
    assert [(a.account_id, a.detail["payment_id"], a.detail["amount_cents"]) for a in audit] == [
        ("A1001", payment.id, 9500)
    ]


def test_same_idempotency_key_returns_the_same_payment_with_a_fresh_link(service, sessions):
    first = service.create_payment("A1001", 9500, "sms", "key-1")
    again = service.create_payment("A1001", 9500, "sms", "key-1")
    assert again.payment.id == first.payment.id and again.replayed and not first.replayed
    assert again.link_url != first.link_url
    assert count(sessions, select(PaymentRow)) == 1
    with pytest.raises(NotFound):  # the replaced link no longer works
        service.link_status(token_of(first.link_url))
    assert service.link_status(token_of(again.link_url)).payment_id == first.payment.id


def test_same_key_on_another_account_is_another_payment(service):
    a = service.create_payment("A1001", 9500, "sms", "key-1")
    b = service.create_payment("A1005", 6000, "sms", "key-1")
    assert a.payment.id != b.payment.id


def test_reusing_a_key_for_a_different_amount_is_refused(service):
    service.create_payment("A1001", 9500, "sms", "key-1")
    with pytest.raises(Conflict) as error:
        service.create_payment("A1001", 9600, "sms", "key-1")
    assert error.value.code == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("account_id", "amount", "error", "code"),
    [
        ("A1001", 0, InvalidRequest, "invalid_amount"),
        ("A1001", -100, InvalidRequest, "invalid_amount"),
        ("A1001", 245001, InvalidRequest, "amount_exceeds_balance"),
        ("A9999", 100, NotFound, "not_found"),
        ("A1004", 100, PolicyRefused, "collection_paused"),  # bankruptcy
    ],
)
def test_create_payment_refusals(service, sessions, account_id, amount, error, code):
    with pytest.raises(error) as raised:
        service.create_payment(account_id, amount, "web", "key-x")
    assert raised.value.code == code
    assert count(sessions, select(PaymentRow)) == 0


def test_the_whole_balance_may_be_paid(service):
    assert service.create_payment("A1001", 245000, "web", "all").payment.amount.amount_cents == 245000


def test_payment_for_an_inactive_or_foreign_plan_is_refused(service, sessions, clock):
    plan_id, _ = add_plan(sessions, clock)
    with pytest.raises(NotFound):
        service.create_payment("A1005", 100, "sms", "k", plan_id=plan_id)
    with sessions.begin() as session:
        session.get(PlanRow, plan_id).status = "broken"
    with pytest.raises(Conflict) as error:
        service.create_payment("A1001", 100, "sms", "k", plan_id=plan_id)
    assert error.value.code == "plan_not_active"


def test_issue_link_pays_the_installment(service, sessions, clock):
    plan_id, (first, *_) = add_plan(sessions, clock, conversation_id="sms-conv")
    created = service.issue_link(first, clock())
    assert (created.payment.plan_id, created.payment.installment_id, created.payment.amount.amount_cents) == (
        plan_id,
        first,
        10000,
    )
    assert created.payment.conversation_id == "sms-conv" and created.link_url


def test_recent_payments_newest_first_with_notes(service, sessions, clock):
    first = service.create_payment("A1001", 9500, "sms", "a").payment.id
    clock.advance(minutes=1)
    second = service.create_payment("A1001", 5000, "sms", "b").payment.id
    service.handle_stripe_event(event("succeeded", second, page_opened(sessions, second, "pi_2"), amount=5000))
    payments = service.recent_payments("A1001", limit=5)
    assert [p.id for p in payments] == [second, first]
    assert payments[0].processing_note.startswith("Received")
    assert payments[1].processing_note.startswith("Not paid yet")
    with pytest.raises(NotFound):
        service.recent_payments("A9999")
    with pytest.raises(NotFound):
        service.get_payment("PAY-NOSUCH")


def test_issue_link_again_replaces_a_pending_link_and_renews_an_expired_one(service, sessions, clock):
    _, (first, *_) = add_plan(sessions, clock)
    one = service.issue_link(first, clock())
    two = service.issue_link(first, clock())
    assert two.payment.id == one.payment.id and two.link_url != one.link_url
    with pytest.raises(NotFound):
        service.link_status(token_of(one.link_url))
    clock.advance(minutes=31)  # nobody opened it: the next call finds it expired by itself
    three = service.issue_link(first, clock())
    assert service.get_payment(two.payment.id).status == PaymentStatus.EXPIRED
    assert three.payment.id != one.payment.id and three.payment.status == PaymentStatus.PENDING
    service.handle_stripe_event(
        event(
            "succeeded",
            three.payment.id,
            page_opened(sessions, three.payment.id, "pi_3"),
            amount=three.payment.amount.amount_cents,
        )
    )
    with pytest.raises(Conflict) as error:
        service.issue_link(first, clock())
    assert error.value.code == "installment_paid"


async def test_a_payment_left_pending_is_not_charged_once_collection_is_paused(service, gateway, sessions, clock):
    from payments.adapters.orm import AccountFlagRow

    _, (first, *_) = add_plan(sessions, clock, card=True)
    gateway.down = True
    assert (await service.charge_installment(first, clock())).status == "unavailable"  # left pending
    gateway.down = False
    with sessions.begin() as session:
        session.add(AccountFlagRow(account_id="A1001", flag="attorney", created_at=clock()))
    with pytest.raises(PolicyRefused) as refused:
        await service.charge_installment(first, clock())
    assert refused.value.code == "collection_paused"
    assert gateway.names() == ["charge_off_session"]  # only the attempt before the flag
