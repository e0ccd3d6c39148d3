"""Our REST channel, for `make chat`, the benchmarks and the tests: `channels.rest.TokenRestInput`
in bot/credentials.yml, `POST /webhooks/rest/webhook`. Never in production: production's
credentials (bot/credentials.production.yml) do not list it, and with EVENKEEL_ENV=production
it refuses every request anyway.

What it changes against Rasa's bare `rest:` channel (which let anyone pose as any conversation
and any channel, issue 11):
- `Authorization: Bearer <REST_CHANNEL_TOKEN>` is required (401 otherwise).
- The conversation is `rest-<sender>` (contract C1): a REST client can never reach an SMS
  (phone number), voice (`voice-...`) or web chat (`web-...`) conversation. A missing sender is
  a 400, never Rasa's shared `default` conversation.
- Text goes through the same path as SMS and voice (`user_text_in_conversation`): a card number,
  also one split across messages, becomes `/card_number_shared`, a typed `/intent` or `EXTERNAL:` is plain text.
- Metadata is ours: the signed channel fact `rest` (no caller ID, so it verifies like web chat)
  and, from the client, only a valid IANA `timezone`. The client's `input_channel` is ignored.
- A malformed body (empty, not JSON, not an object, no message) is a 400 with a JSON `error`.
- Message text is never logged above DEBUG, a failed turn included.

Answer: the bot's messages of the turn, as Rasa's REST channel gives them (`[{"recipient_id",
"text", "buttons"...}]`).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.card_buffer import SplitCardBuffer
from channels.config import ChannelSettings
from channels.dedupe import build_store
from channels.rasa_input import FactsSigner
from channels.twilio_common import user_text_in_conversation
from channels.webchat import valid_timezone

log = logging.getLogger(__name__)

CHANNEL = "rest"
CONVERSATION_PREFIX = "rest-"
SENDER = re.compile(r"[A-Za-z0-9_.:@+\-]{1,64}")
MAX_MESSAGE_CHARS = 4000


def conversation_id(sender: str) -> str:
    """`rest-<sender>`: the REST namespace, apart from every other channel's conversations."""
    return CONVERSATION_PREFIX + sender


def _error(status: int, message: str, **headers: str) -> HTTPResponse:
    return response.json({"error": message}, status=status, headers=headers or None)


class TokenRestInput(InputChannel):
    """See the module docstring. Settings (`rest_channel_token`, `channel_facts_key`,
    `evenkeel_env`) come from the environment, credentials.yml may override them."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        return cls(ChannelSettings.from_env(overrides=credentials or {}))

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        self.token = settings.rest_token
        self.facts = FactsSigner(settings, CHANNEL)
        # A card number split across messages: a short digit buffer per conversation (channels/card_buffer.py).
        self.card_buffer = SplitCardBuffer(
            build_store(settings.channels_redis_url, settings.channels_dedupe_ttl_seconds)
        )
        if not self.token:
            log.error("the REST channel is disabled (%s): every request is refused", settings.evenkeel_env)

    def refusal(self, request: Request) -> HTTPResponse | None:
        """Why this request may not talk to the assistant, as the answer to give; None if it may."""
        if not self.token:
            return _error(403, "the REST channel is disabled here")
        if not self.facts.usable:
            return _error(503, "the REST channel is not configured (CHANNEL_FACTS_KEY)")
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return _error(401, "Authorization: Bearer <REST_CHANNEL_TOKEN> required", **{"WWW-Authenticate": "Bearer"})
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("evenkeel_rest", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await self.card_buffer.store.close()  # the store this connector built (Redis: its connections)

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refused = self.refusal(request)
            if refused:
                return refused
            parsed = parse_body(request.body)
            if isinstance(parsed, str):
                return _error(400, parsed)
            sender, message, client_metadata = parsed
            conversation = conversation_id(sender)
            prepared = await user_text_in_conversation(message, self.card_buffer, conversation)
            if not prepared.text:
                return _error(400, "message has no text once typed commands are removed")
            metadata: dict[str, Any] = {"channel": CHANNEL}
            timezone = client_metadata.get("timezone")
            if isinstance(timezone, str) and valid_timezone(timezone):
                metadata["timezone"] = timezone
            if prepared.card_number_removed:
                metadata["card_number_removed"] = True
                log.info("[conversation=%s] card number removed from a REST message", conversation)
            log.debug("[conversation=%s] REST: %s", conversation, prepared.loggable)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        prepared.text,
                        collector,
                        conversation,
                        input_channel=CHANNEL,
                        metadata=self.facts.metadata(metadata, CHANNEL, conversation),
                    )
                )
            except Exception as exc:  # the text stays out of ERROR logs: it may hold what masking missed
                log.error("[conversation=%s] REST turn failed: %s", conversation, type(exc).__name__)
                log.debug("[conversation=%s] REST turn failure", conversation, exc_info=True)
                return _error(500, "the assistant could not answer this message")
            return response.json(collector.messages)

        return blueprint


def parse_body(body: bytes) -> tuple[str, str, dict[str, Any]] | str:
    """(sender, message, client metadata) of a request body, or what is wrong with it."""
    if not body or not body.strip():
        return 'the body must be a JSON object: {"sender": "...", "message": "..."}'
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the body is not JSON"
    if not isinstance(data, dict):
        return 'the body must be a JSON object: {"sender": "...", "message": "..."}'
    sender = data.get("sender")
    if not isinstance(sender, str) or not sender:
        return "sender is required (a string)"
    if not SENDER.fullmatch(sender):
        return "sender must be 1-64 letters, digits or _ . : @ + -"
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        return "message is required (a non-empty string)"
    if len(message) > MAX_MESSAGE_CHARS:
        return f"message is longer than {MAX_MESSAGE_CHARS} characters"
    metadata = data.get("metadata")
    return sender, message, metadata if isinstance(metadata, dict) else {}
