import json
import re

import pytest
from fastapi import Request

from payments.api.deps import get_compliance_service, get_console_service, get_handoff_service
from payments.services.compliance import ComplianceService
from payments.services.console import RESUME_EVENTS, ConsoleService
from payments.services.handoffs import HandoffService
from testkit.fake_rasa import FakeConversations
from tests.payments.api.verified import verify_as

MARIA = "A1001"
BODY = {
    "conversation_id": "sms-+15125550101",
    "channel": "sms",
    "reason": "request_agent",
    "account_id": MARIA,
    "verified": True,
    "summary": "Maria asked for a person. She was offered 3 installments and booked nothing.",
    "context": {"asked_for": "agent", "offers_made": ["installments_3"], "plan_booked": None, "balance_cents": 245000},
}

# Refused before any database work: one database is enough.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def api(client, clock, rasa):
    """The app with the handoff and compliance services on the test clock."""

    def handoff_service(request: Request) -> HandoffService:
        return HandoffService(request.app.state.sessions, clock=clock)

    def compliance_service(request: Request) -> ComplianceService:
        return ComplianceService(request.app.state.sessions, clock=clock)

    def console_service(request: Request) -> ConsoleService:
        return ConsoleService(request.app.state.sessions, handoff_service(request), rasa, clock=clock)

    client.app.dependency_overrides[get_handoff_service] = handoff_service
    client.app.dependency_overrides[get_compliance_service] = compliance_service
    client.app.dependency_overrides[get_console_service] = console_service
    return client


@pytest.fixture
def rasa() -> FakeConversations:
    return FakeConversations()


def create(api, auth, **body):
    return api.post("/api/handoffs", json={**BODY, **body}, headers=auth)


def claim(api, auth, case_id, agent):
    return api.post(f"/api/handoffs/{case_id}/claim", json={"agent": agent}, headers=auth)


ENDPOINTS = [
    ("POST", "/api/handoffs", BODY),
    ("GET", "/api/handoffs", None),
    ("GET", "/api/handoffs/CASE-AAAAAA", None),
    ("POST", "/api/handoffs/CASE-AAAAAA/claim", {"agent": "alice"}),
    ("POST", "/api/handoffs/CASE-AAAAAA/notes", {"author": "alice", "text": "hi"}),
    ("POST", "/api/handoffs/CASE-AAAAAA/release", {"agent": "alice"}),
    ("POST", "/api/handoffs/CASE-AAAAAA/resolve", {"agent": "alice", "outcome": "done", "resume_assistant": True}),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_route_needs_the_service_token(api, auth, method, path, body):
    response = api.request(method, path, json=body, headers={"Authorization": "Bearer wrong"})
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
    assert api.get("/api/handoffs", headers=auth).json()["cases"] == []


def test_create_a_case(api, auth):
    response = create(api, auth)
    assert response.status_code == 201
    case = response.json()
    assert re.fullmatch(r"CASE-[2-9A-Z]{6}", case["id"])
    assert {
        k: case[k]
        for k in (
            "status",
            "reason",
            "priority",
            "queue_position",
            "waiting_since",
            "claimed_by",
            "account_id",
            "verified",
            "channel",
            "notes",
            "context",
        )
    } == {
        "status": "open",
        "reason": "request_agent",
        "priority": 2,
        "queue_position": 1,
        "waiting_since": "2026-03-02T18:00:00Z",
        "claimed_by": None,
        "account_id": MARIA,
        "verified": True,
        "channel": "sms",
        "notes": [],
        "context": BODY["context"],
    }


def test_the_same_conversation_gets_its_case_back_with_200(api, auth):
    first = create(api, auth).json()
    again = create(api, auth, reason="distress", summary="Maria mentioned self-harm; 988 was given.")
    assert again.status_code == 200
    body = again.json()
    assert (body["id"], body["priority"], body["reason"]) == (first["id"], 0, "distress")
    assert [n["author"] for n in body["notes"]] == ["assistant"]
    assert len(api.get("/api/handoffs", headers=auth).json()["cases"]) == 1


def test_a_dispute_case_flags_the_account(api, auth):
    assert create(api, auth, reason="dispute").status_code == 201
    account = api.get(f"/api/accounts/{MARIA}", headers=verify_as(api, auth, MARIA)).json()
    assert (account["flags"], account["collection_allowed"]) == (["dispute"], False)
    kinds = [e["kind"] for e in api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]]
    assert [k for k in kinds if k != "verification_attempt"] == ["flag_set", "handoff_created"]


def test_an_unverified_case_without_account(api, auth):
    response = create(api, auth, reason="verification_locked", verified=False, account_id=None)
    assert response.status_code == 201
    assert (response.json()["account_id"], response.json()["verified"]) == (None, False)


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"reason": "angry"}, ["reason"]),
        ({"channel": "fax"}, ["channel"]),
        ({"summary": ""}, ["summary"]),
        ({"summary": "x" * 1001}, ["summary"]),
        ({"verified": None}, ["verified"]),
        ({"conversation_id": ""}, ["conversation_id"]),
        ({"context": {"transcript": "x" * 17000}}, ["context"]),
        ({"context": ["not", "an", "object"]}, ["context"]),
    ],
)
def test_a_bad_case_names_the_fields(api, auth, body, fields):
    response = create(api, auth, **body)
    assert (response.status_code, response.json()["code"], response.json()["fields"]) == (
        422,
        "validation_error",
        fields,
    )


def test_nan_or_infinity_in_the_context_is_refused_on_every_database(api, auth):
    # Python's JSON parser reads NaN and Infinity; PostgreSQL's json type refused them: a 500.
    body = json.dumps({**BODY, "context": {"score": float("nan"), "limit": float("inf")}})
    response = api.post("/api/handoffs", content=body, headers={**auth, "Content-Type": "application/json"})
    assert (response.status_code, response.json()["fields"]) == (422, ["context"])


def test_missing_fields_are_named(api, auth):
    response = api.post("/api/handoffs", json={"conversation_id": "c1"}, headers=auth)
    assert response.status_code == 422
    assert sorted(response.json()["fields"]) == ["channel", "reason", "summary", "verified"]


def test_a_case_for_an_unknown_account_is_not_found(api, auth):
    response = create(api, auth, account_id="A9999")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_queue_is_priority_then_waiting_time(api, auth, clock):
    other = create(api, auth, conversation_id="c1", reason="other").json()
    clock.advance(minutes=1)
    hardship = create(api, auth, conversation_id="c2", reason="hardship").json()
    clock.advance(minutes=1)
    distress = create(api, auth, conversation_id="c3", reason="distress", account_id=None, verified=False).json()
    queue = api.get("/api/handoffs", headers=auth).json()
    assert queue["status"] == "open"
    assert [(c["id"], c["queue_position"]) for c in queue["cases"]] == [
        (distress["id"], 1),
        (hardship["id"], 2),
        (other["id"], 3),
    ]
    assert "notes" not in queue["cases"][0]
    claim(api, auth, hardship["id"], "alice")
    claimed = api.get("/api/handoffs", params={"status": "claimed"}, headers=auth).json()["cases"]
    assert [(c["id"], c["claimed_by"], c["queue_position"]) for c in claimed] == [(hardship["id"], "alice", None)]
    assert api.get(f"/api/handoffs/{other['id']}", headers=auth).json()["queue_position"] == 2


@SQLITE_ONLY
@pytest.mark.parametrize("params", [{"status": "closed"}, {"limit": 0}])
def test_the_list_validates_its_query(api, auth, params):
    response = api.get("/api/handoffs", params=params, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, [f"query.{next(iter(params))}"])


def test_unknown_case_is_not_found(api, auth):
    for method, path, body in ENDPOINTS[2:]:
        response = api.request(method, path, json=body, headers=auth)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path


def test_claim_then_the_second_agent_gets_409(api, auth):
    case = create(api, auth).json()
    won = claim(api, auth, case["id"], "alice")
    assert (won.status_code, won.json()["status"], won.json()["claimed_by"]) == (200, "claimed", "alice")
    lost = claim(api, auth, case["id"], "bob")
    assert (lost.status_code, lost.json()["code"]) == (409, "already_claimed")
    assert "alice" in lost.json()["detail"]


def test_claim_needs_an_agent_name(api, auth):
    case = create(api, auth).json()
    for body in ({}, {"agent": ""}, {"agent": "alice smith"}):
        response = api.post(f"/api/handoffs/{case['id']}/claim", json=body, headers=auth)
        assert (response.status_code, response.json()["fields"]) == (422, ["agent"])


def test_notes_release_and_resolve(api, auth, clock, rasa):
    case = create(api, auth).json()
    claim(api, auth, case["id"], "alice")
    note = api.post(
        f"/api/handoffs/{case['id']}/notes", json={"author": "alice", "text": "Called, voicemail."}, headers=auth
    )
    assert note.status_code == 201
    assert [(n["author"], n["text"]) for n in note.json()["notes"]] == [("alice", "Called, voicemail.")]

    other = api.post(f"/api/handoffs/{case['id']}/release", json={"agent": "bob"}, headers=auth)
    assert (other.status_code, other.json()["code"]) == (409, "claimed_by_other")
    released = api.post(f"/api/handoffs/{case['id']}/release", json={"agent": "alice"}, headers=auth).json()
    assert (released["status"], released["queue_position"], released["waiting_since"]) == (
        "open",
        1,
        case["waiting_since"],
    )

    not_claimed = api.post(
        f"/api/handoffs/{case['id']}/resolve",
        json={"agent": "bob", "outcome": "done", "resume_assistant": True},
        headers=auth,
    )
    assert (not_claimed.status_code, not_claimed.json()["code"]) == (409, "not_claimed")
    claim(api, auth, case["id"], "bob")
    clock.advance(minutes=4)
    resolved = api.post(
        f"/api/handoffs/{case['id']}/resolve",
        json={"agent": "bob", "outcome": "Booked a 6-month plan.", "resume_assistant": True},
        headers=auth,
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["outcome"], body["resolved_at"], body["resume_assistant"]) == (
        "resolved",
        "Booked a 6-month plan.",
        "2026-03-02T18:04:00Z",
        True,
    )
    assert api.get(f"/api/handoffs/{case['id']}", headers=auth).json()["resume_assistant"] is None
    # Rasa was told: the conversation resumed, and the assistant greets the customer again.
    assert rasa.tracker_events[BODY["conversation_id"]] == RESUME_EVENTS
    assert rasa.triggered == [
        (BODY["conversation_id"], "agent_handed_back", {"agent_name": "bob", "handoff_reason": "request_agent"})
    ]

    again = claim(api, auth, case["id"], "alice")
    assert (again.status_code, again.json()["code"]) == (409, "already_resolved")
    resolved_list = api.get("/api/handoffs", params={"status": "resolved"}, headers=auth).json()["cases"]
    assert [c["id"] for c in resolved_list] == [case["id"]]

    events = api.get(f"/api/accounts/{MARIA}/events", headers=auth).json()["events"]
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("handoff_resolved", "agent:bob"),
        ("handoff_claimed", "agent:bob"),
        ("handoff_released", "agent:alice"),
        ("handoff_note_added", "agent:alice"),
        ("handoff_claimed", "agent:alice"),
        ("handoff_created", "system"),
    ]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"agent": "bob", "outcome": "", "resume_assistant": True}, ["outcome"]),
        ({"agent": "bob", "outcome": "done"}, ["resume_assistant"]),
    ],
)
def test_resolve_names_bad_fields(api, auth, body, fields):
    case = create(api, auth).json()
    response = api.post(f"/api/handoffs/{case['id']}/resolve", json=body, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, fields)


def test_a_note_needs_text(api, auth):
    case = create(api, auth).json()
    response = api.post(f"/api/handoffs/{case['id']}/notes", json={"author": "alice", "text": ""}, headers=auth)
    assert (response.status_code, response.json()["fields"]) == (422, ["text"])


def test_resolve_changes_nothing_when_rasa_is_unreachable(api, auth, rasa):
    case = create(api, auth).json()
    claim(api, auth, case["id"], "alice")
    rasa.down = True
    response = api.post(
        f"/api/handoffs/{case['id']}/resolve",
        json={"agent": "alice", "outcome": "done", "resume_assistant": False},
        headers=auth,
    )
    assert (response.status_code, response.json()["code"]) == (503, "upstream_unavailable")
    assert api.get(f"/api/handoffs/{case['id']}", headers=auth).json()["status"] == "claimed"
