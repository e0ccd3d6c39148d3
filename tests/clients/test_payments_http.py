"""HttpPaymentsClient over a mock transport: the verification session header (C2), its refusal
as a typed error, standing (C4) with its fallback, reports, session end and the plan receipt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from clients.payments import AccountNotFound, HttpPaymentsClient, Standing, VerificationRequired
from tests.clients.test_payments import DANA_DIED

ACCOUNT = {
    "id": "A1004",
    "first_name": "Robert",
    "status": "delinquent",
    "balance": {"amount_cents": 320000, "currency": "USD"},
    "past_due": {"amount_cents": 80000, "currency": "USD"},
    "minimum_due": {"amount_cents": 80000, "currency": "USD"},
    "payment_due_date": "2026-12-20",
    "days_past_due": 95,
    "flags": ["bankruptcy"],
    "collection_allowed": False,
}
STANDING = {
    "account_id": "A1001",
    "status": "open",
    "collection": "allowed",
    "pause_reasons": [],
    "active_plan": {
        "plan_id": "PLN-AAA111",
        "kind": "installments",
        "status": "active",
        "next_installment": {"amount_cents": 5170, "currency": "USD", "due_date": "2026-12-10"},
    },
    "pending_promise": {"promise_id": "PTP-1", "amount_cents": 9500, "currency": "USD", "due_date": "2026-12-09"},
    "media": {"sms": "collection", "voice": "collection", "email": "collection"},
}


def client_answering(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[HttpPaymentsClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = HttpPaymentsClient("http://payments.test", "svc-token", 5, transport=httpx.MockTransport(record))
    return client, seen


async def test_verify_returns_the_session_and_account_calls_carry_it() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/verify":
            return httpx.Response(
                200,
                json={
                    "verified": True,
                    "account_id": "A1004",
                    "attempts_left": 3,
                    "verification_session": "VS-1",
                    "session_expires_at": "2026-12-02T07:00:00Z",
                },
            )
        return httpx.Response(200, json=ACCOUNT)

    client, seen = client_answering(answer)
    outcome = await client.verify(
        channel="web",
        conversation_id="web-1",
        phone=None,
        card_last4="3056",
        dob=date(1968, 1, 30),
        zip_code="60614",
        disclosure="first_party",
    )
    assert outcome.session == "VS-1"
    await client.get_account("A1004", conversation_id="web-1", session=outcome.session)
    assert seen[1].headers["X-Verification-Session"] == "VS-1"
    assert seen[1].headers["X-Conversation-Id"] == "web-1"
    assert "X-Verification-Session" not in seen[0].headers


async def test_verification_required_is_a_typed_error() -> None:
    client, _ = client_answering(lambda r: httpx.Response(403, json={"code": "verification_required", "detail": "x"}))
    with pytest.raises(VerificationRequired):
        await client.get_account("A1001", conversation_id="c", session="VS-old")
    with pytest.raises(VerificationRequired):
        await client.create_payment(
            "A1001", amount_cents=100, channel="web", idempotency_key="k", conversation_id="c", session=None
        )


async def test_standing_is_read_from_its_route() -> None:
    client, seen = client_answering(lambda r: httpx.Response(200, json=STANDING))
    standing = await client.get_standing("A1001", conversation_id="c", session="VS-1")
    assert seen[0].url.path == "/api/accounts/A1001/standing"
    assert seen[0].headers["X-Verification-Session"] == "VS-1"
    assert not standing.paused
    plan, promise = standing.active_plan, standing.pending_promise
    assert plan is not None and plan.next_installment is not None and plan.next_installment.amount_cents == 5170
    assert promise is not None and promise.due_date == date(2026, 12, 9)


async def test_without_a_standing_route_the_account_flags_decide() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/standing"):
            return httpx.Response(404, json={"code": "http_error", "detail": "Not Found"})
        return httpx.Response(200, json=ACCOUNT)

    client, seen = client_answering(answer)
    standing = await client.get_standing("A1004", conversation_id="c", session="VS-1")
    assert standing == Standing("A1004", "open", "paused", ("bankruptcy",))
    assert seen[1].headers["X-Verification-Session"] == "VS-1"


async def test_an_unknown_account_is_not_found_not_a_fallback() -> None:
    client, seen = client_answering(lambda r: httpx.Response(404, json={"code": "not_found", "detail": "no"}))
    with pytest.raises(AccountNotFound):
        await client.get_standing("A9999", conversation_id="c", session="VS-1")
    assert len(seen) == 1


def test_settled_and_cease_flags_pause() -> None:
    from clients.payments import AccountSummary

    settled = AccountSummary.from_json({**ACCOUNT, "status": "settled", "flags": [], "collection_allowed": True})
    assert Standing.from_account(settled).pause_reasons == ("settled",) and Standing.from_account(settled).paused
    cease = AccountSummary.from_json({**ACCOUNT, "flags": ["cease_communication", "stop_sms"]})
    assert Standing.from_account(cease).pause_reasons == ("cease",)


async def test_reports_and_session_end_send_the_contract_bodies() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/reports":
            return httpx.Response(
                201, json={"report_id": "RPT-1", "account_ids": ["A1001"], "status": "pending_review"}
            )
        return httpx.Response(200, json={"ended": 2})

    client, seen = client_answering(answer)
    report = await client.create_report(**DANA_DIED)
    assert report.account_ids == ("A1001",)
    assert json.loads(seen[0].content) == DANA_DIED  # the keywords are the body's keys
    assert await client.end_verification_session(conversation_id="c", reason="sign_off") == 2
    assert seen[1].url.path == "/api/verification-sessions/end"
    assert json.loads(seen[1].content) == {"conversation_id": "c", "reason": "sign_off"}


async def test_a_booked_plan_has_its_receipt_and_the_consent_is_sent() -> None:
    body = {
        "id": "PLN-1",
        "total": {"amount_cents": 300, "currency": "USD"},
        "schedule": [{"due_date": "2026-12-02", "amount": {"amount_cents": 300, "currency": "USD"}}],
        "receipt_url": "http://127.0.0.1:8000/plans/PLN-1/receipt?t=x",
    }
    client, seen = client_answering(lambda r: httpx.Response(201, json=body))
    shown = "Here is the plan: ... and to us charging your card on these dates?"
    request = {"offer_id": "installments_3", "channel": "web", "idempotency_key": "k", "consent_text": shown}
    plan = await client.book_plan("A1001", session="VS-1", conversation_id="c", **request)
    assert plan.receipt_url == body["receipt_url"]
    assert json.loads(seen[0].content) == {**request, "conversation_id": "c"}  # the keywords are the body
    assert seen[0].headers["X-Verification-Session"] == "VS-1"


async def test_transient_failures_are_retried_by_the_one_policy_and_a_4xx_is_not() -> None:
    from clients.payments import PaymentsUnavailable, Rejected, Retry

    answers = iter([httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json={"ended": 1})])

    def answer(request: httpx.Request) -> httpx.Response:
        given = next(answers)
        if isinstance(given, Exception):
            raise given
        return given

    client, seen = client_answering(answer)
    client.retry = Retry(attempts=3, backoff_seconds=0)
    assert await client.end_verification_session(conversation_id="c", reason="call_ended") == 1
    assert len(seen) == 3

    client, seen = client_answering(lambda r: httpx.Response(503))
    client.retry = Retry(attempts=2, backoff_seconds=0)
    with pytest.raises(PaymentsUnavailable):
        await client.phone_opt_out("+15125550101", medium="sms", channel="sms", conversation_id="c")
    assert len(seen) == 2

    client, seen = client_answering(lambda r: httpx.Response(401, json={"code": "unauthorized", "detail": "x"}))
    client.retry = Retry(attempts=3, backoff_seconds=0)
    with pytest.raises(Rejected):
        await client.phone_opt_in("+15125550101", medium="sms", channel="sms", conversation_id="c")
    assert len(seen) == 1
    assert Retry(attempts=3, backoff_seconds=0.5).delay(1) == 0.5 and Retry(backoff_seconds=0.5).delay(2) == 1.0


async def test_a_service_without_the_route_is_route_missing_and_the_outcomes_fold() -> None:
    from clients.payments import Delivery, RouteMissing, delivered

    client, _ = client_answering(lambda r: httpx.Response(404, json={"code": "http_error", "detail": "Not Found"}))
    with pytest.raises(RouteMissing):
        await client.end_verification_session(conversation_id="c", reason="call_ended")
    assert await delivered(client.create_report(**DANA_DIED)) == Delivery.REFUSED
    client, _ = client_answering(lambda r: httpx.Response(500))
    assert await delivered(client.create_report(**DANA_DIED)) == Delivery.UNAVAILABLE
    client, _ = client_answering(lambda r: httpx.Response(201, json={"report_id": "RPT-1", "account_ids": []}))
    assert await delivered(client.create_report(**DANA_DIED)) == Delivery.RECORDED
