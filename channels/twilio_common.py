"""What the SMS and voice connectors share: Twilio's webhook signature, form flattening, phone
numbers, an async sender for Twilio's REST API, and `TwilioInput`, the base of both input channels.

Signatures: Twilio signs the exact URL it called plus the POST parameters; the rule (public base
+ path + query) and the check are contracts/twilio.py, shared with the payments service's `<Pay>`
webhook and the phone simulator. The public base URL is configurable (TWILIO_PUBLIC_BASE_URL):
behind a proxy, load balancer or tunnel the URL rasa sees is not the one Twilio called.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypedDict, TypeVar
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from typing_extensions import Unpack

from channels.card_buffer import SplitCardBuffer
from channels.config import ChannelSettings
from channels.dedupe import ChannelStore, build_store
from channels.rasa_input import CARD_NUMBER_SHARED, FactsSigner, neutralize
from channels.revocation import desk_for, drain_with_server
from clients.payments import HttpPaymentsClient, Retry
from contracts.masking import MASK, mask_card_numbers, redact_digits
from contracts.twilio import SIGNATURE_HEADER, is_valid_signature, signed_url

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# What Twilio puts in From when the caller ID is withheld: "ANONYMOUS", "RESTRICTED", "BLOCKED",
# "UNAVAILABLE" spelled on a keypad. These are not anybody's number, so never a conversation id.
WITHHELD_CALLER_IDS = {"+266696687", "+7378742833", "+2562533", "+86282452253"}
# Twilio error codes that are the customer's choice, not a failure of ours.
TWILIO_UNSUBSCRIBED = 21610  # the recipient replied STOP to this sender


def flatten_form(form: Mapping[str, Any] | None) -> dict[str, str]:
    """Sanic gives form values as lists; Twilio sends one value per name. First value, as str."""
    flat: dict[str, str] = {}
    for key, value in (form or {}).items():
        if isinstance(value, (list, tuple)):
            value = value[0] if value else ""
        flat[str(key)] = "" if value is None else str(value)
    return flat


def twilio_params(request: Request) -> dict[str, str]:
    """The POST parameters of a Twilio webhook, blank ones included: Twilio sends and signs
    `ToCity=`, `FromZip=`..., but Sanic's `request.form` drops blank values (`parse_qs` default),
    which would break the signature of nearly every real webhook."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return flatten_form(parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return flatten_form(request.form)


def public_url(request: Request, public_base_url: str) -> str:
    """The URL Twilio called: public base + path + query, or the request's own URL without a base."""
    if not public_base_url:
        return str(request.url)
    return signed_url(public_base_url, request.path, request.query_string)


def public_base(request: Request, public_base_url: str) -> str:
    """Scheme and host (and any path prefix) under which Twilio reaches rasa, for URLs we hand it."""
    if public_base_url:
        return public_base_url.rstrip("/")
    return f"{request.scheme}://{request.host}"


def is_phone_number(value: str | None) -> bool:
    return value is not None and bool(E164.match(value)) and value not in WITHHELD_CALLER_IDS


def normalize_phone(value: str | None) -> str:
    """E.164 as Twilio sends it, minus stray spaces; empty when there is no usable number."""
    if not value:
        return ""
    cleaned = re.sub(r"[\s().\-]", "", value)
    return cleaned if is_phone_number(cleaned) else ""


def mask_phone(value: str | None) -> str:
    """+15125550101 → +1512***0101, for logs."""
    if not value:
        return "-"
    if len(value) <= 8:
        return "***" + value[-2:]
    return f"{value[:5]}***{value[-4:]}"


class SignatureValidator:
    """Checks `X-Twilio-Signature` of a webhook request."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        if settings.signature_problem:
            log.error(
                "%s (%s): every Twilio webhook will be refused with 403",
                settings.signature_problem,
                settings.evenkeel_env,
            )

    def url(self, request: Request) -> str:
        return public_url(request, self.settings.twilio_public_base_url)

    def is_valid(self, request: Request, params: Mapping[str, str]) -> bool:
        if not self.settings.signatures_usable:
            return False
        signature = request.headers.get(SIGNATURE_HEADER, "")
        return is_valid_signature(self.settings.twilio_auth_token or "", self.url(request), params, signature)


class SmsSender(Protocol):
    async def send_sms(self, to: str, body: str, from_: str | None = None) -> bool:
        """Send one SMS; True when Twilio accepted it. Never raises for a delivery problem."""

    async def close(self) -> None: ...


class TwilioRestSender:
    """Outbound SMS through Twilio's REST API with twilio's own asyncio client
    (`AsyncTwilioHttpClient` + `messages.create_async`, in twilio>=8.0), so sending never blocks
    the event loop. `twilio_api_base` points it at a stand-in (tests, `scripts/phone.py`)."""

    def __init__(self, settings: ChannelSettings, timeout_seconds: float = 10.0) -> None:
        self.settings = settings
        self.timeout_seconds = timeout_seconds
        self._http: Any = None
        self._client: Any = None

    def _ensure_client(self) -> Any:
        # Built on first use, inside the running loop: aiohttp sessions belong to a loop.
        if self._client is None:
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            self._http = AsyncTwilioHttpClient(timeout=self.timeout_seconds)
            self._client = Client(
                self.settings.twilio_account_sid, self.settings.twilio_auth_token, http_client=self._http
            )
            if self.settings.twilio_api_base:
                self._client.api.base_url = self.settings.twilio_api_url
        return self._client

    async def send_sms(self, to: str, body: str, from_: str | None = None) -> bool:
        import aiohttp
        from twilio.base.exceptions import TwilioRestException

        client = self._ensure_client()
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.settings.twilio_messaging_service_sid:
            kwargs["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            kwargs["from_"] = from_ or self.settings.twilio_from_number
        try:
            message = await client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            if exc.code == TWILIO_UNSUBSCRIBED:
                log.info("SMS to %s not sent: the number opted out (Twilio %s)", mask_phone(to), exc.code)
            else:
                log.error("SMS to %s refused by Twilio: HTTP %s, code %s", mask_phone(to), exc.status, exc.code)
            return False
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.error("SMS to %s not sent: Twilio unreachable (%s)", mask_phone(to), type(exc).__name__)
            return False
        log.info("SMS %s sent to %s (%d chars)", getattr(message, "sid", "?"), mask_phone(to), len(body))
        return True

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None


# --- the channels' bases -----------------------------------------------------------------

_Input = TypeVar("_Input", bound="TwilioInput")
Handler = Callable[[Request, dict[str, str]], Awaitable[HTTPResponse]]


class Collaborators(TypedDict, total=False):
    """What a test injects into a connector in place of the real channel store and SMS sender."""

    store: ChannelStore | None
    sender: SmsSender | None


class TwilioOutput(OutputChannel):
    """The base of the connectors' output channels (what Rasa pushes to a conversation: agent
    replies, confirmations, reminders), named like their connector (`channel_name`)."""

    channel_name: ClassVar[str] = ""

    def __init__(self, sender: SmsSender, settings: ChannelSettings) -> None:
        self.sender = sender
        self.settings = settings

    @classmethod
    def name(cls) -> str:
        return cls.channel_name

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class TwilioInput(InputChannel):
    """The wiring the SMS and voice connectors share: settings (credentials.yml over the
    environment), the signature check, the channel store and the SMS sender (tests inject fakes),
    a health route, and closing the store and sender when the server stops. A connector names
    itself with `channel_name` (its webhooks are under /webhooks/<channel_name>/)."""

    channel_name: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        return cls.channel_name

    @classmethod
    def from_credentials(cls: type[_Input], credentials: dict[str, Any] | None) -> _Input:
        return cls(ChannelSettings.from_env(overrides=credentials or {}))

    def __init__(self, settings: ChannelSettings, **shared: Unpack[Collaborators]) -> None:
        store, sender = shared.get("store"), shared.get("sender")
        self.settings = settings
        self.validator = SignatureValidator(settings)
        self.facts = FactsSigner(settings, self.name())
        self.store: ChannelStore = store or build_store(
            settings.channels_redis_url, settings.channels_dedupe_ttl_seconds
        )
        self.card_buffer = SplitCardBuffer(self.store)
        # Revocations and reports in the customer's words, recorded before Rasa sees them; those not
        # yet recorded wait in this connector's store (Redis with CHANNELS_REDIS_URL), so a restart
        # keeps them, and the drain task retries them (channels/revocation.py).
        self.revocations = desk_for(
            settings.payments_url, settings.payments_service_token, settings.payments_timeout_seconds, store=self.store
        )
        self.sender: SmsSender = sender or TwilioRestSender(settings)
        self._tasks: set[asyncio.Future[Any]] = set()
        self._clients: list[HttpPaymentsClient] = []

    def payments_client(self, retry: Retry = Retry()) -> HttpPaymentsClient:
        """A client of the payments service (clients/payments.py) for this connector, with the
        service token; closed with the connector."""
        client = HttpPaymentsClient(
            self.settings.payments_url,
            self.settings.payments_service_token,
            self.settings.payments_timeout_seconds,
            retry=retry,
        )
        self._clients.append(client)
        return client

    def spawn(self, work: Any) -> None:
        """Run `work` (a coroutine) after the webhook is answered; `close` waits for it."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the work still running (tests; shutdown, so no reply or report is lost)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def refusal(self, request: Request, params: Mapping[str, str], webhook: str = "") -> HTTPResponse | None:
        """403 when the request lacks Twilio's signature of exactly these parameters (or channel
        facts cannot be signed here), else None. Naming the `webhook` logs the refusal (in the
        connector's own log)."""
        if self.facts.usable and self.validator.is_valid(request, params):
            return None
        if webhook:
            logging.getLogger(type(self).__module__).warning(
                "%s refused: missing or wrong X-Twilio-Signature for %s", webhook, self.validator.url(request)
            )
        return response.text("invalid Twilio signature", status=403)

    def signed_route(self, blueprint: Blueprint, uri: str, webhook: str = "") -> Callable[[Handler], Handler]:
        """Register `handler(request, params)` as the POST route `uri` of a Twilio webhook: called
        only with Twilio's signature of exactly these parameters (`refusal` answers otherwise)."""

        def register(handler: Handler) -> Handler:
            async def route(request: Request) -> HTTPResponse:
                params = twilio_params(request)
                return self.refusal(request, params, webhook) or await handler(request, params)

            blueprint.add_route(route, uri, methods=["POST"], name=handler.__name__)
            return handler

        return register

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The connector's blueprint: `GET /` (health), the revocation desk's drain task, the
        shutdown listener, and the connector's own webhooks (`add_webhooks`)."""
        # The url_prefix given here is replaced by rasa's /webhooks/<name> when it registers the blueprint.
        blueprint = Blueprint(f"evenkeel_{self.name()}", type(self).__module__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await self.close()

        drain_with_server(blueprint, lambda: self.revocations)  # stopped before `finish` closes the store
        self.add_webhooks(blueprint, on_new_message)
        return blueprint

    def add_webhooks(self, blueprint: Blueprint, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Add the connector's Twilio webhooks to its blueprint (with `signed_route`)."""
        raise NotImplementedError

    async def close(self) -> None:
        await self.drain()
        await self.sender.close()
        while self._clients:
            await self._clients.pop().aclose()
        await self.store.close()


# --- what reaches Rasa ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserText:
    """A customer's message made safe for Rasa: `text` goes to Rasa, `loggable` to logs."""

    text: str
    loggable: str
    card_number_removed: bool = False


def user_text_for_rasa(raw: str) -> UserText:
    """A card number anywhere in the message → `/card_number_shared` (the tracker store never holds
    the digits). `loggable` has every digit redacted (no card fragment, date of birth or ZIP in a
    log). Otherwise the text `neutralize`d: a typed
    "/payment_succeeded" or "EXTERNAL: ..." must not reach Rasa as an intent or an event. Only payloads of buttons the bot itself
    sent (mapped by the connector) become "/intent" messages."""
    masked, found = mask_card_numbers(raw or "")
    if found:
        return UserText(CARD_NUMBER_SHARED, redact_digits(masked), card_number_removed=True)
    text = neutralize(raw).strip()
    return UserText(text, redact_digits(text))


async def user_text_in_conversation(raw: str, buffer: SplitCardBuffer, conversation_id: str) -> UserText:
    """`user_text_for_rasa`, and a card number split across the conversation's messages: the
    message that completes it becomes `/card_number_shared` too (channels/card_buffer.py)."""
    prepared = user_text_for_rasa(raw)
    if await buffer.completes_card(conversation_id, raw or "", has_card=prepared.card_number_removed):
        return UserText(CARD_NUMBER_SHARED, MASK, card_number_removed=True)
    return prepared


# Twilio's FromState/CallerState → the state's main time zone (states split between zones get the
# zone most of their people live in). Metadata only: the payments service keeps each account's zone.
_STATE_TIMEZONES = {
    "America/New_York": "CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV",
    "America/Chicago": "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI",
    "America/Denver": "CO MT NM UT WY ID",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
    "America/Puerto_Rico": "PR VI",
}
STATE_TIMEZONE = {state: zone for zone, states in _STATE_TIMEZONES.items() for state in states.split()}


def timezone_for(
    params: Mapping[str, str], country_key: str = "FromCountry", state_key: str = "FromState"
) -> str | None:
    """The caller's time zone from Twilio's geographic lookup of the number, when it knows one."""
    if params.get(country_key, "US") not in ("US", "PR", "VI"):
        return None
    return STATE_TIMEZONE.get(params.get(state_key, "").strip().upper())
