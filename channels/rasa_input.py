"""What every connector of ours hands Rasa besides the customer's words: typed text that can never
be parsed as an intent or an external event, and the channel facts, signed (contract C0 in
contracts/channel_facts.py). SMS, voice, web chat and the REST connector all use these two, so
each rule lives in one place."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import EXTERNAL_MESSAGE_PREFIX

from channels.config import ChannelSettings
from contracts.channel_facts import FACTS_KEY, ChannelFacts, sign
from contracts.names import ExternalIntent

log = logging.getLogger(__name__)

# What Rasa gets in place of a message holding a card number (every connector sends this).
CARD_NUMBER_SHARED = INTENT_MESSAGE_PREFIX + ExternalIntent.CARD_NUMBER_SHARED

# Rasa's RegexMessageHandler reads `text.strip()` starting with "/" as `/intent{entities}`, and
# `trigger_intent` files its user events as "EXTERNAL: <intent>" (the console shows those as
# system events). Matched without case and spaces: "external :" is no customer's way to start.
_EXTERNAL = re.compile(re.escape(EXTERNAL_MESSAGE_PREFIX.strip()).replace(":", r"\s*:"), re.IGNORECASE)


def _leading_noise(char: str) -> bool:
    """Spaces, invisible format/control characters, and anything that normalizes (NFKC, as
    masking may do before Rasa sees the text) to a slash or to nothing."""
    if char.isspace() or unicodedata.category(char) in ("Cf", "Cc"):
        return True
    return unicodedata.normalize("NFKC", char).strip() in ("", INTENT_MESSAGE_PREFIX)


def neutralize(text: str | None) -> str:
    """Typed text as plain words for Rasa: leading slashes and `EXTERNAL:` prefixes (and the
    spaces and invisible characters around them) are dropped until neither is left, so
    `/installment_due{"link_url": ...}` reaches the NLU as `installment_due{"link_url": ...}`.
    Only the payloads of buttons the bot itself sent (mapped by each connector) become intents."""
    text = text or ""
    while True:
        start = 0
        while start < len(text) and _leading_noise(text[start]):
            start += 1
        rest = text[start:]
        external = _EXTERNAL.match(rest)
        if external:
            rest = rest[external.end() :]
        if rest == text:
            return text
        text = rest


class FactsSigner:
    """Signs a message's channel facts with CHANNEL_FACTS_KEY. Without a usable key (empty, or the
    development key in production) `usable` is False and the connector refuses every message."""

    def __init__(self, settings: ChannelSettings, connector: str) -> None:
        self.key = settings.facts_key
        if not self.key:
            log.error(
                "CHANNEL_FACTS_KEY is %s in %s: the %s connector refuses every message",
                "empty" if not settings.channel_facts_key else "the development key",
                settings.evenkeel_env,
                connector,
            )

    @property
    def usable(self) -> bool:
        return bool(self.key)

    def metadata(
        self,
        metadata: Mapping[str, Any],
        channel: str,
        conversation_id: str,
        phone: str | None = None,
        call_sid: str | None = None,
    ) -> dict[str, Any]:
        """`metadata` with the signed facts at FACTS_KEY (whatever was there is dropped)."""
        if not self.key:
            raise RuntimeError("channel facts cannot be signed: no usable CHANNEL_FACTS_KEY")
        signed = {k: v for k, v in metadata.items() if k != FACTS_KEY}
        signed[FACTS_KEY] = sign(ChannelFacts(channel, conversation_id, phone or None, call_sid or None), self.key)
        return signed
