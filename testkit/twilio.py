"""A stand-in for Twilio: the webhooks it would send (signed forms) and its REST API as far as our
SMS connector uses it (`TwilioApiStandIn`). Used by tests, benchmarks and the phone simulator
(scripts/phone.py)."""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web

from contracts.twilio import compute_signature

DEFAULT_AUTH_TOKEN = "dev-twilio-auth-token"
DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_OUR_NUMBER = "+15005550006"
SMS_PATH = "/webhooks/twilio_sms/webhook"
VOICE_PATH = "/webhooks/twilio_voice/webhook"
VOICE_STATUS_PATH = "/webhooks/twilio_voice/status"


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    """The `X-Twilio-Signature` Twilio would send for this URL and form (contracts/twilio.py)."""
    return compute_signature(auth_token, url, params)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


# --- Twilio's REST API, as far as the SMS connector uses it --------------------------------------


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str = ""


@dataclass
class TwilioApiStandIn:
    """POST /2010-04-01/Accounts/{sid}/Messages.json answered like Twilio: 201 with the message
    resource, 401 (code 20003) for a wrong account or auth token, 400 (code 21610) for a number
    that opted out. Used by scripts/phone.py, tests and benchmarks."""

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    on_message: Callable[[SentMessage], None] | None = None
    on_refused: Callable[[str, str], None] | None = None  # (to, why)
    messages: list[SentMessage] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    port: int = 0
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account_sid}/Messages.json", self._create_message)
        return app

    async def _create_message(self, request: web.Request) -> web.Response:
        if (
            request.headers.get("Authorization") != basic_auth(self.account_sid, self.auth_token)
            or request.match_info["account_sid"] != self.account_sid
        ):
            if self.on_refused:
                self.on_refused(request.match_info["account_sid"], "wrong account SID or auth token (Twilio 20003)")
            return _twilio_error(20003, "Authenticate", 401)
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        if to in self.opted_out:
            if self.on_refused:
                self.on_refused(to, "the number opted out (Twilio 21610)")
            return _twilio_error(21610, "Attempt to send to unsubscribed recipient", 400)
        message = SentMessage(
            new_sid("SM"), to, str(form.get("From", "")), body, str(form.get("MessagingServiceSid", ""))
        )
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        if self.on_message:
            self.on_message(message)
        now = formatdate(usegmt=True)
        return web.json_response(
            {
                "sid": message.sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": message.from_ or None,
                "messaging_service_sid": message.messaging_service_sid or None,
                "body": body,
                "status": "queued",
                "num_segments": str(max(1, -(-len(body) // 153))),
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json",
                "subresource_uris": {},
            },
            status=201,
        )

    async def start(self, port: int = 0) -> TwilioApiStandIn:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self, port: int = 0) -> TwilioApiStandIn:
        """For synchronous callers (a session-wide test fixture): serve from a thread of its own."""
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start(port))
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="twilio-api-stand-in", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Twilio API stand-in did not start")
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def wait_for(self, predicate: Callable[[list[SentMessage]], bool], timeout: float = 30) -> list[SentMessage]:
        """Block until `predicate(messages)` holds (or time out); returns the messages."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return list(self.messages)

    def to(self, phone: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to == phone]


def _twilio_error(code: int, message: str, status: int) -> web.Response:
    """An error of Twilio's REST API, as its body looks: https://www.twilio.com/docs/usage/twilios-response"""
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )


def sms_form(
    body: str, from_: str, to: str, account_sid: str = DEFAULT_ACCOUNT_SID, *, state: str = "TX", media: bool = False
) -> dict[str, str]:
    """The form Twilio posts to the SMS webhook for one incoming text (a new MessageSid)."""
    sid = new_sid("SM")
    form = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "1" if media else "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": state,
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "",
        "NumSegments": str(max(1, -(-len(body) // 153))),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    if media:
        form["MediaContentType0"] = "image/jpeg"
        form["MediaUrl0"] = (
            f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media/ME{secrets.token_hex(16)}"
        )
    return form
