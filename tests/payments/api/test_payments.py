"""POST /api/payments, GET /api/payments/{id}, GET /api/accounts/{id}/payments."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from payments.adapters.orm import PaymentRow
from tests.payments.api.payment_client import PUBLIC_URL, app_sessions, create, page_path, post_stripe, stripe_event
from tests.payments.api.verified import verify_as


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/payments"), ("get", "/api/payments/PAY-AAAAAA"), ("get", "/api/accounts/A1001/payments")],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
def test_every_payments_route_needs_the_service_token(pay_client, method, path, headers):
    response = getattr(pay_client, method)(path, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_create_returns_the_payment_and_its_link(pay_client, verified, clock):
    body = create(pay_client, verified)
    assert body["id"].startswith("PAY-")
    assert (body["status"], body["method"], body["amount_cents"], body["currency"]) == ("pending", "link", 9500, "USD")
    assert (body["channel"], body["conversation_id"], body["replayed"]) == ("sms", "conv-1", False)
    assert body["link_url"].startswith(f"{PUBLIC_URL}/pay/")
    assert datetime.fromisoformat(body["link_expires_at"]).timestamp() - clock().timestamp() == 30 * 60
    assert body["processing_note"].startswith("Not paid yet")


def test_create_is_idempotent(pay_client, verified):
    first = create(pay_client, verified)
    again = create(pay_client, verified)
    assert again["id"] == first["id"] and again["replayed"] is True
    assert again["link_url"] and again["link_url"] != first["link_url"]
    with app_sessions(pay_client)() as session:
        assert session.scalar(select(func.count()).select_from(PaymentRow)) == 1
    reused = pay_client.post(
        "/api/payments",
        headers=verified,
        json={"account_id": "A1001", "amount_cents": 100, "channel": "sms", "idempotency_key": "k-1"},
    )
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"account_id": "A9999"}, 403, "verification_required"),  # the session is A1001's
        ({"amount_cents": 0}, 422, "invalid_amount"),
        ({"amount_cents": 245001}, 422, "amount_exceeds_balance"),
        ({"amount_cents": 95.5}, 422, "validation_error"),
        ({"amount_cents": "9500"}, 422, "validation_error"),
        ({"channel": "fax"}, 422, "validation_error"),
        ({"idempotency_key": ""}, 422, "validation_error"),
        ({"plan_id": "PLN-NOSUCH"}, 404, "not_found"),
    ],
)
def test_create_refusals(pay_client, verified, overrides, status, code):
    body = {"account_id": "A1001", "amount_cents": 9500, "channel": "sms", "idempotency_key": "k-1", **overrides}
    response = pay_client.post("/api/payments", json=body, headers=verified)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_paused_account_is_refused_even_when_verified(pay_client, auth):
    headers = verify_as(pay_client, auth, "A1004")
    body = {"account_id": "A1004", "amount_cents": 100, "channel": "sms", "idempotency_key": "k-1"}
    response = pay_client.post("/api/payments", json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "collection_paused")


@pytest.mark.parametrize("path", ["/api/payments/{id}", "/api/accounts/A1001/payments"])
def test_reads_need_a_session_of_the_payments_account(pay_client, auth, verified, path):
    payment = create(pay_client, verified)
    path = path.format(id=payment["id"])
    assert pay_client.get(path, headers=auth).json()["code"] == "verification_required"
    other = verify_as(pay_client, auth, "A1002", conversation_id="conv-2")
    response = pay_client.get(path, headers=other)
    assert (response.status_code, response.json()["code"]) == (403, "verification_required")
    assert pay_client.get(path, headers=verified).status_code == 200


def test_get_payment_and_its_status_after_the_webhook(pay_client, verified):
    created = create(pay_client, verified)
    assert pay_client.get(page_path(created["link_url"])).status_code == 200  # stores the PaymentIntent
    assert post_stripe(pay_client, stripe_event("evt_1", "succeeded", created["id"])).status_code == 200
    response = pay_client.get(f"/api/payments/{created['id']}", headers=verified)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_cents"], body["currency"]) == ("succeeded", 9500, "USD")
    assert body["completed_at"] and "link_url" not in body
    missing = pay_client.get("/api/payments/PAY-NOSUCH", headers=verified)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_account_payments_newest_first(pay_client, verified, clock):
    first = create(pay_client, verified, idempotency_key="a")
    clock.advance(minutes=2)
    second = create(pay_client, verified, idempotency_key="b", amount_cents=5000)
    response = pay_client.get("/api/accounts/A1001/payments", headers=verified, params={"limit": 5})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["payments"]] == [second["id"], first["id"]]
    assert pay_client.get("/api/accounts/A9999/payments", headers=verified).status_code == 403
    assert pay_client.get("/api/accounts/A1001/payments", headers=verified, params={"limit": 0}).status_code == 422


def test_a_payments_result_is_told_only_to_its_own_conversation_even_without_a_session(pay_client, verified, auth):
    created = create(pay_client, verified)
    assert pay_client.get(page_path(created["link_url"])).status_code == 200
    assert post_stripe(pay_client, stripe_event("evt_r1", "succeeded", created["id"])).status_code == 200
    own = pay_client.get(f"/api/payments/{created['id']}/result", headers={**auth, "X-Conversation-Id": "conv-1"})
    assert own.status_code == 200
    assert own.json() == {
        "id": created["id"],
        "amount_cents": 9500,
        "currency": "USD",
        "status": "succeeded",
        "conversation_id": "conv-1",
        "account_settled": False,
    }
    for headers in ({**auth, "X-Conversation-Id": "rest-someone-else"}, auth):
        other = pay_client.get(f"/api/payments/{created['id']}/result", headers=headers)
        assert (other.status_code, other.json()["code"]) == (404, "not_found")
    unknown = pay_client.get("/api/payments/PAY-NOSUCH/result", headers={**auth, "X-Conversation-Id": "conv-1"})
    assert unknown.status_code == 404
    assert (
        pay_client.get(f"/api/payments/{created['id']}/result", headers={"X-Conversation-Id": "conv-1"}).status_code
        == 401
    )  # the service token still


def test_the_result_says_when_the_account_is_now_settled(pay_client, verified, auth):
    from payments.adapters.orm import AccountRow

    created = create(pay_client, verified)
    assert pay_client.get(page_path(created["link_url"])).status_code == 200
    assert post_stripe(pay_client, stripe_event("evt_s1", "succeeded", created["id"])).status_code == 200
    with pay_client.app.state.sessions.begin() as session:  # as the last settlement payment leaves it
        session.get(AccountRow, "A1001").status = "settled"
    own = pay_client.get(f"/api/payments/{created['id']}/result", headers={**auth, "X-Conversation-Id": "conv-1"})
    assert own.json()["account_settled"] is True
