"""Charges we make ourselves (payments/services/charges.py): Twilio <Pay> tokens and off-session
installment charges, with the FakeGateway, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import (
    AccountRow,
    HandoffRow,
    InstallmentRow,
    NotificationRow,
    PaymentRow,
)
from payments.domain.errors import Conflict, Gone, PolicyRefused
from payments.domain.payment import PaymentStatus
from tests.payments.services.payment_support import (
    account_row,
    add_plan,
    count,
    event,
    page_opened,
    token_of,
)


async def test_charge_installment_off_session_once(service, gateway, sessions, clock):
    plan_id, (first, *_) = add_plan(sessions, clock, card=True)
    result = await service.charge_installment(first, clock())
    again = await service.charge_installment(first, clock())
    assert result.status == again.status == "succeeded"
    assert result.payment.id == again.payment.id and result.payment.method == "off_session"
    assert gateway.names() == ["charge_off_session"]
    call = gateway.calls[0][1]
    assert (call["customer_id"], call["payment_method_id"], call["idempotency_key"], call["amount_cents"]) == (
        "cus_saved",
        "pm_saved",
        f"payment-{result.payment.id}",
        10000,
    )
    with sessions() as session:
        assert session.get(InstallmentRow, first).status == "paid"
        assert session.get(AccountRow, "A1001").balance_cents == 245000 - 10000
        assert session.scalar(select(func.count()).select_from(NotificationRow)) == 0  # the scheduler tells


async def test_charge_installment_declined(service, gateway, sessions, clock):
    _, (first, *_) = add_plan(sessions, clock, card=True)
    gateway.decline_code = "insufficient_funds"
    result = await service.charge_installment(first, clock())
    again = await service.charge_installment(first, clock())
    assert (result.status, result.decline_code) == ("failed", "insufficient_funds")
    assert (again.status, again.decline_code) == ("failed", "insufficient_funds")
    assert gateway.names() == ["charge_off_session"]
    with sessions() as session:
        assert session.get(InstallmentRow, first).status == "failed"
        assert session.get(AccountRow, "A1001").balance_cents == 245000


async def test_charge_installment_when_stripe_is_down_retries_the_same_payment(service, gateway, sessions, clock):
    _, (first, *_) = add_plan(sessions, clock, card=True)
    gateway.down = True
    down = await service.charge_installment(first, clock())
    assert (down.status, down.payment.status) == ("unavailable", PaymentStatus.PENDING)
    gateway.down = False
    up = await service.charge_installment(first, clock())
    assert up.status == "succeeded" and up.payment.id == down.payment.id
    assert [c[1]["idempotency_key"] for c in gateway.calls] == [f"payment-{down.payment.id}"] * 2
    assert count(sessions, select(PaymentRow)) == 1


async def test_charge_installment_without_a_saved_card_makes_no_payment(service, gateway, sessions, clock):
    _, (first, *_) = add_plan(sessions, clock, card=False)
    result = await service.charge_installment(first, clock())
    assert (result.status, result.decline_code, result.payment) == ("failed", "no_saved_payment_method", None)
    assert gateway.calls == [] and count(sessions, select(PaymentRow)) == 0


async def test_charge_installment_refuses_paused_collection(service, sessions, clock):
    _, (first, *_) = add_plan(sessions, clock, card=True)
    with sessions.begin() as session:
        session.get(AccountRow, "A1001").flags  # noqa: B018 - loaded for the relationship
        from payments.adapters.orm import AccountFlagRow

        session.add(AccountFlagRow(account_id="A1001", flag="dispute", created_at=clock()))
    with pytest.raises(PolicyRefused):
        await service.charge_installment(first, clock())


async def test_charge_ivr_token_for_an_existing_payment(service, gateway, sessions):
    created = service.create_payment("A1001", 9500, "voice", "key-1", conversation_id="call-1")
    result = await service.charge_ivr_token("pm_from_twilio", "attempt-1", payment_id=created.payment.id)
    assert (result.status, result.payment.method) == ("succeeded", "ivr")
    again = await service.charge_ivr_token("pm_from_twilio", "attempt-1", payment_id=created.payment.id)
    assert again.status == "succeeded" and gateway.names() == ["charge_payment_method"]
    assert gateway.calls[0][1]["payment_method_id"] == "pm_from_twilio"
    with pytest.raises(Gone):  # the link cannot pay it a second time
        await service.page(token_of(created.link_url))
    assert account_row(sessions, "A1001").balance_cents == 245000 - 9500


async def test_charge_ivr_token_refuses_a_waiting_payment_once_collection_is_paused(service, gateway, sessions, clock):
    from payments.adapters.orm import AccountFlagRow

    created = service.create_payment("A1001", 9500, "voice", "key-1", conversation_id="call-1")
    with sessions.begin() as session:
        session.add(AccountFlagRow(account_id="A1001", flag="bankruptcy", created_at=clock()))
    with pytest.raises(PolicyRefused) as refused:
        await service.charge_ivr_token("pm_from_twilio", "attempt-1", payment_id=created.payment.id)
    assert refused.value.code == "collection_paused" and gateway.calls == []


async def test_a_phone_charge_beyond_the_balance_opens_a_refund_case_as_a_webhook_would(service, sessions):
    waiting = service.create_payment("A1001", 245000, "voice", "whole-balance", conversation_id="call-1")
    other = service.create_payment("A1001", 10000, "sms", "meanwhile")
    service.handle_stripe_event(
        event("succeeded", other.payment.id, page_opened(sessions, other.payment.id, "pi_o"), amount=10000)
    )
    result = await service.charge_ivr_token("pm_from_twilio", "attempt-1", payment_id=waiting.payment.id)
    assert result.status == "succeeded" and account_row(sessions, "A1001").balance_cents == 0
    with sessions() as session:
        [case] = [c for c in session.scalars(select(HandoffRow)) if c.account_id == "A1001"]
    assert "Refund that part in Stripe" in case.summary and "$100.00" in case.summary


async def test_charge_ivr_token_for_a_new_payment_and_a_decline(service, gateway, sessions):
    gateway.decline_code = "card_declined"
    result = await service.charge_ivr_token("pm_x", "call-9", account_id="A1005", amount_cents=6000)
    assert (result.status, result.decline_code, result.payment.method) == ("failed", "card_declined", "ivr")
    assert account_row(sessions, "A1005").balance_cents == 115075


async def test_charge_ivr_token_refuses_a_payment_open_on_its_page(service):
    created = service.create_payment("A1001", 9500, "voice", "key-1")
    await service.page(token_of(created.link_url))
    with pytest.raises(Conflict) as error:
        await service.charge_ivr_token("pm_x", "a", payment_id=created.payment.id)
    assert error.value.code == "payment_in_progress"
