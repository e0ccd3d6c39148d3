"""Web chat: Rasa's socket.io channel, fixed and hardened, and the chat page it serves.

Registered in bot/credentials.yml as `channels.webchat.WebChatInput`. Its name, `webchat`, has no
response variations of its own, so customers read the default (web) wording. The page is served by
the rasa server itself: `GET /webhooks/webchat/` (index.html, chat.js, chat.css and the vendored
socket.io client from `channels/webchat_static/`; no CDN).

What it changes in Rasa's `SocketIOInput`:
- The room join is awaited. python-socketio >= 5.10 made `AsyncServer.enter_room` a coroutine and
  Rasa 3.6 calls it without `await`, so with `session_persistence` the browser never joined its
  room and never got a reply (https://github.com/RasaHQ/rasa/issues/13027).
- Session ids are issued by the server (`web-` + 32 random URL-safe characters, contract C1) and
  bound to the browser they were issued to: with the id the server sends `session_token`
  `{"session_id", "session_token"}`, an HMAC of the id under a server key (derived from
  CHANNEL_FACTS_KEY), which the page keeps and sends back in `session_request`. A request naming
  an id without its token (one we never issued, another browser's, another channel's) gets a
  fresh id and no history. The socket is bound to its session when it asks for one.
- Card numbers (Luhn-valid 13-19 digit runs) are masked before anything reaches Rasa: the message
  becomes `/card_number_shared`, so the tracker store never holds the number, and the page is told
  the masked text to show instead.
- Typed text cannot inject intents or external events (channels/rasa_input.py `neutralize`).
  Only a button click (sent as `payload`) may carry `/intent{...}`, and only a payload of a button
  the bot offered since the customer last spoke (read from the tracker); anything else is sent as
  its title, like typing.
- Metadata is built here, never taken from the browser: `{"channel": "web", "timezone": <IANA
  name, when valid>}` and the signed channel facts (channel `web`, no caller ID).
- After each message is processed the room gets `bot_turn_done`, so the page can stop its typing
  indicator (also when a paused conversation stays silent).
- On reload the page sends its stored session id with `history: true` and gets the current
  session's transcript back (`history` event), with the last buttons still usable.

Agent messages (the contract for the agent console): append a bot event through Rasa's API,
`POST /conversations/{id}/tracker/events?output_channel=latest&execute_side_effects=true` with
`{"event": "bot", "text": "...", "metadata": {"agent": "Sam"}}`. `agent` is the display name the
customer sees; the page shows "Sam from Lakeside Bank joined the chat" before Sam's first message
and marks the message as Sam's. Optional `"agent_status": "left"` (with the same `agent`) shows
"Sam left the chat" after the text, for a hand-back to the assistant. Messages without `agent` are
the assistant's. Emitted to the browser as `bot_uttered` `{"text", "agent", "agent_status"}`.
The console's hand-back resumes Rasa and triggers the assistant's greeting, an ordinary assistant
message: the page takes any assistant message after an agent's as the agent having left, except
what this channel answers itself while a person has the conversation (a revocation in the
customer's words), which carries `"during_handoff": true`.

Embedding on the bank's own site: `GET /webhooks/webchat/embed.js` mounts the page in an iframe
inside `<div id="evenkeel-chat">` (README, "Web chat on your own site"). The chat keeps its own
origin, so sessions, tokens, the socket and this CSP are unchanged; the bank's origins must be
listed in `frame_ancestors`, or the browser refuses to show the frame.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from channels.card_buffer import SplitCardBuffer
from channels.config import ChannelSettings
from channels.dedupe import build_store
from channels.rasa_input import CARD_NUMBER_SHARED, FactsSigner, neutralize
from channels.rasa_state import is_listening, rasa_tracker
from channels.revocation import desk_for, drain_with_server
from contracts.masking import mask_card_numbers

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
# Only these files are served; the browser never names a path on disk.
STATIC_FILES = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "socket.io.min.js": "text/javascript; charset=utf-8",
    "embed.js": "text/javascript; charset=utf-8",  # runs on the bank's page: mounts the iframe
}
SOCKET_PATH_PLACEHOLDER = "__SOCKETIO_PATH__"

SESSION_ID = re.compile(r"web-[A-Za-z0-9_-]{32}")
CHANNEL = "web"  # the channel fact (contracts/channel_facts.py)
# IANA zone names: Area/Location[/Sub], or UTC and friends.
TIMEZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,30}(/[A-Za-z0-9_+\-]{1,30}){0,2}")
AGENT_NAME = re.compile(r"[^\x00-\x1f<>]{1,40}")
MAX_MESSAGE_CHARS = 2000
CARD_NUMBER_SHOWN = "(card number removed)"
EXTERNAL_PREFIX = "EXTERNAL: "  # rasa.shared.core.constants: text of trigger_intent user events

# Events the page listens to, besides Rasa's `session_confirm` and `bot_uttered`.
TURN_DONE_EVT = "bot_turn_done"
NO_ANSWER_TEXT = (
    "Sorry, something went wrong on our side and I couldn't answer. Please try again in a moment, "
    "or call us at 1-800-555-0199."
)
MASKED_EVT = "message_masked"
DURING_HANDOFF = "during_handoff"  # an answer of the channel's own while a person has the chat
HISTORY_EVT = "history"
SESSION_TOKEN_EVT = "session_token"


def new_session_id() -> str:
    return f"web-{secrets.token_urlsafe(24)}"


def valid_session_id(value: Any) -> bool:
    return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None


def session_token(session_id: str, key: str) -> str:
    """What binds a session id to the browser it was issued to: HMAC-SHA256 of the id under `key`.
    Stateless, so every rasa replica with the same key recognises it."""
    # A key of its own, derived from the facts key, so a session token is never a valid facts signature.
    binding_key = hmac.new(key.encode(), b"evenkeel web chat session binding", hashlib.sha256).digest()
    return hmac.new(binding_key, session_id.encode(), hashlib.sha256).hexdigest()


def session_is_bound(session_id: Any, token: Any, key: str) -> bool:
    """The browser holds the token we issued with this id."""
    return (
        bool(key)
        and valid_session_id(session_id)
        and isinstance(token, str)
        and hmac.compare_digest(token.encode(), session_token(session_id, key).encode())
    )


@lru_cache(maxsize=512)
def valid_timezone(name: str) -> bool:
    if not TIMEZONE_NAME.fullmatch(name):
        return False
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def web_metadata(client_metadata: Any) -> dict[str, Any]:
    """What Rasa gets as message metadata. Only the browser's time zone is taken from the client,
    and only a real IANA name; everything else the browser sends is ignored."""
    metadata: dict[str, Any] = {"channel": "web"}
    timezone = client_metadata.get("timezone") if isinstance(client_metadata, dict) else None
    if isinstance(timezone, str) and valid_timezone(timezone):
        metadata["timezone"] = timezone
    return metadata


def agent_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """`agent` / `agent_status` from a bot event's metadata, as the page expects them."""
    agent = fields.get("agent")
    if not isinstance(agent, str) or not AGENT_NAME.fullmatch(agent.strip()):
        return {}
    shown: dict[str, Any] = {"agent": agent.strip()}
    if fields.get("agent_status") in ("joined", "left"):
        shown["agent_status"] = fields["agent_status"]
    return shown


def quick_replies(buttons: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"content_type": "text", "title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in buttons
        if isinstance(b, dict)
    ]


def bot_messages(text: str, buttons: list[dict[str, Any]] | None, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """One bot text as the browser gets it: a bubble per paragraph (as Rasa's socket.io channel
    does), the buttons on the last one."""
    parts = [p for p in (text or "").strip().split("\n\n") if p.strip()] or [""]
    messages: list[dict[str, Any]] = [{"text": part, **extra} for part in parts]
    if buttons:
        messages[-1]["quick_replies"] = quick_replies(buttons)
    return [m for m in messages if m["text"] or m.get("quick_replies")]


class WebChatOutput(SocketIOOutput):
    """Sends to the room named by the conversation id, which every browser tab showing that
    conversation has joined; carries agent messages' `agent` / `agent_status`."""

    @classmethod
    def name(cls) -> str:
        return WebChatInput.name()

    def __init__(self, sio: Any, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0  # messages sent through this output (one is made per turn)

    async def _send_message(self, recipient_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(recipient_id, response)

    async def _emit_all(self, recipient_id: str, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self._send_message(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._emit_all(recipient_id, bot_messages(text, None, agent_fields(kwargs)))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._emit_all(recipient_id, bot_messages(text, buttons, agent_fields(kwargs)))

    async def send_channel_text(self, recipient_id: str, text: str, during_handoff: bool) -> None:
        """A text this channel answers with itself (not Rasa). `during_handoff`: sent while a
        person has the conversation, so the page does not take it for the assistant's return."""
        await self._emit_all(recipient_id, bot_messages(text, None, {DURING_HANDOFF: True} if during_handoff else {}))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # Rasa's version passes the payload as emit() keyword arguments, which fails for any
        # payload that is not emit()'s own arguments. The page ignores custom payloads.
        await self._send_message(recipient_id, {"custom": json_message})


class _WebChatBlueprint(SocketBlueprint):
    """Remembers the Sanic app, whose `ctx.agent` gives read access to the tracker store."""

    def __init__(self, on_register: Callable[[Sanic], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.on_register = on_register

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        self.ctx.on_register(app)
        super().register(app, options)


class WebChatInput(SocketIOInput):
    """The web chat connector (see the module docstring). Credentials (all optional):
    `session_persistence` (default true), `socketio_path` (default `/webhooks/webchat/socket.io`),
    `namespace`, `jwt_key` / `jwt_method`, `frame_ancestors` (CSP; default `'none'`: set the
    origins allowed to embed the page in an iframe), `message_queue_url` (`redis://...`).

    Several rasa replicas: a browser's socket lives in one replica, but an agent reply or payment
    confirmation can reach Rasa's API on another. With `message_queue_url` every replica publishes
    its emits through Redis (python-socketio's AsyncRedisManager), so they reach the socket
    wherever it is. The load balancer must also keep a socket.io client on one replica (sticky
    sessions), as socket.io's long-polling needs."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=credentials.get("session_persistence", True),
            socketio_path=credentials.get("socketio_path", "/webhooks/webchat/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
            metadata_key=credentials.get("metadata_key", "metadata"),
            frame_ancestors=credentials.get("frame_ancestors", "'none'"),
            message_queue_url=credentials.get("message_queue_url") or None,
            settings=ChannelSettings.from_env(),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = True,
        socketio_path: str | None = "/webhooks/webchat/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        frame_ancestors: str = "'none'",
        message_queue_url: str | None = None,
        settings: ChannelSettings | None = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.frame_ancestors = frame_ancestors
        self.message_queue_url = message_queue_url
        self.app: Sanic | None = None
        # The facts key signs each message's channel facts and (domain-separated) binds sessions.
        self.facts = FactsSigner(settings or ChannelSettings.from_env(), self.name())
        # A card number split across messages: a short digit buffer per conversation (channels/card_buffer.py).
        store_settings = settings or ChannelSettings.from_env()
        self.card_buffer = SplitCardBuffer(
            build_store(store_settings.channels_redis_url, store_settings.channels_dedupe_ttl_seconds)
        )
        # Revocations in the customer's words, recorded before Rasa sees them (channels/revocation.py).
        # What the service has not confirmed yet waits in the same store (Redis with
        # CHANNELS_REDIS_URL), so a restart keeps it; the drain task retries it.
        self.revocations = desk_for(
            store_settings.payments_url,
            store_settings.payments_service_token,
            store_settings.payments_timeout_seconds,
            store=self.card_buffer.store,
        )

    def get_output_channel(self) -> OutputChannel | None:
        """For pushed messages (agent replies, `trigger_intent`): emits to the room named by the
        conversation id. None (with Rasa's warning) before the blueprint exists."""
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt)

    # --- helpers the socket handlers use -------------------------------------------------------

    async def offered_payloads(self, sender_id: str) -> set[str]:
        """Payloads of the buttons the bot sent since the customer last spoke."""
        tracker = await rasa_tracker(self.app, sender_id)
        if tracker is None:
            return set()
        offered: set[str] = set()
        for event in reversed(list(tracker.events)):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, BotUttered):
                offered |= {
                    str(b.get("payload")) for b in (event.data or {}).get("buttons") or [] if isinstance(b, dict)
                }
        return offered

    async def history(self, sender_id: str) -> list[dict[str, Any]]:
        """The current session as the page shows it: `{"from": "user" | "bot", "text", ...}`.
        Button clicks show their title; the last bot buttons stay clickable if unanswered."""
        tracker = await rasa_tracker(self.app, sender_id)
        if tracker is None:
            return []
        events = list(tracker.events)
        starts = [i for i, e in enumerate(events) if isinstance(e, SessionStarted)]
        items: list[dict[str, Any]] = []
        titles: dict[str, str] = {}
        for event in events[starts[-1] if starts else 0 :]:
            if isinstance(event, UserUttered):
                text = event.text or ""
                if text.startswith(EXTERNAL_PREFIX):
                    continue  # trigger_intent: not said by the customer
                if text == CARD_NUMBER_SHARED:
                    text = CARD_NUMBER_SHOWN
                elif text.startswith("/"):
                    text = titles.get(text, "")
                for item in items:
                    item.pop("quick_replies", None)
                titles = {}
                if text:
                    items.append({"from": "user", "text": text})
            elif isinstance(event, BotUttered):
                buttons = (event.data or {}).get("buttons") or []
                titles.update({str(b.get("payload")): str(b.get("title")) for b in buttons if isinstance(b, dict)})
                extra = agent_fields(event.metadata or {})
                items += [{"from": "bot", **m} for m in bot_messages(event.text or "", buttons, extra)]
        return items

    async def revocation_answer(self, session_id: str, text: str) -> tuple[str | None, bool]:
        """(the answer, whether the conversation is paused) for a revocation in the customer's words
        ("stop calling me"), recorded against the account this conversation verified (web chat has
        no caller ID), before Rasa: also while the conversation is paused, where a dispute, a
        lawyer, a bankruptcy or a death is filed as a report too. No answer: none of those, or
        nothing to record it against while the assistant listens (it asks who and what)."""
        tracker = await rasa_tracker(self.app, session_id)
        paused = tracker is not None and tracker.is_paused()
        account = None
        if tracker is not None and tracker.get_slot("verification_status") == "verified":
            account = tracker.get_slot("account_id") or None
        if account is None and not paused:
            return None, paused
        answer = await self.revocations.handle(text, channel=CHANNEL, conversation_id=session_id, account_id=account)
        if answer is None and paused:
            answer = await self.revocations.report(
                text, channel=CHANNEL, conversation_id=session_id, account_id=account
            )
        return (answer.text if answer is not None else None), paused

    def user_text(self, data: dict[str, Any], offered: set[str]) -> tuple[str, str | None]:
        """(text for Rasa, masked text for the page or None). Empty text: nothing to send."""
        payload = data.get("payload")
        if isinstance(payload, str) and payload in offered:
            return payload, None
        text = data.get("message")
        text = text[: 4 * MAX_MESSAGE_CHARS] if isinstance(text, str) else ""
        masked, found = mask_card_numbers(text)  # before cutting: a cut could split a card number
        if found:
            return CARD_NUMBER_SHARED, masked[:MAX_MESSAGE_CHARS]
        return neutralize(text).strip()[:MAX_MESSAGE_CHARS], None

    # --- the blueprint -------------------------------------------------------------------------

    def _security_headers(self, content_type: str) -> dict[str, str]:
        csp = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self' data:",
                "connect-src 'self' ws: wss:",
                f"frame-ancestors {self.frame_ancestors}",
                "base-uri 'none'",
                "form-action 'none'",
                "object-src 'none'",
            ]
        )
        return {
            "Content-Type": content_type,
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        }

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        manager = AsyncRedisManager(self.message_queue_url) if self.message_queue_url else None
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        self.sio = sio

        def remember_app(app: Sanic) -> None:
            self.app = app

        webchat = _WebChatBlueprint(remember_app, sio, self.socketio_path, "webchat_webhook")
        drain_with_server(webchat, lambda: self.revocations)
        namespace = self.namespace

        @webchat.route("", methods=["GET"], strict_slashes=True)
        async def page_without_slash(request: Request) -> HTTPResponse:
            return response.redirect(request.path + "/")  # the page's relative asset URLs need it

        @webchat.route("/", methods=["GET"], strict_slashes=True)
        async def page(_: Request) -> HTTPResponse:
            html = _read_static("index.html").decode("utf-8")
            html = html.replace(SOCKET_PATH_PLACEHOLDER, _attr(self.socketio_path or "/socket.io"))
            return response.text(html, headers=self._security_headers("text/html; charset=utf-8"))

        @webchat.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webchat.route("/<name>", methods=["GET"])
        async def static_file(_: Request, name: str) -> HTTPResponse:
            if name not in STATIC_FILES:
                return response.text("not found", status=404)
            return response.raw(_read_static(name), headers=self._security_headers(STATIC_FILES[name]))

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> bool:
            if not self.facts.usable:
                return False  # no usable CHANNEL_FACTS_KEY: nothing could be signed (logged at start)
            if not self.jwt_key:
                return True
            token = (auth or {}).get("token")
            payload = (
                rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
                if token
                else None
            )
            return bool(payload)

        async def bind(sid: str, data: dict[str, Any]) -> tuple[str, bool]:
            """Join `sid` to its conversation's room and confirm it to the browser (with the token
            of a fresh id); (session id, whether the browser's own session was reused)."""
            requested = data.get("session_id")
            reused = bool(self.session_persistence) and session_is_bound(
                requested, data.get("session_token"), self.facts.key
            )
            if requested and not reused:
                logger.info("session_request for an id this browser does not hold: a fresh session instead")
            session_id = str(requested) if reused else new_session_id()
            await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
            joined = sio.enter_room(sid, session_id, namespace=namespace)
            if inspect.isawaitable(joined):  # RasaHQ/rasa#13027: a coroutine since python-socketio 5.10
                await joined
            if not reused:
                await sio.emit(
                    SESSION_TOKEN_EVT,
                    {"session_id": session_id, "session_token": session_token(session_id, self.facts.key)},
                    room=sid,
                    namespace=namespace,
                )
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            return session_id, reused

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id, reused = await bind(sid, data)
            if reused and data.get("history"):
                await sio.emit(HISTORY_EVT, {"messages": await self.history(session_id)}, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            session_id = (await sio.get_session(sid, namespace=namespace)).get("session_id")
            if not session_id:  # a message sent before session_request (e.g. flushed on reconnect)
                session_id, _ = await bind(sid, data)
            offered = await self.offered_payloads(session_id) if isinstance(data.get("payload"), str) else set()
            text, masked = self.user_text(data, offered)
            clicked = isinstance(data.get("payload"), str) and text == data.get("payload")
            if not clicked and await self.card_buffer.completes_card(
                session_id, text if masked is None else "", has_card=masked is not None
            ):
                text, masked = CARD_NUMBER_SHARED, CARD_NUMBER_SHOWN
            if masked is not None:
                logger.info("[conversation=%s] card number removed from a web chat message", session_id)
                await sio.emit(
                    MASKED_EVT, {"client_id": data.get("client_id"), "text": masked}, room=sid, namespace=namespace
                )
            try:
                if text:
                    output = WebChatOutput(sio, self.bot_message_evt)
                    revoked, paused = (
                        (None, False)
                        if masked is not None or clicked
                        else await self.revocation_answer(session_id, text)
                    )
                    if revoked is not None:
                        await output.send_channel_text(session_id, revoked, during_handoff=paused)
                        if not paused:  # paused: Rasa still takes the words (silently), for the agent's transcript
                            return
                    fields = web_metadata(data.get(self.metadata_key))
                    if masked is not None:
                        fields["card_number_removed"] = True
                    metadata = self.facts.metadata(fields, CHANNEL, session_id)
                    await on_new_message(
                        UserMessage(
                            text,
                            output,
                            session_id,
                            input_channel=self.name(),
                            metadata=metadata,
                        )
                    )
                    if not output.sent and await is_listening(self.app, session_id):
                        # Rasa took the message but nothing answered (an action failed, e.g. the
                        # action server is down): say so rather than leave the customer waiting.
                        logger.warning("[conversation=%s] the turn produced no reply; sent an apology", session_id)
                        await output.send_text_message(session_id, NO_ANSWER_TEXT)
            finally:
                await sio.emit(TURN_DONE_EVT, {}, room=session_id, namespace=namespace)

        return webchat


@cache
def _read_static(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
