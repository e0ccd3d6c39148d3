"""The canonical consent wording and the authorization summary of the receipt page."""

from __future__ import annotations

from datetime import date

from payments.domain.consent import CHARGE_WORDS, authorization_summary, canonical_consent, schedule_text
from payments.domain.money import Money
from payments.domain.offers import compute_offers
from payments.domain.policy import PlanPolicy


def test_the_canonical_consent_asks_for_the_plan_and_the_card_charges_with_every_date(maria) -> None:
    [offer] = [o for o in compute_offers(maria, PlanPolicy(), date(2026, 3, 2)) if o.id == "installments_3"]
    text = canonical_consent(offer)
    assert text.startswith("Here is the plan: Pay $310.00 in 3 monthly payments")
    assert text.endswith(f"Do you agree to this plan, {CHARGE_WORDS}?")
    assert CHARGE_WORDS == "and to us charging your card on these dates"
    assert schedule_text(offer) in text
    assert schedule_text(offer) == "$103.34 on March 2, 2026; $103.33 on April 2, 2026; $103.33 on May 2, 2026"


def test_the_authorization_summary_names_the_payments_and_the_total() -> None:
    assert authorization_summary(Money(38430), 1, "March 2, 2026", "March 2, 2026") == (
        "You authorized one card payment of $384.30 on March 2, 2026."
    )
    assert authorization_summary(Money(31000), 3, "March 2, 2026", "May 2, 2026") == (
        "You authorized 3 card payments, $310.00 in all, on the dates below, from March 2, 2026 to May 2, 2026."
    )
