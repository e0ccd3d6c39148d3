"""Contract test: HttpPaymentsClient against the real payments app it calls (STYLE.md, "a
contract test runs each HTTP client against the real app"), for what the actions need of C2, C4
and C5: a verification session from /api/verify, carried and refused; standing of a paused and a
healthy account; a report from an unverified caller; the end of a session; a plan's receipt.

Starts `.venv/payments` (migrated and seeded SQLite in a temporary folder) on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from clients.payments import HttpPaymentsClient, VerificationOutcome, VerificationRequired
from testkit.processes import payments_service

TOKEN = "contract-service-token"
MARIA = dict(card_last4="4821", dob=date(1985, 3, 14), zip_code="78701")  # A1001, healthy
ROBERT = dict(card_last4="3056", dob=date(1968, 1, 30), zip_code="60614")  # A1004, bankruptcy
DANA = dict(card_last4="9902", dob=date(1995, 9, 9), zip_code="30309")  # A1005, +14045550105


@pytest.fixture(scope="module")
def payments_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with payments_service(tmp_path_factory.mktemp("payments"), TOKEN) as url:
        yield url


@pytest.fixture
def client(payments_url: str) -> HttpPaymentsClient:
    return HttpPaymentsClient(payments_url, TOKEN, 10)


async def verified(client: HttpPaymentsClient, conversation: str, factors: dict) -> VerificationOutcome:
    outcome = await client.verify(
        channel="web", conversation_id=conversation, phone=None, disclosure="first_party", **factors
    )
    assert outcome.verified, outcome
    return outcome


async def test_verify_opens_a_session_that_account_calls_need(client: HttpPaymentsClient) -> None:
    outcome = await verified(client, "web-contract-1", MARIA)
    assert outcome.session, "C2: /api/verify answers verification_session"
    account = await client.get_account("A1001", conversation_id="web-contract-1", session=outcome.session)
    assert account.id == "A1001"
    for session in (None, "VS-not-a-session"):
        with pytest.raises(VerificationRequired):
            await client.get_account("A1001", conversation_id="web-contract-1", session=session)
    with pytest.raises(VerificationRequired):  # bound to its own conversation
        await client.get_account("A1001", conversation_id="web-contract-other", session=outcome.session)


async def test_standing_of_a_paused_and_a_healthy_account(client: HttpPaymentsClient) -> None:
    robert = await verified(client, "web-contract-2", ROBERT)
    standing = await client.get_standing("A1004", conversation_id="web-contract-2", session=robert.session)
    assert standing.paused and "bankruptcy" in standing.pause_reasons
    maria = await verified(client, "web-contract-3", MARIA)
    standing = await client.get_standing("A1001", conversation_id="web-contract-3", session=maria.session)
    assert not standing.paused and standing.pause_reasons == ()


async def test_a_report_from_an_unverified_caller_pauses_the_account_it_points_to(client: HttpPaymentsClient) -> None:
    report = await client.create_report(
        kind="deceased",
        account_id=None,
        phone="+14045550105",
        conversation_id="+14045550105",
        channel="sms",
        reported_by="third_party",
        summary="my sister passed away",
    )
    assert report.account_ids == ("A1005",)
    dana = await verified(client, "web-contract-4", DANA)
    standing = await client.get_standing("A1005", conversation_id="web-contract-4", session=dana.session)
    assert standing.paused and "pending_review" in standing.pause_reasons


async def test_sign_off_ends_the_session(client: HttpPaymentsClient) -> None:
    outcome = await verified(client, "web-contract-5", MARIA)
    assert await client.end_verification_session(conversation_id="web-contract-5", reason="sign_off") >= 1
    with pytest.raises(VerificationRequired):
        await client.get_account("A1001", conversation_id="web-contract-5", session=outcome.session)


async def test_a_booked_plan_keeps_the_consent_and_gives_a_receipt(
    client: HttpPaymentsClient, payments_url: str
) -> None:
    outcome = await verified(client, "web-contract-6", MARIA)
    session = outcome.session
    offers = await client.get_offers("A1001", hardship=False, conversation_id="web-contract-6", session=session)
    plan_offer = next(o for o in offers.offers if o.kind == "installments")
    shown = f"Here is the plan: {plan_offer.description} Do you agree to this plan, and to us charging your card on these dates?"
    plan = await client.book_plan(
        "A1001",
        offer_id=plan_offer.id,
        channel="web",
        idempotency_key="contract-plan-1",
        consent_text=shown,
        conversation_id="web-contract-6",
        session=session,
    )
    assert plan.receipt_url and plan.receipt_url.startswith(payments_url + "/")
    standing = await client.get_standing("A1001", conversation_id="web-contract-6", session=session)
    assert standing.active_plan is not None and standing.active_plan.plan_id == plan.id


async def test_a_verified_call_lands_in_the_call_ledger_once(client: HttpPaymentsClient) -> None:
    """Recorded twice (a retried turn): the 7-days-after rule then refuses an outbound call."""
    for _ in range(2):
        await client.record_call_conversation("A1003", conversation_id="voice-CAcontract1")
    response = await client._http.post("/api/contact/check", json={"account_id": "A1003", "medium": "voice"})
    assert response.status_code == 200, response.text
    assert response.json()["allowed"] is False and response.json()["rule"] == "recent_conversation", response.json()
