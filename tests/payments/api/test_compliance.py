import pytest
from fastapi import Request

from payments.api.deps import get_compliance_service
from payments.services.compliance import ComplianceService
from tests.payments.api.verified import verify_as

MARIA, MARIA_PHONE = "A1001", "+15125550101"

# Refused before any database work: one database is enough.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def api(client, clock):
    """The app with the compliance service on the test clock (18:00 UTC: noon in Chicago)."""

    def compliance_service(request: Request) -> ComplianceService:
        return ComplianceService(request.app.state.sessions, clock=clock)

    client.app.dependency_overrides[get_compliance_service] = compliance_service
    return client


def flag(api, auth, account_id=MARIA, **body):
    values = {"flag": "stop_sms", "channel": "sms", "actor": "customer"}
    return api.post(f"/api/accounts/{account_id}/flags", json={**values, **body}, headers=auth)


def check(api, auth, account_id=MARIA, medium="sms", **body):
    return api.post("/api/contact/check", json={"account_id": account_id, "medium": medium, **body}, headers=auth)


ENDPOINTS = [
    ("POST", f"/api/accounts/{MARIA}/flags", {"flag": "dispute", "channel": "sms", "actor": "customer"}),
    ("DELETE", f"/api/accounts/{MARIA}/flags/stop_sms?actor=customer&channel=sms", None),
    ("GET", f"/api/accounts/{MARIA}/events", None),
    ("POST", "/api/contact/check", {"account_id": MARIA, "medium": "sms"}),
    (
        "POST",
        "/api/contact/events",
        {"account_id": MARIA, "medium": "voice", "kind": "attempt", "direction": "outbound"},
    ),
    ("POST", "/api/contact/opt-out", {"phone": MARIA_PHONE, "medium": "sms"}),
    ("POST", "/api/contact/opt-in", {"phone": MARIA_PHONE, "medium": "sms"}),
    ("POST", "/api/contact/wrong-number", {"phone": MARIA_PHONE}),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}], ids=["none", "wrong"])
def test_every_route_needs_the_service_token(api, auth, method, path, body, headers):
    response = api.request(method, path, json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
    # Nothing was done: the trail is empty.
    assert api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"] == []


# --- flags -------------------------------------------------------------------------------------


def test_set_a_flag(api, auth):
    response = flag(api, auth, flag="dispute", conversation_id="c1", note="says the charge is not hers")
    assert response.status_code == 200
    assert response.json() == {"account_id": MARIA, "flags": ["dispute"], "collection_allowed": False, "changed": True}
    assert api.get(f"/api/accounts/{MARIA}", headers=verify_as(api, auth, MARIA)).json()["collection_allowed"] is False


def test_setting_a_flag_twice_is_a_no_op_audited_once(api, auth):
    flag(api, auth)
    again = flag(api, auth, actor="agent:alice", channel="console")
    assert (again.status_code, again.json()["flags"], again.json()["changed"]) == (200, ["stop_sms"], False)
    kinds = [e["kind"] for e in api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]]
    assert kinds == ["flag_set"]


def test_flags_accumulate_sorted(api, auth):
    flag(api, auth, flag="stop_voice")
    body = flag(api, auth, flag="wrong_number").json()
    assert (body["flags"], body["collection_allowed"]) == (["stop_voice", "wrong_number"], True)


def test_flag_on_unknown_account_is_not_found(api, auth):
    response = flag(api, auth, account_id="A9999")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"flag": "vip"}, ["flag"]),
        ({"actor": "bot"}, ["actor"]),
        ({"actor": "agent:"}, ["actor"]),
        ({"channel": "fax"}, ["channel"]),
        ({"note": "x" * 501}, ["note"]),
        ({"flag": None, "channel": None}, ["flag", "channel"]),
    ],
)
def test_a_bad_flag_request_names_the_fields(api, auth, body, fields):
    response = flag(api, auth, **body)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert response.json()["fields"] == fields


def test_clear_a_flag(api, auth):
    flag(api, auth)
    response = api.delete(
        f"/api/accounts/{MARIA}/flags/stop_sms", params={"actor": "customer", "channel": "sms"}, headers=auth
    )
    assert response.status_code == 200
    assert (response.json()["flags"], response.json()["changed"]) == ([], True)
    events = api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]
    assert [(e["kind"], e["detail"]) for e in events] == [
        ("flag_cleared", {"flag": "stop_sms"}),
        ("flag_set", {"flag": "stop_sms"}),
    ]


def test_a_customer_cannot_clear_a_dispute(api, auth):
    flag(api, auth, flag="dispute")
    response = api.delete(
        f"/api/accounts/{MARIA}/flags/dispute", params={"actor": "customer", "channel": "sms"}, headers=auth
    )
    assert (response.status_code, response.json()["code"]) == (422, "flag_requires_agent")
    response = api.delete(
        f"/api/accounts/{MARIA}/flags/dispute", params={"actor": "agent:alice", "channel": "console"}, headers=auth
    )
    assert (response.status_code, response.json()["collection_allowed"]) == (200, True)


def test_clear_needs_a_known_flag_and_an_actor(api, auth):
    response = api.delete(
        f"/api/accounts/{MARIA}/flags/vip", params={"actor": "customer", "channel": "sms"}, headers=auth
    )
    assert (response.status_code, response.json()["fields"]) == (422, ["path.flag"])
    response = api.delete(f"/api/accounts/{MARIA}/flags/stop_sms", params={"channel": "sms"}, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, ["query.actor"])
    response = api.delete(
        "/api/accounts/A9999/flags/stop_sms", params={"actor": "customer", "channel": "sms"}, headers=auth
    )
    assert response.status_code == 404


# --- the audit trail ---------------------------------------------------------------------------


def test_events_are_newest_first_with_every_field(api, auth, clock):
    flag(api, auth, conversation_id="c1")
    check(api, auth, conversation_id="c1")
    body = api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()
    assert body["account_id"] == MARIA
    newest, oldest = body["events"]
    assert newest["kind"] == "contact_check" and oldest["kind"] == "flag_set"
    assert oldest == {
        "at": "2026-03-02T18:00:00Z",
        "kind": "flag_set",
        "actor": "customer",
        "channel": "sms",
        "conversation_id": "c1",
        "detail": {"flag": "stop_sms"},
    }
    assert newest["detail"]["allowed"] is False and newest["detail"]["rule"] == "opted_out"
    limited = api.get(f"/api/accounts/{MARIA}/events", params={"limit": 1}, headers=auth).json()["events"]
    assert [e["kind"] for e in limited] == ["contact_check"]


@SQLITE_ONLY
@pytest.mark.parametrize("limit", [0, 501, "many"])
def test_events_limit_is_bounded(api, auth, limit):
    response = api.get(f"/api/accounts/{MARIA}/events", params={"limit": limit}, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, ["query.limit"])


def test_events_of_unknown_account(api, auth):
    assert api.get("/api/accounts/A9999/events", headers=auth).status_code == 404


# --- the contact check -------------------------------------------------------------------------


def test_check_allowed_now(api, auth):
    response = check(api, auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["allowed"], body["rule"], body["next_allowed_at"], body["at"]) == (
        True,
        None,
        None,
        "2026-03-02T18:00:00Z",
    )


def test_check_outside_hours_says_when(api, auth):
    body = check(api, auth, at="2026-03-02T21:30:00-06:00").json()  # 21:30 in Chicago
    assert (body["allowed"], body["rule"]) == (False, "outside_hours")
    assert body["next_allowed_at"] == "2026-03-03T14:00:00Z"  # 08:00 CST
    assert "21:30" in body["detail"]


@pytest.mark.parametrize(
    ("account_id", "setup", "medium", "rule"),
    [
        ("A1004", None, "sms", "collection_paused"),  # seeded bankruptcy
        (MARIA, "stop_sms", "sms", "opted_out"),
        (MARIA, "wrong_number", "voice", "wrong_number"),
        (MARIA, "cease_communication", "email", "cease_communication"),
    ],
)
def test_check_names_the_rule(api, auth, account_id, setup, medium, rule):
    if setup:
        flag(api, auth, account_id=account_id, flag=setup)
    body = check(api, auth, account_id=account_id, medium=medium).json()
    assert (body["allowed"], body["rule"], body["next_allowed_at"]) == (False, rule, None)


def test_seven_calls_then_the_check_refuses(api, auth):
    for _ in range(7):
        response = api.post(
            "/api/contact/events",
            json={"account_id": MARIA, "medium": "voice", "kind": "attempt", "direction": "outbound"},
            headers=auth,
        )
        assert response.status_code == 201
    body = check(api, auth, medium="voice").json()
    assert (body["rule"], body["next_allowed_at"]) == ("call_frequency", "2026-03-09T13:00:00Z")
    assert check(api, auth, medium="sms").json()["allowed"] is True


def test_check_and_record_in_one_call(api, auth):
    body = check(api, auth, medium="voice", record_attempt=True).json()
    assert body["allowed"] and isinstance(body["recorded_event_id"], int)
    kinds = [e["kind"] for e in api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]]
    assert kinds == ["contact_event", "contact_check"]


def test_an_inbound_conversation_stops_calls_but_not_texts(api, auth):
    response = api.post(
        "/api/contact/events",
        json={
            "account_id": MARIA,
            "medium": "voice",
            "kind": "conversation",
            "direction": "inbound",
            "conversation_id": "call-7",
        },
        headers=auth,
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "account_id": MARIA,
        "medium": "voice",
        "kind": "conversation",
        "direction": "inbound",
    }
    assert check(api, auth, medium="voice").json()["rule"] == "recent_conversation"
    assert check(api, auth, medium="sms").json()["allowed"] is True
    [event] = [
        e
        for e in api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]
        if e["kind"] == "contact_event"
    ]
    assert (event["actor"], event["conversation_id"]) == ("customer", "call-7")


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"medium": "fax"}, ["medium"]),
        ({"at": "2026-03-02T12:00:00"}, ["at"]),  # no offset: whose noon?
        ({"at": "soon"}, ["at"]),
        ({"at": 1772474400}, ["at"]),  # a number is not read as Unix time
        ({"at": "9999-12-31T23:59:59-12:00"}, ["at"]),  # was a 500: the window overflowed
        ({"at": "0001-01-01T00:00:00+14:00"}, ["at"]),
        ({"account_id": ""}, ["account_id"]),
    ],
)
def test_a_bad_check_names_the_fields(api, auth, body, fields):
    response = check(api, auth, **body)
    assert (response.status_code, response.json()["fields"]) == (422, fields)


def test_a_bad_contact_event_names_the_fields(api, auth):
    response = api.post(
        "/api/contact/events", json={"account_id": MARIA, "medium": "voice", "kind": "call"}, headers=auth
    )
    assert (response.status_code, response.json()["fields"]) == (422, ["kind", "direction"])


def test_unknown_account_check_and_event(api, auth):
    assert check(api, auth, account_id="A9999").status_code == 404
    response = api.post(
        "/api/contact/events",
        json={"account_id": "A9999", "medium": "voice", "kind": "attempt", "direction": "outbound"},
        headers=auth,
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- STOP and START by phone -------------------------------------------------------------------


def test_stop_and_start_by_phone(api, auth):
    response = api.post("/api/contact/opt-out", json={"phone": MARIA_PHONE, "medium": "sms"}, headers=auth)
    assert (response.status_code, response.json()) == (200, {"account_ids": [MARIA], "changed_account_ids": [MARIA]})
    assert check(api, auth).json()["rule"] == "opted_out"
    response = api.post("/api/contact/opt-in", json={"phone": MARIA_PHONE, "medium": "sms"}, headers=auth)
    assert response.json()["changed_account_ids"] == [MARIA]
    assert check(api, auth).json()["allowed"] is True


def test_stop_from_an_unknown_phone_matches_nothing(api, auth):
    response = api.post("/api/contact/opt-out", json={"phone": "+15125550199"}, headers=auth)
    assert (response.status_code, response.json()) == (200, {"account_ids": [], "changed_account_ids": []})


@SQLITE_ONLY
@pytest.mark.parametrize("phone", ["5125550101", "+1 512 555 0101", "", "+0123456789"])
def test_stop_needs_an_e164_phone(api, auth, phone):
    response = api.post("/api/contact/opt-out", json={"phone": phone, "medium": "sms"}, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, ["phone"])
    assert phone[-4:] not in response.text or not phone


def test_wrong_number_by_phone(api, auth):
    response = api.post(
        "/api/contact/wrong-number",
        json={"phone": MARIA_PHONE, "channel": "sms", "conversation_id": "sms-1"},
        headers=auth,
    )
    assert (response.status_code, response.json()) == (200, {"account_ids": [MARIA], "changed_account_ids": [MARIA]})
    assert check(api, auth, medium="sms").json()["rule"] == "wrong_number"
    assert check(api, auth, medium="voice").json()["rule"] == "wrong_number"
    assert check(api, auth, medium="email").json()["allowed"] is True
    response = api.post("/api/contact/wrong-number", json={"phone": "512-555-0101"}, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, ["phone"])
