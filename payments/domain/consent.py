"""The words of a plan's consent and of its recurring-charge authorization. Pure: no I/O.

The consent stored with a plan is the text the customer was shown, exactly (the client sends it,
per channel). A client that sends none gets the canonical wording of the assistant's read-back,
which asks for the plan AND for the card charges on its dates (Reg E 12 CFR 1005.10(b): preauthorized
transfers are authorized in writing or similarly, and the consumer gets a copy: the receipt page).
"""

from __future__ import annotations

from payments.domain.money import Money
from payments.domain.offers import Offer, format_date

CHARGE_WORDS = "and to us charging your card on these dates"

HOW_TO_CANCEL = (
    "You can stop any future payment of this plan by telling us in your conversation with us (reply to our "
    "texts or chat with us), or by calling the number on the back of your card, at least 3 business days "
    "before the payment date."
)


def schedule_text(offer: Offer) -> str:
    """`$103.34 on March 2, 2026; $103.33 on April 2, 2026`: every payment with its date."""
    return "; ".join(f"{p.amount.display()} on {format_date(p.due_date)}" for p in offer.schedule)


def canonical_consent(offer: Offer) -> str:
    """What the assistant reads back before booking `offer`, with the question the customer answers."""
    return (
        f"Here is the plan: {offer.description} Payments: {schedule_text(offer)}. "
        f"Do you agree to this plan, {CHARGE_WORDS}?"
    )


def authorization_summary(total: Money, payments: int, first_due: str, last_due: str) -> str:
    """One sentence for the receipt page: what the customer authorized us to charge."""
    if payments == 1:
        return f"You authorized one card payment of {total.display()} on {first_due}."
    return (
        f"You authorized {payments} card payments, {total.display()} in all, on the dates below, "
        f"from {first_due} to {last_due}."
    )
