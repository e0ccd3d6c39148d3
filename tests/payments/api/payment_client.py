"""A test app whose payment use cases run on the FakeGateway and the test clock (fixtures for the
payments API, payment page and webhook tests; they build on tests/payments/api/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.db import make_engine, make_session_factory
from payments.main import create_app
from payments.seed import seed_demo_data
from testkit.fake_gateway import FakeGateway
from testkit.stripe import stripe_signature
from tests.payments.api.verified import verify_as
from tests.payments.payment_services import override_payment_services

PUBLIC_URL = "https://pay.example.test"
WEBHOOK_SECRET = "whsec_api_test"
TWILIO_TOKEN = "twilio-test-auth-token"


@pytest.fixture
def fake_gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def pay_client(migrated_url, clock, make_settings, fake_gateway) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    engine = make_engine(migrated_url)
    with make_session_factory(engine).begin() as session:
        seed_demo_data(session, today=clock().date())
    engine.dispose()
    settings = make_settings(
        migrated_url,
        payments_public_url=PUBLIC_URL,
        stripe_webhook_secret=WEBHOOK_SECRET,
        twilio_auth_token=TWILIO_TOKEN,
        stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/",
        payment_link_ttl_minutes=30,
        log_level="INFO",
    )
    app = create_app(settings)

    override_payment_services(app, fake_gateway, public_url=PUBLIC_URL, clock=clock, link_ttl_minutes=30)
    with TestClient(app) as client:
        yield client


def app_sessions(client: TestClient) -> sessionmaker[Session]:
    return client.app.state.sessions  # type: ignore[attr-defined]


@pytest.fixture
def verified(pay_client: TestClient, auth: dict[str, str]) -> dict[str, str]:
    """Service token plus the verification session of A1001 in conversation conv-1 (C2)."""
    return verify_as(pay_client, auth)


def create(client: TestClient, auth: dict[str, str], **overrides: object) -> dict:
    """Create a payment; headers without a verification session verify the account first."""
    body = {
        "account_id": "A1001",
        "amount_cents": 9500,
        "channel": "sms",
        "idempotency_key": "k-1",
        "conversation_id": "conv-1",
        **overrides,
    }
    if "X-Verification-Session" not in auth:
        auth = verify_as(client, auth, str(body["account_id"]), str(body["conversation_id"]))
    response = client.post("/api/payments", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def page_path(link_url: str) -> str:
    assert link_url.startswith(f"{PUBLIC_URL}/pay/")
    return link_url.removeprefix(PUBLIC_URL)


def stripe_event(
    event_id: str,
    kind: str,
    payment_id: str,
    intent_id: str = "pi_fake1",
    amount: int = 9500,
    failure_code: str | None = None,
) -> bytes:
    """A webhook body shaped like Stripe's."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": f"payment_intent.{kind}",
            "api_version": "2024-06-20",
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": amount,
                    "currency": "usd",
                    "status": {"succeeded": "succeeded", "payment_failed": "requires_payment_method"}.get(kind, kind),
                    "metadata": {"payment_id": payment_id, "account_id": "A1001"},
                    "customer": None,
                    "payment_method": "pm_card_visa",
                    "last_payment_error": {"code": failure_code, "decline_code": failure_code}
                    if failure_code
                    else None,
                }
            },
        }
    ).encode()


def post_stripe(client: TestClient, body: bytes, secret: str = WEBHOOK_SECRET, signature: str | None = "sign"):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["Stripe-Signature"] = stripe_signature(body, secret)
    elif signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/webhooks/stripe", content=body, headers=headers)
