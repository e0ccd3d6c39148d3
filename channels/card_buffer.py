"""A card number split across messages ("4111 1111" now, "1111 1111" a moment later) is caught
by remembering, per conversation, the digits the last messages ended with.

What is kept: at most `contracts.masking.MAX_BUFFERED_DIGITS` (18) trailing digits, in whole
groups, of the recent messages that ended with digits, in the connector's channel store (process
memory, or Redis with CHANNELS_REDIS_URL) under `card-tail:<conversation id>`, for
`FRAGMENT_SECONDS` after the last such message; never in Rasa, never logged, deleted as soon as a
card number is found. A message with a whole card number in it clears the buffer too (the
connector masks it anyway).

The rules for joining (contracts/masking.py: `card_fragments`, `completes_split_card`,
`next_buffer`) are stricter than within one message, because a verification is answered one
factor per message (last 4, date of birth, ZIP): a fragment has at least 4 digits; a date of
birth or a formatted phone number is no fragment; a fragment with an odd number of digits (a ZIP)
may end a number but is never continued (so 18 digits are at most 4 fragments: "4111" "1111"
"1111" "1111", said or typed with pauses); the joined number starts like a payment card (2-6)
and passes Luhn. Digits sent earlier went to Rasa as they were (each fragment alone is no card
number); the message that completes the number is the one replaced by `/card_number_shared`.
"""

from __future__ import annotations

import logging

from channels.dedupe import ChannelStore
from contracts.masking import card_fragments, completes_split_card, next_buffer

log = logging.getLogger(__name__)

FRAGMENT_SECONDS = 120.0  # a continuation comes within two minutes of the previous fragment


def _key(conversation_id: str) -> str:
    return f"card-tail:{conversation_id}"


class SplitCardBuffer:
    """`completes_card(conversation_id, text)` for every customer message, in order."""

    def __init__(self, store: ChannelStore, ttl_seconds: float = FRAGMENT_SECONDS) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def completes_card(self, conversation_id: str, text: str, *, has_card: bool = False) -> bool:
        """Remember this message's trailing digits; True when its leading digits complete a card
        number begun in the conversation's previous messages. `has_card`: the message holds a
        whole card number by itself (already masked): the buffer is cleared. A store that fails
        is logged (without the text) and the message is judged on its own."""
        key = _key(conversation_id)
        try:
            if has_card:
                await self.store.delete(key)
                return False
            fragments = card_fragments(text)
            stored = await self.store.get(key) or {}
            previous = [str(group) for group in stored.get("groups") or []]
            if completes_split_card(previous, fragments.leading):
                await self.store.delete(key)
                return True
            groups = next_buffer(previous, fragments)
            if groups:
                await self.store.set(key, {"groups": groups}, self.ttl_seconds)
            elif previous:
                await self.store.delete(key)
            return False
        except Exception as exc:  # the store must never break a turn; the digits are never logged
            log.warning(
                "[conversation=%s] split card number check skipped: store failed (%s)",
                conversation_id,
                type(exc).__name__,
            )
            return False
