"""The TwiML of a call's answers, built with twilio's `VoiceResponse`: the bot's text spoken in a
`<Gather input="dtmf speech">` that comes back to the connector's webhook with a fresh `turn`
token, the question again on silence, the hold loop, and the custom payloads (`<Pay>` whose action
is the payments service's webhook, contracts/twilio.py; `<Enqueue>` or `<Dial>` with a whisper
for a handoff; `<Hangup>`). The connector (channels/voice.py) decides which; this module says it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any

from sanic import response
from sanic.response import HTTPResponse
from twilio.twiml.voice_response import VoiceResponse

from channels.config import ChannelSettings
from channels.dedupe import ChannelStore
from channels.speech import speakable
from contracts.twilio import pay_action_url, webhook_url

log = logging.getLogger(__name__)

CHANNEL = "twilio_voice"
WEBHOOK_PATH = f"/webhooks/{CHANNEL}/webhook"
STATUS_PATH = f"/webhooks/{CHANNEL}/status"  # the number's "Call status changes" URL
WHISPER_PATH = f"/webhooks/{CHANNEL}/whisper"
HOLD_PAUSE_SECONDS = 20
HOLD_MAX_LOOPS = 45  # 15 minutes on hold, then apologise and end the call
DEFAULT_HINTS = (
    "agent",
    "representative",
    "a person",
    "yes",
    "no",
    "balance",
    "make a payment",
    "payment plan",
    "settlement",
    "hardship",
    "wrong number",
    "repeat",
)

# Connector wording (not bot responses: Rasa is not asked for these turns).
SILENCE_LEAD = "Sorry, I didn't hear anything."
FALLBACK_PROMPT = "How can I help you today? You can also press 0 to speak with a person."
AFTER_PAY_PROMPT = "Is there anything else I can help you with? You can say it, or press 0 for a person."
BACK_PROMPT = "Thanks for waiting. You're back with the automated assistant. How can I help?"
NO_PAY_TEXT = "Sorry, I can't take a keypad payment right now."
HOLD_TEXT = "Please hold. A person from our team will be with you as soon as possible."
HOLD_AGAIN_TEXT = "Thank you for holding."
HOLD_GIVE_UP_TEXT = "Sorry for the long wait. Our team has your case and will get back to you. Goodbye."
DIAL_FAILED_TEXT = "Sorry, no one from our team could take your call just now. Please stay on the line."
AGENT_CALL_DONE_TEXT = "Thank you for calling Lakeside Bank. Goodbye."
TROUBLE_TEXT = "Sorry, I'm having trouble right now. Please try again, or press 0 for a person."
WHISPER_INTRO = "Incoming call from the Lakeside Bank assistant."


def _digits_expected(prompt: str, buttons: list[dict[str, Any]]) -> int | None:
    """How many keypad digits answer the prompt, so Twilio needn't wait for # or a timeout."""
    if buttons and len(buttons) <= 9:
        return 1
    match = re.search(r"\b(\d{1,2})[ -]digits?\b", prompt)
    if match:
        return int(match.group(1))
    if re.search(r"\bpress (?:1|one|a number)\b", prompt, re.IGNORECASE):
        return 1
    return None


def twiml_response(xml: str) -> HTTPResponse:
    return response.text(xml, content_type="text/xml")


def texts_and_buttons(messages: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    texts = [t for t in (speakable(m.get("text") or "") for m in messages) if t]
    buttons: list[dict[str, Any]] = []
    for message in messages:
        if message.get("buttons"):
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in message["buttons"]
            ]
    return texts, buttons


def _filled(value: Any) -> str:
    """A template value Rasa could not fill stays "{name}": treat it as missing."""
    text = str(value or "").strip()
    return "" if re.fullmatch(r"\{[^}]*\}", text) else text


class CallTwiml:
    """Builds the TwiML of one answer to a call: `base` is where Twilio reaches the connector,
    `sender` the call's conversation id; the store keeps a handoff's whisper for the agent's leg."""

    def __init__(self, settings: ChannelSettings, store: ChannelStore, base: str, call_sid: str, sender: str) -> None:
        self.settings = settings
        self.store = store
        self.base = base
        self.call_sid = call_sid
        self.sender = sender

    def url(self, **params: str | int) -> str:
        """The connector's webhook, for Twilio to call next, with a fresh `turn` token."""
        query = {"turn": secrets.token_urlsafe(6), **{key: str(value) for key, value in params.items()}}
        return webhook_url(self.base, WEBHOOK_PATH, query)

    def say(self, node: Any, texts: list[str]) -> None:
        for text in texts:
            node.say(text, voice=self.settings.twilio_voice, language=self.settings.twilio_voice_language)

    def gather(self, texts: list[str], buttons: list[dict[str, Any]]) -> VoiceResponse:
        reply = VoiceResponse()
        hints = [b["title"] for b in buttons if b.get("title")] + list(DEFAULT_HINTS)
        options: dict[str, Any] = {
            "input": "dtmf speech",
            "action": self.url(),
            "method": "POST",
            "barge_in": True,
            "hints": ", ".join(dict.fromkeys(hints)),
            "speech_timeout": "auto",
            "language": self.settings.twilio_voice_language,
            "action_on_empty_result": True,
        }
        digits = _digits_expected(texts[-1] if texts else "", buttons)
        if digits:
            options["num_digits"] = digits
        if self.settings.twilio_speech_model:
            options["speech_model"] = self.settings.twilio_speech_model
        gather = reply.gather(**options)
        self.say(gather, texts)
        return reply

    def reprompt(
        self, state: dict[str, Any], lead: str | None = None, queued: list[dict[str, Any]] | None = None
    ) -> VoiceResponse:
        """The last question again (after what was pushed to the call meanwhile)."""
        pushed, _ = texts_and_buttons(queued or [])
        prompt = state.get("prompt") or FALLBACK_PROMPT
        return self.gather([t for t in (*pushed, lead, prompt) if t], state.get("buttons") or [])

    def hold(self, queued: list[dict[str, Any]], loop: int, lead: str | None = None) -> VoiceResponse:
        """Waiting for a person: what was pushed meanwhile, a short message now and then, music or a
        pause, and a redirect back here (Twilio would hang up at the end of the document)."""
        reply = VoiceResponse()
        texts, _ = texts_and_buttons(queued)
        if lead:
            texts.insert(0, lead)
        if loop >= HOLD_MAX_LOOPS:
            self.say(reply, texts + [HOLD_GIVE_UP_TEXT])
            reply.hangup()
            return reply
        if loop == 0:
            texts.append(HOLD_TEXT)
        elif loop % 4 == 0:
            texts.append(HOLD_AGAIN_TEXT)
        self.say(reply, texts)
        if self.settings.twilio_hold_music_url:
            reply.play(self.settings.twilio_hold_music_url)
        else:
            reply.pause(length=HOLD_PAUSE_SECONDS)
        reply.redirect(self.url(after="hold", hold=loop + 1), method="POST")
        return reply

    async def render(self, messages: list[dict[str, Any]]) -> tuple[VoiceResponse, str | None, list[dict[str, Any]]]:
        """A turn's messages as TwiML; the question to repeat on silence and its buttons (None
        when the answer ends with a payment, a handoff or a hang-up instead of a question)."""
        texts: list[str] = []
        buttons: list[dict[str, Any]] = []
        action: dict[str, Any] | None = None
        for message in messages:
            if action is not None:
                log.warning("call %s: a message after a %s payload was not spoken", self.call_sid, next(iter(action)))
                continue
            text = speakable(message.get("text") or "")
            if text:
                texts.append(text)
            if message.get("buttons"):
                _, buttons = texts_and_buttons([message])
            custom = message.get("custom")
            if isinstance(custom, dict) and ({"pay", "handoff"} & custom.keys() or custom.get("hangup")):
                action = custom
            elif custom:
                log.info("call %s: custom payload %s has no voice rendering", self.call_sid, sorted(custom))

        if action is None:
            return self.gather(texts, buttons), (texts[-1] if texts else None), buttons
        reply = VoiceResponse()
        if "pay" in action:
            if self._pay(reply, texts, action.get("pay") or {}):
                return reply, None, []
            fallback = texts[:-1] + [NO_PAY_TEXT, AFTER_PAY_PROMPT]  # the last text announced the payment
            return self.gather(fallback, []), AFTER_PAY_PROMPT, []
        if "handoff" in action:
            return await self._handoff(reply, texts, action.get("handoff") or {}), None, []
        self.say(reply, texts)
        reply.hangup()
        return reply, None, []

    def _pay(self, reply: VoiceResponse, texts: list[str], pay: dict[str, Any]) -> bool:
        """`<Pay>` with the Stripe connector, tokenize only (no chargeAmount): Twilio posts the
        PaymentMethod to the payments service, which charges the pending payment and redirects
        the call back to `return_url` (payments/api/routers/webhooks.py has the contract)."""
        payment_id = _filled(pay.get("payment_id"))
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", payment_id):
            log.error("call %s: <Pay> payload without a usable payment_id", self.call_sid)
            return False
        self.say(reply, texts)
        reply.pay(
            input="dtmf",
            payment_connector=self.settings.twilio_pay_connector,
            token_type="payment-method",
            action=pay_action_url(self.settings.payments_public_url, payment_id, self.url(after="pay")),
            language=self.settings.twilio_voice_language,
        )
        return True

    async def _handoff(self, reply: VoiceResponse, texts: list[str], handoff: dict[str, Any]) -> VoiceResponse:
        case_id = _filled(handoff.get("case_id"))[:64]
        summary = _filled(handoff.get("summary"))[:500]
        if self.settings.twilio_workflow_sid:
            self.say(reply, texts)
            task = {
                "type": "evenkeel_handoff",
                "case_id": case_id,
                "summary": summary,
                "conversation_id": self.sender,
                "channel": "voice",
                "call_sid": self.call_sid,
            }
            reply.enqueue(workflow_sid=self.settings.twilio_workflow_sid).task(json.dumps(task))
            return reply
        if self.settings.twilio_agent_number:
            token = secrets.token_urlsafe(12)
            await self.store.set(f"whisper:{token}", {"case_id": case_id, "summary": summary}, 3600)
            self.say(reply, texts)
            dial = reply.dial(action=self.url(after="dial"), method="POST")
            dial.number(
                self.settings.twilio_agent_number,
                url=webhook_url(self.base, WHISPER_PATH, {"case": token}),
                method="POST",
            )
            return reply
        log.warning(
            "call %s: handoff with neither TWILIO_WORKFLOW_SID nor TWILIO_AGENT_NUMBER: caller put on hold",
            self.call_sid,
        )
        hold = self.hold([], 0, lead=" ".join(texts) or None)
        return hold
