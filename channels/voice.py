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
- text is made speakable: no emoji, markdown or URLs, amounts as money (channels/speech.py).

This module is the connector (webhooks, the call's state, what goes to Rasa); the TwiML of each
answer is built in channels/twiml.py, and the text of messages texted after a call is rendered as
for SMS (channels/rendering.py).

Messages pushed to a voice conversation (agent replies, confirmations) are spoken at the call's
next turn while it is live (hold loop included), and texted to the caller's number otherwise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.voice_response import VoiceResponse
from typing_extensions import Unpack

from channels.config import ChannelSettings
from channels.dedupe import ChannelStore
from channels.rasa_input import CARD_NUMBER_SHARED
from channels.rasa_state import rasa_tracker
from channels.rendering import button_payload, pack_messages, render_message
from channels.speech import speak_code, speakable
from channels.twilio_common import (
    Collaborators,
    SmsSender,
    TwilioInput,
    TwilioOutput,
    is_phone_number,
    mask_phone,
    normalize_phone,
    public_base,
    timezone_for,
    user_text_for_rasa,
)
from channels.twiml import (
    AFTER_PAY_PROMPT,
    AGENT_CALL_DONE_TEXT,
    BACK_PROMPT,
    CHANNEL,
    DIAL_FAILED_TEXT,
    FALLBACK_PROMPT,
    SILENCE_LEAD,
    TROUBLE_TEXT,
    WHISPER_INTRO,
    CallTwiml,
    texts_and_buttons,
    twiml_response,
)
from clients.payments import HttpPaymentsClient, PaymentsClient, PaymentsError, Rejected, RouteMissing
from contracts.masking import MASK
from contracts.names import EndReason
from contracts.notices import with_opt_out

log = logging.getLogger(__name__)

CONVERSATION_PREFIX = "voice-"
CALL_SID = re.compile(r"CA[0-9A-Za-z]{32}")
# CallStatus values after which the call is over (https://www.twilio.com/docs/voice/api/call-resource).
CALL_OVER = {"completed", "busy", "failed", "no-answer", "canceled"}
CALLER_SECONDS = 7 * 24 * 3600  # how long after a call a pushed message is still texted to its caller
GREET = "/greet"
REQUEST_AGENT = "/request_agent"
MAX_REPROMPTS = 2  # silences answered with the question again; the next one gets a person
CALL_STATE_SECONDS = 4 * 3600  # Twilio's longest call
LIVE_SECONDS = 60  # a call that called back this recently is live: pushed messages wait for it


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
    """Ends a call's verification sessions: `end_verification_session` of the client of the
    payments service (clients/payments.py; C2 `POST /api/verification-sessions/end`). A service
    without the route is tolerated; a failure is logged, never raised: the sessions still expire
    by the service's own idle and absolute limits."""

    def __init__(self, settings: ChannelSettings, client: PaymentsClient | None = None) -> None:
        self.client: PaymentsClient = client or HttpPaymentsClient(
            settings.payments_url, settings.payments_service_token, settings.payments_timeout_seconds
        )

    async def end(self, conversation_id: str, reason: str) -> bool:
        try:
            ended = await self.client.end_verification_session(conversation_id=conversation_id, reason=reason)
        except RouteMissing:
            log.info("[conversation=%s] the payments service has no verification-sessions/end", conversation_id)
        except Rejected as exc:
            log.warning("[conversation=%s] ending verification sessions refused: %s", conversation_id, exc)
        except PaymentsError as exc:
            log.warning(
                "[conversation=%s] ending verification sessions failed: %s", conversation_id, type(exc).__name__
            )
        else:
            log.info("[conversation=%s] verification sessions ended (%s): %s", conversation_id, reason, ended)
            return True
        return False


class TwilioVoiceOutput(TwilioOutput):
    """Pushed messages for a voice conversation: queued for the live call's next turn, or texted
    to the number when no call is live (a finished call, or one talking to an agent)."""

    channel_name = CHANNEL

    def __init__(self, store: ChannelStore, sender: SmsSender, settings: ChannelSettings) -> None:
        super().__init__(sender, settings)
        self.store = store

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


# --- input channel -------------------------------------------------------------------------------

PausedCheck = Callable[[Request, str], Awaitable[bool]]


async def tracker_is_paused(request: Request, sender_id: str) -> bool:
    """Whether Rasa's tracker for the conversation is paused (handed off to a person)."""
    tracker = await rasa_tracker(request.app, sender_id)
    return bool(tracker is not None and tracker.is_paused())


class TwilioVoiceInput(TwilioInput):
    """Twilio Voice webhooks → Rasa → TwiML."""

    channel_name = CHANNEL

    def __init__(
        self,
        settings: ChannelSettings,
        *,
        paused: PausedCheck | None = None,
        sessions: VerificationSessions | None = None,
        **shared: Unpack[Collaborators],
    ) -> None:
        super().__init__(settings, **shared)
        self.paused: PausedCheck = paused or tracker_is_paused
        self.sessions: VerificationSessions = sessions or PaymentsVerificationSessions(settings, self.payments_client())

    def get_output_channel(self) -> OutputChannel:
        return TwilioVoiceOutput(self.store, self.sender, self.settings)

    def add_webhooks(self, blueprint: Blueprint, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        @self.signed_route(blueprint, "/webhook", "voice webhook")
        async def webhook(request: Request, params: dict[str, str]) -> HTTPResponse:
            if not call_conversation_id(params):
                return response.text("CallSid missing or malformed", status=400)
            answer = await self._answer(request, params, on_new_message)
            if params.get("CallStatus") in CALL_OVER or "<Hangup" in answer:
                self.spawn(self.call_ended(params))
            return twiml_response(answer)

        @self.signed_route(blueprint, "/status", "voice status callback")
        async def status(request: Request, params: dict[str, str]) -> HTTPResponse:
            if call_conversation_id(params) and params.get("CallStatus") in CALL_OVER:
                await self.call_ended(params)
            return response.empty()

        @self.signed_route(blueprint, "/whisper")
        async def whisper(request: Request, _: dict[str, str]) -> HTTPResponse:
            case = await self.store.get(f"whisper:{request.args.get('case', '')}") or {}
            reply = VoiceResponse()
            words = [WHISPER_INTRO]
            if case.get("case_id"):
                words.append(f"Case {speak_code(case['case_id']) if '-' in case['case_id'] else case['case_id']}.")
            if case.get("summary"):
                words.append(speakable(case["summary"]))
            reply.say(" ".join(words), voice=self.settings.twilio_voice, language=self.settings.twilio_voice_language)
            return twiml_response(str(reply))

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
            texts, buttons = texts_and_buttons(queued)
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
        reply, question, buttons = await turn.render(queued + collector.messages)
        return await turn.finish(reply, state=state, prompt=question, buttons=buttons)

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


class _Turn(CallTwiml):
    """One webhook answer: its TwiML (channels/twiml.py) and the call's state."""

    def __init__(self, channel: TwilioVoiceInput, request: Request, params: dict[str, str]) -> None:
        base = public_base(request, channel.settings.twilio_public_base_url)
        super().__init__(channel.settings, channel.store, base, params.get("CallSid", ""), call_conversation_id(params))
        self.params = params

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
