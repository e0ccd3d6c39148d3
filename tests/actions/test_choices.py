from typing import Any

import pytest

from actions.choices import resolve_offer_choice

PLAN_OFFERS = ["installments_3", "installments_6", "installments_12"]
PAY_NOW = ["past_due", "full", "minimum"]


def ent(name: str, value: object) -> dict[str, object]:
    return {"entity": name, "value": value}


@pytest.mark.parametrize(
    "offers, entities, text, expected",
    [
        (PLAN_OFFERS, [], "2", "installments_6"),
        (PLAN_OFFERS, [], "3.", "installments_12"),
        (PLAN_OFFERS, [ent("plan_choice", "1")], "the first one", "installments_3"),
        (PLAN_OFFERS, [ent("months", 6)], "the 6 month one", "installments_6"),
        (PLAN_OFFERS, [ent("months", 24)], "24 months", None),
        (PLAN_OFFERS, [], "4", None),
        (PLAN_OFFERS, [], "i have 2 kids", None),
        (PAY_NOW, [ent("plan_choice", "minimum")], "just the minimum", "minimum"),
        (PAY_NOW, [ent("plan_choice", "full")], "all of it", "full"),
        (PAY_NOW, [ent("plan_choice", "settlement")], "settle", None),
        (["settlement_lump", "settlement_3"], [ent("plan_choice", "settlement")], "settle", "settlement_lump"),
        (["settlement_lump", "settlement_3"], [ent("months", 3)], "three payments", "settlement_3"),
        (["hardship_6", "installments_3"], [ent("plan_choice", "hardship")], "the hardship plan", "hardship_6"),
    ],
)
def test_resolve_offer_choice(
    offers: list[str], entities: list[dict[str, Any]], text: str, expected: str | None
) -> None:
    assert resolve_offer_choice(offers, entities, text) == expected
