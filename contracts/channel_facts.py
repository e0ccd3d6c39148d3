"""Channel facts: what only our connectors may say about a message.

A client of a channel can choose its text and, on Rasa's own channels, its metadata, its sender id
and even its `input_channel`. So the facts that decide how a caller is verified and whose number
is opted out (the channel, the caller ID, the call id, the conversation id) travel in the message
metadata under `FACTS_KEY`, signed by the connector with `CHANNEL_FACTS_KEY`, a secret shared by
the rasa server (connectors) and the action server. The action server trusts a fact only when
the signature checks and the signed conversation id is the tracker's own; anything else claiming
a channel, a phone or a call is ignored (issue 11, item 3).

Contract (both sides import this module; never copy it):
- `sign(facts, key)` -> the dict a connector stores at `metadata[FACTS_KEY]`.
- `verify(metadata, conversation_id, key)` -> `ChannelFacts` or None.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

FACTS_KEY = "evenkeel_facts"
DEV_CHANNEL_FACTS_KEY = "dev-channel-facts-key"

# The payments service's names for our channels. `rest` is the token-protected development and
# test connector (never enabled in production); it verifies like web chat.
CHANNELS = ("sms", "voice", "web", "rest")


@dataclass(frozen=True)
class ChannelFacts:
    channel: str
    conversation_id: str
    phone: str | None = None  # caller ID (E.164) on sms and voice, as Twilio signed it
    call_sid: str | None = None  # voice: the call this message belongs to
    issued_at: int = 0  # unix seconds when the connector signed it

    @property
    def has_caller_id(self) -> bool:
        return self.channel in ("sms", "voice") and bool(self.phone)


def _payload(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(fields), sort_keys=True, separators=(",", ":")).encode()


def _signature(fields: Mapping[str, Any], key: str) -> str:
    return hmac.new(key.encode(), _payload(fields), hashlib.sha256).hexdigest()


def sign(facts: ChannelFacts, key: str) -> dict[str, Any]:
    """The signed form a connector puts at `metadata[FACTS_KEY]` (replacing anything there)."""
    if facts.channel not in CHANNELS:
        raise ValueError(f"unknown channel {facts.channel!r}")
    if not key:
        raise ValueError("CHANNEL_FACTS_KEY is empty")
    fields = asdict(facts)
    if not fields["issued_at"]:
        fields["issued_at"] = int(time.time())
    return {**fields, "sig": _signature(fields, key)}


def verify(metadata: Any, conversation_id: str, key: str) -> ChannelFacts | None:
    """The facts in `metadata` when our connector signed them for this conversation, else None."""
    if not key or not isinstance(metadata, Mapping):
        return None
    signed = metadata.get(FACTS_KEY)
    if not isinstance(signed, Mapping):
        return None
    fields = {k: v for k, v in signed.items() if k != "sig"}
    if set(fields) != {f for f in ChannelFacts.__dataclass_fields__}:
        return None
    sig = signed.get("sig")
    if not isinstance(sig, str) or not hmac.compare_digest(sig, _signature(fields, key)):
        return None
    if fields["conversation_id"] != conversation_id or fields["channel"] not in CHANNELS:
        return None
    try:
        return ChannelFacts(**fields)
    except TypeError:
        return None
