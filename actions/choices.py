"""Which offer a customer meant ("2", "the 6 month one", "the past due amount"). Pure functions."""

from __future__ import annotations

import re
from typing import Any

# plan_choice names from the NLU component → the offer ids (or id prefixes) they mean.
NAMED_CHOICES = {
    "past_due": ("past_due",),
    "full": ("full",),
    "minimum": ("minimum",),
    "settlement": ("settlement_lump", "settlement_"),
    "hardship": ("hardship_",),
}


def entity_values(entities: list[dict[str, Any]], name: str) -> list[Any]:
    return [e.get("value") for e in entities if e.get("entity") == name]


def resolve_offer_choice(offer_ids: list[str], entities: list[dict[str, Any]], text: str) -> str | None:
    """The offer id among `offer_ids` (in the order they were presented) that the customer chose.

    Understands an ordinal (`plan_choice` "1".."9", or a message that is just a digit, as keypad
    and SMS replies are), a named option (`plan_choice` "past_due", "settlement", ...) and a number
    of months (`months` 6 → `installments_6`, else the settlement/hardship plan of that length).
    None when the reply names nothing on the list.
    """
    choices = [str(v) for v in entity_values(entities, "plan_choice")]
    bare = text.strip().rstrip(".!")
    if re.fullmatch(r"[1-9]", bare):
        choices.append(bare)
    for choice in choices:
        if choice.isdigit():
            index = int(choice) - 1
            if 0 <= index < len(offer_ids):
                return offer_ids[index]
        for prefix in NAMED_CHOICES.get(choice, ()):
            for offer_id in offer_ids:
                if offer_id == prefix or (prefix.endswith("_") and offer_id.startswith(prefix)):
                    return offer_id
    for months in entity_values(entities, "months"):
        for offer_id in offer_ids:
            if offer_id.endswith(f"_{months}") and not offer_id.startswith("settlement_lump"):
                return offer_id
    return None
