"""Forged and late Stripe events (issue 11). The payments service trusts only Stripe's facts: an
event counts when its PaymentIntent is the one stored for the payment and its amount and currency
match; an expired link's PaymentIntent is canceled, and a late success is refunded or left for a
person, never silently applied. The forged event here is signed with the stack's real webhook
secret: the signature is not what is being tested, the event's facts are."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import httpx

from testkit.stack import SERVICE_TOKEN, STRIPE_WEBHOOK_SECRET, Stack
from testkit.stripe import stripe_signature
from tests.security.channels import MARIA, cases_of, unique


def verified_session(stack: Stack, conversation_id: str) -> dict[str, str]:
    """Headers of a verified web conversation for Maria (A1001), as the action server sends them."""
    _, last4, dob, zip_code = MARIA
    month, day, year = dob.split("/")
    verified = stack.api(
        "POST",
        "/api/verify",
        json={
            "channel": "web",
            "conversation_id": conversation_id,
            "card_last4": last4,
            "dob": f"{year}-{month}-{day}",
            "zip": zip_code,
        },
    )
    assert verified.status_code == 200 and verified.json()["verified"], verified.text
    headers = {"X-Conversation-Id": conversation_id}
    if verified.json().get("verification_session"):
        headers["X-Verification-Session"] = verified.json()["verification_session"]
    return headers


def call(stack: Stack, method: str, path: str, headers: dict[str, str], **kwargs: object) -> httpx.Response:
    return httpx.request(
        method,
        f"{stack.payments_url}{path}",
        timeout=30,
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}", **headers},
        **kwargs,
    )


def new_payment(stack: Stack, amount_cents: int = 9500) -> tuple[dict[str, object], dict[str, str]]:
    conversation = unique("stripe")
    headers = verified_session(stack, conversation)
    created = call(
        stack,
        "POST",
        "/api/payments",
        headers,
        json={
            "account_id": "A1001",
            "amount_cents": amount_cents,
            "channel": "web",
            "idempotency_key": unique("key"),
            "conversation_id": conversation,
        },
    )
    assert created.status_code == 201, created.text
    return created.json(), headers


def db_row(stack: Stack, sql: str, *args: object) -> tuple[object, ...]:
    with sqlite3.connect(stack.workdir / "evenkeel.db") as db:
        return db.execute(sql, args).fetchone()


def balance(stack: Stack) -> int:
    return int(db_row(stack, "SELECT balance_cents FROM accounts WHERE id = 'A1001'")[0])


def payment_status(stack: Stack, payment_id: str) -> str:
    return str(db_row(stack, "SELECT status FROM payments WHERE id = ?", payment_id)[0])


def post_event(stack: Stack, event: dict[str, object]) -> httpx.Response:
    body = json.dumps(event).encode()
    return httpx.post(
        f"{stack.payments_url}/webhooks/stripe",
        content=body,
        timeout=30,
        headers={"Content-Type": "application/json", "Stripe-Signature": stripe_signature(body, STRIPE_WEBHOOK_SECRET)},
    )


def test_a_signed_event_for_an_unknown_payment_intent_marks_nothing_paid(stack: Stack) -> None:
    payment, _ = new_payment(stack)
    before = balance(stack)
    forged = {
        "id": unique("evt"),
        "object": "event",
        "type": "payment_intent.succeeded",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": unique("pi_forged").replace("-", ""),
                "object": "payment_intent",
                "amount": 1,
                "currency": "usd",
                "amount_received": 1,
                "status": "succeeded",
                "customer": None,
                "payment_method": "pm_card_visa",
                "metadata": {"payment_id": payment["id"], "account_id": "A1001"},
            }
        },
    }
    answered = post_event(stack, forged)
    assert answered.status_code < 500, answered.text
    time.sleep(1)
    assert payment_status(stack, str(payment["id"])) == "pending", "a forged event settled the payment"
    assert balance(stack) == before, "a forged event credited the balance"


def test_a_signed_event_with_the_stored_intent_but_another_amount_marks_nothing_paid(stack: Stack) -> None:
    payment, _ = new_payment(stack)
    page = httpx.get(str(payment["link_url"]), timeout=30)  # opening the page creates the PaymentIntent
    assert page.status_code == 200, page.text[:300]
    intent = db_row(stack, "SELECT stripe_payment_intent_id FROM payments WHERE id = ?", payment["id"])[0]
    before = balance(stack)
    forged = {
        "id": unique("evt"),
        "object": "event",
        "type": "payment_intent.succeeded",
        "api_version": "2024-06-20",
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount": 1,
                "amount_received": 1,
                "currency": "usd",
                "status": "succeeded",
                "customer": None,
                "payment_method": "pm_card_visa",
                "metadata": {"payment_id": payment["id"], "account_id": "A1001"},
            }
        },
    }
    assert post_event(stack, forged).status_code < 500
    time.sleep(1)
    assert payment_status(stack, str(payment["id"])) == "pending"
    assert balance(stack) == before


def test_an_expired_links_payment_intent_confirmed_late_is_not_silently_applied(stack: Stack) -> None:
    payment, headers = new_payment(stack)
    page = httpx.get(str(payment["link_url"]), timeout=30)
    assert page.status_code == 200, page.text[:300]
    secret = re.search(r'data-client-secret="([^"]+)"', page.text).group(1)
    key = re.search(r'data-publishable-key="([^"]+)"', page.text).group(1)
    intent = secret.split("_secret_")[0]
    before = balance(stack)

    # The link runs out (its expiry moved into the past: the test does not wait 30 minutes), and
    # the service notices at its next look at the payment.
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(stack.workdir / "evenkeel.db") as db:
        db.execute("UPDATE payments SET link_expires_at = ? WHERE id = ?", (past, payment["id"]))
    assert httpx.get(str(payment["link_url"]), timeout=30).status_code == 410
    assert payment_status(stack, str(payment["id"])) == "expired"

    # Someone still holding the page confirms the PaymentIntent with its client secret.
    confirmed = httpx.post(
        f"{stack.stripe_url}/v1/payment_intents/{intent}/confirm",
        timeout=30,
        json={
            "key": key,
            "client_secret": secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
            },
        },
    )
    time.sleep(5)  # the stand-in sends its signed webhook about a second later
    assert payment_status(stack, str(payment["id"])) != "succeeded", "a late success was applied silently"
    assert balance(stack) == before, "a late success credited the balance silently"
    if confirmed.status_code == 200:  # Stripe took the money (its PaymentIntent was not cancelled in time)
        held = [
            c
            for c in cases_of(stack, {str(payment["conversation_id"]), f"payment-{payment['id']}"})
            if str(payment["id"]) in json.dumps(c)
        ]
        assert held, "Stripe charged an expired link's payment and no person was told"
