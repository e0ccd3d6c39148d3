"""POST /api/payments, GET /api/payments/{id}, GET /api/accounts/{id}/payments."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import PaymentRow
from tests.payments.api.payment_client import (  # noqa: F401 - fixtures
    PUBLIC_URL,
    app_sessions,
    create,
    fake_gateway,
    pay_client,
    post_stripe,
    stripe_event,
)


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/payments"), ("get", "/api/payments/PAY-AAAAAA"), ("get", "/api/accounts/A1001/payments")],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
def test_every_payments_route_needs_the_service_token(pay_client, method, path, headers):
    response = getattr(pay_client, method)(path, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_create_returns_the_payment_and_its_link(pay_client, auth, clock):
    body = create(pay_client, auth)
    assert body["id"].startswith("PAY-")
    assert (body["status"], body["method"], body["amount_cents"], body["currency"]) == ("pending", "link", 9500, "USD")
    assert (body["channel"], body["conversation_id"], body["replayed"]) == ("sms", "conv-1", False)
    assert body["link_url"].startswith(f"{PUBLIC_URL}/pay/")
    assert datetime.fromisoformat(body["link_expires_at"]).timestamp() - clock().timestamp() == 30 * 60
    assert body["processing_note"].startswith("Not paid yet")


def test_create_is_idempotent(pay_client, auth):
    first = create(pay_client, auth)
    again = create(pay_client, auth)
    assert again["id"] == first["id"] and again["replayed"] is True
    assert again["link_url"] and again["link_url"] != first["link_url"]
    with app_sessions(pay_client)() as session:
        assert session.scalar(select(func.count()).select_from(PaymentRow)) == 1
    reused = pay_client.post("/api/payments", headers=auth, json={
        "account_id": "A1001", "amount_cents": 100, "channel": "sms", "idempotency_key": "k-1"})
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"account_id": "A9999"}, 404, "not_found"),
        ({"amount_cents": 0}, 422, "invalid_amount"),
        ({"amount_cents": 245001}, 422, "amount_exceeds_balance"),
        ({"account_id": "A1004", "amount_cents": 100}, 422, "collection_paused"),
        ({"amount_cents": 95.5}, 422, "validation_error"),
        ({"amount_cents": "9500"}, 422, "validation_error"),
        ({"channel": "fax"}, 422, "validation_error"),
        ({"idempotency_key": ""}, 422, "validation_error"),
        ({"plan_id": "PLN-NOSUCH"}, 404, "not_found"),
    ],
)
def test_create_refusals(pay_client, auth, overrides, status, code):
    body = {"account_id": "A1001", "amount_cents": 9500, "channel": "sms", "idempotency_key": "k-1", **overrides}
    response = pay_client.post("/api/payments", json=body, headers=auth)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_get_payment_and_its_status_after_the_webhook(pay_client, auth):
    created = create(pay_client, auth)
    assert post_stripe(pay_client, stripe_event("evt_1", "succeeded", created["id"])).status_code == 200
    response = pay_client.get(f"/api/payments/{created['id']}", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_cents"], body["currency"]) == ("succeeded", 9500, "USD")
    assert body["completed_at"] and "link_url" not in body
    missing = pay_client.get("/api/payments/PAY-NOSUCH", headers=auth)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_account_payments_newest_first(pay_client, auth, clock):
    first = create(pay_client, auth, idempotency_key="a")
    clock.advance(minutes=2)
    second = create(pay_client, auth, idempotency_key="b", amount_cents=5000)
    response = pay_client.get("/api/accounts/A1001/payments", headers=auth, params={"limit": 5})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["payments"]] == [second["id"], first["id"]]
    assert pay_client.get("/api/accounts/A9999/payments", headers=auth).status_code == 404
    assert pay_client.get("/api/accounts/A1001/payments", headers=auth, params={"limit": 0}).status_code == 422
