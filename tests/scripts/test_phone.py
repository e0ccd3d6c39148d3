"""The phone simulator's `<Pay>` step (scripts/phone.py) against the real payments service: the
`<Pay>` result it posts is signed for the URL it sends, character for character, so the
webhook that checks Twilio signatures (POST /webhooks/twilio/pay) accepts it and charges the
card localstripe tokenized; the same post signed with another auth token is refused.

Issue 19: it signed the `action` with its `return_url` percent-encoded, then aiohttp re-quoted
the query and sent `return_url=http://...`: "invalid Twilio signature"."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import ClientSession
from twilio.twiml.voice_response import VoiceResponse

from contracts.twilio import pay_action_url
from payments import cli
from payments.config import Settings
from payments.main import create_app
from scripts.phone import CallEnded, VoicePhone, parser
from testkit.stack import app_in_thread
from testkit.stripe import LocalStripe, localstripe  # noqa: F401 - localstripe: a fixture
from testkit.twilio import DEFAULT_AUTH_TOKEN, VOICE_PATH

# The app's lifespan replaces the root logger's handlers; that fixture gives other tests theirs back.
from tests.payments.api.conftest import _restore_logging  # noqa: F401

TOKEN = "phone-test-service-token"
RASA = "http://127.0.0.1:5005"  # where the call goes after <Pay>: never called here
RETURN_URL = f"{RASA}{VOICE_PATH}?after=pay&note=a b/c"  # a nested query, so encoding matters


@pytest.fixture
def payments_url(tmp_path, localstripe: LocalStripe) -> Iterator[str]:  # noqa: F811
    """The real payments app (real Stripe gateway → localstripe), migrated and seeded, on a free port."""
    database_url = f"sqlite:///{tmp_path / 'payments.db'}"
    cli.migrate(database_url)
    cli.seed(database_url, with_demo_agent=False)

    def app(url: str):  # type: ignore[no-untyped-def]
        # Twilio signs the URL it calls, so the service checks against PAYMENTS_PUBLIC_URL; the
        # simulator and the service share the development Twilio auth token and Stripe key.
        values = dict(payments_public_url=url, stripe_api_base=localstripe.url, payments_service_token=TOKEN)
        return create_app(Settings(_env_file=None, evenkeel_env="test", database_url=database_url, **values))

    with app_in_thread(app) as url:
        yield url


def pending_voice_payment(url: str, amount_cents: int = 9500) -> str:
    """A pending payment for Maria Lopez (A1001) on a call, as the action server makes before a <Pay>."""
    conversation = f"voice-{secrets.token_hex(4)}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    verified = httpx.post(
        f"{url}/api/verify",
        headers=auth,
        json={
            "channel": "web",
            "conversation_id": conversation,
            "card_last4": "4821",
            "dob": "1985-03-14",
            "zip": "78701",
        },
        timeout=10,
    ).json()
    assert verified["verified"], verified
    response = httpx.post(
        f"{url}/api/payments",
        headers={**auth, "X-Conversation-Id": conversation, "X-Verification-Session": verified["verification_session"]},
        json={
            "account_id": "A1001",
            "amount_cents": amount_cents,
            "channel": "voice",
            "idempotency_key": secrets.token_hex(8),
            "conversation_id": conversation,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def phone(monkeypatch, auth_token: str, answer: str) -> VoicePhone:  # type: ignore[no-untyped-def]
    """The simulator's voice phone, answering `answer` at its <Pay> prompt."""
    caller = VoicePhone(parser().parse_args(["voice", "--rasa", RASA, "--auth-token", auth_token]))

    async def ask(prompt: str) -> str:
        return answer

    monkeypatch.setattr(caller, "ask", ask)
    return caller


def pay_verb(action: str) -> ET.Element:
    """The <Pay> as our voice connector writes it (TwiML from the twilio library, parsed back)."""
    twiml = VoiceResponse()
    twiml.pay(payment_connector="Stripe_Connector", token_type="payment-method", action=action)
    verb = ET.fromstring(str(twiml)).find("Pay")
    assert verb is not None
    return verb


async def test_the_simulators_pay_result_is_accepted_by_the_signed_webhook(payments_url, localstripe, monkeypatch):  # noqa: F811
    monkeypatch.setenv("STRIPE_API_BASE", localstripe.url)
    monkeypatch.setenv("STRIPE_API_KEY", localstripe.api_key)
    payment_id = pending_voice_payment(payments_url)
    action = pay_action_url(payments_url, payment_id, return_url=RETURN_URL)
    assert "return_url=http%3A%2F%2F127.0.0.1%3A5005%2F" in action  # percent-encoded whole, as Twilio gets it

    caller = phone(monkeypatch, DEFAULT_AUTH_TOKEN, "s")
    async with ClientSession() as session:
        next_url, result = await caller.pay(session, pay_verb(action), RASA + VOICE_PATH)
        assert next_url == action and result["Result"] == "success" and result["PaymentToken"].startswith("pm_")
        document = await caller.post(session, next_url, result)

    said = " ".join(say.text or "" for say in document.iter("Say"))
    assert "could not" not in said and "not completed" not in said, said
    redirect = document.find("Redirect")
    assert redirect is not None and redirect.text == RETURN_URL  # the call goes back to the conversation


async def test_a_pay_result_signed_with_another_token_is_refused(payments_url, monkeypatch):
    payment_id = pending_voice_payment(payments_url)
    action = pay_action_url(payments_url, payment_id, return_url=RETURN_URL)
    forger = phone(monkeypatch, "someone-elses-auth-token", "f")
    async with ClientSession() as session:
        next_url, result = await forger.pay(session, pay_verb(action), RASA + VOICE_PATH)
        with pytest.raises(CallEnded, match="answered HTTP 403.*invalid Twilio signature"):
            await forger.post(session, next_url, result)
