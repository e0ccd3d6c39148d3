"""A payment's moves (`decide`) one by one, and property tests over any sequence of events: a
success never moves, money is applied once per payment, the balance arithmetic holds and a
settlement closes the rest exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain.accounts import AccountStatus
from payments.domain.money import Money
from payments.domain.payment import (
    Hold,
    Move,
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
    PhoneCharge,
    Stay,
    asks_to_save_card,
    decide,
    keeps_card,
    link_ran_out,
    page_refusal,
    phone_charge,
)
from payments.domain.settlement import Balances, credit, settle

P, S, F, E, C, R = (
    PaymentStatus.PENDING,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.EXPIRED,
    PaymentStatus.CANCELED,
    PaymentStatus.PROCESSING,
)
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def payment(**changes: object) -> Payment:
    base = Payment(
        id="PAY-TEST22",
        account_id="A1001",
        amount=Money(9500),
        status=PaymentStatus.PENDING,
        method=PaymentMethod.LINK,
        channel="sms",
        conversation_id="conv-1",
        plan_id=None,
        installment_id=None,
        failure_code=None,
        created_at=NOW,
        updated_at=NOW,
        completed_at=None,
        link_expires_at=NOW + timedelta(minutes=30),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------------ each transition


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        # A success moves money from any state but succeeded; after expired it is held.
        (P, PaymentEvent.SUCCEEDED, Move(P, S, applies_money=True)),
        (R, PaymentEvent.SUCCEEDED, Move(R, S, applies_money=True)),
        (F, PaymentEvent.SUCCEEDED, Move(F, S, applies_money=True, late=True)),  # another card on the same page
        (C, PaymentEvent.SUCCEEDED, Move(C, S, applies_money=True, late=True)),  # cancelled at settlement: overpaid
        (S, PaymentEvent.SUCCEEDED, Stay(S)),  # a replay moves nothing
        (E, PaymentEvent.SUCCEEDED, Hold(E)),
        # Processing only from pending.
        (P, PaymentEvent.PROCESSING, Move(P, R)),
        (R, PaymentEvent.PROCESSING, Stay(R)),
        (S, PaymentEvent.PROCESSING, Stay(S)),
        (F, PaymentEvent.PROCESSING, Stay(F)),
        # Failed and canceled only from pending or processing: never over a final state.
        (P, PaymentEvent.FAILED, Move(P, F, failure_code="card_declined")),
        (R, PaymentEvent.FAILED, Move(R, F, failure_code="card_declined")),
        (S, PaymentEvent.FAILED, Stay(S)),
        (E, PaymentEvent.FAILED, Stay(E)),
        (C, PaymentEvent.FAILED, Stay(C)),
        (P, PaymentEvent.CANCELED, Move(P, C)),
        (R, PaymentEvent.CANCELED, Move(R, C)),
        (S, PaymentEvent.CANCELED, Stay(S)),
        (F, PaymentEvent.CANCELED, Stay(F)),
        # Expiry and a settlement touch only pending payments.
        (P, PaymentEvent.LINK_EXPIRED, Move(P, E)),
        (R, PaymentEvent.LINK_EXPIRED, Stay(R)),
        (S, PaymentEvent.LINK_EXPIRED, Stay(S)),
        (P, PaymentEvent.ACCOUNT_SETTLED, Move(P, C)),
        (R, PaymentEvent.ACCOUNT_SETTLED, Stay(R)),
        (S, PaymentEvent.ACCOUNT_SETTLED, Stay(S)),
    ],
)
def test_each_event_from_each_state(status, event, expected):
    assert decide(status, event, method=PaymentMethod.LINK) == expected


def test_a_failure_keeps_stripes_code_cut_to_the_column():
    move = decide(P, PaymentEvent.FAILED, method=PaymentMethod.IVR, failure_code="x" * 100)
    assert isinstance(move, Move) and move.failure_code == "x" * 64
    assert decide(P, PaymentEvent.FAILED, method="ivr", failure_code="insufficient_funds") == Move(
        P, F, failure_code="insufficient_funds"
    )


def test_only_a_link_expires():
    assert decide(P, PaymentEvent.LINK_EXPIRED, method=PaymentMethod.IVR) == Stay(P)
    assert decide(P, PaymentEvent.LINK_EXPIRED, method=PaymentMethod.OFF_SESSION) == Stay(P)


def test_a_move_completes_only_into_a_final_state():
    assert not Move(P, R).completes
    assert all(Move(P, s).completes for s in (S, F, E, C))


def test_a_link_runs_out_at_its_expiry_only_while_pending():
    assert not link_ran_out(payment(), NOW)
    assert link_ran_out(payment(), NOW + timedelta(minutes=30))
    assert not link_ran_out(payment(status=R), NOW + timedelta(hours=1))
    assert not link_ran_out(payment(method=PaymentMethod.IVR), NOW + timedelta(hours=1))
    assert not link_ran_out(payment(link_expires_at=None), NOW + timedelta(hours=1))


def test_the_page_refuses_an_expired_or_used_link():
    assert page_refusal(payment()) is None
    assert page_refusal(payment(status=E)) == "link_expired"
    assert [page_refusal(payment(status=s)) for s in (S, F, C)] == ["link_used"] * 3
    assert page_refusal(payment(method=PaymentMethod.IVR)) == "link_used"  # taken by phone
    assert page_refusal(payment(status=R)) is None  # the page says "processing"


def test_only_a_plan_link_with_later_payments_and_no_card_asks_to_save_it():
    plan_payment = payment(plan_id="PLN-TEST22", installment_id=1)
    assert asks_to_save_card(plan_payment, plan_has_card=False, payments_due_later=True)
    assert not asks_to_save_card(payment(), plan_has_card=False, payments_due_later=True)  # one-off
    assert not asks_to_save_card(plan_payment, plan_has_card=True, payments_due_later=True)
    assert not asks_to_save_card(plan_payment, plan_has_card=False, payments_due_later=False)  # the last one
    assert not asks_to_save_card(replace(plan_payment, save_card=False), plan_has_card=False, payments_due_later=True)
    assert not asks_to_save_card(
        replace(plan_payment, payment_intent_id="pi_1"), plan_has_card=False, payments_due_later=True
    )


def test_a_card_is_kept_for_a_plan_only_with_consent_on_the_page():
    def keeps(p: Payment, has_card: bool = False) -> bool:
        return keeps_card(p, plan_has_card=has_card, customer_id="cus_1", payment_method_id="pm_1")

    assert not keeps(payment())  # the page's question unanswered
    assert not keeps(payment(save_card=False))
    assert keeps(payment(save_card=True))
    assert keeps(payment(method=PaymentMethod.IVR)) and keeps(payment(method=PaymentMethod.OFF_SESSION))
    assert not keeps(payment(save_card=True), has_card=True)
    assert not keeps_card(payment(save_card=True), plan_has_card=False, customer_id=None, payment_method_id="pm_1")


def test_a_phone_charge_takes_only_a_pending_payment_not_being_paid_on_its_page():
    assert phone_charge(payment()) is PhoneCharge.CHARGE
    assert phone_charge(payment(status=E)) is PhoneCharge.EXPIRED
    assert phone_charge(payment(status=S)) is PhoneCharge.DONE
    assert phone_charge(payment(status=R)) is PhoneCharge.DONE
    assert phone_charge(payment(payment_intent_id="pi_1")) is PhoneCharge.IN_PROGRESS
    assert phone_charge(payment(method=PaymentMethod.IVR, payment_intent_id="pi_1")) is PhoneCharge.CHARGE


def test_paying_the_past_due_brings_a_delinquent_account_current():
    start = Balances(245000, 31000, 9500)
    assert credit(start, AccountStatus.DELINQUENT, 31000).status is AccountStatus.CURRENT
    assert credit(start, AccountStatus.DELINQUENT, 30999).status is AccountStatus.DELINQUENT
    assert credit(start, AccountStatus.CHARGED_OFF, 31000).status is AccountStatus.CHARGED_OFF
    beyond = credit(Balances(1000, 0, 1000), AccountStatus.SETTLED, 5000)
    assert (beyond.after, beyond.applied_cents, beyond.overpaid_cents) == (Balances(0, 0, 0), 1000, 4000)


# ------------------------------------------------------------------ any sequence of events

EVENTS = st.sampled_from(list(PaymentEvent))
METHODS = st.sampled_from(list(PaymentMethod))


@given(METHODS, st.lists(EVENTS, max_size=20))
def test_a_succeeded_or_expired_payment_never_moves_and_money_moves_once(method, events):
    status, applied = PaymentStatus.PENDING, 0
    for event in events:
        decision = decide(status, event, method=method)
        if status in (S, E):
            assert not isinstance(decision, Move)
        if isinstance(decision, Move):
            assert decision.was is status
            # Only the one move to succeeded applies money; failures and cancellations never
            # replace a final state.
            assert decision.applies_money == (decision.to is S)
            if decision.to in (F, C) and event is not PaymentEvent.ACCOUNT_SETTLED:
                assert status in (P, R)
            applied += decision.applies_money
            status = decision.to
    assert applied == (status is S)


@dataclass
class Ledger:
    """The account and one settlement plan as the payment services change them, on the domain's
    decisions only: each payment has one installment; the last one settles the account."""

    balances: Balances
    installments: tuple[int, ...]
    statuses: dict[int, PaymentStatus] = field(default_factory=dict)
    paid: set[int] = field(default_factory=set)
    applied_cents: int = 0
    overpaid_cents: int = 0
    settlements: int = 0
    forgiven_cents: int = 0

    def apply(self, seq: int, event: PaymentEvent) -> None:
        status = self.statuses.setdefault(seq, PaymentStatus.PENDING)
        decision = decide(status, event, method=PaymentMethod.LINK)
        if not isinstance(decision, Move):
            return
        self.statuses[seq] = decision.to
        if decision.applies_money:
            credited = credit(self.balances, AccountStatus.DELINQUENT, self.installments[seq])
            self.balances = credited.after
            self.applied_cents += credited.applied_cents
            self.overpaid_cents += credited.overpaid_cents
            self.paid.add(seq)
            if self.settlements == 0 and len(self.paid) == len(self.installments):
                closed = settle(self.balances)
                self.balances, self.forgiven_cents = closed.balances, closed.forgiven_cents
                self.settlements += 1
                for other, other_status in self.statuses.items():  # nothing is owed any more
                    cancelled = decide(other_status, PaymentEvent.ACCOUNT_SETTLED, method=PaymentMethod.LINK)
                    if isinstance(cancelled, Move):
                        self.statuses[other] = cancelled.to


@st.composite
def ledgers(draw):  # type: ignore[no-untyped-def]
    balance = draw(st.integers(0, 2_000_000))
    past_due = draw(st.integers(0, balance))
    minimum = draw(st.integers(0, balance))
    installments = tuple(draw(st.lists(st.integers(1, 800_000), min_size=1, max_size=3)))
    events = draw(st.lists(st.tuples(st.integers(0, len(installments) - 1), EVENTS), max_size=25))
    return Ledger(Balances(balance, past_due, minimum), installments), events


@given(ledgers())
def test_the_balance_arithmetic_holds_for_any_sequence_of_events(drawn):
    ledger, events = drawn
    start = ledger.balances
    for seq, event in events:
        ledger.apply(seq, event)
        assert min(ledger.balances.balance_cents, ledger.balances.past_due_cents) >= 0
    succeeded = sum(ledger.installments[s] for s, status in ledger.statuses.items() if status is S)
    # Every cent Stripe took is accounted for once: off the balance, or recorded as overpaid.
    assert ledger.applied_cents + ledger.overpaid_cents == succeeded
    assert ledger.applied_cents <= start.balance_cents
    # A settlement closes the rest exactly once, and only when every installment was paid.
    assert ledger.settlements == (1 if len(ledger.paid) == len(ledger.installments) else 0)
    if ledger.settlements:
        assert ledger.balances == Balances(0, 0, 0)
        assert ledger.forgiven_cents + ledger.applied_cents <= start.balance_cents
    else:
        assert ledger.balances.balance_cents == start.balance_cents - ledger.applied_cents
        assert ledger.overpaid_cents == max(0, succeeded - start.balance_cents)
