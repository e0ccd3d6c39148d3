"""Contract test over the wire: HttpPaymentsClient from the rasa environment (Python 3.10, the
action server's) against the real payments service process over TCP, for C2 (a verification
session from /api/verify, carried and refused) and the call ledger.

The rest of the contract (standing, reports, session end, plans and receipts, opt-out, opt-in,
revocations), and the fake the action tests use, are checked in-process against the same app by
tests/clients/test_payments.py. Starts `.venv/payments` (migrated and seeded SQLite in a
temporary folder) on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from clients.payments import HttpPaymentsClient, VerificationRequired
from testkit.processes import payments_service

TOKEN = "contract-service-token"


@pytest.fixture(scope="module")
def payments_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with payments_service(tmp_path_factory.mktemp("payments"), TOKEN) as url:
        yield url


@pytest.fixture
def client(payments_url: str) -> HttpPaymentsClient:
    return HttpPaymentsClient(payments_url, TOKEN, 10)


async def test_a_verified_call_lands_in_the_call_ledger_once(client: HttpPaymentsClient) -> None:
    """Verified on a call, the session reads the account, and the call is recorded twice (a
    retried turn) but counts once: the 7-days-after rule then refuses an outbound call."""
    aisha = await client.verify(
        channel="voice",
        conversation_id="voice-CAcontract1",
        phone="+14155550103",
        card_last4="7734",
        dob=date(1990, 7, 21),
        zip_code=None,
        disclosure="first_party",
    )
    assert aisha.verified and aisha.account_id == "A1003" and aisha.session, aisha
    with pytest.raises(VerificationRequired):
        await client.get_account("A1003", conversation_id="voice-CAcontract1", session=None)
    account = await client.get_account("A1003", conversation_id="voice-CAcontract1", session=aisha.session)
    assert (account.id, account.first_name) == ("A1003", "Aisha")
    for _ in range(2):
        await client.record_call_conversation("A1003", conversation_id="voice-CAcontract1")
    response = await client._http.post("/api/contact/check", json={"account_id": "A1003", "medium": "voice"})
    assert response.status_code == 200, response.text
    assert response.json()["allowed"] is False and response.json()["rule"] == "recent_conversation", response.json()
