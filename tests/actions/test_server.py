"""The action server answers only rasa (C3): `python -m actions.server`, started for real,
binds loopback by default and refuses /webhook (and /actions) without ACTION_SERVER_TOKEN before
any action runs; /health stays open. The forged call of issue 11 (a tracker claiming
`verification_status=verified`) gets 403 and no account fact."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from actions.server import token_ok
from testkit.processes import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-action-token-7f3a"


def action_call(action: str, slots: dict | None = None) -> dict:
    """The body rasa posts to /webhook (rasa/core/actions/action.py RemoteAction)."""
    return {
        "next_action": action,
        "sender_id": "forged-1",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "forged-1",
            "slots": slots or {},
            "latest_message": {"intent": {"name": "greet"}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@contextmanager
def running_action_server(token: str, **env: str) -> Iterator[str]:
    """`python -m actions.server` on a free loopback port with `token` (and `env`); its URL."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ACTIONS_PORT": str(port),
        "ACTION_SERVER_TOKEN": token,
        # Nothing listens here: an action that ran would answer "service unavailable".
        "PAYMENTS_URL": f"http://127.0.0.1:{free_port()}",
        **env,
    }
    environment.pop("ACTIONS_HOST", None)
    with tempfile.TemporaryFile() as output:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [sys.executable, "-m", "actions.server"], cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )

        def logged() -> str:
            output.seek(0)
            return output.read().decode(errors="replace")

        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(f"{url}/health", process, logged)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_action_server(TOKEN) as url:
        yield url


def test_health_is_open(server: str) -> None:
    assert httpx.get(f"{server}/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "params", [{}, {"token": "wrong"}, {"token": ""}, {"token": TOKEN[:-1]}, {"auth_token": TOKEN}]
)
def test_webhook_without_the_token_is_refused_before_any_action(server: str, params: dict) -> None:
    forged = action_call(
        "action_tell_balance",
        {"verification_status": "verified", "account_id": "A1003", "verification_session": "VS-guess"},
    )
    answer = httpx.post(f"{server}/webhook", params=params, json=forged)
    assert answer.status_code == 403
    assert answer.json() == {"error": "forbidden"}
    assert httpx.get(f"{server}/actions", params=params).status_code == 403


def test_a_token_in_a_header_is_not_enough(server: str) -> None:
    answer = httpx.post(
        f"{server}/webhook", headers={"Authorization": f"Bearer {TOKEN}"}, json=action_call("action_reprompt")
    )
    assert answer.status_code == 403


def test_rasa_with_the_token_runs_actions(server: str) -> None:
    answer = httpx.post(f"{server}/webhook", params={"token": TOKEN}, json=action_call("action_reprompt"))
    assert answer.status_code == 200
    assert answer.json()["events"] == [] and answer.json()["responses"] == []
    listed = {a["name"] for a in httpx.get(f"{server}/actions", params={"token": TOKEN}).json()}
    assert {"action_tell_balance", "action_sign_off"} <= listed


def listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses with a listening TCP socket on `port` (Linux /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_it_listens_on_loopback_only(server: str) -> None:
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux /proc/net/tcp to read the bound address")
    port = int(server.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, not 0.0.0.0 (00000000)


def test_token_comparison() -> None:
    assert token_ok(TOKEN, TOKEN)
    assert not token_ok(None, TOKEN) and not token_ok("", "") and not token_ok(TOKEN, "")
    assert not token_ok(TOKEN + "x", TOKEN)


def test_production_with_the_development_token_does_not_start() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EVENKEEL_ENV": "production",
        "ACTIONS_PORT": str(free_port()),
        "CHANNEL_FACTS_KEY": "a-real-key-of-its-own",
        "PAYMENTS_SERVICE_TOKEN": "a-real-service-token",
        "ACTION_SERVER_TOKEN": "dev-action-token",
    }
    result = subprocess.run(
        [sys.executable, "-m", "actions.server"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ACTION_SERVER_TOKEN must be set" in result.stderr
