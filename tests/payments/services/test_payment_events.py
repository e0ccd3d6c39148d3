"""Stripe's word on a payment (payments/services/payment_events.py): webhooks applied once, the
balance rule, late successes held, settlements closing the account, with the FakeGateway, on
SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import (
    AuditEventRow,
    HandoffRow,
    NotificationRow,
    PlanRow,
    StripeEventRow,
)
from payments.domain.errors import Gone, PolicyRefused
from payments.domain.payment import PaymentStatus
from payments.domain.settlement import apply_payment
from payments.services.payment_events import EventOutcome
from payments.services.ports import PaymentIntentEvent
from tests.payments.services.payment_support import (
    account_row,
    add_plan,
    audit,
    count,
    event,
    page_opened,
    settlement_plan,
    succeed,
    token_of,
)


@pytest.mark.parametrize(
    ("balance", "past_due", "minimum", "amount", "expected"),
    [
        (245000, 31000, 9500, 31000, (214000, 0, 9500)),  # past due first
        (245000, 31000, 9500, 35000, (210000, 0, 5500)),  # then the minimum due
        (245000, 31000, 9500, 10000, (235000, 21000, 9500)),
        (64050, 64050, 64050, 64050, (0, 0, 0)),  # paid off
        (1000, 0, 1000, 5000, (0, 0, 0)),  # never below zero
        (598025, 0, 15000, 2000, (596025, 0, 13000)),
    ],
)
def test_apply_payment_pays_past_due_first_and_never_goes_below_zero(balance, past_due, minimum, amount, expected):
    assert apply_payment(balance, past_due, minimum, amount) == expected


async def test_success_event_settles_once_reduces_the_balance_and_tells_the_conversation(service, sessions):
    created = service.create_payment("A1001", 31000, "sms", "key-1", conversation_id="conv-7")
    await service.page(token_of(created.link_url))
    pid = created.payment.id
    succeeded = event("succeeded", pid, "pi_fake1", event_id="evt_1", amount=31000)

    assert service.handle_stripe_event(succeeded) == EventOutcome.APPLIED
    assert service.handle_stripe_event(succeeded) == EventOutcome.DUPLICATE  # replay
    # Stripe may also send the same news twice under two event ids.
    assert service.handle_stripe_event(event("succeeded", pid, "pi_fake1", event_id="evt_2", amount=31000)) == (
        EventOutcome.IGNORED
    )

    payment = service.get_payment(pid)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.completed_at is not None
    account = account_row(sessions, "A1001")
    assert (account.balance_cents, account.past_due_cents, account.minimum_due_cents) == (214000, 0, 9500)
    assert (account.status, account.delinquent_since) == ("current", None)
    with sessions() as session:
        notes = session.scalars(select(NotificationRow)).all()
        kinds = session.scalars(select(AuditEventRow.kind).where(AuditEventRow.kind.like("payment_%"))).all()
        events = session.scalar(select(func.count()).select_from(StripeEventRow))
    assert [(n.conversation_id, n.channel, n.payload, n.dedupe_key) for n in notes] == [
        (
            "conv-7",
            "sms",
            {
                "intent": "payment_succeeded",
                "entities": {"payment_id": pid, "amount_cents": 31000, "currency": "USD"},
                "purpose": "notice",
            },
            f"payment-{pid}-succeeded",
        )
    ]
    assert sorted(kinds) == ["payment_created", "payment_succeeded"]
    assert events == 2


async def test_failed_after_succeeded_changes_nothing(service, sessions):
    created = service.create_payment("A1001", 9500, "web", "key-1", conversation_id="conv-1")
    pid = created.payment.id
    page_opened(sessions, pid, "pi_1")
    service.handle_stripe_event(event("succeeded", pid, "pi_1"))
    assert service.handle_stripe_event(event("payment_failed", pid, "pi_1", failure_code="card_declined")) == (
        EventOutcome.IGNORED
    )
    assert service.handle_stripe_event(event("processing", pid, "pi_1")) == EventOutcome.IGNORED
    payment = service.get_payment(pid)
    assert (payment.status, payment.failure_code) == (PaymentStatus.SUCCEEDED, None)
    assert account_row(sessions, "A1001").balance_cents == 245000 - 9500
    with sessions() as session:
        intents = session.scalars(select(NotificationRow.payload)).all()
    assert [p["intent"] for p in intents] == ["payment_succeeded"]


async def test_success_after_a_failure_still_counts_once(service, sessions):
    created = service.create_payment("A1001", 9500, "web", "key-1", conversation_id="conv-1")
    pid = created.payment.id
    page_opened(sessions, pid, "pi_1")
    service.handle_stripe_event(event("payment_failed", pid, "pi_1", failure_code="insufficient_funds"))
    failed = service.get_payment(pid)
    assert (failed.status, failed.failure_code) == (PaymentStatus.FAILED, "insufficient_funds")
    assert account_row(sessions, "A1001").balance_cents == 245000
    service.handle_stripe_event(event("succeeded", pid, "pi_1"))
    service.handle_stripe_event(event("succeeded", pid, "pi_1", event_id="evt_again"))
    assert service.get_payment(pid).status == PaymentStatus.SUCCEEDED
    assert account_row(sessions, "A1001").balance_cents == 245000 - 9500
    with sessions() as session:
        intents = sorted(p["intent"] for p in session.scalars(select(NotificationRow.payload)))
    assert intents == ["payment_failed", "payment_succeeded"]


def test_processing_then_canceled(service, sessions):
    pid = service.create_payment("A1001", 9500, "web", "key-1").payment.id
    page_opened(sessions, pid, "pi_1")
    assert service.handle_stripe_event(event("processing", pid, "pi_1")) == EventOutcome.APPLIED
    assert service.get_payment(pid).status == PaymentStatus.PROCESSING
    assert service.handle_stripe_event(event("canceled", pid, "pi_1")) == EventOutcome.APPLIED
    assert service.get_payment(pid).status == PaymentStatus.CANCELED
    assert account_row(sessions, "A1001").balance_cents == 245000


def test_events_for_no_payment_of_ours_or_other_types_are_ignored(service, sessions):
    assert service.handle_stripe_event(event("succeeded", "PAY-NOSUCH", "pi_x")) == EventOutcome.IGNORED
    other = PaymentIntentEvent("evt_c", "customer.created", None, None, None, None, None, None, None)
    assert service.handle_stripe_event(other) == EventOutcome.IGNORED
    assert service.handle_stripe_event(other) == EventOutcome.DUPLICATE


def test_concurrent_deliveries_of_one_event_apply_it_once(service, sessions):
    pid = service.create_payment("A1001", 9500, "web", "key-1", conversation_id="c").payment.id
    page_opened(sessions, pid, "pi_1")
    succeeded = event("succeeded", pid, "pi_1")
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: service.handle_stripe_event(succeeded), range(4)))
    assert sorted(o.value for o in outcomes) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert account_row(sessions, "A1001").balance_cents == 245000 - 9500
    assert count(sessions, select(NotificationRow)) == 1


def test_concurrent_success_and_failure_leave_it_succeeded(service, sessions):
    pid = service.create_payment("A1001", 9500, "web", "key-1").payment.id
    page_opened(sessions, pid, "pi_1")
    events = [event("succeeded", pid, "pi_1"), event("payment_failed", pid, "pi_1")] * 2
    events = [PaymentIntentEvent(**{**e.__dict__, "id": f"{e.id}_{i}"}) for i, e in enumerate(events)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(service.handle_stripe_event, events))
    assert service.get_payment(pid).status == PaymentStatus.SUCCEEDED
    assert account_row(sessions, "A1001").balance_cents == 245000 - 9500


async def test_expired_links_get_their_intents_cancelled_at_stripe_once(service, gateway, sessions, clock):
    opened_link = service.create_payment("A1001", 9500, "sms", "key-1")
    await service.page(token_of(opened_link.link_url))  # pi_fake1
    never_opened = service.create_payment("A1005", 6000, "sms", "key-2")
    clock.advance(minutes=31)
    assert await service.cancel_expired_intents() == 1
    assert service.get_payment(never_opened.payment.id).status == PaymentStatus.EXPIRED
    assert gateway.intents["pi_fake1"].status == "canceled"
    assert [c[1] for c in gateway.calls if c[0] == "cancel_payment_intent"] == [
        {"payment_intent_id": "pi_fake1", "idempotency_key": f"cancel-{opened_link.payment.id}"}
    ]
    assert await service.cancel_expired_intents() == 0  # done once
    assert count(sessions, select(AuditEventRow).where(AuditEventRow.kind == "payment_intent_canceled")) == 1


async def test_a_stripe_outage_leaves_the_cancel_for_the_next_pass(service, gateway, clock):
    created = service.create_payment("A1001", 9500, "sms", "key-1")
    await service.page(token_of(created.link_url))
    clock.advance(minutes=31)
    gateway.down = True
    assert await service.cancel_expired_intents() == 0
    gateway.down = False
    assert await service.cancel_expired_intents() == 1


async def test_a_late_success_for_an_expired_link_is_held_not_applied(service, sessions, clock):
    created = service.create_payment("A1001", 9500, "sms", "key-1", conversation_id="conv-1")
    await service.page(token_of(created.link_url))
    clock.advance(minutes=31)
    assert service.get_payment(created.payment.id).status == PaymentStatus.EXPIRED
    assert service.handle_stripe_event(event("succeeded", created.payment.id, "pi_fake1")) == EventOutcome.HELD
    assert service.get_payment(created.payment.id).status == PaymentStatus.EXPIRED
    assert account_row(sessions, "A1001").balance_cents == 245000
    assert count(sessions, select(NotificationRow)) == 0
    with sessions() as session:
        [case] = session.scalars(select(HandoffRow)).all()
    assert (case.account_id, case.conversation_id, case.context) == (
        "A1001",
        "conv-1",
        {"payment_id": created.payment.id, "late_success": True},
    )


def test_the_last_settlement_payment_closes_the_account_as_settled(service, sessions, clock):
    plan_id, ids = settlement_plan(sessions, clock, (14945, 14945, 14945))  # 70% of 64050 over 3
    for n, installment_id in enumerate(ids[:2]):
        succeed(service, sessions, "A1002", 14945, plan_id, installment_id, f"s-{n}")
    row = account_row(sessions, "A1002")
    assert (row.status, row.balance_cents) == ("charged_off", 64050 - 2 * 14945)  # nothing forgiven yet
    assert audit(sessions, "account_settled") == []
    last = succeed(service, sessions, "A1002", 14945, plan_id, ids[2], "s-2")
    row = account_row(sessions, "A1002")
    assert (row.status, row.balance_cents, row.past_due_cents, row.minimum_due_cents) == ("settled", 0, 0, 0)
    [settled] = audit(sessions, "account_settled")
    assert settled.detail["forgiven_cents"] == 64050 - 3 * 14945 and settled.detail["paid_cents"] == 3 * 14945
    assert settled.detail["payment_id"] == last and isinstance(settled.detail["forgiven_cents"], int)
    with sessions() as session:
        assert session.get(PlanRow, plan_id).status == "completed"
    # Nothing more can be collected or booked: the standing says settled, no offers.
    with pytest.raises(PolicyRefused) as refused:
        service.create_payment("A1002", 100, "sms", "after")
    assert refused.value.code == "collection_paused"
    from payments.domain.policy import PlanPolicy
    from payments.services.plans import PlanService

    assert PlanService(sessions, PlanPolicy(), clock=clock).offers("A1002").offers == []


async def test_settling_cancels_the_links_still_waiting_so_nothing_more_is_asked(service, gateway, sessions, clock):
    waiting = service.create_payment("A1002", 5000, "sms", "other-link")
    opened = await service.page(token_of(waiting.link_url))  # the customer has it open: an intent exists
    plan_id, (only,) = settlement_plan(sessions, clock, (38430,))
    succeed(service, sessions, "A1002", 38430, plan_id, only, "lump")
    assert service.get_payment(waiting.payment.id).status == PaymentStatus.CANCELED
    with pytest.raises(Gone):
        await service.page(token_of(waiting.link_url))  # the page no longer takes a card
    # The scheduler's pass cancels its PaymentIntent at Stripe too, so the open page's secret pays nothing.
    assert await service.cancel_expired_intents() == 1
    [intent] = [i for i in gateway.intents.values() if i.client_secret == opened.client_secret]
    assert intent.status == "canceled"
    [canceled] = audit(sessions, "payment_canceled")
    assert canceled.detail == {"payment_id": waiting.payment.id, "reason": "account_settled"}


def test_money_arriving_after_the_account_settled_is_recorded_as_owed_back(service, sessions, clock):
    waiting = service.create_payment("A1002", 5000, "sms", "other-link")
    plan_id, (only,) = settlement_plan(sessions, clock, (38430,))
    succeed(service, sessions, "A1002", 38430, plan_id, only, "lump")
    # The customer had the other page open: Stripe says that money moved too.
    service.handle_stripe_event(
        event("succeeded", waiting.payment.id, page_opened(sessions, waiting.payment.id, "pi_w"), amount=5000)
    )
    [late] = [e for e in audit(sessions, "payment_succeeded") if e.detail["payment_id"] == waiting.payment.id]
    assert late.detail["overpaid_cents"] == 5000
    assert account_row(sessions, "A1002").balance_cents == 0
    # Owed back: a person is asked to refund it, it is not left as a silent credit.
    with sessions() as session:
        [case] = [c for c in session.scalars(select(HandoffRow)) if c.account_id == "A1002"]
    assert "Refund that part in Stripe" in case.summary and "$50.00" in case.summary


def test_a_replayed_last_payment_settles_once(service, sessions, clock):
    plan_id, (only,) = settlement_plan(sessions, clock, (38430,))  # the 60% lump sum
    pid = succeed(service, sessions, "A1002", 38430, plan_id, only, "lump")
    again = event("succeeded", pid, "pi_lump", amount=38430)
    assert service.handle_stripe_event(again) == EventOutcome.DUPLICATE
    assert service.handle_stripe_event(replace(again, id="evt_other")) == EventOutcome.IGNORED
    assert [e.detail["forgiven_cents"] for e in audit(sessions, "account_settled")] == [64050 - 38430]
    assert account_row(sessions, "A1002").balance_cents == 0


def test_a_settlement_payment_tells_the_conversation_the_account_is_settled(service, sessions, clock):
    plan_id, (only,) = settlement_plan(sessions, clock, (38430,))
    created = service.create_payment(
        "A1002", 38430, "sms", "lump", conversation_id="conv-s", plan_id=plan_id, installment_id=only
    )
    service.handle_stripe_event(
        event("succeeded", created.payment.id, page_opened(sessions, created.payment.id, "pi_s"), amount=38430)
    )
    with sessions() as session:
        [note] = session.scalars(select(NotificationRow).where(NotificationRow.conversation_id == "conv-s")).all()
    assert note.payload["entities"]["account_settled"] is True


def test_an_ordinary_plan_paid_in_full_does_not_settle(service, sessions, clock):
    plan_id, ids = add_plan(sessions, clock, amounts=(10000,))
    succeed(service, sessions, "A1001", 10000, plan_id, ids[0], "one")
    assert account_row(sessions, "A1001").status != "settled"
    assert audit(sessions, "account_settled") == []


async def test_charge_installment_refuses_while_a_report_is_pending_review(service, gateway, sessions, clock):
    from payments.domain.standing import ReportKind
    from payments.services.reports import ReportService

    _, (first, *_) = add_plan(sessions, clock, card=True)
    ReportService(sessions, clock=clock).record(
        ReportKind.BANKRUPTCY,
        account_id="A1001",
        phone=None,
        conversation_id="web-x",
        channel="web",
        reported_by="third_party",
        summary="a lawyer says a petition was filed",
    )
    with pytest.raises(PolicyRefused) as refused:
        await service.charge_installment(first, clock())
    assert refused.value.code == "collection_paused" and "pending_review" in refused.value.detail
    assert gateway.calls == []
