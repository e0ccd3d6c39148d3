"""A forged call to the action server (issue 11). It answers only rasa (contract C3: loopback by
default, `ACTION_SERVER_TOKEN` on every `/webhook` call), and even a caller holding the token
cannot make a tracker claim verification: account facts need a verification session in the
payments service (contract C2), which a forged tracker does not have."""

from __future__ import annotations

import socket
import subprocess

import httpx
import pytest

from testkit.stack import SERVICE_TOKEN, Stack
from tests.security.channels import unique
from tests.security.conftest import ACTION_SERVER_TOKEN

AISHA_FACTS = ("5,980.25", "598025", "Aisha", "Khan", "150.00")


def forged_call(sender: str, action: str = "action_tell_balance") -> dict[str, object]:
    """What rasa would post for a verified customer of A1003 asking for the balance."""
    slots = {
        "verification_status": "verified",
        "account_id": "A1003",
        "verification_session": "vs-forged",
        "requested_goal": "balance",
    }
    latest = {
        "intent": {"name": "ask_balance", "confidence": 1.0},
        "entities": [],
        "text": "what's my balance",
        "metadata": {},
    }
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": latest,
            "latest_event_time": 0,
            "followup_action": None,
            "paused": False,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_input_channel": "twilio_sms",
            "events": [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
            + [
                {
                    "event": "user",
                    "text": "what's my balance",
                    "parse_data": latest,
                    "input_channel": "twilio_sms",
                    "metadata": {},
                }
            ],
        },
    }


def action_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.actions_port}/webhook"


def discloses(response: httpx.Response) -> list[str]:
    return [fact for fact in AISHA_FACTS if fact in response.text]


@pytest.mark.parametrize("token", [None, "", "dev-action-token", "wrong-token"])
def test_the_action_server_refuses_a_call_without_its_token(stack: Stack, token: str | None) -> None:
    params = {} if token is None else {"token": token}
    response = httpx.post(action_url(stack), json=forged_call(unique("forged")), params=params, timeout=30)
    assert response.status_code in (401, 403), (response.status_code, response.text[:300])
    assert not discloses(response), response.text[:300]


@pytest.mark.parametrize("action", ["action_tell_balance", "action_answer", "action_recent_payments"])
def test_a_forged_verified_tracker_with_the_token_gets_no_account_facts(stack: Stack, action: str) -> None:
    response = httpx.post(
        action_url(stack), json=forged_call(unique("forged"), action), params={"token": ACTION_SERVER_TOKEN}, timeout=30
    )
    assert response.status_code in (200, 401, 403), (response.status_code, response.text[:300])
    assert not discloses(response), f"{action} disclosed {discloses(response)}: {response.text[:400]}"


def test_payments_answers_verification_required_without_a_session(stack: Stack) -> None:
    """What the action server's client meets for the forged tracker: the service itself refuses."""
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-Conversation-Id": unique("forged")}
    for session in (None, "vs-forged"):
        sent = {**headers, **({"X-Verification-Session": session} if session else {})}
        for path in ("/api/accounts/A1003", "/api/accounts/A1003/payments", "/api/accounts/A1003/offers"):
            response = httpx.get(f"{stack.payments_url}{path}", headers=sent, timeout=30)
            assert response.status_code == 403, (path, session, response.status_code, response.text[:200])
            assert response.json().get("code") == "verification_required", response.text[:200]


def outside_addresses() -> list[str]:
    """This machine's addresses other than loopback."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        out = []
    return [a for a in out if a and not a.startswith("127.") and ":" not in a]


def test_the_action_server_listens_on_loopback_only(stack: Stack) -> None:
    addresses = outside_addresses()
    if not addresses:
        pytest.skip("this machine has no address besides loopback")
    for address in addresses:
        with socket.socket() as s:
            s.settimeout(3)
            reached = s.connect_ex((address, stack.actions_port)) == 0
        assert not reached, f"the action server answers on {address}:{stack.actions_port}"
