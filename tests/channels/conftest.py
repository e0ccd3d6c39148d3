"""Harness for the Twilio connectors: each test serves a connector's blueprint with Sanic's own
server on a loopback port (as rasa does, under /webhooks/<name>/), posts correctly signed (or
tampered) Twilio webhooks with httpx, and plays Rasa with a fake `on_new_message` that records
the UserMessages and answers with scripted bot messages through the message's output channel.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic
from twilio.request_validator import RequestValidator

from channels.config import ChannelSettings

ROOT = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "test-twilio-auth-token"
ACCOUNT_SID = "AC" + "1" * 32
CUSTOMER = "+15125550101"
OUR_NUMBER = "+15005550006"


def make_settings(**changes: Any) -> ChannelSettings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": OUR_NUMBER,
        "payments_public_url": "https://pay.example.com",
    }
    values.update(changes)
    return ChannelSettings(**values)


@dataclass
class FakeRasa:
    """`on_new_message`: records what reached "Rasa" and sends the next scripted turn's bot
    messages (dicts like Rasa's: text, buttons, custom) through the message's output channel."""

    turns: list[list[dict[str, Any]]] = field(default_factory=list)
    default: list[dict[str, Any]] = field(default_factory=lambda: [{"text": "OK."}])
    delay: float = 0.0
    fail: bool = False
    received: list[UserMessage] = field(default_factory=list)

    def reply(self, *messages: dict[str, Any]) -> FakeRasa:
        self.turns.append(list(messages))
        return self

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("rasa fell over")
        turn = self.turns.pop(0) if self.turns else self.default
        for bot_message in turn:
            await message.output_channel.send_response(message.sender_id, dict(bot_message))

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.received]


@dataclass
class FakeSender:
    """Stands in for Twilio's REST API: records each SMS."""

    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    closed: bool = False

    async def send_sms(self, to: str, body: str, from_: str | None = None) -> bool:
        self.sent.append((to, body, from_))
        return True

    async def close(self) -> None:
        self.closed = True

    @property
    def bodies(self) -> list[str]:
        return [body for _, body, _ in self.sent]


@dataclass
class FakeLedger:
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    async def opt_out(self, phone: str, conversation_id: str) -> bool:
        self.calls.append(("opt_out", phone, conversation_id))
        return True

    async def opt_in(self, phone: str, conversation_id: str) -> bool:
        self.calls.append(("opt_in", phone, conversation_id))
        return True


def signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


@dataclass
class Served:
    """A connector behind a real Sanic server."""

    channel: InputChannel
    port: int
    client: httpx.AsyncClient
    public_base: str = ""  # what Twilio "called" (signatures); empty: the local URL
    server: Any = None  # Sanic's AsyncioServer

    def local(self, path_and_query: str) -> str:
        return f"http://127.0.0.1:{self.port}{path_and_query}"

    def signed_url(self, path_and_query: str) -> str:
        return (self.public_base + path_and_query) if self.public_base else self.local(path_and_query)

    async def post(
        self,
        path_and_query: str,
        form: dict[str, str],
        *,
        sign_url: str | None = None,
        token: str = AUTH_TOKEN,
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """POST like Twilio: form-encoded, signed for `sign_url` (default: the URL Twilio would call)."""
        all_headers = dict(headers or {})
        if signed:
            all_headers["X-Twilio-Signature"] = signature(sign_url or self.signed_url(path_and_query), form, token)
        return await self.client.post(self.local(path_and_query), data=form, headers=all_headers)

    async def post_url(self, absolute_url: str, form: dict[str, str]) -> httpx.Response:
        """Follow a URL from TwiML: sign it as given, send it to this server."""
        path = absolute_url.split("://", 1)[1]
        path = path[path.index("/") :]
        return await self.post(path, form, sign_url=absolute_url)


ServeFn = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve() -> AsyncIterator[ServeFn]:
    """serve(channel, on_new_message, public_base="") → Served; everything stops after the test."""
    started: list[tuple[Any, httpx.AsyncClient]] = []

    async def start(
        channel: InputChannel, on_new_message: Callable[[UserMessage], Awaitable[Any]], public_base: str = ""
    ) -> Served:
        # Test mode: Sanic's start-up "touch-up" rewrites its HTTP class in place, which works once
        # per process unless the original is kept aside (Sanic 21.12 does that in test mode).
        Sanic.test_mode = True
        app = Sanic(f"channels_test_{uuid.uuid4().hex[:12]}")
        app.config.MOTD = False
        app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
        app.ctx.input_channels = [channel]
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(100)
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        client = httpx.AsyncClient(timeout=30)
        started.append((server, client))
        return Served(channel, sock.getsockname()[1], client, public_base, server)

    yield start
    for server, client in started:
        await client.aclose()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
