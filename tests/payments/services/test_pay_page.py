"""The customer's payment page (payments/services/pay_page.py): the PaymentIntent made on first
opening, expiry and reuse, and saving the card for a plan, with the FakeGateway, on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from payments.adapters.orm import (
    AuditEventRow,
    PlanRow,
)
from payments.domain.errors import Gone, NotFound, UpstreamUnavailable
from payments.domain.money import Money
from payments.domain.payment import PaymentStatus
from tests.payments.services.payment_support import (
    add_plan,
    count,
    event,
    settlement_plan,
    token_of,
)


async def test_page_creates_the_payment_intent_once_on_first_opening(service, gateway):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    assert gateway.calls == []  # nothing at Stripe until the page is opened
    token = token_of(created.link_url)
    view = await service.page(token)
    again = await service.page(token)
    assert (view.first_name, view.card_last4, view.amount, view.status) == (
        "Maria",
        "4821",
        Money(9500),
        PaymentStatus.PENDING,
    )
    assert view.client_secret and view.client_secret == again.client_secret
    assert gateway.names() == ["create_payment_intent", "retrieve_payment_intent"]
    create = gateway.calls[0][1]
    assert create["idempotency_key"] == f"payment-{created.payment.id}"
    assert create["metadata"] == {"payment_id": created.payment.id, "account_id": "A1001"}
    assert (create["amount_cents"], create["currency"], create["save_for_later"], create["customer_id"]) == (
        9500,
        "USD",
        False,
        None,
    )


async def test_page_when_stripe_is_down_raises_and_the_payment_stays_pending(service, gateway):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    gateway.down = True
    with pytest.raises(UpstreamUnavailable):
        await service.page(token_of(created.link_url))
    assert service.get_payment(created.payment.id).status == PaymentStatus.PENDING
    gateway.down = False
    assert (await service.page(token_of(created.link_url))).client_secret


async def test_unknown_token_is_not_found(service):
    with pytest.raises(NotFound):
        await service.page("no-such-token")


async def test_expired_link_is_gone_and_the_payment_expired(service, clock, sessions):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    clock.advance(minutes=30)
    with pytest.raises(Gone) as error:
        await service.page(token_of(created.link_url))
    assert error.value.code == "link_expired"
    assert service.get_payment(created.payment.id).status == PaymentStatus.EXPIRED
    assert count(sessions, select(AuditEventRow).where(AuditEventRow.kind == "payment_expired")) == 1


async def test_used_link_is_gone(service):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    token = token_of(created.link_url)
    await service.page(token)
    service.handle_stripe_event(event("succeeded", created.payment.id, "pi_fake1"))
    with pytest.raises(Gone) as error:
        await service.page(token)
    assert error.value.code == "link_used"
    assert service.link_status(token).status == PaymentStatus.SUCCEEDED


async def test_page_shows_processing_when_stripe_succeeded_before_its_webhook(service, gateway):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    token = token_of(created.link_url)
    await service.page(token)
    gateway.succeed("pi_fake1")
    view = await service.page(token)
    assert (view.status, view.client_secret) == (PaymentStatus.PROCESSING, None)


async def test_a_plan_payment_saves_the_card_and_pays_the_matching_installment(service, gateway, sessions, clock):
    plan_id, installment_ids = add_plan(sessions, clock)
    created = service.create_payment("A1001", 10000, "sms", "first", plan_id=plan_id)
    assert created.payment.installment_id == installment_ids[0]
    token = token_of(created.link_url)
    asked = await service.page(token)
    assert asked.asks_to_save_card and asked.client_secret is None and gateway.calls == []  # asked first
    service.answer_card_saving(token, True)
    view = await service.page(token)
    assert view.saves_card and view.client_secret and not view.asks_to_save_card
    assert gateway.names() == ["create_customer", "create_payment_intent"]
    assert gateway.calls[0][1] == {"account_id": "A1001", "idempotency_key": f"customer-{plan_id}"}
    intent_call = gateway.calls[1][1]
    assert (intent_call["save_for_later"], intent_call["customer_id"]) == (True, "cus_fake1")

    service.handle_stripe_event(
        event("succeeded", created.payment.id, "pi_fake2", customer="cus_fake1", method="pm_card_1", amount=10000)
    )
    with sessions() as session:
        plan = session.get(PlanRow, plan_id)
        assert (plan.stripe_customer_id, plan.stripe_payment_method_id) == ("cus_fake1", "pm_card_1")
        assert [i.status for i in plan.installments] == ["paid", "scheduled", "scheduled"]
        assert plan.status == "active"


async def test_a_plan_payment_keeps_no_card_when_the_customer_says_no(service, gateway, sessions, clock):
    plan_id, _ = add_plan(sessions, clock)
    created = service.create_payment("A1001", 10000, "sms", "first", plan_id=plan_id)
    token = token_of(created.link_url)
    service.answer_card_saving(token, False)
    service.answer_card_saving(token, True)  # too late to change: the first answer stands
    view = await service.page(token)
    assert (view.asks_to_save_card, view.saves_card) == (False, False) and view.client_secret
    assert gateway.calls[-1][1]["save_for_later"] is False
    service.handle_stripe_event(
        event("succeeded", created.payment.id, "pi_fake2", customer="cus_fake1", method="pm_card_1", amount=10000)
    )
    with sessions() as session:
        plan = session.get(PlanRow, plan_id)
        assert plan.stripe_payment_method_id is None  # nothing kept without a yes
        assert [i.status for i in plan.installments] == ["paid", "scheduled", "scheduled"]
        [answer] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "card_saving_answered")).all()
    assert answer.detail["save_card"] is False


async def test_a_one_off_payment_never_asks_to_save_the_card(service, gateway):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    view = await service.page(token_of(created.link_url))
    assert (view.asks_to_save_card, view.saves_card) == (False, False)
    assert gateway.calls[-1][1]["save_for_later"] is False


async def test_a_lump_sum_settlement_page_does_not_ask_to_save_the_card(service, gateway, sessions, clock):
    plan_id, (only,) = settlement_plan(sessions, clock, (38430,))
    created = service.create_payment("A1002", 38430, "sms", "lump", plan_id=plan_id, installment_id=only)
    view = await service.page(token_of(created.link_url))
    assert (view.asks_to_save_card, view.saves_card) == (False, False) and view.client_secret
    [(_, intent)] = [c for c in gateway.calls if c[0] == "create_payment_intent"]
    assert intent["save_for_later"] is False  # no later payment for a saved card to pay
