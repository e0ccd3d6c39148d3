"""A payment's states, the events it can receive, and the one function that decides each move
(`decide`). Pure: the services load the payment, ask `decide`, and persist what it says.

States: `pending` → `processing` → `succeeded` | `failed` | `canceled`, and `expired` for a link
nobody used in time. Only `succeeded` moves money, and a payment reaches it at most once: nothing
leaves `succeeded`. `failed` and `canceled` are reached only from `pending` or `processing`, so a
late or replayed failure never undoes a success. Stripe saying the money moved is the truth, so a
success is accepted after a decline (the customer tried another card on the same page) or after a
cancellation (a link cancelled because the account settled: the money is applied and recorded as
overpaid, owed back); a success for an `expired` payment is held for a person, never applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from payments.domain.money import Money


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self not in (PaymentStatus.PENDING, PaymentStatus.PROCESSING)


class PaymentMethod(StrEnum):
    LINK = "link"
    IVR = "ivr"
    OFF_SESSION = "off_session"


class PaymentEvent(StrEnum):
    """What can happen to a payment."""

    SUCCEEDED = "succeeded"  # Stripe: the money moved (a webhook, or a charge's own answer)
    PROCESSING = "processing"  # Stripe: the money is on its way
    FAILED = "failed"  # Stripe: declined, or 3-D Secure nobody can complete
    CANCELED = "canceled"  # Stripe cancelled the PaymentIntent
    LINK_EXPIRED = "link_expired"  # the link ran out before anyone paid (`link_ran_out`)
    ACCOUNT_SETTLED = "account_settled"  # another payment settled the account: nothing is owed


# What the assistant can tell someone who says "I already paid", by status.
PROCESSING_NOTES = {
    PaymentStatus.PENDING: "Not paid yet: the payment was started but not completed.",
    PaymentStatus.PROCESSING: "The card payment is being processed; that usually takes a few minutes.",
    PaymentStatus.SUCCEEDED: (
        "Received and already applied to the balance; the card statement shows it within 1 to 2 business days."
    ),
    PaymentStatus.FAILED: "Not paid: the card was declined, so no money was taken.",
    PaymentStatus.EXPIRED: "Not paid: the payment link expired before it was used.",
    PaymentStatus.CANCELED: "Not paid: the payment was canceled, so no money was taken.",
}

DEFAULT_FAILURE_CODE = "card_declined"
FAILURE_CODE_MAX = 64


@dataclass(frozen=True)
class Payment:
    id: str
    account_id: str
    amount: Money
    status: PaymentStatus
    method: PaymentMethod
    channel: str
    conversation_id: str | None
    plan_id: str | None
    installment_id: int | None
    failure_code: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    link_expires_at: datetime | None = None
    payment_intent_id: str | None = None  # Stripe's, once a page or a charge made one
    save_card: bool | None = None  # the customer's answer on the page; None: not asked (yet)

    @property
    def processing_note(self) -> str:
        return PROCESSING_NOTES[self.status]

    @property
    def amount_cents(self) -> int:
        return self.amount.amount_cents

    @property
    def currency(self) -> str:
        return self.amount.currency


@dataclass(frozen=True)
class Move:
    """The payment moves from `was` to `to`. `applies_money`: its amount goes to the account now
    (only ever on the move to `succeeded`, which happens once). `late`: a success after a final
    state."""

    was: PaymentStatus
    to: PaymentStatus
    applies_money: bool = False
    failure_code: str | None = None
    late: bool = False

    @property
    def completes(self) -> bool:
        return self.to.is_final


@dataclass(frozen=True)
class Hold:
    """A success that must not be applied (a late success on an expired payment): a person
    refunds it or applies it by hand."""

    status: PaymentStatus
    why: str = "late_success"


@dataclass(frozen=True)
class Stay:
    """Nothing changes: the same state again, or an event that is stale from here."""

    status: PaymentStatus


Decision = Move | Hold | Stay

# A success after these is held for a person, never applied.
_HOLDS_SUCCESS = frozenset({PaymentStatus.EXPIRED})
_OPEN = frozenset({PaymentStatus.PENDING, PaymentStatus.PROCESSING})


def decide(
    status: PaymentStatus | str, event: PaymentEvent, *, method: PaymentMethod | str, failure_code: str | None = None
) -> Decision:
    """What `event` does to a payment in `status` paid by `method`."""
    current = PaymentStatus(status)
    if event is PaymentEvent.SUCCEEDED:
        if current is PaymentStatus.SUCCEEDED:
            return Stay(current)
        if current in _HOLDS_SUCCESS:
            return Hold(current)
        return Move(current, PaymentStatus.SUCCEEDED, applies_money=True, late=current.is_final)
    if event is PaymentEvent.PROCESSING:
        return Move(current, PaymentStatus.PROCESSING) if current is PaymentStatus.PENDING else Stay(current)
    if event is PaymentEvent.FAILED:
        if current not in _OPEN:
            return Stay(current)  # never replaces a final state, above all not a success
        code = (failure_code or DEFAULT_FAILURE_CODE)[:FAILURE_CODE_MAX]
        return Move(current, PaymentStatus.FAILED, failure_code=code)
    if event is PaymentEvent.CANCELED:
        return Move(current, PaymentStatus.CANCELED) if current in _OPEN else Stay(current)
    if event is PaymentEvent.LINK_EXPIRED:
        link = PaymentMethod(method) is PaymentMethod.LINK
        return Move(current, PaymentStatus.EXPIRED) if current is PaymentStatus.PENDING and link else Stay(current)
    if event is PaymentEvent.ACCOUNT_SETTLED:
        # Links and charges still waiting would ask for money that is no longer owed.
        return Move(current, PaymentStatus.CANCELED) if current is PaymentStatus.PENDING else Stay(current)
    raise ValueError(f"unknown payment event {event!r}")  # pragma: no cover - the enum is closed


def link_ran_out(payment: Payment, now: datetime) -> bool:
    """A pending link payment whose link expired: `LINK_EXPIRED` is due."""
    return (
        payment.status is PaymentStatus.PENDING
        and payment.method is PaymentMethod.LINK
        and payment.link_expires_at is not None
        and now >= payment.link_expires_at
    )


def page_refusal(payment: Payment) -> str | None:
    """Why the link's page cannot take a card (`link_expired`, `link_used`), or None."""
    if payment.status is PaymentStatus.EXPIRED:
        return "link_expired"
    if payment.status.is_final or payment.method is not PaymentMethod.LINK:
        return "link_used"
    return None


def asks_to_save_card(payment: Payment, *, plan_has_card: bool, payments_due_later: bool) -> bool:
    """Only a plan payment with later payments and no saved card asks, and only before its
    PaymentIntent exists (the answer decides `setup_future_usage`). One-off payments, and a
    plan's last payment (a settlement's lump sum), never save a card."""
    return (
        payment.status is PaymentStatus.PENDING
        and payment.method is PaymentMethod.LINK
        and payment.plan_id is not None
        and payments_due_later
        and not plan_has_card
        and payment.save_card is None
        and payment.payment_intent_id is None
    )


def keeps_card(
    payment: Payment, *, plan_has_card: bool, customer_id: str | None, payment_method_id: str | None
) -> bool:
    """Whether a plan payment's success keeps its card for the plan's later charges: a link
    payment only when the customer said yes on the page; a <Pay> or off-session one always."""
    consented = payment.method is not PaymentMethod.LINK or payment.save_card is True
    return not plan_has_card and bool(payment_method_id and customer_id) and consented


class PhoneCharge(StrEnum):
    """What a <Pay> token may do to a payment (`phone_charge`)."""

    CHARGE = "charge"  # pending: charge it (a link payment becomes a phone payment)
    EXPIRED = "expired"  # refused: the link ran out
    DONE = "done"  # final or on its way: its result, no second charge
    IN_PROGRESS = "in_progress"  # refused: its page made a PaymentIntent, it is being paid there


def phone_charge(payment: Payment) -> PhoneCharge:
    if payment.status is PaymentStatus.EXPIRED:
        return PhoneCharge.EXPIRED
    if payment.status is not PaymentStatus.PENDING:
        return PhoneCharge.DONE
    if payment.method is PaymentMethod.LINK and payment.payment_intent_id:
        return PhoneCharge.IN_PROGRESS
    return PhoneCharge.CHARGE
