"""GET /pay/{token}: the HTML page, its states, its headers; /pay/{token}/status; static files."""

from __future__ import annotations

import re

import pytest

from payments.adapters.orm import PaymentRow
from tests.payments.api.payment_client import app_sessions, create, page_path, post_stripe, stripe_event


def test_the_page_shows_who_pays_what_and_nothing_more(pay_client, auth, fake_gateway):
    payment = create(pay_client, auth)
    response = pay_client.get(page_path(payment["link_url"]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Hi Maria" in html and "$95.00" in html and "4821" in html and payment["id"] in html
    for private in ("Lopez", "+15125550101", "555", "1985", "03-14", "78701", "2,450.00", "245000"):
        assert private not in html, private
    # The client secret of the intent made on this first opening, and Stripe.js from settings.
    assert 'data-client-secret="pi_fake1_secret_x"' in html
    assert '<script src="http://127.0.0.1:8420/js.stripe.com/v3/"></script>' in html
    assert fake_gateway.names() == ["create_payment_intent"]


def test_the_page_is_accessible_and_fits_a_phone(pay_client, auth):
    html = pay_client.get(page_path(create(pay_client, auth)["link_url"])).text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="en">' in html
    assert 'aria-labelledby="card-label"' in html and 'id="card-label"' in html
    assert 'role="status" aria-live="polite"' in html and 'role="alert"' in html
    assert re.search(r'<button id="pay-button" type="submit"[^>]*>Pay \$95.00</button>', html)
    assert "<input" not in html  # no card field of ours: Stripe.js draws them


def test_the_page_protects_its_link(pay_client, auth):
    response = pay_client.get(page_path(create(pay_client, auth)["link_url"]))
    headers = response.headers
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    csp = headers["content-security-policy"]
    assert "script-src 'self' http://127.0.0.1:8420" in csp and "frame-ancestors 'none'" in csp


def test_an_expired_link_is_410(pay_client, verified, clock):
    payment = create(pay_client, verified)
    clock.advance(minutes=31)
    response = pay_client.get(page_path(payment["link_url"]))
    assert response.status_code == 410 and "This payment link has expired" in response.text
    assert "Maria" not in response.text and "$95.00" not in response.text
    assert pay_client.get(f"/api/payments/{payment['id']}", headers=verified).json()["status"] == "expired"


def test_a_used_link_is_410(pay_client, auth):
    payment = create(pay_client, auth)
    path = page_path(payment["link_url"])
    assert pay_client.get(path).status_code == 200
    post_stripe(pay_client, stripe_event("evt_1", "succeeded", payment["id"]))
    response = pay_client.get(path)
    assert response.status_code == 410 and "already used" in response.text
    status = pay_client.get(f"{path}/status")
    assert status.json() == {
        "payment_id": payment["id"],
        "status": "succeeded",
        "amount_cents": 9500,
        "currency": "USD",
    }
    assert status.headers["cache-control"] == "no-store"


def test_an_unknown_link_is_404(pay_client):
    response = pay_client.get("/pay/not-a-real-token")
    assert response.status_code == 404 and "not valid" in response.text
    assert pay_client.get("/pay/not-a-real-token/status").status_code == 404
    assert pay_client.get("/pay/" + "x" * 500).status_code == 404


def test_stripe_down_shows_try_again_and_keeps_the_payment_pending(pay_client, auth, fake_gateway):
    payment = create(pay_client, auth)
    fake_gateway.down = True
    response = pay_client.get(page_path(payment["link_url"]))
    assert response.status_code == 503 and response.headers["retry-after"] == "60"
    assert "try again in a minute" in response.text
    with app_sessions(pay_client)() as session:
        row = session.get(PaymentRow, payment["id"])
        assert (row.status, row.stripe_payment_intent_id) == ("pending", None)
    fake_gateway.down = False
    assert pay_client.get(page_path(payment["link_url"])).status_code == 200


def test_a_processing_payment_shows_no_form(pay_client, auth):
    payment = create(pay_client, auth)
    path = page_path(payment["link_url"])
    pay_client.get(path)
    post_stripe(pay_client, stripe_event("evt_p", "processing", payment["id"]))
    html = pay_client.get(path).text
    assert "being processed" in html and 'id="pay-form"' not in html and 'data-client-secret=""' in html


@pytest.mark.parametrize(("name", "kind"), [("pay.css", "text/css"), ("pay.js", "text/javascript")])
def test_static_files(pay_client, name, kind):
    response = pay_client.get(f"/static/pay/{name}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind)


def test_only_known_static_files(pay_client):
    assert pay_client.get("/static/pay/..%2Fconfig.py").status_code == 404
    assert pay_client.get("/static/pay/other.js").status_code == 404


def add_plan_row(client) -> str:  # type: ignore[no-untyped-def]
    from datetime import date, datetime, timezone

    from payments.adapters.orm import InstallmentRow, PlanRow

    with app_sessions(client).begin() as session:
        plan = PlanRow(
            id="PLN-PAGE01",
            account_id="A1001",
            offer_id="installments_3",
            kind="installments",
            status="active",
            currency="USD",
            total_cents=28500,
            channel="sms",
            conversation_id="conv-1",
            consent_text="I agree to three payments of $95.00.",
            idempotency_key="page-plan",
            created_at=datetime(2026, 3, 2, tzinfo=timezone.utc),
        )
        plan.installments = [
            InstallmentRow(seq=i, due_date=date(2026, 3 + i, 2), amount_cents=9500, status="scheduled")
            for i in (1, 2, 3)
        ]
        session.add(plan)
    return "PLN-PAGE01"


def test_a_plan_payment_asks_before_saving_the_card_and_says_so_plainly(pay_client, auth, fake_gateway):
    payment = create(pay_client, auth, plan_id=add_plan_row(pay_client))
    path = page_path(payment["link_url"])
    html = pay_client.get(path).text
    assert 'data-state="choose"' in html and "Save this card for your plan?" in html
    assert "Stripe, keeps this card" in html and 'id="pay-form"' not in html
    assert "never see or keep" not in html
    assert fake_gateway.calls == []  # no PaymentIntent before the answer
    answered = pay_client.post(f"{path}/card-choice", data={"save": "yes"}, follow_redirects=False)
    assert answered.status_code == 303 and answered.headers["location"] == path
    html = pay_client.get(path).text
    assert 'id="pay-form"' in html and "Stripe keeps this card for your plan" in html
    assert "never see or keep" not in html and "not saved" not in html
    [(_, created)] = [c for c in fake_gateway.calls if c[0] == "create_payment_intent"]
    assert created["save_for_later"] is True


def test_a_plan_payment_without_consent_keeps_no_card(pay_client, auth, fake_gateway):
    payment = create(pay_client, auth, plan_id=add_plan_row(pay_client))
    path = page_path(payment["link_url"])
    pay_client.post(f"{path}/card-choice", data={"save": "no"})
    html = pay_client.get(path).text
    assert "The card is not saved for later payments." in html and "keeps this card" not in html
    [(_, created)] = [c for c in fake_gateway.calls if c[0] == "create_payment_intent"]
    assert created["save_for_later"] is False
    assert pay_client.post(f"{path}/card-choice", data={"save": "maybe"}).status_code == 422


def test_a_one_off_payment_page_does_not_ask_and_does_not_save(pay_client, auth, fake_gateway):
    html = pay_client.get(page_path(create(pay_client, auth)["link_url"])).text
    assert "Save this card" not in html and "The card is not saved for later payments." in html
    assert fake_gateway.calls[-1][1]["save_for_later"] is False


def test_card_choice_for_an_unknown_link_is_404(pay_client):
    assert pay_client.post("/pay/nope/card-choice", data={"save": "yes"}).status_code == 404


def test_the_page_names_the_bank_in_its_title_and_header(pay_client, auth):
    html = pay_client.get(page_path(create(pay_client, auth)["link_url"])).text
    assert "<title>Lakeside Bank · Pay $95.00</title>" in html
    assert '<span class="bank-name" id="bank-name">Lakeside Bank</span>' in html
    assert "to Lakeside Bank toward your credit card ending in" in html
    assert "<img" not in html  # no logo unless BANK_LOGO_URL is set


def test_the_bank_name_and_logo_come_from_settings(pay_client, auth):
    app = pay_client.app
    app.state.settings = app.state.settings.model_copy(
        update={"bank_name": "Prairie Credit Union", "bank_logo_url": "https://cdn.example.com/logo.svg"}
    )
    response = pay_client.get(page_path(create(pay_client, auth)["link_url"]))
    assert "<title>Prairie Credit Union · Pay $95.00</title>" in response.text
    assert '<img class="logo" id="bank-logo" src="https://cdn.example.com/logo.svg" alt=""' in response.text
    assert (
        "img-src 'self' data: https://*.stripe.com https://cdn.example.com;"
        in (response.headers["content-security-policy"])
    )
    gone = pay_client.get("/pay/" + "x" * 40)  # the other pages name the bank too
    assert "<title>Prairie Credit Union · This payment link is not valid</title>" in gone.text
