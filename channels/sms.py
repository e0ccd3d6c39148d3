"""SMS through Twilio Messaging: `channels.sms.TwilioSmsInput` in bot/credentials.yml, webhook at
`POST /webhooks/twilio_sms/webhook` (the number's "A message comes in" URL).

One conversation per phone number (contract C1): the sender id is the customer's number in
E.164, so Rasa's `recipient_id` for a pushed message (agent reply, payment confirmation, reminder
sent with `output_channel=latest`) is the number to text. The number is also the signed `phone`
channel fact (channels/rasa_input.py), the only caller ID the action server believes; a call from
it is a conversation of its own (`voice-<CallSid>`) joined to the texts by that fact.

A webhook is answered at once with empty TwiML, and the bot's replies go out through Twilio's
REST API when the turn is done: a slow turn never makes Twilio time out and retry. A retried
delivery (same MessageSid) is processed once (channels/dedupe.py).

Before Rasa: the signature is checked; carrier keywords are handled here and never reach Rasa
(STOP & co. are recorded in the payments service's ledger and answered by nobody, as Twilio's
Advanced Opt-Out replies itself; START likewise; HELP gets a fixed text); a revocation in words
("stop calling me", "cease all communication", "not at work") is recorded and confirmed here
(channels/revocation.py), paused conversation or not; a message holding a card number, or
completing one split across messages, becomes `/card_number_shared`; leading slashes are stripped; a reply "1", "2"...
after a message with buttons becomes that button's payload.

The buttons a customer can answer by number are remembered per conversation in the channel
store: in process memory by default (one rasa process), in Redis with CHANNELS_REDIS_URL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse
from typing_extensions import Unpack

from channels.config import ChannelSettings
from channels.dedupe import ChannelStore
from channels.rasa_state import is_listening
from channels.rendering import button_payload, pack_messages, render_message
from channels.revocation import conversation_paused
from channels.twilio_common import (
    Collaborators,
    SmsSender,
    TwilioInput,
    TwilioOutput,
    is_phone_number,
    mask_phone,
    normalize_phone,
    timezone_for,
    user_text_in_conversation,
)
from clients.payments import (
    HttpPaymentsClient,
    PaymentsClient,
    PaymentsError,
    PaymentsUnavailable,
    PhoneConsent,
    Rejected,
    Retry,
)
from contracts.names import Medium
from contracts.sms_keywords import HELP, OPT_IN, OPT_OUT, keyword_of

log = logging.getLogger(__name__)

CHANNEL = "twilio_sms"
MAX_INBOUND = 1600  # Twilio's limit for one message body

# STOP and START are idempotent in the service: tried 3 times (0.5 s, then 1 s apart).
SMS_LEDGER_RETRY = Retry(attempts=3, backoff_seconds=0.5)

MMS_ONLY_TEXT = "Thanks, but I can't open pictures or attachments here. Please type your message instead."
ATTACHMENT_IGNORED_TEXT = "(I can't open attachments, so I read only your text.)"
EMPTY_TEXT = "I didn't get any text. How can I help? Reply HELP for help."
TRUNCATED_TEXT = "(Your message was long, so I read only the first part.)"
TROUBLE_TEXT = "Sorry, something went wrong on our side. Please try again in a few minutes."
NO_ANSWER_TEXT = (
    "Sorry, something went wrong on our side and I couldn't answer. Please try again in a few "
    "minutes, or call us at 1-800-555-0199."
)


# --- collaborators -------------------------------------------------------------------------------


class ComplianceLedger(Protocol):
    async def opt_out(self, phone: str, conversation_id: str) -> bool: ...

    async def opt_in(self, phone: str, conversation_id: str) -> bool: ...


class PaymentsComplianceLedger:
    """STOP/START in the payments service: `phone_opt_out` / `phone_opt_in` of the client of the
    payments service (clients/payments.py; `POST /api/contact/opt-out|opt-in`), medium and audit
    channel "sms", on a client that retries transient failures (`SMS_LEDGER_RETRY`). A failure is
    logged, never raised (Twilio's Advanced Opt-Out still blocks our texts to the number)."""

    def __init__(self, settings: ChannelSettings, client: PaymentsClient | None = None) -> None:
        self.client: PaymentsClient = client or HttpPaymentsClient(
            settings.payments_url,
            settings.payments_service_token,
            settings.payments_timeout_seconds,
            retry=SMS_LEDGER_RETRY,
        )

    async def opt_out(self, phone: str, conversation_id: str) -> bool:
        consent = self.client.phone_opt_out(phone, medium=Medium.SMS, channel="sms", conversation_id=conversation_id)
        return await self._recorded("opt-out", phone, consent)

    async def opt_in(self, phone: str, conversation_id: str) -> bool:
        consent = self.client.phone_opt_in(phone, medium=Medium.SMS, channel="sms", conversation_id=conversation_id)
        return await self._recorded("opt-in", phone, consent)

    async def _recorded(self, what: str, phone: str, call: Awaitable[PhoneConsent]) -> bool:
        try:
            consent = await call
        except Rejected as exc:  # a 4xx: our bug or configuration; sending it again would not help
            log.error("%s for %s refused by the payments service: %s", what, mask_phone(phone), exc)
            return False
        except PaymentsUnavailable:
            log.error("%s for %s NOT recorded after %d attempts", what, mask_phone(phone), SMS_LEDGER_RETRY.attempts)
            return False
        except PaymentsError as exc:
            log.error("%s for %s refused by the payments service: %s", what, mask_phone(phone), type(exc).__name__)
            return False
        log.info("%s for %s recorded: accounts %s", what, mask_phone(phone), list(consent.account_ids))
        return True


def _memory_key(phone: str) -> str:
    return f"sms:{phone}"


class _SmsMemory:
    """What a conversation needs across turns: the buttons a number answers, and our number the
    customer texts (pushed messages come from it)."""

    def __init__(self, store: ChannelStore, ttl_seconds: float) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def get(self, phone: str) -> dict[str, Any]:
        return dict(await self.store.get(_memory_key(phone)) or {})

    async def update(self, phone: str, **changes: Any) -> None:
        memory = await self.get(phone)
        memory.update(changes)
        await self.store.set(_memory_key(phone), memory, self.ttl_seconds)


def _last_buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for message in reversed(messages):
        buttons = message.get("buttons") or message.get("quick_replies")
        if buttons:
            return [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons]
    return []


# --- output channels -----------------------------------------------------------------------------


class SmsTurnCollector(CollectingOutputChannel):
    """Collects one turn's replies (sent together when the turn is done). Its name selects the
    `twilio_sms` response variations."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL


class TwilioSmsOutput(TwilioOutput):
    """Pushed messages (agent replies, confirmations, reminders): `recipient_id` is the number."""

    channel_name = CHANNEL

    def __init__(self, sender: SmsSender, memory: _SmsMemory, settings: ChannelSettings) -> None:
        super().__init__(sender, settings)
        self.memory = memory

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.send_messages(recipient_id, [message])

    async def send_messages(self, recipient_id: str, messages: list[dict[str, Any]], from_: str | None = None) -> None:
        if not is_phone_number(recipient_id):
            log.warning("SMS for conversation %r not sent: its id is not a phone number", recipient_id[:24])
            return
        memory = await self.memory.get(recipient_id)
        bodies = pack_messages(render_message(m) for m in messages)
        if not bodies:
            return
        await self.memory.update(recipient_id, buttons=_last_buttons(messages))
        for body in bodies:
            await self.sender.send_sms(recipient_id, body, from_ or memory.get("our_number"))


# --- input channel -------------------------------------------------------------------------------


class TwilioSmsInput(TwilioInput):
    """Twilio Messaging webhooks → Rasa; replies through Twilio's REST API."""

    channel_name = CHANNEL

    def __init__(
        self, settings: ChannelSettings, *, ledger: ComplianceLedger | None = None, **shared: Unpack[Collaborators]
    ) -> None:
        super().__init__(settings, **shared)
        self.ledger: ComplianceLedger = ledger or PaymentsComplianceLedger(
            settings, self.payments_client(SMS_LEDGER_RETRY)
        )
        self.memory = _SmsMemory(self.store, settings.channels_dedupe_ttl_seconds)

    def get_output_channel(self) -> OutputChannel:
        return TwilioSmsOutput(self.sender, self.memory, self.settings)

    def add_webhooks(self, blueprint: Blueprint, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        @self.signed_route(blueprint, "/webhook", "SMS webhook")
        async def webhook(request: Request, params: dict[str, str]) -> HTTPResponse:
            # Answer now; the turn runs on its own and replies through the REST API.
            self.spawn(self._process(params, on_new_message, request.app))
            return response.text(str(MessagingResponse()), content_type="text/xml")

    async def _process(
        self, params: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any = None
    ) -> None:
        sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid") or ""
        phone = normalize_phone(params.get("From"))
        if not phone:
            log.warning("SMS %s ignored: From %r is not a phone number", sid, params.get("From", "")[:24])
            return
        try:
            if not sid:  # Twilio always sends one; without it there is nothing to de-duplicate on
                await self._handle(sid, phone, params, on_new_message, app)
                return
            async with self.store.once(f"sms:{sid}", wait_seconds=0) as claim:
                if not claim.first:
                    log.info("SMS %s from %s is a repeated delivery: already handled", sid, mask_phone(phone))
                    return
                await self._handle(sid, phone, params, on_new_message, app)
        except Exception:
            log.exception("SMS %s from %s failed", sid, mask_phone(phone))
            await self.sender.send_sms(phone, TROUBLE_TEXT, params.get("To") or None)

    async def _handle(
        self,
        sid: str,
        phone: str,
        params: dict[str, str],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any = None,
    ) -> None:
        our_number = params.get("To") or None
        body = params.get("Body", "")
        num_media = int(params.get("NumMedia") or 0)

        keyword = keyword_of(body, params.get("OptOutType", ""))
        if keyword == OPT_OUT:
            # Nothing is sent after STOP: Twilio's Advanced Opt-Out confirms it to the customer.
            log.info("SMS %s: %s opted out of SMS", sid, mask_phone(phone))
            await self.ledger.opt_out(phone, conversation_id=phone)
            return
        if keyword == OPT_IN:
            log.info("SMS %s: %s opted back in to SMS", sid, mask_phone(phone))
            await self.ledger.opt_in(phone, conversation_id=phone)
            return
        if keyword == HELP:
            await self.sender.send_sms(phone, self.settings.sms_help_text, our_number)
            return

        if not body.strip():
            await self.sender.send_sms(phone, MMS_ONLY_TEXT if num_media else EMPTY_TEXT, our_number)
            return

        # "Stop calling me", "cease all communication"...: recorded and answered here, before Rasa,
        # so a paused conversation (a person, a wrong number) is no exception; there a dispute, a
        # lawyer, a bankruptcy or a death is filed as a report too. A paused conversation's Rasa
        # still takes the words (silently), so the agent's transcript has them.
        answer = await self.revocations.handle(body, channel="sms", conversation_id=phone, phone=phone)
        paused = await conversation_paused(app, phone)
        if answer is None and paused:
            answer = await self.revocations.report(body, channel="sms", conversation_id=phone, phone=phone)
        if answer is not None:
            await self.sender.send_sms(phone, answer.text, our_number)
            if not paused:
                return

        notes: list[str] = []
        if num_media:
            notes.append(ATTACHMENT_IGNORED_TEXT)
        if len(body) > MAX_INBOUND:
            body = body[:MAX_INBOUND].rsplit(None, 1)[0] if " " in body[:MAX_INBOUND] else body[:MAX_INBOUND]
            notes.append(TRUNCATED_TEXT)

        memory = await self.memory.get(phone)
        prepared = await user_text_in_conversation(body, self.card_buffer, phone)
        text = prepared.text
        if not text:  # nothing but slashes and spaces
            await self.sender.send_sms(phone, EMPTY_TEXT, our_number)
            return
        payload = None if prepared.card_number_removed else button_payload(prepared.text, memory.get("buttons") or [])
        if payload:
            text = payload
        if prepared.card_number_removed:
            log.info(
                "SMS %s from %s held a card number: sent to Rasa as %s; masked: %s",
                sid,
                mask_phone(phone),
                text,
                prepared.loggable,
            )
        else:
            log.debug("SMS %s from %s: %s", sid, mask_phone(phone), prepared.loggable)

        metadata: dict[str, Any] = {"channel": "sms", "phone": phone, "to": params.get("To", ""), "message_sid": sid}
        zone = timezone_for(params)
        if zone:
            metadata["timezone"] = zone
        if prepared.card_number_removed:
            metadata["card_number_removed"] = True
        if notes and TRUNCATED_TEXT in notes:
            metadata["truncated"] = True
        metadata = self.facts.metadata(metadata, "sms", phone, phone=phone)

        collector = SmsTurnCollector()
        await on_new_message(
            UserMessage(text, collector, phone, input_channel=CHANNEL, message_id=sid or None, metadata=metadata)
        )
        if not collector.messages and await is_listening(app, phone):
            # Rasa took the text but nothing answered (an action failed: the action server is
            # down). Silence would leave the customer waiting; a paused conversation stays silent.
            log.warning("SMS %s from %s: the turn produced no reply; sent an apology", sid, mask_phone(phone))
            collector.messages.append({"text": NO_ANSWER_TEXT})
        await self.memory.update(phone, our_number=our_number)
        output = TwilioSmsOutput(self.sender, self.memory, self.settings)
        await output.send_messages(phone, [{"text": note} for note in notes] + collector.messages, from_=our_number)
