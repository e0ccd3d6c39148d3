"""StripeGateway against a real localstripe process, and webhook signatures as Stripe makes them."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import stripe

from payments.adapters.stripe_gateway import StripeGateway, verify_stripe_webhook
from payments.domain.errors import UpstreamUnavailable
from testkit.processes import free_port
from testkit.stripe import LocalStripe, localstripe, stripe_signature  # noqa: F401 - localstripe: a fixture

SECRET = "whsec_gateway_test"


@pytest.fixture
def gateway(localstripe: LocalStripe) -> StripeGateway:  # noqa: F811
    return StripeGateway(localstripe.api_key, localstripe.url, max_network_retries=0)


@pytest.fixture
def raw(localstripe: LocalStripe) -> stripe.StripeClient:  # noqa: F811
    """A plain client to look at what the gateway did."""
    return stripe.StripeClient(
        localstripe.api_key,
        base_addresses={"api": localstripe.url},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
    )


def key() -> str:
    return f"test-{secrets.token_hex(8)}"


def intent_count(localstripe: LocalStripe) -> int:  # noqa: F811
    response = httpx.get(
        f"{localstripe.url}/v1/payment_intents",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {localstripe.api_key}"},
    )
    response.raise_for_status()
    return response.json()["total_count"]


async def test_create_customer_is_idempotent(gateway):
    k = key()
    first = await gateway.create_customer(account_id="A1001", idempotency_key=k)
    again = await gateway.create_customer(account_id="A1001", idempotency_key=k)
    other = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    assert first.startswith("cus_") and first == again and other != first


async def test_payment_intent_for_the_page(gateway, raw):
    intent = await gateway.create_payment_intent(
        amount_cents=9500,
        currency="USD",
        metadata={"payment_id": "PAY-AAAAAA", "account_id": "A1001"},
        idempotency_key=key(),
    )
    assert (intent.status, intent.amount_cents, intent.currency) == ("requires_payment_method", 9500, "USD")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    stored = raw.v1.payment_intents.retrieve(intent.id)
    assert stored.metadata.to_dict() == {"payment_id": "PAY-AAAAAA", "account_id": "A1001"}
    assert stored.currency == "usd" and stored.to_dict().get("setup_future_usage") is None
    assert (await gateway.retrieve_payment_intent(intent.id)) == intent


async def test_cancelling_an_intent_stops_its_client_secret(gateway, raw):
    intent = await gateway.create_payment_intent(
        amount_cents=9500,
        currency="USD",
        metadata={"payment_id": "PAY-CCCCCC", "account_id": "A1001"},
        idempotency_key=key(),
    )
    cancelled = await gateway.cancel_payment_intent(intent.id, idempotency_key=key())
    assert cancelled.status == "canceled" == raw.v1.payment_intents.retrieve(intent.id).status
    with pytest.raises(stripe.StripeError):  # what the expired page's client secret would try
        raw.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert (await gateway.cancel_payment_intent(intent.id, idempotency_key=key())).status == "canceled"


async def test_a_succeeded_intent_is_not_cancelled_but_reported_as_it_is(gateway):
    customer = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    outcome = await gateway.charge_off_session(
        amount_cents=10000,
        currency="USD",
        customer_id=customer,
        payment_method_id="pm_card_visa",
        metadata={"payment_id": "PAY-EEEEEE", "account_id": "A1001"},
        idempotency_key=key(),
    )
    assert (await gateway.cancel_payment_intent(outcome.payment_intent_id, idempotency_key=key())).status == "succeeded"


async def test_payment_intent_that_keeps_the_card_for_a_plan(gateway, raw):
    customer = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    intent = await gateway.create_payment_intent(
        amount_cents=10000,
        currency="USD",
        metadata={"payment_id": "PAY-BBBBBB", "account_id": "A1001"},
        idempotency_key=key(),
        customer_id=customer,
        save_for_later=True,
    )
    stored = raw.v1.payment_intents.retrieve(intent.id)
    assert (stored.customer, stored.setup_future_usage) == (customer, "off_session")


async def test_same_idempotency_key_twice_makes_one_payment_intent(gateway, localstripe):  # noqa: F811
    k = key()
    before = intent_count(localstripe)
    args = dict(amount_cents=5000, currency="USD", metadata={"payment_id": "PAY-CCCCCC", "account_id": "A1005"})
    first = await gateway.create_payment_intent(idempotency_key=k, **args)
    again = await gateway.create_payment_intent(idempotency_key=k, **args)
    assert first.id == again.id
    assert intent_count(localstripe) == before + 1
    # The same key with other values is Stripe's idempotency_error: refused, nothing created.
    with pytest.raises(UpstreamUnavailable):
        await gateway.create_payment_intent(idempotency_key=k, **{**args, "amount_cents": 5001})
    assert intent_count(localstripe) == before + 1


async def test_off_session_charge_succeeds_once(gateway, localstripe):  # noqa: F811
    customer = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    k = key()
    args = dict(
        amount_cents=10000,
        currency="USD",
        customer_id=customer,
        payment_method_id="pm_card_visa",
        metadata={"payment_id": "PAY-DDDDDD", "account_id": "A1001"},
        idempotency_key=k,
    )
    before = intent_count(localstripe)
    outcome = await gateway.charge_off_session(**args)
    again = await gateway.charge_off_session(**args)
    assert (outcome.status, outcome.customer_id, outcome.decline_code) == ("succeeded", customer, None)
    assert outcome.payment_intent_id.startswith("pi_") and again == outcome
    assert intent_count(localstripe) == before + 1


async def test_off_session_decline_is_a_result_with_its_code(gateway):
    customer = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    outcome = await gateway.charge_off_session(
        amount_cents=10000,
        currency="USD",
        customer_id=customer,
        payment_method_id="pm_card_chargeCustomerFail",
        metadata={"payment_id": "PAY-EEEEEE", "account_id": "A1001"},
        idempotency_key=key(),
    )
    assert (outcome.status, outcome.decline_code) == ("declined", "card_declined")


async def test_charge_a_payment_method_token_like_twilio_pay_returns(gateway, raw):
    card = raw.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    outcome = await gateway.charge_payment_method(
        amount_cents=6000,
        currency="USD",
        payment_method_id=card.id,
        metadata={"payment_id": "PAY-FFFFFF", "account_id": "A1005"},
        idempotency_key=key(),
    )
    assert (outcome.status, outcome.payment_method_id) == ("succeeded", card.id)

    declining = raw.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    declined = await gateway.charge_payment_method(
        amount_cents=6000,
        currency="USD",
        payment_method_id=declining.id,
        metadata={"payment_id": "PAY-GGGGGG", "account_id": "A1005"},
        idempotency_key=key(),
    )
    assert (declined.status, declined.decline_code) == ("declined", "card_declined")


async def test_unreachable_stripe_raises_upstream_unavailable():
    gateway = StripeGateway("sk_test_x", f"http://127.0.0.1:{free_port()}", max_network_retries=0, timeout_seconds=2)
    with pytest.raises(UpstreamUnavailable):
        await gateway.create_customer(account_id="A1001", idempotency_key=key())
    with pytest.raises(UpstreamUnavailable):
        await gateway.charge_off_session(
            amount_cents=100,
            currency="USD",
            customer_id="cus_x",
            payment_method_id="pm_x",
            metadata={},
            idempotency_key=key(),
        )


async def test_a_refused_key_is_unavailable_and_its_text_stays_in_the_log(localstripe, caplog):  # noqa: F811
    gateway = StripeGateway("not-a-secret-key", localstripe.url, max_network_retries=0)
    with pytest.raises(UpstreamUnavailable) as error:
        await gateway.create_customer(account_id="A1001", idempotency_key=key())
    assert "Unauthorized" not in error.value.detail
    assert "AuthenticationError" in caplog.text


# ------------------------------------------------------------------ webhooks signed by localstripe


class _Capture(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_inbox(localstripe: LocalStripe) -> Iterator[list[tuple[dict[str, str], bytes]]]:  # noqa: F811
    """An HTTP endpoint registered with localstripe; yields what localstripe posted to it."""
    handler = type("Capture", (_Capture,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    name = f"capture-{secrets.token_hex(4)}"
    localstripe.register_webhook(name, f"http://127.0.0.1:{server.server_port}/", SECRET)
    try:
        yield handler.received
    finally:
        server.shutdown()
        server.server_close()


def wait_for_event(inbox, event_type: str, payment_id: str, timeout: float = 15) -> tuple[dict[str, str], bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for headers, body in list(inbox):
            event = json.loads(body)
            obj = event["data"]["object"]
            if event["type"] == event_type and (obj.get("metadata") or {}).get("payment_id") == payment_id:
                return headers, body
        time.sleep(0.1)
    raise AssertionError(f"no {event_type} for {payment_id} within {timeout}s; got {len(inbox)} posts")


async def test_localstripe_webhooks_verify_with_stripes_own_check(gateway, webhook_inbox):
    customer = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    outcome = await gateway.charge_off_session(
        amount_cents=10000,
        currency="USD",
        customer_id=customer,
        payment_method_id="pm_card_visa",
        metadata={"payment_id": "PAY-HHHHHH", "account_id": "A1001"},
        idempotency_key=key(),
    )
    headers, body = wait_for_event(webhook_inbox, "payment_intent.succeeded", "PAY-HHHHHH")
    signature = {k.lower(): v for k, v in headers.items()}["stripe-signature"]

    event = verify_stripe_webhook(body, signature, SECRET)
    assert (event.type, event.payment_id, event.payment_intent_id) == (
        "payment_intent.succeeded",
        "PAY-HHHHHH",
        outcome.payment_intent_id,
    )
    assert (event.amount_cents, event.currency, event.customer_id, event.failure_code) == (10000, "USD", customer, None)

    for bad_body, bad_signature, secret in [
        (body.replace(b"10000", b"10001"), signature, SECRET),  # tampered
        (body, signature, "whsec_someone_else"),  # not our endpoint's secret
        (body, None, SECRET),  # no header
        (body, "t=1,v1=00", SECRET),  # garbage
    ]:
        with pytest.raises(ValueError):
            verify_stripe_webhook(bad_body, bad_signature, secret)


async def test_localstripe_sends_payment_failed_with_the_decline_code(gateway, webhook_inbox):
    customer = await gateway.create_customer(account_id="A1001", idempotency_key=key())
    await gateway.charge_off_session(
        amount_cents=10000,
        currency="USD",
        customer_id=customer,
        payment_method_id="pm_card_chargeCustomerFail",
        metadata={"payment_id": "PAY-JJJJJJ", "account_id": "A1001"},
        idempotency_key=key(),
    )
    headers, body = wait_for_event(webhook_inbox, "payment_intent.payment_failed", "PAY-JJJJJJ")
    event = verify_stripe_webhook(body, {k.lower(): v for k, v in headers.items()}["stripe-signature"], SECRET)
    assert (event.payment_id, event.failure_code) == ("PAY-JJJJJJ", "card_declined")


def test_our_signature_helper_matches_stripes_scheme():
    payload = json.dumps(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "object": "payment_intent",
                    "id": "pi_1",
                    "amount": 5,
                    "currency": "usd",
                    "metadata": {"payment_id": "PAY-KKKKKK"},
                }
            },
        }
    ).encode()
    event = verify_stripe_webhook(payload, stripe_signature(payload, SECRET), SECRET)
    assert (event.id, event.payment_id, event.amount_cents) == ("evt_1", "PAY-KKKKKK", 5)
    with pytest.raises(ValueError):  # older than Stripe's five minutes' tolerance: a replay attack
        verify_stripe_webhook(payload, stripe_signature(payload, SECRET, int(time.time()) - 3600), SECRET)
