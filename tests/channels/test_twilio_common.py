"""Signatures, form flattening, phone numbers, what reaches Rasa, and the async REST sender."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from channels.dedupe import InMemoryStore
from channels.sms import TwilioSmsInput
from channels.twilio_common import (
    CARD_NUMBER_SHARED,
    TwilioInput,
    TwilioRestSender,
    flatten_form,
    is_phone_number,
    mask_phone,
    normalize_phone,
    public_url,
    timezone_for,
    user_text_for_rasa,
)
from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY
from testkit.twilio import TwilioApiStandIn
from tests.channels.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    OUR_NUMBER,
    FakeLedger,
    FakeRasa,
    FakeSender,
    ServeFn,
    make_settings,
)

WEBHOOK = "/webhooks/twilio_sms/webhook"


def sms_form(body: str = "hi", sid: str = "SM" + "a" * 32) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


# --- flattening and URLs -------------------------------------------------------------------------


def test_flatten_form_takes_the_first_value_of_each_name() -> None:
    assert flatten_form({"Body": ["hi", "again"], "NumMedia": ["0"], "Empty": [], "None": None, "Plain": "x"}) == {
        "Body": "hi",
        "NumMedia": "0",
        "Empty": "",
        "None": "",
        "Plain": "x",
    }
    assert flatten_form(None) == {}


@dataclass
class StubRequest:
    url: str
    path: str
    query_string: str


def test_public_url_is_the_request_url_without_a_public_base() -> None:
    request = StubRequest("http://10.0.0.5:5005/webhooks/twilio_sms/webhook?x=1", "/webhooks/twilio_sms/webhook", "x=1")
    assert public_url(request, "") == request.url


def test_public_url_is_public_base_plus_path_and_query_behind_a_proxy() -> None:
    request = StubRequest(
        "http://10.0.0.5:5005/webhooks/twilio_voice/webhook?turn=abc&after=pay",
        "/webhooks/twilio_voice/webhook",
        "turn=abc&after=pay",
    )
    assert public_url(request, "https://bot.example.com/") == (
        "https://bot.example.com/webhooks/twilio_voice/webhook?turn=abc&after=pay"
    )
    assert public_url(StubRequest("", "/p", ""), "https://bot.example.com/rasa") == "https://bot.example.com/rasa/p"


# --- phone numbers -------------------------------------------------------------------------------


def test_phone_numbers() -> None:
    assert is_phone_number("+15125550101")
    assert normalize_phone(" +1 (512) 555-0101 ") == "+15125550101"
    for not_a_number in ("", None, "anonymous", "client:alice", "5125550101", "+266696687", "+7378742833"):
        assert normalize_phone(not_a_number) == ""
    assert mask_phone("+15125550101") == "+1512***0101"
    assert "5550" not in mask_phone("+15125550101")


def test_timezone_from_twilios_state_lookup() -> None:
    assert timezone_for({"FromState": "TX", "FromCountry": "US"}) == "America/Chicago"
    assert timezone_for({"FromState": "ny"}) == "America/New_York"
    assert timezone_for({"FromState": "AZ"}) == "America/Phoenix"
    assert timezone_for({"FromState": ""}) is None
    assert timezone_for({"FromState": "ON", "FromCountry": "CA"}) is None


# --- what reaches Rasa ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("/payment_succeeded", "payment_succeeded"),
        ('/payment_succeeded{"payment_id": "PAY-1"}', 'payment_succeeded{"payment_id": "PAY-1"}'),
        ("  //greet", "greet"),
        ("/ /request_agent", "request_agent"),
        ("hello /greet", "hello /greet"),
        ("4821", "4821"),
    ],
)
def test_a_typed_intent_never_reaches_rasa_as_an_intent(typed: str, expected: str) -> None:
    prepared = user_text_for_rasa(typed)
    assert prepared.text == expected
    assert not prepared.text.startswith("/")


def test_a_card_number_becomes_card_number_shared_and_logs_get_the_mask() -> None:
    prepared = user_text_for_rasa("/pay with 4111 1111 1111 1111 please")
    assert prepared.text == CARD_NUMBER_SHARED
    assert prepared.card_number_removed
    assert "1111" not in prepared.loggable and "[card number removed]" in prepared.loggable


# --- signatures, through the SMS webhook ---------------------------------------------------------


async def sms_channel(serve: ServeFn, public_base: str = "", **settings: str):
    from channels.sms import TwilioSmsInput

    channel = TwilioSmsInput(
        make_settings(twilio_public_base_url=public_base, **settings), sender=FakeSender(), ledger=FakeLedger()
    )
    rasa = FakeRasa()
    served = await serve(channel, rasa, public_base=public_base)
    return served, channel, rasa


async def test_a_correctly_signed_webhook_is_accepted(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve)
    reply = await served.post(WEBHOOK, sms_form())
    await channel.drain()
    assert reply.status_code == 200
    assert rasa.texts == ["hi"]


async def test_blank_parameters_count_in_the_signature(serve: ServeFn) -> None:
    # Real webhooks carry blank values (ToCity=, FromZip=...) and Twilio signs them too.
    served, channel, rasa = await sms_channel(serve)
    form = {**sms_form(), "ToCity": "", "FromZip": "", "FromCity": ""}
    assert (await served.post(WEBHOOK, form)).status_code == 200
    await channel.drain()
    assert rasa.texts == ["hi"]


async def test_a_wrong_signature_is_refused(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve)
    reply = await served.post(WEBHOOK, sms_form(), headers={}, signed=False)
    assert reply.status_code == 403
    tampered = await served.client.post(
        served.local(WEBHOOK), data=sms_form(), headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    )
    assert tampered.status_code == 403
    await channel.drain()
    assert rasa.received == []


async def test_a_signature_of_other_parameters_is_refused(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve)
    signed_for = sms_form("hi")
    from tests.channels.conftest import signature

    header = signature(served.local(WEBHOOK), signed_for)
    reply = await served.client.post(
        served.local(WEBHOOK), data=sms_form("/payment_succeeded"), headers={"X-Twilio-Signature": header}
    )
    assert reply.status_code == 403
    await channel.drain()
    assert rasa.received == []


async def test_a_missing_signature_is_refused(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve)
    reply = await served.post(WEBHOOK, sms_form(), signed=False)
    assert reply.status_code == 403
    await channel.drain()
    assert rasa.received == []


async def test_a_signature_for_another_url_or_token_is_refused(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve)
    for url in (
        f"http://evil.example.com{WEBHOOK}",
        served.local("/webhooks/twilio_sms/other"),
        served.local(WEBHOOK + "?x=1"),
        served.local(WEBHOOK).replace("http:", "https:"),
    ):
        assert (await served.post(WEBHOOK, sms_form(), sign_url=url)).status_code == 403, url
    assert (await served.post(WEBHOOK, sms_form(), token="another-token")).status_code == 403
    await channel.drain()
    assert rasa.received == []


async def test_behind_a_proxy_the_public_base_url_is_what_is_signed(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve, public_base="https://bot.example.com/rasa")
    accepted = await served.post(
        WEBHOOK + "?src=proxy", sms_form(), sign_url=f"https://bot.example.com/rasa{WEBHOOK}?src=proxy"
    )
    assert accepted.status_code == 200
    # Signed for the address rasa itself listens on: not what Twilio called, so refused.
    refused = await served.post(WEBHOOK, sms_form(sid="SM" + "b" * 32), sign_url=served.local(WEBHOOK))
    assert refused.status_code == 403
    await channel.drain()
    assert rasa.texts == ["hi"]


PUBLIC = "https://bot.example.com"
PRODUCTION = {"evenkeel_env": "production", "channel_facts_key": "real-facts-key"}


async def test_production_with_the_development_token_refuses_even_a_valid_signature(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve, PUBLIC, **PRODUCTION, twilio_auth_token="dev-twilio-auth-token")
    reply = await served.post(WEBHOOK, sms_form(), token="dev-twilio-auth-token")
    assert reply.status_code == 403


async def test_production_fully_configured_accepts_a_signature_of_the_public_url(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve, PUBLIC, **PRODUCTION)
    assert (await served.post(WEBHOOK, sms_form())).status_code == 200
    await channel.drain()
    assert rasa.texts == ["hi"]


async def test_production_without_a_public_base_url_refuses_rather_than_trust_the_host_header(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(serve, **PRODUCTION)
    # Signed exactly for the URL the request arrived at (Host header and all): still refused.
    assert (await served.post(WEBHOOK, sms_form())).status_code == 403
    forged_host = await served.post(
        WEBHOOK, sms_form(), sign_url=f"http://bot.example.com{WEBHOOK}", headers={"Host": "bot.example.com"}
    )
    assert forged_host.status_code == 403
    await channel.drain()
    assert rasa.received == []


async def test_production_with_the_development_channel_facts_key_refuses_every_webhook(serve: ServeFn) -> None:
    served, channel, rasa = await sms_channel(
        serve, PUBLIC, evenkeel_env="production", channel_facts_key=DEV_CHANNEL_FACTS_KEY
    )
    assert (await served.post(WEBHOOK, sms_form())).status_code == 403
    await channel.drain()
    assert rasa.received == []


# --- the connectors' shared wiring ----------------------------------------------------------------


@dataclass
class ClosingStore(InMemoryStore):
    closed: bool = False

    async def close(self) -> None:
        self.closed = True


def connectors() -> list[type[TwilioInput]]:
    from channels.voice import TwilioVoiceInput

    return [TwilioSmsInput, TwilioVoiceInput]


@pytest.mark.parametrize("connector", connectors(), ids=lambda c: c.name())
def test_from_credentials_builds_the_connector_over_the_environment(connector: type[TwilioInput]) -> None:
    channel = connector.from_credentials({"twilio_auth_token": "from-credentials"})
    assert type(channel) is connector
    assert channel.settings.twilio_auth_token == "from-credentials"
    assert isinstance(channel.sender, TwilioRestSender)


@pytest.mark.parametrize("connector", connectors(), ids=lambda c: c.name())
async def test_each_connector_answers_health_and_closes_its_store_and_sender_on_shutdown(
    serve: ServeFn, connector: type[TwilioInput]
) -> None:
    sender, store = FakeSender(), ClosingStore()
    served = await serve(connector(make_settings(), sender=sender, store=store), FakeRasa())
    health = await served.client.get(served.local(f"/webhooks/{connector.name()}/"))
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    unsigned = await served.post(f"/webhooks/{connector.name()}/webhook", sms_form(), signed=False)
    assert unsigned.status_code == 403
    await served.server.before_stop()  # what rasa's server does on SIGTERM
    assert sender.closed and store.closed


# --- the REST sender, against the stand-in Twilio API --------------------------------------------


@pytest.fixture
async def twilio_api():
    api = TwilioApiStandIn(ACCOUNT_SID, AUTH_TOKEN)
    await api.start()
    yield api
    await api.stop()


async def test_rest_sender_posts_to_twilios_messages_api(twilio_api) -> None:
    sender = TwilioRestSender(make_settings(twilio_api_base=twilio_api.base_url))
    try:
        assert await sender.send_sms(CUSTOMER, "Hello there", "+15005550001")
        assert await sender.send_sms(CUSTOMER, "From the default number")
    finally:
        await sender.close()
    assert [(m.to, m.from_, m.body) for m in twilio_api.messages] == [
        (CUSTOMER, "+15005550001", "Hello there"),
        (CUSTOMER, OUR_NUMBER, "From the default number"),
    ]


async def test_rest_sender_uses_the_messaging_service_when_set(twilio_api) -> None:
    sender = TwilioRestSender(make_settings(twilio_api_base=twilio_api.base_url, twilio_messaging_service_sid="MG123"))
    try:
        assert await sender.send_sms(CUSTOMER, "via service", "+15005550001")
    finally:
        await sender.close()
    assert twilio_api.messages[0].messaging_service_sid == "MG123"
    assert twilio_api.messages[0].from_ == ""


async def test_rest_sender_reports_refusals_without_raising(twilio_api) -> None:
    twilio_api.opted_out.add(CUSTOMER)
    sender = TwilioRestSender(make_settings(twilio_api_base=twilio_api.base_url))
    wrong_token = TwilioRestSender(make_settings(twilio_api_base=twilio_api.base_url, twilio_auth_token="wrong"))
    try:
        assert not await sender.send_sms(CUSTOMER, "after STOP")  # Twilio 21610
        assert not await wrong_token.send_sms("+15125550199", "bad credentials")  # Twilio 20003
    finally:
        await sender.close()
        await wrong_token.close()
    assert twilio_api.messages == []


async def test_rest_sender_reports_an_unreachable_api_without_raising() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = TwilioRestSender(make_settings(twilio_api_base=f"http://127.0.0.1:{port}"), timeout_seconds=2)
    try:
        assert not await sender.send_sms(CUSTOMER, "nobody listens")
    finally:
        await sender.close()
