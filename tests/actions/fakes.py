"""Tracker builders and the domain for action unit tests (the fake payments client is
`testkit.fake_payments.FakePaymentsClient`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker

from actions.config import get_settings
from contracts.channel_facts import FACTS_KEY, ChannelFacts, sign
from testkit.fake_payments import FakePaymentsClient

# Rasa input channel names of our connectors → the signed channel name (C0).
SIGNED_CHANNEL = {"twilio_sms": "sms", "twilio_voice": "voice", "webchat": "web", "socketio": "web", "rest": "rest"}


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    """bot/domain as Rasa sends it to the action server with each call."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(Path(__file__).resolve().parents[2] / "bot" / "domain")).as_dict()


def signed(
    channel: str,
    sender_id: str = "conv-1",
    phone: str | None = None,
    call_sid: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Message metadata as our connector signs it (C0) for `channel` (a Rasa input channel name)."""
    facts = ChannelFacts(SIGNED_CHANNEL[channel], sender_id, phone, call_sid)
    return {FACTS_KEY: sign(facts, key or get_settings().channel_facts_key)}


def tracker(
    slots: dict[str, Any] | None = None,
    *,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    channel: str = "rest",
    metadata: dict[str, Any] | None = None,
    sender_id: str = "conv-1",
    earlier_intents: tuple[str, ...] = (),
    earlier_metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message (`text`, `intent`, `entities`, `metadata`) came in on
    `channel`; `earlier_intents` are the customer's previous turns, oldest first, each with
    `earlier_metadata`. Slots that say `verified` get the fake's verification session unless
    they name one. Signed channel facts come from `signed(...)`."""
    slots = dict(slots or {})
    if slots.get("verification_status") == "verified":
        slots.setdefault("verification_session", FakePaymentsClient.session)
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or [], "metadata": metadata or {}}
    events = [
        {
            "event": "user",
            "text": f"earlier {i}",
            "input_channel": channel,
            "metadata": earlier_metadata or {},
            "parse_data": {"intent": {"name": i}},
        }
        for i in earlier_intents
    ]
    events.append(
        {"event": "user", "text": text, "input_channel": channel, "metadata": metadata or {}, "parse_data": latest}
    )
    return Tracker(sender_id, slots, latest, events, False, None, {}, "action_listen")
