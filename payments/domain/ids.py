"""Public identifiers people read aloud and type: a prefix and six unambiguous characters."""

from __future__ import annotations

import secrets

# Crockford-style alphabet without 0/O, 1/I/L and U: nothing to mishear on the phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_id(prefix: str, length: int = 6) -> str:
    """`new_public_id("PLN")` → `PLN-7K3Q9X` (30^6 ≈ 729 million values; callers retry on a clash)."""
    return f"{prefix}-{''.join(secrets.choice(ALPHABET) for _ in range(length))}"
