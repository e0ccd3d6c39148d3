"""POST /webhooks/stripe (signed events, replays, order) and POST /webhooks/twilio/pay (<Pay>)."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from contracts.speech import speak_code
from payments.adapters.orm import AccountRow, AuditEventRow, NotificationRow, PaymentRow, StripeEventRow
from payments.api.routers.webhooks import speakable_money
from payments.domain.money import Money
from tests.payments.api.payment_client import (
    PUBLIC_URL,
    TWILIO_TOKEN,
    app_sessions,
    create,
    page_path,
    post_stripe,
    stripe_event,
)


def state(client, payment_id: str) -> dict:  # type: ignore[no-untyped-def]
    with app_sessions(client)() as session:
        row = session.get(PaymentRow, payment_id)
        return {
            "status": row.status,
            "balance": session.get(AccountRow, row.account_id).balance_cents,
            "events": session.scalar(select(func.count()).select_from(StripeEventRow)),
            "notifications": [n.payload["intent"] for n in session.scalars(select(NotificationRow))],
            "audit": sorted(session.scalars(select(AuditEventRow.kind).where(AuditEventRow.kind.like("payment_%")))),
        }


@pytest.mark.parametrize(
    ("secret", "signature"),
    [("whsec_wrong", "sign"), ("", None), ("", "t=1,v1=deadbeef"), ("", "garbage")],
)
def test_bad_or_missing_signature_is_400_and_changes_nothing(pay_client, verified, secret, signature):
    payment = create(pay_client, verified)
    before = state(pay_client, payment["id"])
    body = stripe_event("evt_1", "succeeded", payment["id"])
    response = post_stripe(pay_client, body, secret=secret or "whsec_api_test", signature=signature)
    assert (response.status_code, response.json()["code"]) == (400, "bad_signature")
    assert (
        state(pay_client, payment["id"])
        == before
        == {"status": "pending", "balance": 245000, "events": 0, "notifications": [], "audit": ["payment_created"]}
    )


def test_a_replayed_event_changes_state_once_and_queues_one_notification(pay_client, verified):
    payment = opened(pay_client, create(pay_client, verified))
    body = stripe_event("evt_1", "succeeded", payment["id"])
    first = post_stripe(pay_client, body)
    replay = post_stripe(pay_client, body)  # Stripe redelivers; a fresh signature, the same event
    assert (first.status_code, first.json()["outcome"]) == (200, "applied")
    assert (replay.status_code, replay.json()["outcome"]) == (200, "duplicate")
    assert state(pay_client, payment["id"]) == {
        "status": "succeeded",
        "balance": 245000 - 9500,
        "events": 1,
        "notifications": ["payment_succeeded"],
        "audit": ["payment_created", "payment_succeeded"],
    }


def test_failed_after_succeeded_stays_succeeded(pay_client, verified):
    payment = opened(pay_client, create(pay_client, verified))
    assert post_stripe(pay_client, stripe_event("evt_1", "succeeded", payment["id"])).json()["outcome"] == "applied"
    late = post_stripe(pay_client, stripe_event("evt_0", "payment_failed", payment["id"], failure_code="card_declined"))
    assert (late.status_code, late.json()["outcome"]) == (200, "ignored")
    assert state(pay_client, payment["id"]) == {
        "status": "succeeded",
        "balance": 245000 - 9500,
        "events": 2,
        "notifications": ["payment_succeeded"],
        "audit": ["payment_created", "payment_succeeded"],
    }


def test_a_failure_is_recorded_with_its_code(pay_client, verified):
    payment = opened(pay_client, create(pay_client, verified))
    post_stripe(pay_client, stripe_event("evt_1", "payment_failed", payment["id"], failure_code="expired_card"))
    response = pay_client.get(f"/api/payments/{payment['id']}", headers=verified).json()
    assert (response["status"], response["failure_code"]) == ("failed", "expired_card")
    assert state(pay_client, payment["id"])["notifications"] == ["payment_failed"]


def test_an_event_for_a_payment_we_do_not_have_is_acknowledged(pay_client):
    response = post_stripe(pay_client, stripe_event("evt_x", "succeeded", "PAY-NOSUCH"))
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")


def opened(client, payment: dict) -> dict:  # type: ignore[no-untyped-def]
    """The customer opens the link: the page creates the PaymentIntent (the fake's pi_fake1) and stores it."""
    assert client.get(page_path(payment["link_url"])).status_code == 200
    return payment


def rejections(client, payment_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with app_sessions(client)() as session:
        rows = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "stripe_event_rejected")).all()
    return [r.detail["why"] for r in rows if r.detail["payment_id"] == payment_id]


@pytest.mark.parametrize("open_page", [False, True], ids=["no intent yet", "intent stored"])
def test_a_signed_event_for_another_intent_changes_nothing_and_raises_an_alert(pay_client, verified, caplog, open_page):
    # Issue 11: a signed success for an unknown PaymentIntent, naming a pending payment, amount 1.
    payment = create(pay_client, verified)
    if open_page:
        opened(pay_client, payment)
    before = state(pay_client, payment["id"])
    for event_id, amount in (("evt_forged_1", 1), ("evt_forged_2", 9500)):
        body = stripe_event(event_id, "succeeded", payment["id"], intent_id="pi_attacker", amount=amount)
        assert post_stripe(pay_client, body).json()["outcome"] == "rejected"
    after = state(pay_client, payment["id"])
    assert (after["status"], after["balance"], after["notifications"]) == ("pending", 245000, [])
    assert after["audit"] == before["audit"] == ["payment_created"]
    assert rejections(pay_client, payment["id"]) == ["payment_intent_mismatch"] * 2
    alerts = [r for r in caplog.records if "SECURITY-ALERT" in r.getMessage()]
    assert len(alerts) == 2 and all(r.levelno >= logging.WARNING for r in alerts)


@pytest.mark.parametrize(("amount", "currency"), [(1, "usd"), (9501, "usd"), (9500, "eur")])
def test_the_stored_intent_with_another_amount_or_currency_changes_nothing(pay_client, verified, amount, currency):
    payment = opened(pay_client, create(pay_client, verified))
    body = json.loads(stripe_event("evt_odd", "succeeded", payment["id"], amount=amount))
    body["data"]["object"]["currency"] = currency
    assert post_stripe(pay_client, json.dumps(body).encode()).json()["outcome"] == "rejected"
    assert state(pay_client, payment["id"])["status"] == "pending"
    assert rejections(pay_client, payment["id"]) == ["amount_or_currency_mismatch"]


def test_a_success_after_the_link_expired_is_held_for_a_person(pay_client, verified, clock):
    # Issue 11: the expired link's client secret still confirmed the PaymentIntent at Stripe.
    payment = opened(pay_client, create(pay_client, verified))
    clock.advance(minutes=31)
    assert pay_client.get(f"/api/payments/{payment['id']}", headers=verified).json()["status"] == "expired"
    response = post_stripe(pay_client, stripe_event("evt_late", "succeeded", payment["id"]))
    assert response.json()["outcome"] == "held"
    after = state(pay_client, payment["id"])
    assert (after["status"], after["balance"], after["notifications"]) == ("expired", 245000, [])
    assert "payment_late_success_held" in after["audit"]
    [case] = pay_client.get("/api/handoffs", headers=verified).json()["cases"]
    assert (case["account_id"], case["reason"]) == ("A1001", "other")
    assert payment["id"] in case["summary"] and "refund" in case["summary"]


def test_a_signed_body_that_is_not_an_event_is_400(pay_client):
    assert post_stripe(pay_client, b"not json").status_code == 400
    assert post_stripe(pay_client, b'{"id": "evt_1"}').status_code == 400


# ------------------------------------------------------------------ Twilio <Pay>


def twilio_post(
    client,
    payment_id: str,
    params: dict[str, str],
    *,
    token: str = TWILIO_TOKEN,  # type: ignore[no-untyped-def]
    extra_query: dict[str, str] | None = None,
):
    query = urlencode({"payment_id": payment_id, **(extra_query or {})})
    path = f"/webhooks/twilio/pay?{query}"
    signature = RequestValidator(token).compute_signature(f"{PUBLIC_URL}{path}", params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


PAY_SUCCESS = {
    "CallSid": "CA123",
    "Result": "success",
    "PaymentToken": "pm_from_twilio",
    "PaymentCardNumber": "xxxx-xxxx-xxxx-4242",
    "PaymentCardType": "visa",
}


def test_twilio_pay_success_charges_the_token_and_says_so(pay_client, verified, fake_gateway):
    payment = create(pay_client, verified, channel="voice", idempotency_key="call-1", amount_cents=9550)
    response = twilio_post(pay_client, payment["id"], PAY_SUCCESS)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert "Thank you. Your payment of 95 dollars and 50 cents was received." in response.text
    assert speak_code(payment["id"]) in response.text
    assert "http" not in response.text  # no links in speech
    again = twilio_post(pay_client, payment["id"], PAY_SUCCESS)  # Twilio retries the webhook
    assert "was received" in again.text
    assert [c[1]["payment_method_id"] for c in fake_gateway.calls] == ["pm_from_twilio"]
    body = pay_client.get(f"/api/payments/{payment['id']}", headers=verified).json()
    assert (body["status"], body["method"]) == ("succeeded", "ivr")


def test_twilio_pay_with_a_bad_signature_is_403_and_charges_nothing(pay_client, verified, fake_gateway):
    payment = create(pay_client, verified, channel="voice")
    forged = twilio_post(pay_client, payment["id"], PAY_SUCCESS, token="someone-elses-token")
    assert (forged.status_code, forged.json()["code"]) == (403, "bad_signature")
    unsigned = pay_client.post(f"/webhooks/twilio/pay?payment_id={payment['id']}", data=PAY_SUCCESS)
    assert unsigned.status_code == 403
    # Signed for another payment's URL, replayed against ours.
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        f"{PUBLIC_URL}/webhooks/twilio/pay?payment_id=PAY-OTHER2", PAY_SUCCESS
    )
    moved = pay_client.post(
        f"/webhooks/twilio/pay?payment_id={payment['id']}", data=PAY_SUCCESS, headers={"X-Twilio-Signature": signature}
    )
    assert moved.status_code == 403
    assert fake_gateway.calls == []


def test_twilio_pay_without_a_card_charges_nothing_and_can_return_to_the_conversation(
    pay_client, verified, fake_gateway
):
    payment = create(pay_client, verified, channel="voice")
    response = twilio_post(
        pay_client,
        payment["id"],
        {"CallSid": "CA1", "Result": "caller-hung-up"},
        extra_query={"return_url": "https://rasa.example.test/webhooks/voice/webhook"},
    )
    assert "The payment was not completed, and no money was taken." in response.text
    assert '<Redirect method="POST">https://rasa.example.test/webhooks/voice/webhook</Redirect>' in response.text
    assert fake_gateway.calls == []


def test_twilio_pay_decline_and_outage_are_spoken_plainly(pay_client, verified, fake_gateway):
    declined = create(pay_client, verified, channel="voice", idempotency_key="a")
    fake_gateway.decline_code = "insufficient_funds"
    text = twilio_post(pay_client, declined["id"], PAY_SUCCESS).text
    assert "Your card was declined, so the payment of 95 dollars was not taken." in text
    assert "insufficient_funds" not in text

    fake_gateway.decline_code, fake_gateway.down = None, True
    later = create(pay_client, verified, channel="voice", idempotency_key="b")
    text = twilio_post(pay_client, later["id"], {**PAY_SUCCESS, "PaymentToken": "pm_2"}).text
    assert "We could not reach our payment system" in text
    assert pay_client.get(f"/api/payments/{later['id']}", headers=verified).json()["status"] == "pending"


def test_twilio_pay_for_an_unknown_payment_says_no_money_was_taken(pay_client):
    response = twilio_post(pay_client, "PAY-NOSUCH", PAY_SUCCESS)
    assert response.status_code == 200 and "no money was taken" in response.text


@pytest.mark.parametrize(
    ("cents", "words"),
    [
        (9500, "95 dollars"),
        (9550, "95 dollars and 50 cents"),
        (101, "1 dollar and 1 cent"),
        (50, "50 cents"),
        (245000, "2,450 dollars"),
    ],
)
def test_speakable_money(cents, words):
    assert speakable_money(Money(cents)) == words
