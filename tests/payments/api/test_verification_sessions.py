"""Contract C2: a verification opens a session; every disclosing or money-moving route needs it,
bound to the conversation and the account, and refuses it once idle, too old or ended."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from payments.adapters.orm import VerificationSessionRow
from tests.payments.api.verified import verify_as

MARIA = {"channel": "web", "conversation_id": "conv-1", "card_last4": "4821", "dob": "1985-03-14", "zip": "78701"}

# Every route C2 names (the standing endpoint is checked where it is built).
GATED = [
    ("GET", "/api/accounts/A1001", None),
    ("GET", "/api/accounts/A1001/offers", None),
    ("GET", "/api/accounts/A1001/plans", None),
    (
        "POST",
        "/api/accounts/A1001/plans",
        {"offer_id": "installments_3", "channel": "web", "idempotency_key": "idem-1", "conversation_id": "conv-1"},
    ),
    (
        "POST",
        "/api/accounts/A1001/plans/PLN-NOPE22/cancel",
        {"actor": "customer", "channel": "web", "reason": "changed mind"},
    ),
    ("GET", "/api/accounts/A1001/promises", None),
    (
        "POST",
        "/api/accounts/A1001/promises",
        {
            "amount_cents": 9500,
            "due_date": "2026-03-09",
            "channel": "web",
            "idempotency_key": "ptp-1",
            "conversation_id": "conv-1",
        },
    ),
    (
        "POST",
        "/api/payments",
        {
            "account_id": "A1001",
            "amount_cents": 9500,
            "channel": "web",
            "idempotency_key": "k-1",
            "conversation_id": "conv-1",
        },
    ),
    ("GET", "/api/payments/PAY-AAAAAA", None),
    ("GET", "/api/accounts/A1001/payments", None),
]


def refused(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 403 and response.json()["code"] == "verification_required"


def account(client, headers):  # type: ignore[no-untyped-def]
    return client.get("/api/accounts/A1001", headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), GATED, ids=[f"{m} {p}" for m, p, _ in GATED])
def test_every_disclosing_route_refuses_without_a_session(client, auth, method, path, body):
    response = client.request(method, path, json=body, headers={**auth, "X-Conversation-Id": "conv-1"})
    assert refused(response), response.text
    assert "Maria" not in response.text and "2450" not in response.text
    unknown = client.request(
        method, path, json=body, headers={**auth, "X-Conversation-Id": "conv-1", "X-Verification-Session": "made-up"}
    )
    assert refused(unknown)


def test_the_answer_carries_the_session_and_its_absolute_limit(client, auth, clock):
    body = client.post("/api/verify", json=MARIA, headers=auth).json()
    assert len(body["verification_session"]) >= 40
    assert datetime.fromisoformat(body["session_expires_at"]) == clock() + timedelta(minutes=60)
    headers = {**auth, "X-Conversation-Id": "conv-1", "X-Verification-Session": body["verification_session"]}
    assert account(client, headers).json()["first_name"] == "Maria"


def test_only_a_hash_of_the_session_id_is_stored(client, auth):
    headers = verify_as(client, auth)
    with client.app.state.sessions() as session:
        [row] = session.scalars(select(VerificationSessionRow)).all()
    assert row.id_hash != headers["X-Verification-Session"] and len(row.id_hash) == 64
    assert (row.channel, row.conversation_id, row.account_id) == ("web", "conv-1", "A1001")


def test_a_session_is_bound_to_its_conversation_and_account(client, auth):
    headers = verify_as(client, auth)
    assert refused(account(client, {**headers, "X-Conversation-Id": "conv-2"}))
    assert refused(account(client, {k: v for k, v in headers.items() if k != "X-Conversation-Id"}))
    assert refused(client.get("/api/accounts/A1002", headers=headers))
    other = {"account_id": "A1002", "amount_cents": 100, "channel": "web", "idempotency_key": "k-2"}
    assert refused(client.post("/api/payments", json=other, headers=headers))
    assert account(client, headers).status_code == 200


def test_idle_time_ends_a_session_and_use_restarts_it(client, auth, clock):
    headers = verify_as(client, auth)
    for _ in range(3):  # 42 minutes in all, never 15 idle
        clock.advance(minutes=14)
        assert account(client, headers).status_code == 200
    clock.advance(minutes=15)
    assert refused(account(client, headers))
    clock.advance(minutes=-15)
    assert refused(account(client, headers)), "an expired session stays ended"


def test_the_absolute_limit_ends_a_session_in_use(client, auth, clock):
    headers = verify_as(client, auth)
    for _ in range(4):
        clock.advance(minutes=14)
        assert account(client, headers).status_code == 200
    clock.advance(minutes=4)  # 60 minutes after verification
    assert refused(account(client, headers))


def test_verifying_again_ends_the_conversations_earlier_session(client, auth):
    first = verify_as(client, auth)
    second = verify_as(client, auth)
    assert refused(account(client, first))
    assert account(client, second).status_code == 200


@pytest.mark.parametrize("reason", ["sign_off", "hand_back", "call_ended", "lockout"])
def test_ending_a_conversations_sessions(client, auth, reason):
    headers = verify_as(client, auth)
    kept = verify_as(client, auth, conversation_id="conv-other")
    end = client.post(
        "/api/verification-sessions/end", json={"conversation_id": "conv-1", "reason": reason}, headers=auth
    )
    assert (end.status_code, end.json()) == (200, {"ended": 1})
    assert refused(account(client, headers))
    assert account(client, kept).status_code == 200
    again = client.post(
        "/api/verification-sessions/end", json={"conversation_id": "conv-1", "reason": reason}, headers=auth
    )
    assert again.json() == {"ended": 0}


def test_ending_needs_the_token_and_a_known_reason(client, auth):
    body = {"conversation_id": "conv-1", "reason": "sign_off"}
    assert client.post("/api/verification-sessions/end", json=body).status_code == 401
    bad = client.post("/api/verification-sessions/end", json={**body, "reason": "bored"}, headers=auth)
    assert (bad.status_code, bad.json()["fields"]) == (422, ["reason"])


def test_a_lockout_ends_the_accounts_sessions_in_every_conversation(client, auth, clock):
    headers = verify_as(client, auth)
    wrong = {**MARIA, "zip": "78702"}
    for conversation in ("attack-1", "attack-2", "attack-3"):  # one try each: the account's count locks
        clock.advance(minutes=1)
        client.post("/api/verify", json={**wrong, "conversation_id": conversation}, headers=auth)
    assert refused(account(client, headers))
    locked = client.post("/api/verify", json={**MARIA, "conversation_id": "conv-9"}, headers=auth)
    assert locked.status_code == 423
