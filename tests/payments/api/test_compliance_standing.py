"""Contract C4 through the app: GET /api/accounts/{id}/standing, POST /api/reports and
POST /api/contact/revocations (service token; bodies exactly as the contract says)."""

import pytest

from tests.payments.api.verified import verify_as

MARIA, MARIA_PHONE, BANKRUPT = "A1001", "+15125550101", "A1004"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REPORT = {
    "kind": "deceased",
    "account_id": None,
    "phone": MARIA_PHONE,
    "conversation_id": "voice-CA1",
    "channel": "voice",
    "reported_by": "third_party",
    "summary": "caller says the cardholder died",
}
REVOCATION = {
    "phone": MARIA_PHONE,
    "account_id": None,
    "conversation_id": MARIA_PHONE,
    "channel": "sms",
    "media": ["voice"],
    "cease": False,
    "inconvenient": None,
    "summary": "stop calling me",
}


def standing(client, auth, account_id=MARIA):
    return client.get(f"/api/accounts/{account_id}/standing", headers=verify_as(client, auth, account_id))


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/accounts/{MARIA}/standing", None),
        ("POST", "/api/reports", REPORT),
        ("POST", "/api/contact/revocations", REVOCATION),
    ],
)
def test_each_needs_the_service_token(client, method, path, body):
    response = client.request(method, path, json=body)
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")


def test_the_standing_of_a_healthy_account(client, auth):
    response = standing(client, auth)
    assert response.status_code == 200
    assert response.json() == {
        "account_id": MARIA,
        "status": "open",
        "collection": "allowed",
        "pause_reasons": [],
        "active_plan": None,
        "pending_promise": None,
        "media": {"sms": "collection", "voice": "collection", "email": "collection"},
    }


def test_the_standing_of_the_bankruptcy_account(client, auth):
    body = standing(client, auth, BANKRUPT).json()
    assert (body["collection"], body["pause_reasons"]) == ("paused", ["bankruptcy"])
    assert body["media"] == {"sms": "notice_only", "voice": "notice_only", "email": "notice_only"}


def test_the_standing_needs_a_verified_conversation_of_that_account(client, auth):
    assert client.get(f"/api/accounts/{MARIA}/standing", headers=auth).json()["code"] == "verification_required"
    other = client.get(f"/api/accounts/{BANKRUPT}/standing", headers=verify_as(client, auth, MARIA))
    assert (other.status_code, other.json()["code"]) == (403, "verification_required")


def test_a_report_from_anyone_pauses_the_accounts_of_the_number(client, auth):
    response = client.post("/api/reports", json=REPORT, headers=auth)
    assert response.status_code == 201
    body = response.json()
    assert (
        body["account_ids"] == [MARIA] and body["status"] == "pending_review" and body["report_id"].startswith("RPT-")
    )
    after = standing(client, auth).json()
    assert (after["collection"], after["pause_reasons"]) == ("paused", ["pending_review"])
    events = client.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]
    assert events[0]["kind"] == "report_received" and events[0]["detail"]["report_id"] == body["report_id"]


def test_a_report_that_points_nowhere_is_still_recorded(client, auth):
    response = client.post("/api/reports", json={**REPORT, "phone": "+19995550000"}, headers=auth)
    assert (response.status_code, response.json()["account_ids"]) == (201, [])


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "lottery"},
        {"reported_by": "neighbour"},
        {"channel": "fax"},
        {"phone": "5125550101"},
        {"summary": "x" * 501},
        {"conversation_id": ""},
    ],
)
def test_a_report_outside_the_contract_is_refused(client, auth, change):
    assert client.post("/api/reports", json={**REPORT, **change}, headers=auth).status_code == 422


def test_a_revocation_in_the_customers_words(client, auth):
    response = client.post("/api/contact/revocations", json=REVOCATION, headers=auth)
    assert response.status_code == 201
    assert response.json() == {"recorded": True, "media": ["voice"], "cease": False, "account_ids": [MARIA]}
    media = standing(client, auth).json()["media"]
    assert media == {"sms": "collection", "voice": "none", "email": "collection"}


def test_cease_stops_every_medium(client, auth):
    response = client.post(
        "/api/contact/revocations", json={**REVOCATION, "media": ["sms"], "cease": True}, headers=auth
    )
    assert response.json() == {
        "recorded": True,
        "media": ["sms", "voice", "email"],
        "cease": True,
        "account_ids": [MARIA],
    }
    body = standing(client, auth).json()
    assert body["pause_reasons"] == ["cease"] and set(body["media"].values()) == {"none"}


def test_inconvenient_hours_are_kept_by_the_contact_check(client, auth):
    revocation = {
        **REVOCATION,
        "media": [],
        "inconvenient": {"not_before": "13:00", "not_after": None, "places": ["work"], "text": "not before 1 pm"},
    }
    assert client.post("/api/contact/revocations", json=revocation, headers=auth).status_code == 201
    check = client.post(
        "/api/contact/check", json={"account_id": MARIA, "medium": "sms", "at": "2026-03-02T18:00:00Z"}, headers=auth
    ).json()
    assert (check["allowed"], check["rule"]) == (False, "inconvenient_time")


@pytest.mark.parametrize(
    "change",
    [
        {"media": [], "cease": False, "inconvenient": None},  # nothing to record
        {"phone": None, "account_id": None},  # nobody to apply it to
        {"media": ["fax"]},
        {"inconvenient": {"not_before": "18:00", "not_after": "12:00"}},
        {"inconvenient": {"not_before": "25:00"}},
    ],
)
def test_a_revocation_outside_the_contract_is_refused(client, auth, change):
    assert client.post("/api/contact/revocations", json={**REVOCATION, **change}, headers=auth).status_code == 422


def test_the_voice_connectors_ledger_body(client, auth):
    """The body the voice connector sends after a call is verified (documented in the report)."""
    body = {
        "account_id": MARIA,
        "medium": "voice",
        "kind": "conversation",
        "direction": "inbound",
        "conversation_id": "voice-CA0123456789abcdef0123456789abcdef",
    }
    first = client.post("/api/contact/events", json=body, headers=auth)
    again = client.post("/api/contact/events", json=body, headers=auth)
    assert (first.status_code, again.status_code) == (201, 201) and first.json()["id"] == again.json()["id"]
    check = client.post("/api/contact/check", json={"account_id": MARIA, "medium": "voice"}, headers=auth).json()
    assert (check["allowed"], check["rule"]) == (False, "recent_conversation")
