"""Phone calls through Twilio Voice: `channels.voice.TwilioVoiceInput` in bot/credentials.yml,
webhook at `POST /webhooks/twilio_voice/webhook` (the number's "A call comes in" URL).

Each call is a conversation of its own, `voice-<CallSid>` (contract C1), so every call verifies
again: caller ID can be spoofed and a second call must not inherit the first one's verification.
The caller's number travels as the signed `phone` channel fact (channels/rasa_input.py), which is
how the case history joins a number's calls and texts. When the call ends (Twilio's status
callback at `POST /webhooks/twilio_voice/status`, or an answer of ours that hangs up) the
payments service is told to end the call's verification sessions (reason `call_ended`).

Every answer is TwiML built with twilio's `VoiceResponse`, never an empty `<Response/>` (Twilio
would hang up):

- the bot's text is spoken with `<Say>` inside a `<Gather input="dtmf speech">` whose action
  comes back here with a fresh `turn` token (so a retried webhook is recognised: CallSid + turn);
- keypad digits: after a message with buttons, digit N is button N's payload; 0 is always
  `/request_agent` (our voice wording promises "press 0 for a person"); * repeats the question;
  any other digits go to Rasa as text (card last 4 "4821", date of birth "03141985", ZIP), where
  the form's parsers read them;
- silence: the last question is asked again twice, then `/request_agent` is sent;
- a paused (handed-off) conversation that gets no reply is put on hold: a short message,
  music or a pause, and a redirect back here;
- custom payloads: `{"pay": {...}}` → `<Pay>` (tokenize only; the payments service charges the
  token at its `/webhooks/twilio/pay` and redirects the call back here), `{"handoff": {...}}` →
  `<Enqueue>` to a TaskRouter workflow or `<Dial>` to an agent with a whisper of the summary,
  `{"hangup": true}` → `<Hangup>`;
- text is made speakable: no emoji, markdown or URLs, amounts as money.

Messages pushed to a voice conversation (agent replies, confirmations) are spoken at the call's
next turn while it is live (hold loop included), and texted to the caller's number otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.voice_response import VoiceResponse

from channels.config import ChannelSettings
from channels.dedupe import ChannelStore
from channels.rasa_state import rasa_tracker
from channels.revocation import drain_with_server
from channels.sms import button_payload, pack_messages, render_message
from channels.twilio_common import (
    CARD_NUMBER_SHARED,
    SmsSender,
    TwilioInput,
    is_phone_number,
    mask_phone,
    normalize_phone,
    public_base,
    timezone_for,
    twilio_params,
    user_text_for_rasa,
)
from contracts.masking import MASK
from contracts.names import EndReason
from contracts.notices import with_opt_out

log = logging.getLogger(__name__)

CHANNEL = "twilio_voice"
WEBHOOK_PATH = f"/webhooks/{CHANNEL}/webhook"
STATUS_PATH = f"/webhooks/{CHANNEL}/status"  # the number's "Call status changes" URL
CONVERSATION_PREFIX = "voice-"
CALL_SID = re.compile(r"CA[0-9A-Za-z]{32}")
# CallStatus values after which the call is over (https://www.twilio.com/docs/voice/api/call-resource).
CALL_OVER = {"completed", "busy", "failed", "no-answer", "canceled"}
CALLER_SECONDS = 7 * 24 * 3600  # how long after a call a pushed message is still texted to its caller
WHISPER_PATH = f"/webhooks/{CHANNEL}/whisper"
GREET = "/greet"
REQUEST_AGENT = "/request_agent"
MAX_REPROMPTS = 2  # silences answered with the question again; the next one gets a person
CALL_STATE_SECONDS = 4 * 3600  # Twilio's longest call
LIVE_SECONDS = 60  # a call that called back this recently is live: pushed messages wait for it
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


# --- speakable text ------------------------------------------------------------------------------

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff\U0000fe0f\U0000200d"
    "\U000020e3\U0001f1e6-\U0001f1ff\U00002190-\U000021ff\U00002300-\U000023ff]+"
)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[-*+•]\s+)", re.MULTILINE)
# A URL, with what would lead into it ("pay here: https://...", "at www..."): dropped, never read out.
_URL = re.compile(r"(?:\s+(?:at|here|on|via))?\s*:?\s*\b(?:https?://|www\.)\S*[^\s.,!?;:)]", re.IGNORECASE)
_MONEY = re.compile(r"(-\s?)?\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)")
_CODE = re.compile(r"\b[A-Z]{2,5}-[A-Z0-9]{4,12}\b")  # PAY-4K2M8Q, CASE-8HD2: read one character at a time


def _money(match: re.Match[str]) -> str:
    negative, whole, fraction = match.group(1), match.group(2), match.group(3)
    dollars = int(whole.replace(",", ""))
    cents = int((fraction or "0").ljust(2, "0"))
    parts = []
    if dollars or not cents:
        parts.append(f"{whole} dollar{'' if dollars == 1 else 's'}")
    if cents:
        parts.append(f"{cents} cent{'' if cents == 1 else 's'}")
    return ("minus " if negative else "") + " and ".join(parts)


def speak_code(code: str) -> str:
    """PAY-4K2M8Q → "P A Y, 4 K 2 M 8 Q": one character at a time, groups apart."""
    return ", ".join(" ".join(part) for part in code.split("-") if part)


def speakable(text: str) -> str:
    """Text a text-to-speech voice reads well: no emoji, markdown or URLs; "$2,450.00" →
    "2,450 dollars", "$103.34" → "103 dollars and 34 cents"; lines become sentences."""
    text = _EMOJI.sub("", text or "")
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    for _ in range(2):  # nested emphasis (**_x_**)
        text = _MD_EMPHASIS.sub(r"\2", text)
    text = _MD_LINE_PREFIX.sub("", text)
    text = _MONEY.sub(_money, text)
    text = _CODE.sub(lambda m: speak_code(m.group(0)), text)
    sentences = []
    for line in text.splitlines():
        line = re.sub(r"\(\s*\)", "", line)
        line = re.sub(r"\s*:\s*$", ".", line.strip())
        line = re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"[ \t]+", " ", line)).strip()
        if not line or not re.search(r"\w", line):
            continue
        if line[-1] not in ".!?,;:":
            line += "."
        sentences.append(line)
    return " ".join(sentences)


# --- input ---------------------------------------------------------------------------------------

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_SPOKEN_CHOICE = re.compile(
    r"^\s*(?:press|number|option|choice)?\s*(\d|" + "|".join(_NUMBER_WORDS) + r")\s*[.!]?\s*$", re.IGNORECASE
)


def _spoken_choice(speech: str, buttons: list[dict[str, Any]]) -> str | None:
    match = _SPOKEN_CHOICE.match(speech)
    if match:
        word = match.group(1).lower()
        return button_payload(str(_NUMBER_WORDS.get(word, word)), buttons)
    return button_payload(speech, buttons)


def call_conversation_id(params: dict[str, str]) -> str:
    """`voice-<CallSid>`, or "" for a webhook without a well-formed CallSid (refused)."""
    call_sid = params.get("CallSid", "")
    return f"{CONVERSATION_PREFIX}{call_sid}" if CALL_SID.fullmatch(call_sid) else ""


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


# --- output channels -----------------------------------------------------------------------------


class VoiceTurnCollector(CollectingOutputChannel):
    """Collects one turn's replies for the TwiML answer; its name selects `twilio_voice` variations."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL


def _live_key(sender: str) -> str:
    return f"voice-live:{sender}"


def _queue_key(sender: str) -> str:
    return f"voice-queue:{sender}"


def _caller_key(sender: str) -> str:
    return f"voice-caller:{sender}"


class VerificationSessions(Protocol):
    async def end(self, conversation_id: str, reason: str) -> bool: ...


class PaymentsVerificationSessions:
    """`POST /api/verification-sessions/end` (contract C2) with the service token. A 404 (a
    payments service without the endpoint) is tolerated; a failure is logged, never raised: the
    sessions still expire by the service's own idle and absolute limits."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    async def end(self, conversation_id: str, reason: str) -> bool:
        import aiohttp

        headers = {"Authorization": f"Bearer {self.settings.payments_service_token}"}
        timeout = aiohttp.ClientTimeout(total=self.settings.payments_timeout_seconds)
        url = f"{self.settings.payments_url}/api/verification-sessions/end"
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(
                    url, json={"conversation_id": conversation_id, "reason": reason}, headers=headers
                ) as reply:
                    if reply.status < 300:
                        log.info(
                            "[conversation=%s] verification sessions ended (%s): %s",
                            conversation_id,
                            reason,
                            (await reply.json()).get("ended"),
                        )
                        return True
                    if reply.status == 404:
                        log.info(
                            "[conversation=%s] the payments service has no verification-sessions/end", conversation_id
                        )
                    else:
                        log.warning(
                            "[conversation=%s] ending verification sessions refused: HTTP %s",
                            conversation_id,
                            reply.status,
                        )
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.warning(
                "[conversation=%s] ending verification sessions failed: %s", conversation_id, type(exc).__name__
            )
        return False


class TwilioVoiceOutput(OutputChannel):
    """Pushed messages for a voice conversation: queued for the live call's next turn, or texted
    to the number when no call is live (a finished call, or one talking to an agent)."""

    def __init__(self, store: ChannelStore, sender: SmsSender, settings: ChannelSettings) -> None:
        self.store = store
        self.sender = sender
        self.settings = settings

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        message = {k: v for k, v in message.items() if k in ("text", "buttons", "image", "custom")}
        if await self.store.get(_live_key(recipient_id)):
            await self.store.push(_queue_key(recipient_id), message, LIVE_SECONDS * 5)
            log.info("message for the live call of %s queued for its next turn", mask_phone(recipient_id))
            return
        phone = recipient_id if is_phone_number(recipient_id) else await self.store.get(_caller_key(recipient_id))
        if not phone:
            log.warning(
                "message for voice conversation %r dropped: no live call and no number to text", recipient_id[:48]
            )
            return
        # A text after the call is a message we start: it carries the opt-out (12 CFR 1006.6(e)).
        for body in pack_messages([with_opt_out(render_message(message))]):
            await self.sender.send_sms(phone, body)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


# --- input channel -------------------------------------------------------------------------------

PausedCheck = Callable[[Request, str], Awaitable[bool]]


async def tracker_is_paused(request: Request, sender_id: str) -> bool:
    """Whether Rasa's tracker for the conversation is paused (handed off to a person)."""
    tracker = await rasa_tracker(request.app, sender_id)
    return bool(tracker is not None and tracker.is_paused())


class TwilioVoiceInput(TwilioInput):
    """Twilio Voice webhooks → Rasa → TwiML."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self,
        settings: ChannelSettings,
        *,
        store: ChannelStore | None = None,
        sender: SmsSender | None = None,
        paused: PausedCheck | None = None,
        sessions: VerificationSessions | None = None,
    ) -> None:
        super().__init__(settings, store=store, sender=sender)
        self.paused: PausedCheck = paused or tracker_is_paused
        self.sessions: VerificationSessions = sessions or PaymentsVerificationSessions(settings)

    def get_output_channel(self) -> OutputChannel:
        return TwilioVoiceOutput(self.store, self.sender, self.settings)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = self.base_blueprint()
        drain_with_server(blueprint, lambda: self.revocations)

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            params = twilio_params(request)
            refused = self.refusal(request, params, "voice webhook")
            if refused:
                return refused
            if not call_conversation_id(params):
                return response.text("CallSid missing or malformed", status=400)
            answer = await self._answer(request, params, on_new_message)
            if params.get("CallStatus") in CALL_OVER or "<Hangup" in answer:
                self.spawn(self.call_ended(params))
            return _twiml(answer)

        @blueprint.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            params = twilio_params(request)
            refused = self.refusal(request, params, "voice status callback")
            if refused:
                return refused
            if call_conversation_id(params) and params.get("CallStatus") in CALL_OVER:
                await self.call_ended(params)
            return response.empty()

        @blueprint.route("/whisper", methods=["POST"])
        async def whisper(request: Request) -> HTTPResponse:
            refused = self.refusal(request, twilio_params(request))
            if refused:
                return refused
            case = await self.store.get(f"whisper:{request.args.get('case', '')}") or {}
            reply = VoiceResponse()
            words = [WHISPER_INTRO]
            if case.get("case_id"):
                words.append(f"Case {speak_code(case['case_id']) if '-' in case['case_id'] else case['case_id']}.")
            if case.get("summary"):
                words.append(speakable(case["summary"]))
            reply.say(" ".join(words), voice=self.settings.twilio_voice, language=self.settings.twilio_voice_language)
            return _twiml(str(reply))

        return blueprint

    async def call_ended(self, params: dict[str, str]) -> None:
        """The call is over: no more live turns, and its verification ends with it."""
        conversation_id = call_conversation_id(params)
        await self.store.delete(_live_key(conversation_id))
        if await self.store.get(f"voice-ended:{conversation_id}"):
            return  # already told (a hang-up of ours, then Twilio's status callback)
        await self.store.set(f"voice-ended:{conversation_id}", True, CALL_STATE_SECONDS)
        log.info("call %s ended (%s)", params.get("CallSid"), params.get("CallStatus") or "hung up")
        await self.sessions.end(conversation_id, EndReason.CALL_ENDED)

    # --- one webhook ---------------------------------------------------------------------------

    async def _answer(
        self, request: Request, params: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> str:
        call_sid = params.get("CallSid", "")
        key = f"voice:{call_sid}:{request.args.get('turn', 'start')}"
        try:
            async with self.store.once(key, wait_seconds=10) as claim:
                if not claim.first:
                    log.info("voice webhook %s repeated: answering as before", key)
                    return claim.result or self._come_back(request)
                claim.result = await self._turn(request, params, on_new_message)
                return claim.result
        except Exception:
            log.exception("voice turn %s failed", key)
            turn = _Turn(self, request, params)
            return str(turn.gather([TROUBLE_TEXT], []))

    def _come_back(self, request: Request) -> str:
        """The first copy of this webhook is still being answered (another replica): ask again."""
        reply = VoiceResponse()
        reply.pause(length=1)
        reply.redirect(self.validator.url(request), method="POST")
        return str(reply)

    async def _turn(
        self, request: Request, params: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> str:
        turn = _Turn(self, request, params)
        sender = turn.sender
        state = await turn.load_state()
        after = request.args.get("after", "")
        queued = await self.store.pop_all(_queue_key(sender))

        if after == "dial":
            # The agent's leg ended: after a conversation, goodbye; unanswered, keep the caller waiting.
            if params.get("DialCallStatus") in ("completed", "answered"):
                reply = VoiceResponse()
                turn.say(reply, [AGENT_CALL_DONE_TEXT])
                reply.hangup()
                return await turn.finish(reply, live=False)
            return await turn.finish(turn.hold(queued, 0, lead=DIAL_FAILED_TEXT))
        if after == "pay":
            if queued:
                log.info(
                    "call %s: %d pushed message(s) dropped after <Pay> (the payments service spoke the outcome)",
                    turn.call_sid,
                    len(queued),
                )
            return await turn.finish(turn.gather([AFTER_PAY_PROMPT], []), prompt=AFTER_PAY_PROMPT, buttons=[])
        if after == "hold":
            loop = _int(request.args.get("hold"), 1)
            if await self.paused(request, sender):
                return await turn.finish(turn.hold(queued, loop))
            texts, buttons = _texts_and_buttons(queued)
            prompt = texts[-1] if texts else BACK_PROMPT
            return await turn.finish(turn.gather(texts or [BACK_PROMPT], buttons), prompt=prompt, buttons=buttons)

        digits = params.get("Digits", "").strip()
        speech = params.get("SpeechResult", "").strip()
        buttons = state.get("buttons") or []
        card_number_removed = False
        if "turn" not in request.args:
            text, kind, loggable = GREET, "start", GREET
        elif digits or speech:
            state["silences"] = 0
            text, kind, loggable, card_number_removed = self._user_input(digits, speech, buttons)
            if digits == "*" or not text:  # * repeats the question
                return await turn.finish(turn.reprompt(state, queued=queued), state=state)
            # A card number keyed or said over several turns: the turn that completes it is masked.
            if await self.card_buffer.completes_card(sender, digits or speech, has_card=card_number_removed):
                text, loggable, card_number_removed = CARD_NUMBER_SHARED, MASK, True
            if kind == "speech" and not card_number_removed:
                # "Stop calling me", "don't text me": recorded and answered here, before Rasa, so a
                # paused conversation is no exception. After a cease the call ends.
                answer = await self.revocations.handle(
                    speech, channel="voice", conversation_id=sender, phone=normalize_phone(params.get("From")) or None
                )
                if answer is not None:
                    if answer.cease:
                        reply = VoiceResponse()
                        turn.say(reply, [answer.text, AGENT_CALL_DONE_TEXT])
                        reply.hangup()
                        return await turn.finish(reply, state=state, live=False)
                    return await turn.finish(
                        turn.gather([answer.text, FALLBACK_PROMPT], []), state=state, prompt=FALLBACK_PROMPT, buttons=[]
                    )
        else:
            state["silences"] = int(state.get("silences") or 0) + 1
            if state["silences"] <= MAX_REPROMPTS:
                log.info("call %s: silence %d, asking again", turn.call_sid, state["silences"])
                return await turn.finish(turn.reprompt(state, lead=SILENCE_LEAD, queued=queued), state=state)
            log.info("call %s: silence %d, offering a person", turn.call_sid, state["silences"])
            state["silences"] = 0
            text, kind, loggable = REQUEST_AGENT, "silence", REQUEST_AGENT

        if card_number_removed:
            log.info(
                "call %s from %s (%s) held a card number: sent to Rasa as %s; masked: %s",
                turn.call_sid,
                mask_phone(normalize_phone(params.get("From"))),
                kind,
                text,
                loggable,
            )
        else:  # what callers say (dates of birth, ZIP codes) stays out of INFO logs
            log.info("call %s from %s: %s turn", turn.call_sid, mask_phone(normalize_phone(params.get("From"))), kind)
            log.debug("call %s (%s): %s", turn.call_sid, kind, loggable)
        collector = VoiceTurnCollector()
        await on_new_message(
            UserMessage(
                text,
                collector,
                sender,
                input_channel=CHANNEL,
                metadata=self.facts.metadata(
                    turn.metadata(kind, card_number_removed),
                    "voice",
                    sender,
                    phone=normalize_phone(params.get("From")),
                    call_sid=turn.call_sid,
                ),
            )
        )
        if not collector.messages:
            if await self.paused(request, sender):
                return await turn.finish(turn.hold(queued, 0), state=state)
            return await turn.finish(turn.reprompt(state, queued=queued), state=state)
        reply, prompt, buttons = await turn.render(queued + collector.messages)
        return await turn.finish(reply, state=state, prompt=prompt, buttons=buttons)

    def _user_input(self, digits: str, speech: str, buttons: list[dict[str, Any]]) -> tuple[str, str, str, bool]:
        """(text for Rasa, kind, what may be logged, whether a card number was removed)."""
        if digits:
            prepared = user_text_for_rasa(digits)
            if prepared.card_number_removed:
                return prepared.text, "dtmf", prepared.loggable, True
            if digits == "0":
                return REQUEST_AGENT, "dtmf", digits, False
            payload = button_payload(digits, buttons) if digits.isdigit() and len(digits) <= 2 else None
            return (payload or prepared.text), "dtmf", prepared.loggable, False
        prepared = user_text_for_rasa(speech)
        if prepared.card_number_removed:
            return prepared.text, "speech", prepared.loggable, True
        payload = _spoken_choice(prepared.text, buttons) if buttons and prepared.text else None
        return (payload or prepared.text), "speech", prepared.loggable, False


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def _twiml(xml: str) -> HTTPResponse:
    return response.text(xml, content_type="text/xml")


def _texts_and_buttons(messages: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
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


class _Turn:
    """Builds the TwiML of one webhook answer and keeps the call's state."""

    def __init__(self, channel: TwilioVoiceInput, request: Request, params: dict[str, str]) -> None:
        self.channel = channel
        self.settings = channel.settings
        self.store = channel.store
        self.params = params
        self.call_sid = params.get("CallSid", "")
        self.sender = call_conversation_id(params)
        self.base = public_base(request, self.settings.twilio_public_base_url)

    # --- state ---

    @property
    def _state_key(self) -> str:
        return f"voice-call:{self.call_sid}"

    async def load_state(self) -> dict[str, Any]:
        return dict(await self.store.get(self._state_key) or {"prompt": "", "buttons": [], "silences": 0})

    async def finish(
        self,
        reply: VoiceResponse,
        *,
        state: dict[str, Any] | None = None,
        prompt: str | None = None,
        buttons: list[dict[str, Any]] | None = None,
        live: bool = True,
    ) -> str:
        state = dict(state if state is not None else await self.load_state())
        if prompt is not None:
            state["prompt"] = prompt
            state["buttons"] = buttons or []
        await self.store.set(self._state_key, state, CALL_STATE_SECONDS)
        if live:
            await self.store.set(_live_key(self.sender), self.call_sid, LIVE_SECONDS)
            phone = normalize_phone(self.params.get("From"))
            if phone:  # where a message pushed after the call goes
                await self.store.set(_caller_key(self.sender), phone, CALLER_SECONDS)
        else:
            await self.store.delete(_live_key(self.sender))
        return str(reply)

    def metadata(self, kind: str, card_number_removed: bool) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "channel": "voice",
            "to": self.params.get("To", ""),
            "call_sid": self.call_sid,
            "input": kind,
        }
        phone = normalize_phone(self.params.get("From"))
        if phone:
            metadata["phone"] = phone
        zone = timezone_for(self.params)
        if zone:
            metadata["timezone"] = zone
        if card_number_removed:
            metadata["card_number_removed"] = True
        return metadata

    # --- TwiML ---

    def url(self, **params: Any) -> str:
        return f"{self.base}{WEBHOOK_PATH}?" + urlencode({"turn": secrets.token_urlsafe(6), **params})

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
        pushed, _ = _texts_and_buttons(queued or [])
        prompt = state.get("prompt") or FALLBACK_PROMPT
        return self.gather([t for t in (*pushed, lead, prompt) if t], state.get("buttons") or [])

    def hold(self, queued: list[dict[str, Any]], loop: int, lead: str | None = None) -> VoiceResponse:
        """Waiting for a person: what was pushed meanwhile, a short message now and then, music or a
        pause, and a redirect back here (Twilio would hang up at the end of the document)."""
        reply = VoiceResponse()
        texts, _ = _texts_and_buttons(queued)
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
                _, buttons = _texts_and_buttons([message])
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
        query = urlencode({"payment_id": payment_id, "return_url": self.url(after="pay")})
        self.say(reply, texts)
        reply.pay(
            input="dtmf",
            payment_connector=self.settings.twilio_pay_connector,
            token_type="payment-method",
            action=f"{self.settings.payments_public_url}/webhooks/twilio/pay?{query}",
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
                url=f"{self.base}{WHISPER_PATH}?" + urlencode({"case": token}),
                method="POST",
            )
            return reply
        log.warning(
            "call %s: handoff with neither TWILIO_WORKFLOW_SID nor TWILIO_AGENT_NUMBER: caller put on hold",
            self.call_sid,
        )
        hold = self.hold([], 0, lead=" ".join(texts) or None)
        return hold
