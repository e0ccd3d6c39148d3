"""Headers of a verified conversation (contract C2): verify through `POST /api/verify` with the
account's own factors, as the action server would, and carry the session it answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from payments.adapters.repositories import AccountRepository


def verify_as(
    client: TestClient, auth: dict[str, str], account_id: str = "A1001", conversation_id: str = "conv-1"
) -> dict[str, str]:
    """`auth` plus `X-Conversation-Id` and the `X-Verification-Session` of a fresh verification
    of `account_id` on web chat (all three factors)."""
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        account = AccountRepository(session).get(account_id)
    assert account is not None, f"no seeded account {account_id}"
    response = client.post(
        "/api/verify",
        headers=auth,
        json={
            "channel": "web",
            "conversation_id": conversation_id,
            "card_last4": account.card_last4,
            "dob": account.date_of_birth.isoformat(),
            "zip": account.zip_code,
        },
    )
    body = response.json()
    assert body["verified"] and body["account_id"] == account_id, body
    return {**auth, "X-Conversation-Id": conversation_id, "X-Verification-Session": body["verification_session"]}
