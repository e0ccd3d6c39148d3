# ruff: noqa: F811 - `api` and `auth` are the plan tests' fixtures, imported by name (pytest injects them)
"""The booking's answer carries `receipt_url` (C5), and /receipts/{token} shows the customer's copy
of the recurring-charge authorization: the plan, amounts, dates, the consent text, how to cancel."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.payments.api.test_plans import api, auth  # noqa: F401 - fixtures: the plan service on the test clock, a verified conversation

SHOWN = (
    "Here is the plan: Pay $310.00 in 3 monthly payments. Do you agree to this plan, and to us charging "
    "your card on these dates?"
)


def book(api: TestClient, auth: dict[str, str], **overrides: object):  # type: ignore[no-untyped-def]
    body = {
        "offer_id": "installments_3",
        "channel": "sms",
        "idempotency_key": "idem-receipt",
        "conversation_id": "+15125550101",
        **overrides,
    }
    return api.post("/api/accounts/A1001/plans", json=body, headers=auth)


def path_of(receipt_url: str) -> str:
    assert "/receipts/" in receipt_url
    return "/receipts/" + receipt_url.rsplit("/receipts/", 1)[1]


def test_booking_without_consent_text_stores_the_canonical_words_and_gives_a_receipt_url(api, auth):
    answer = book(api, auth)
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert plan["consent_source"] == "canonical"
    assert "and to us charging your card on these dates" in plan["consent_text"]
    assert plan["consent_at"] and plan["receipt_url"].startswith("http")
    assert len(plan["receipt_url"].rsplit("/", 1)[1]) >= 40


def test_the_receipt_page_shows_the_authorization_and_can_be_opened_again(api, auth):
    plan = book(api, auth, consent_text=SHOWN).json()
    assert plan["consent_source"] == "client" and plan["consent_text"] == SHOWN
    for _ in range(2):  # opened again later: the same page
        page = api.get(path_of(plan["receipt_url"]))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert plan["id"] in html and "Hi Maria" in html and "4821" in html
    for shown in ("$103.34", "$103.33", "March 2, 2026", "April 2, 2026", "May 2, 2026", "$310.00"):
        assert shown in html, shown
    assert "and to us charging your card on these dates?" in html and "by text message" in html
    assert "How to stop these payments" in html and "3 business days" in html
    for private in ("Lopez", "+15125550101", "1985", "78701", "2,450.00"):
        assert private not in html, private
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"


def test_a_replayed_booking_gives_a_fresh_receipt_url_and_the_old_one_stops(api, auth):
    first = book(api, auth).json()
    again = book(api, auth)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert again.json()["receipt_url"] != first["receipt_url"]
    assert api.get(path_of(again.json()["receipt_url"])).status_code == 200
    assert api.get(path_of(first["receipt_url"])).status_code == 404


def test_an_unknown_receipt_is_404_and_names_nothing(api):
    for token in ("nope", "x" * 200):
        page = api.get(f"/receipts/{token}")
        assert page.status_code == 404 and "This link is not valid" in page.text


def test_the_plans_list_has_no_receipt_url(api, auth):
    book(api, auth)
    [listed] = api.get("/api/accounts/A1001/plans", headers=auth).json()
    assert listed["receipt_url"] is None and listed["consent_source"] == "canonical"
