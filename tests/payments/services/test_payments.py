"""The payment use cases with the FakeGateway (no network), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import (
    AccountRow,
    AuditEventRow,
    HandoffRow,
    InstallmentRow,
    NotificationRow,
    PaymentRow,
    PlanRow,
    StripeEventRow,
)
from payments.domain.errors import Conflict, Gone, InvalidRequest, NotFound, PolicyRefused, UpstreamUnavailable
from payments.domain.money import Money
from payments.domain.payment import PaymentStatus
from payments.domain.settlement import apply_payment
from payments.services.payment_events import EventOutcome
from payments.services.ports import PaymentIntentEvent
from testkit.fake_gateway import FakeGateway
from tests.payments.payment_services import PaymentServices

PUBLIC = "https://pay.example.test"


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def service(sessions, gateway, clock) -> PaymentServices:
    return PaymentServices(sessions, gateway, public_url=PUBLIC, link_ttl_minutes=30, clock=clock)


def token_of(link_url: str) -> str:
    assert link_url.startswith(f"{PUBLIC}/pay/")
    return link_url.rsplit("/", 1)[1]


def event(
    kind: str,
    payment_id: str,
    intent_id: str | None,
    *,
    event_id: str | None = None,
    amount: int = 9500,
    failure_code: str | None = None,
    customer: str | None = None,
    method: str | None = None,
) -> PaymentIntentEvent:
    return PaymentIntentEvent(
        id=event_id or f"evt_{kind}_{payment_id}",
        type=f"payment_intent.{kind}",
        payment_intent_id=intent_id,
        payment_id=payment_id,
        amount_cents=amount,
        currency="USD",
        customer_id=customer,
        payment_method_id=method,
        failure_code=failure_code,
    )


def page_opened(sessions, payment_id: str, intent_id: str) -> str:
    """What opening the payment page does for the webhook: the payment's PaymentIntent is stored."""
    with sessions.begin() as session:
        session.get(PaymentRow, payment_id).stripe_payment_intent_id = intent_id
    return intent_id


def account_row(sessions, account_id: str) -> AccountRow:
    with sessions() as session:
        return session.get(AccountRow, account_id)


def count(sessions, query) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(query.subquery()))


def add_plan(
    sessions,
    clock,
    *,
    account_id="A1001",
    amounts=(10000, 10000, 11000),
    card=False,
    conversation_id=None,
    channel="sms",
) -> tuple[str, list[int]]:
    now = clock()
    with sessions.begin() as session:
        plan = PlanRow(
            id="PLN-TEST22",
            account_id=account_id,
            offer_id="installments_3",
            kind="installments",
            status="active",
            currency="USD",
            total_cents=sum(amounts),
            channel=channel,
            conversation_id=conversation_id,
            consent_text="I agree to these three payments.",
            idempotency_key="plan-key",
            created_at=now,
            stripe_customer_id="cus_saved" if card else None,
            stripe_payment_method_id="pm_saved" if card else None,
        )
        plan.installments = [
            InstallmentRow(
                seq=i + 1, due_date=date(2026, 3, 10) + timedelta(days=30 * i), amount_cents=a, status="scheduled"
            )
            for i, a in enumerate(amounts)
        ]
        session.add(plan)
        session.flush()
        return plan.id, [i.id for i in plan.installments]


# ------------------------------------------------------------------ the pure balance rule


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


# ------------------------------------------------------------------ creating


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


# ------------------------------------------------------------------ the page


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


# ------------------------------------------------------------------ webhooks


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


# ------------------------------------------------------------------ plans


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


def test_payment_for_an_inactive_or_foreign_plan_is_refused(service, sessions, clock):
    plan_id, _ = add_plan(sessions, clock)
    with pytest.raises(NotFound):
        service.create_payment("A1005", 100, "sms", "k", plan_id=plan_id)
    with sessions.begin() as session:
        session.get(PlanRow, plan_id).status = "broken"
    with pytest.raises(Conflict) as error:
        service.create_payment("A1001", 100, "sms", "k", plan_id=plan_id)
    assert error.value.code == "plan_not_active"


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


def test_issue_link_pays_the_installment(service, sessions, clock):
    plan_id, (first, *_) = add_plan(sessions, clock, conversation_id="sms-conv")
    created = service.issue_link(first, clock())
    assert (created.payment.plan_id, created.payment.installment_id, created.payment.amount.amount_cents) == (
        plan_id,
        first,
        10000,
    )
    assert created.payment.conversation_id == "sms-conv" and created.link_url


# ------------------------------------------------------------------ Twilio <Pay> tokens


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


# ------------------------------------------------------------------ reading


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


# ------------------------------------------------------------------ settlements


def settlement_plan(sessions, clock, amounts, *, account_id="A1002", card=False) -> tuple[str, list[int]]:
    """A settlement plan (settles_balance) on the charged-off demo account A1002 ($640.50)."""
    plan_id, ids = add_plan(sessions, clock, account_id=account_id, amounts=amounts, card=card)
    with sessions.begin() as session:
        plan = session.get(PlanRow, plan_id)
        plan.offer_id, plan.kind, plan.settles_balance = "settlement_3", "settlement_installments", True
    return plan_id, ids


def succeed(service, sessions, account_id, amount, plan_id, installment_id, key):  # type: ignore[no-untyped-def]
    created = service.create_payment(account_id, amount, "sms", key, plan_id=plan_id, installment_id=installment_id)
    pid = created.payment.id
    intent = page_opened(sessions, pid, f"pi_{key}")
    assert service.handle_stripe_event(event("succeeded", pid, intent, amount=amount)) == EventOutcome.APPLIED
    return pid


def audit(sessions, kind: str) -> list[AuditEventRow]:
    with sessions() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.kind == kind)))


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


async def test_a_lump_sum_settlement_page_does_not_ask_to_save_the_card(service, gateway, sessions, clock):
    plan_id, (only,) = settlement_plan(sessions, clock, (38430,))
    created = service.create_payment("A1002", 38430, "sms", "lump", plan_id=plan_id, installment_id=only)
    view = await service.page(token_of(created.link_url))
    assert (view.asks_to_save_card, view.saves_card) == (False, False) and view.client_secret
    [(_, intent)] = [c for c in gateway.calls if c[0] == "create_payment_intent"]
    assert intent["save_for_later"] is False  # no later payment for a saved card to pay


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
