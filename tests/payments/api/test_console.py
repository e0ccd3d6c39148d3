"""The agent console over HTTP: sign-in, sessions, CSRF, the queue, and every case action, with
rasa replaced by FakeConversations (the real rasa path is in tests/e2e/test_console_browser.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import Request

from payments.adapters.orm import AuditEventRow
from payments.api.deps import get_console_service
from payments.api.routers.console import COOKIE
from payments.services.agents import AgentService
from payments.services.console import RESUME_EVENTS, ConsoleService
from payments.services.handoffs import HandoffService
from testkit.fake_rasa import FakeConversations
from tests.payments.api.verified import verify_as

PASSWORD = "correct horse battery"
MARIA = "A1001"
CASE_BODY = {
    "conversation_id": "web-maria-1",
    "channel": "web",
    "reason": "request_agent",
    "account_id": MARIA,
    "verified": True,
    "summary": "Verified customer asked for a person.",
    "context": {"account": {"balance_cents": 245000, "past_due_cents": 31000, "days_past_due": 45, "flags": []}},
}


@pytest.fixture
def rasa() -> FakeConversations:
    return FakeConversations()


@pytest.fixture
def console(client, clock, rasa):
    """The app with the console's services on the test clock, two agents, and a fake rasa."""
    app = client.app
    agents = AgentService(app.state.sessions, clock=clock)
    agents.add_agent("sam", "Sam", PASSWORD)
    agents.add_agent("lee", "Lee", PASSWORD)
    app.state.agent_service = agents

    def console_service(request: Request) -> ConsoleService:
        return ConsoleService(
            request.app.state.sessions, HandoffService(request.app.state.sessions, clock=clock), rasa, clock=clock
        )

    app.dependency_overrides[get_console_service] = console_service
    return client


def sign_in(client, username="sam", password=PASSWORD):
    return client.post("/console/sign-in", data={"username": username, "password": password}, follow_redirects=False)


def csrf_of(client) -> str:
    page = client.get("/console")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


@pytest.fixture
def sam(console):
    """Sam signed in: (client, headers with the CSRF token)."""
    assert sign_in(console).status_code == 303
    return console, {"X-CSRF-Token": csrf_of(console)}


def new_case(client, auth, **body):
    response = client.post("/api/handoffs", json={**CASE_BODY, **body}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def audit_kinds(client, auth, account=MARIA):
    events = client.get(f"/api/accounts/{account}/events", headers=auth).json()["events"]
    return [(e["kind"], e["actor"]) for e in reversed(events)]


# --- sign-in and sessions ------------------------------------------------------------------------


def test_console_redirects_to_sign_in_without_a_session(console):
    response = console.get("/console", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/console/sign-in")
    page = console.get("/console/sign-in")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_sign_in_sets_a_strict_http_only_cookie_and_shows_the_console(console):
    response = sign_in(console)
    assert (response.status_code, response.headers["location"]) == (303, "/console")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    page = console.get("/console")
    assert page.status_code == 200 and "Signed in as <strong>Sam</strong>" in page.text


@pytest.mark.parametrize("username,password", [("sam", "wrong password"), ("nobody", PASSWORD), ("", "")])
def test_wrong_credentials_never_say_which_was_wrong(console, username, password):
    response = sign_in(console, username, password)
    if not username:
        assert response.status_code == 422
        return
    assert response.status_code == 401 and "Wrong username or password." in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_a_locked_sign_in_looks_like_a_wrong_password_then_it_lifts(console, clock):
    wrong = sign_in(console, password="not the password")
    for _ in range(4):
        assert sign_in(console, password="not the password").status_code == 401
    locked = sign_in(console)  # even the right password, while this address is locked for sam
    assert (locked.status_code, locked.text) == (wrong.status_code, wrong.text)
    assert sign_in(console, "lee").status_code == 303  # another agent from the same address is not
    clock.advance(minutes=16)
    assert sign_in(console).status_code == 303


def test_the_cookie_is_secure_when_served_over_https(console):
    plain = sign_in(console).headers["set-cookie"]
    assert "Secure" not in plain
    secure = console.post(
        "https://testserver/console/sign-in", data={"username": "sam", "password": PASSWORD}, follow_redirects=False
    )
    assert secure.status_code == 303 and "Secure" in secure.headers["set-cookie"]


def test_session_ends_after_idle_time_and_at_sign_out(console, clock):
    sign_in(console)
    clock.advance(minutes=29)
    assert console.get("/console/api/queue").status_code == 200  # activity restarts the idle clock
    clock.advance(minutes=29)
    assert console.get("/console/api/queue").status_code == 200
    clock.advance(minutes=31)
    expired = console.get("/console/api/queue")
    assert (expired.status_code, expired.json()["code"]) == (401, "signed_out")

    sign_in(console)
    token = csrf_of(console)
    out = console.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/console/sign-in")
    assert console.get("/console/api/queue").status_code == 401


def test_session_has_an_absolute_limit(console, clock):
    sign_in(console)
    for _ in range(21):  # active every 29 minutes for more than 10 hours
        clock.advance(minutes=29)
        response = console.get("/console/api/queue")
    assert response.status_code == 401


def test_state_changes_need_the_csrf_token(sam, auth):
    client, headers = sam
    case_id = new_case(client, auth)
    refused = client.post(f"/console/api/cases/{case_id}/claim")
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf")
    wrong = client.post(f"/console/api/cases/{case_id}/claim", headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert client.post(f"/console/api/cases/{case_id}/claim", headers=headers).status_code == 200


def test_the_service_token_is_not_a_console_session(console, auth):
    response = console.get("/console/api/queue", headers=auth)
    assert response.status_code == 401


# --- queue and cases -----------------------------------------------------------------------------


def test_queue_orders_by_priority_then_waiting_time(sam, auth, clock):
    client, _ = sam
    first = new_case(client, auth, conversation_id="c-1", reason="request_agent")
    clock.advance(minutes=1)
    urgent = new_case(client, auth, conversation_id="c-2", reason="distress", account_id=None, verified=False)
    clock.advance(minutes=1)
    third = new_case(client, auth, conversation_id="c-3", reason="dispute")
    queue = client.get("/console/api/queue").json()
    assert [(c["id"], c["queue_position"]) for c in queue["open"]] == [(urgent, 1), (third, 2), (first, 3)]
    assert queue["agent"] == "sam" and queue["claimed"] == []


def test_two_agents_claim_at_once_one_wins(console, auth):
    case_id = new_case(console, auth)
    sign_in(console, "sam")
    sam_csrf = csrf_of(console)
    sam_cookie = console.cookies.get(COOKIE)
    console.cookies.clear()
    sign_in(console, "lee")
    lee_csrf = csrf_of(console)
    lee_cookie = console.cookies.get(COOKIE)
    console.cookies.clear()

    def claim(cookie, csrf):
        return console.post(
            f"/console/api/cases/{case_id}/claim", headers={"X-CSRF-Token": csrf}, cookies={COOKIE: cookie}
        )

    sam_answer, lee_answer = claim(sam_cookie, sam_csrf), claim(lee_cookie, lee_csrf)
    assert (sam_answer.status_code, sam_answer.json()["claimed_by"]) == (200, "sam")
    assert (lee_answer.status_code, lee_answer.json()["code"]) == (409, "already_claimed")
    assert "sam" in lee_answer.json()["detail"]


def test_reply_goes_to_rasa_as_the_agent_with_card_numbers_masked(sam, auth, rasa):
    client, headers = sam
    case_id = new_case(client, auth)
    not_yet = client.post(f"/console/api/cases/{case_id}/reply", json={"text": "hello"}, headers=headers)
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "not_claimed")
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    sent = client.post(
        f"/console/api/cases/{case_id}/reply",
        json={"text": "Hi Maria, never send 4111 1111 1111 1111 here."},
        headers=headers,
    )
    assert sent.status_code == 204
    assert rasa.tracker_events["web-maria-1"] == [
        {  # the agent's first message carries the opt-out notice
            "event": "bot",
            "text": "Hi Maria, never send [card number removed] here. Reply STOP to opt out.",
            "metadata": {"agent": "Sam"},
        }
    ]
    assert ("agent_replied", "agent:sam") in audit_kinds(client, auth)


def test_reply_is_refused_on_a_voice_case_and_when_rasa_is_down(sam, auth, rasa):
    client, headers = sam
    voice = new_case(client, auth, conversation_id="+15125550101", channel="voice")
    client.post(f"/console/api/cases/{voice}/claim", headers=headers)
    refused = client.post(f"/console/api/cases/{voice}/reply", json={"text": "hello"}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "channel_cannot_push")
    transcript = client.get(f"/console/api/cases/{voice}/transcript").json()
    assert transcript["can_reply"] is False and "phone line" in transcript["why_not"]

    web = new_case(client, auth, conversation_id="web-2")
    client.post(f"/console/api/cases/{web}/claim", headers=headers)
    rasa.down = True
    down = client.post(f"/console/api/cases/{web}/reply", json={"text": "hello"}, headers=headers)
    assert (down.status_code, down.json()["code"]) == (503, "upstream_unavailable")


@pytest.mark.parametrize("text", ["", " ", "x" * 1001])
def test_reply_length_is_checked(sam, auth, text):
    client, headers = sam
    case_id = new_case(client, auth)
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    response = client.post(f"/console/api/cases/{case_id}/reply", json={"text": text}, headers=headers)
    assert response.status_code == 422


def test_transcript_reads_rasa_and_says_who_may_reply(sam, auth, rasa):
    client, headers = sam
    case_id = new_case(client, auth)
    rasa.tracker_events["web-maria-1"] = [
        {
            "event": "user",
            "text": "my card is 4111111111111111",
            "timestamp": 1_700_000_000.0,
            "parse_data": {"intent": {"name": "inform"}},
        },
        {"event": "bot", "text": "I'm getting a person.", "timestamp": 1_700_000_001.0},
        {"event": "pause", "timestamp": 1_700_000_002.0},
    ]
    body = client.get(f"/console/api/cases/{case_id}/transcript").json()
    assert [(line["speaker"], line["text"]) for line in body["lines"]] == [
        ("customer", "my card is [card number removed]"),
        ("assistant", "I'm getting a person."),
        ("system", "The assistant handed the conversation to a person and is silent."),
    ]
    assert body["can_reply"] is False and body["why_not"] == "Claim the case to write to the customer."
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    assert client.get(f"/console/api/cases/{case_id}/transcript").json()["can_reply"] is True


def test_opening_a_case_is_audited_but_polling_is_not(sam, auth):
    client, _ = sam
    case_id = new_case(client, auth)
    client.get(f"/console/api/cases/{case_id}")
    for _ in range(3):
        client.get(f"/console/api/cases/{case_id}/transcript")
    kinds = audit_kinds(client, auth)
    assert kinds.count(("handoff_viewed", "agent:sam")) == 1


def test_dispute_flags_the_account_and_notes_the_case(sam, auth):
    client, headers = sam
    case_id = new_case(client, auth)
    unclaimed = client.post(f"/console/api/cases/{case_id}/dispute", headers=headers)
    assert (unclaimed.status_code, unclaimed.json()["code"]) == (409, "not_claimed")
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    marked = client.post(f"/console/api/cases/{case_id}/dispute", headers=headers)
    assert marked.status_code == 200
    assert marked.json()["notes"][-1]["text"].startswith("Marked as a dispute")
    account = client.get(f"/api/accounts/{MARIA}", headers=verify_as(client, auth, MARIA)).json()
    assert "dispute" in account["flags"]
    assert ("flag_set", "agent:sam") in audit_kinds(client, auth)
    assert ("handoff_dispute_marked", "agent:sam") in audit_kinds(client, auth)


def test_dispute_needs_a_verified_account(sam, auth):
    client, headers = sam
    case_id = new_case(client, auth, account_id=None, verified=False, conversation_id="anon")
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    response = client.post(f"/console/api/cases/{case_id}/dispute", headers=headers)
    assert (response.status_code, response.json()["code"]) == (409, "no_account")


def test_resolve_with_hand_back_resumes_and_greets_then_history_shows_it(sam, auth, rasa):
    client, headers = sam
    case_id = new_case(client, auth, reason="distress")
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    client.post(f"/console/api/cases/{case_id}/notes", json={"text": "Shared 988; she is safe."}, headers=headers)
    resolved = client.post(
        f"/console/api/cases/{case_id}/resolve",
        json={"outcome": "Listened; no collection today.", "hand_back": True},
        headers=headers,
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert rasa.tracker_events["web-maria-1"] == RESUME_EVENTS
    assert rasa.triggered == [("web-maria-1", "agent_handed_back", {"agent_name": "Sam", "handoff_reason": "distress"})]

    history = client.get("/console/api/history").json()["cases"]
    assert [(c["id"], c["outcome"], [n["text"] for n in c["notes"]]) for c in history] == [
        (case_id, "Listened; no collection today.", ["Shared 988; she is safe."])
    ]
    kinds = audit_kinds(client, auth)
    for kind in ("handoff_claimed", "handoff_note_added", "handoff_resolved"):
        assert (kind, "agent:sam") in kinds


def test_resolve_without_hand_back_still_resumes_but_does_not_greet(sam, auth, rasa):
    client, headers = sam
    case_id = new_case(client, auth)
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    client.post(f"/console/api/cases/{case_id}/resolve", json={"outcome": "Done.", "hand_back": False}, headers=headers)
    assert rasa.tracker_events["web-maria-1"] == RESUME_EVENTS
    assert rasa.triggered == []


def test_only_the_claiming_agent_resolves(console, auth, rasa):
    case_id = new_case(console, auth)
    sign_in(console, "lee")
    lee = {"X-CSRF-Token": csrf_of(console)}
    console.post(f"/console/api/cases/{case_id}/claim", headers=lee)
    console.cookies.clear()
    sign_in(console, "sam")
    sam = {"X-CSRF-Token": csrf_of(console)}
    response = console.post(
        f"/console/api/cases/{case_id}/resolve", json={"outcome": "x", "hand_back": True}, headers=sam
    )
    assert (response.status_code, response.json()["code"]) == (409, "claimed_by_other")
    assert rasa.tracker_events == {}


def test_sign_ins_and_failures_are_audited(console, auth):
    sign_in(console, password="wrong password")
    sign_in(console)
    with console.app.state.sessions() as session:
        rows = session.query(AuditEventRow).filter(AuditEventRow.channel == "console").all()
        kinds = [(r.kind, r.actor) for r in rows]
    assert ("agent_sign_in_failed", "agent:sam") in kinds and ("agent_signed_in", "agent:sam") in kinds
    assert all("password" not in str(r.detail) for r in rows)


def test_static_files_and_unknown_ones(console):
    assert console.get("/console/static/console.js").headers["content-type"].startswith("text/javascript")
    assert console.get("/console/static/../main.py").status_code == 404
    assert console.get("/console/static/secrets.txt").status_code == 404


# --- contact rules on replies, the opt-out notice, reports to review (issue 12) ---------------


def sms_case(client, auth, headers, rasa, customer_wrote_at=None):
    """A claimed SMS case for Maria; the customer's last message at `customer_wrote_at` (a UTC datetime)."""
    case_id = new_case(client, auth, conversation_id="+15125550101", channel="sms")
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    if customer_wrote_at is not None:
        rasa.tracker_events["+15125550101"] = [
            {
                "event": "user",
                "text": "are you there?",
                "timestamp": customer_wrote_at.timestamp(),
                "parse_data": {"intent": {"name": "inform"}},
            }
        ]
    return case_id


def test_only_the_first_agent_message_carries_the_opt_out_notice(sam, auth, rasa, clock):
    client, headers = sam
    case_id = sms_case(client, auth, headers, rasa, customer_wrote_at=clock())
    for text in ("Hi, this is Sam.", "Let me look at that."):
        assert (
            client.post(f"/console/api/cases/{case_id}/reply", json={"text": text}, headers=headers).status_code == 204
        )
    sent = [e["text"] for e in rasa.tracker_events["+15125550101"] if e["event"] == "bot"]
    assert sent == ["Hi, this is Sam. Reply STOP to opt out.", "Let me look at that."]


def test_one_answer_to_the_customer_goes_even_late_at_night(sam, auth, rasa, clock):
    client, headers = sam
    clock.now = clock.now.replace(hour=4)  # 22:00 in Chicago the evening before
    case_id = sms_case(client, auth, headers, rasa, customer_wrote_at=clock.now - timedelta(minutes=5))
    assert (
        client.post(f"/console/api/cases/{case_id}/reply", json={"text": "Yes, I'm here."}, headers=headers).status_code
        == 204
    )
    # A second message before the customer writes again is not an answer: it starts a contact.
    second = client.post(f"/console/api/cases/{case_id}/reply", json={"text": "Are you still there?"}, headers=headers)
    assert (second.status_code, second.json()["code"]) == (422, "outside_hours")


def test_a_message_after_the_customer_went_quiet_is_refused_outside_their_hours(sam, auth, rasa, clock):
    client, headers = sam
    clock.now = clock.now.replace(hour=4)  # 22:00 in Chicago
    case_id = sms_case(client, auth, headers, rasa, customer_wrote_at=clock.now - timedelta(hours=2))
    refused = client.post(f"/console/api/cases/{case_id}/reply", json={"text": "Following up."}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "outside_hours")
    assert "start a new contact" in refused.json()["detail"] and "America/Chicago" in refused.json()["detail"]
    assert [e for e in rasa.tracker_events["+15125550101"] if e["event"] == "bot"] == []
    # The customer writes again: the agent's message is an answer now.
    rasa.tracker_events["+15125550101"].append(
        {
            "event": "user",
            "text": "hello?",
            "timestamp": clock().timestamp(),
            "parse_data": {"intent": {"name": "inform"}},
        }
    )
    assert (
        client.post(f"/console/api/cases/{case_id}/reply", json={"text": "Following up."}, headers=headers).status_code
        == 204
    )


def test_a_message_after_the_customer_went_quiet_is_refused_at_a_place_they_refused(sam, auth, rasa, clock):
    """Noon on a weekday and the customer said "not at work": an agent's message that is not the one
    answer to theirs starts a contact, refused with the same explanation as for the hours."""
    client, headers = sam
    case_id = sms_case(client, auth, headers, rasa, customer_wrote_at=clock.now - timedelta(hours=2))
    revoked = client.post(
        "/api/contact/revocations",
        headers=auth,
        json={
            "phone": "+15125550101",
            "conversation_id": "+15125550101",
            "channel": "sms",
            "inconvenient": {"places": ["work"]},
        },
    )
    assert revoked.status_code == 201, revoked.text
    refused = client.post(f"/console/api/cases/{case_id}/reply", json={"text": "Following up."}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "inconvenient_place")
    assert "start a new contact" in refused.json()["detail"] and "work" in refused.json()["detail"]
    assert [e for e in rasa.tracker_events["+15125550101"] if e["event"] == "bot"] == []


def test_an_sms_opt_out_stops_even_an_answer(sam, auth, rasa, clock):
    client, headers = sam
    case_id = sms_case(client, auth, headers, rasa, customer_wrote_at=clock())
    client.post(
        "/api/contact/revocations",
        headers=auth,
        json={"phone": "+15125550101", "conversation_id": "+15125550101", "channel": "sms", "media": ["sms"]},
    )
    refused = client.post(f"/console/api/cases/{case_id}/reply", json={"text": "Hello?"}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "opted_out")


def report(client, auth, kind="deceased", conversation_id="web-maria-1"):
    response = client.post(
        "/api/reports",
        headers=auth,
        json={
            "kind": kind,
            "account_id": MARIA,
            "conversation_id": conversation_id,
            "channel": "web",
            "reported_by": "third_party",
            "summary": "her son says she passed away",
        },
    )
    assert response.status_code == 201
    return response.json()


def test_an_agent_sees_the_cases_pending_reports_and_confirms_one(sam, auth):
    client, headers = sam
    case_id = new_case(client, auth)
    receipt = report(client, auth)
    [pending] = client.get(f"/console/api/cases/{case_id}/reports").json()["reports"]
    assert (pending["report_id"], pending["kind"], pending["account_id"]) == (receipt["report_id"], "deceased", MARIA)
    client.post(f"/console/api/cases/{case_id}/claim", headers=headers)
    confirmed = client.post(f"/console/api/reports/{pending['id']}/confirm", headers=headers)
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
    assert client.get(f"/console/api/cases/{case_id}/reports").json()["reports"] == []
    assert ("report_confirmed", "agent:sam") in audit_kinds(client, auth)
    assert ("flag_set", "agent:sam") in audit_kinds(client, auth)
    again = client.post(f"/console/api/reports/{pending['id']}/dismiss", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "report_reviewed")


def test_a_dismissed_report_lifts_the_pause(sam, auth):
    client, headers = sam
    report(client, auth, kind="bankruptcy")
    case_id = new_case(client, auth)
    [pending] = client.get(f"/console/api/cases/{case_id}/reports").json()["reports"]
    assert client.post(f"/console/api/reports/{pending['id']}/dismiss", headers=headers).json()["status"] == "dismissed"
    assert ("report_dismissed", "agent:sam") in audit_kinds(client, auth)
    flags = client.post(
        f"/api/accounts/{MARIA}/flags",
        headers=auth,
        json={"flag": "stop_email", "channel": "console", "actor": "agent:sam"},
    ).json()
    assert flags["flags"] == ["stop_email"]  # no bankruptcy flag was set


def test_reviewing_needs_the_csrf_token(sam, auth):
    client, _ = sam
    report(client, auth)
    case_id = new_case(client, auth)
    [pending] = client.get(f"/console/api/cases/{case_id}/reports").json()["reports"]
    assert client.post(f"/console/api/reports/{pending['id']}/confirm").status_code == 403


def test_every_pending_report_is_in_the_queue_even_without_a_case(sam, auth):
    client, headers = sam
    response = client.post(
        "/api/reports",
        headers=auth,
        json={
            "kind": "attorney",
            "phone": "+19995550000",
            "conversation_id": "+19995550000",
            "channel": "sms",
            "reported_by": "unknown",
            "summary": "says a lawyer handles this now",
        },
    )
    assert response.json()["account_ids"] == []
    [pending] = client.get("/console/api/reports").json()["reports"]
    assert (pending["kind"], pending["account_id"], pending["conversation_id"]) == ("attorney", None, "+19995550000")
    assert client.post(f"/console/api/reports/{pending['id']}/dismiss", headers=headers).status_code == 200
    assert client.get("/console/api/reports").json()["reports"] == []
