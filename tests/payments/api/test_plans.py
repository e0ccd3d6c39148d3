"""Offers, plans and promises through HTTP: status codes, stable error codes, money shape."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from payments.api.deps import get_plan_service
from payments.domain.policy import PlanPolicy
from payments.services.plans import PlanService
from tests.payments.api.verified import verify_as

CONSENT = "Customer agreed on chat to 3 monthly payments of the past-due amount."


@pytest.fixture
def api(client: TestClient, clock) -> TestClient:  # type: ignore[no-untyped-def]
    def plan_service(request: Request) -> PlanService:
        return PlanService(request.app.state.sessions, PlanPolicy(), clock=clock)

    client.app.dependency_overrides[get_plan_service] = plan_service  # type: ignore[attr-defined]
    return client


@pytest.fixture
def auth(client: TestClient, auth: dict[str, str]) -> dict[str, str]:
    """The service token and the verification session of A1001 in conv-1 (C2)."""
    return verify_as(client, auth)


def book(api: TestClient, auth: dict[str, str], **overrides: object):  # type: ignore[no-untyped-def]
    body = {
        "offer_id": "installments_3",
        "channel": "web",
        "idempotency_key": "idem-0001",
        "consent_text": CONSENT,
        "conversation_id": "conv-1",
        **overrides,
    }
    return api.post("/api/accounts/A1001/plans", json=body, headers=auth)


def test_offers_need_the_service_token(api: TestClient) -> None:
    assert api.get("/api/accounts/A1001/offers").status_code == 401


def test_offers_have_ids_exact_schedules_and_descriptions(api: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    body = api.get("/api/accounts/A1001/offers", headers=auth).json()
    assert body["collection_allowed"] is True
    offers = {o["id"]: o for o in body["offers"]}
    assert offers["past_due"]["total"] == {"amount_cents": 31000, "currency": "USD"}
    assert offers["installments_3"]["schedule"][0] == {
        "due_date": "2026-03-02",
        "amount": {"amount_cents": 10334, "currency": "USD"},
    }
    assert all(o["description"].endswith(".") for o in body["offers"])
    hardship = api.get("/api/accounts/A1001/offers", params={"hardship": "true"}, headers=auth).json()
    assert "hardship_6" in {o["id"] for o in hardship["offers"]}


def test_offers_errors(api: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    assert api.get("/api/accounts/A9999/offers", headers=auth).json()["code"] == "verification_required"
    too_late = api.get("/api/accounts/A1001/offers", params={"start_date": "2026-04-30"}, headers=auth)
    assert too_late.status_code == 422 and too_late.json()["code"] == "invalid_request"
    paused = api.get("/api/accounts/A1004/offers", headers=verify_as(api, auth, "A1004", "conv-4")).json()
    assert paused == {"account_id": "A1004", "collection_allowed": False, "offers": []}


def test_book_then_replay_then_list(api: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    first = book(api, auth)
    assert first.status_code == 201
    plan = first.json()
    assert plan["status"] == "active" and plan["total"] == {"amount_cents": 31000, "currency": "USD"}
    assert [s["amount"]["amount_cents"] for s in plan["schedule"]] == [10334, 10333, 10333]
    replay = book(api, auth)
    assert replay.status_code == 200 and replay.json()["id"] == plan["id"]
    listed = api.get("/api/accounts/A1001/plans", headers=auth).json()
    assert [p["id"] for p in listed] == [plan["id"]]


def test_booking_refusals_have_stable_codes(api: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    not_allowed = book(api, auth, offer_id="settlement_lump")
    assert (not_allowed.status_code, not_allowed.json()["code"]) == (422, "offer_not_allowed")
    book(api, auth)
    second = book(api, auth, idempotency_key="idem-0002", offer_id="installments_6")
    assert (second.status_code, second.json()["code"]) == (409, "plan_already_active")
    paused = api.post(
        "/api/accounts/A1004/plans",
        headers=verify_as(api, auth, "A1004", "conv-4"),
        json={"offer_id": "past_due", "channel": "sms", "idempotency_key": "idem-0003", "consent_text": CONSENT},
    )
    assert (paused.status_code, paused.json()["code"]) == (422, "collection_paused")
    malformed = book(api, auth, channel="fax", idempotency_key="x")
    assert malformed.status_code == 422
    assert set(malformed.json()["fields"]) == {"channel", "idempotency_key"}


def test_cancel(api: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    plan_id = book(api, auth).json()["id"]
    cancelled = api.post(
        f"/api/accounts/A1001/plans/{plan_id}/cancel",
        headers=auth,
        json={"actor": "agent:sam", "channel": "web", "reason": "customer asked"},
    )
    assert cancelled.json()["status"] == "cancelled"
    missing = api.post(
        "/api/accounts/A1001/plans/PLN-NOPE22/cancel",
        headers=auth,
        json={"actor": "agent:sam", "channel": "web", "reason": "x"},
    )
    assert missing.status_code == 404


def test_promises(api: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    body = {"amount_cents": 9500, "due_date": "2026-03-10", "channel": "sms", "idempotency_key": "ptp-0001"}
    made = api.post("/api/accounts/A1001/promises", json=body, headers=auth)
    assert made.status_code == 201
    assert made.json()["amount"] == {"amount_cents": 9500, "currency": "USD"}
    assert api.post("/api/accounts/A1001/promises", json=body, headers=auth).status_code == 200
    low = api.post(
        "/api/accounts/A1001/promises", headers=auth, json={**body, "amount_cents": 100, "idempotency_key": "ptp-0002"}
    )
    assert (low.status_code, low.json()["code"]) == (422, "promise_amount_too_low")
    assert len(api.get("/api/accounts/A1001/promises", headers=auth).json()) == 1
