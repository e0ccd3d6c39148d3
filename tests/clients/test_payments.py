"""Contract test of clients/payments.py (STYLE.md: "a contract test runs each HTTP client against
the real app it calls"): `HttpPaymentsClient` against the real FastAPI app in-process, and the
same calls against `testkit.fake_payments.FakePaymentsClient.seeded()`, which the action tests
use in its place. Each test runs on both and asserts the same answers: a verification session
from /api/verify, carried and refused; the standing of a paused and a healthy account; a report
from an unverified caller; the end of a session; a plan's receipt; opt-out and opt-in by phone;
a revocation, and one the service refuses.

The call ledger and the real process over TCP are covered by tests/actions/test_payments_contract.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from actions.config import get_settings
from clients.payments import (
    Delivery,
    PaymentsClient,
    VerificationOutcome,
    VerificationRequired,
    delivered,
)
from testkit.fake_payments import FakePaymentsClient

MARIA = dict(card_last4="4821", dob=date(1985, 3, 14), zip_code="78701")  # A1001, healthy, +15125550101
ROBERT = dict(card_last4="3056", dob=date(1968, 1, 30), zip_code="60614")  # A1004, bankruptcy
DANA = dict(card_last4="9902", dob=date(1995, 9, 9), zip_code="30309")  # A1005, +14045550105
# A death reported by text from Dana's number: the body the channels queue and send again.
DANA_DIED: dict[str, Any] = {
    "kind": "deceased",
    "account_id": None,
    "phone": "+14045550105",
    "conversation_id": "+14045550105",
    "channel": "sms",
    "reported_by": "third_party",
    "summary": "my sister passed away",
}


@pytest.fixture(params=["app", "fake"])
def client(request: pytest.FixtureRequest) -> PaymentsClient:
    if request.param == "fake":
        return FakePaymentsClient.seeded()
    app_client: PaymentsClient = request.getfixturevalue("app_client")
    return app_client


async def verified(client: PaymentsClient, conversation: str, factors: dict[str, Any]) -> VerificationOutcome:
    outcome = await client.verify(
        channel="web", conversation_id=conversation, phone=None, disclosure="first_party", **factors
    )
    assert outcome.verified, outcome
    return outcome


async def test_verify_opens_a_session_that_account_calls_need(client: PaymentsClient) -> None:
    outcome = await verified(client, "web-contract-1", MARIA)
    assert outcome.account_id == "A1001" and outcome.session, "C2: /api/verify answers verification_session"
    account = await client.get_account("A1001", conversation_id="web-contract-1", session=outcome.session)
    assert (account.id, account.balance_cents, account.past_due_cents, account.days_past_due) == (
        "A1001",
        245000,
        31000,
        45,
    )
    for session in (None, "VS-not-a-session"):
        with pytest.raises(VerificationRequired):
            await client.get_account("A1001", conversation_id="web-contract-1", session=session)
    with pytest.raises(VerificationRequired):  # bound to its own conversation
        await client.get_account("A1001", conversation_id="web-contract-other", session=outcome.session)


async def test_wrong_factors_do_not_verify(client: PaymentsClient) -> None:
    outcome = await client.verify(
        channel="web",
        conversation_id="web-contract-wrong",
        phone=None,
        disclosure="first_party",
        **{**DANA, "card_last4": "0000"},
    )
    assert not outcome.verified and outcome.account_id is None and outcome.session is None
    assert outcome.attempts_left == 2


async def test_standing_of_a_paused_and_a_healthy_account(client: PaymentsClient) -> None:
    robert = await verified(client, "web-contract-2", ROBERT)
    standing = await client.get_standing("A1004", conversation_id="web-contract-2", session=robert.session)
    assert standing.paused and "bankruptcy" in standing.pause_reasons
    maria = await verified(client, "web-contract-3", MARIA)
    standing = await client.get_standing("A1001", conversation_id="web-contract-3", session=maria.session)
    assert not standing.paused and standing.pause_reasons == ()


async def test_a_report_from_an_unverified_caller_pauses_the_account_it_points_to(client: PaymentsClient) -> None:
    report = await client.create_report(**DANA_DIED)
    assert report.account_ids == ("A1005",) and report.report_id
    dana = await verified(client, "web-contract-4", DANA)
    standing = await client.get_standing("A1005", conversation_id="web-contract-4", session=dana.session)
    assert standing.paused and "pending_review" in standing.pause_reasons


async def test_sign_off_ends_the_session(client: PaymentsClient) -> None:
    outcome = await verified(client, "web-contract-5", MARIA)
    assert await client.end_verification_session(conversation_id="web-contract-5", reason="sign_off") >= 1
    with pytest.raises(VerificationRequired):
        await client.get_account("A1001", conversation_id="web-contract-5", session=outcome.session)


async def test_a_booked_plan_keeps_the_consent_and_gives_a_receipt(client: PaymentsClient) -> None:
    outcome = await verified(client, "web-contract-6", MARIA)
    session = outcome.session
    offers = await client.get_offers("A1001", hardship=False, conversation_id="web-contract-6", session=session)
    assert offers.collection_allowed
    plan_offer = next(o for o in offers.offers if o.kind == "installments")
    shown = (
        f"Here is the plan: {plan_offer.description} "
        "Do you agree to this plan, and to us charging your card on these dates?"
    )
    plan = await client.book_plan(
        "A1001",
        offer_id=plan_offer.id,
        channel="web",
        idempotency_key="contract-plan-1",
        consent_text=shown,
        conversation_id="web-contract-6",
        session=session,
    )
    assert plan.total_cents == plan_offer.total_cents and plan.schedule == plan_offer.schedule
    assert plan.receipt_url and plan.receipt_url.startswith(get_settings().payments_public_url + "/")
    standing = await client.get_standing("A1001", conversation_id="web-contract-6", session=session)
    assert standing.active_plan is not None and standing.active_plan.plan_id == plan.id
    assert not standing.paused


async def test_opt_out_and_opt_in_by_phone(client: PaymentsClient) -> None:
    keywords: dict[str, Any] = dict(medium="sms", channel="sms", conversation_id="+15125550101")
    stopped = await client.phone_opt_out("+15125550101", **keywords)
    assert stopped.account_ids == ("A1001",) and stopped.changed_account_ids == ("A1001",)
    again = await client.phone_opt_out("+15125550101", **keywords)
    assert again.account_ids == ("A1001",) and again.changed_account_ids == ()
    started = await client.phone_opt_in("+15125550101", **keywords)
    assert started.account_ids == ("A1001",) and started.changed_account_ids == ("A1001",)
    nobody = await client.phone_opt_out("+15550000000", **{**keywords, "conversation_id": "+15550000000"})
    assert nobody.account_ids == () and nobody.changed_account_ids == ()


async def test_a_revocation_is_recorded_against_the_number(client: PaymentsClient) -> None:
    body: dict[str, Any] = {
        "phone": "+14045550105",
        "account_id": None,
        "conversation_id": "+14045550105",
        "channel": "sms",
        "media": ["voice"],
        "cease": False,
        "inconvenient": None,
        "summary": "don't call me anymore",
    }
    receipt = await client.record_revocation(**body)  # the connectors' queued body, as it is stored
    assert receipt.recorded and receipt.media == ("voice",) and not receipt.cease
    assert receipt.account_ids == ("A1005",)
    assert await delivered(client.record_revocation(**body)) == Delivery.RECORDED


async def test_a_revocation_naming_nobody_is_refused_not_retried(client: PaymentsClient) -> None:
    call = client.record_revocation(conversation_id="web-contract-7", channel="web", media=["sms"])
    assert await delivered(call) == Delivery.REFUSED
