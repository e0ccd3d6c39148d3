"""Console sign-in (issue 11): the answer does not tell an unknown username from a wrong password
or a locked account, and failures from one address cannot keep an agent out from everywhere else.

Client addresses: the payments service runs under uvicorn, which takes the client address from
`X-Forwarded-For` when the request comes from 127.0.0.1 (its default `--forwarded-allow-ips`),
as it would behind the deployment's proxy. So each simulated client here sends its own."""

from __future__ import annotations

import itertools
import re
import statistics
import subprocess
import time

import httpx
import pytest

from testkit.stack import PAYMENTS_BIN, ROOT, Stack
from tests.security.channels import unique

PASSWORD = "security-suite-agent-password"
_addresses = (f"198.51.100.{n}" for n in itertools.count(10))


def add_agent(stack: Stack, username: str) -> None:
    subprocess.run(
        [str(PAYMENTS_BIN / "python"), "-m", "payments", "add-agent", username, "--name", "Test"],
        cwd=ROOT,
        env={**stack.env, "AGENT_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )


def sign_in(stack: Stack, username: str, password: str, address: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{stack.payments_url}/console/sign-in",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": address or next(_addresses)},
        timeout=60,
    )


def shown(response: httpx.Response, username: str) -> tuple[int, str]:
    """What the client learns: the status and the page, with its own username put back as typed."""
    body = response.text.replace(f'value="{username[:64]}"', 'value="…"')
    return response.status_code, re.sub(r"\s+", " ", body)


@pytest.fixture(scope="module")
def locked_agent(stack: Stack) -> tuple[str, str]:
    """An agent locked out as seen from one address (lock-outs may be per username and address):
    (username, that address)."""
    username, address = unique("locked").replace("-", ""), "198.51.100.250"
    add_agent(stack, username)
    for _ in range(6):  # past the lock-out threshold (five)
        sign_in(stack, username, "not-the-password", address=address)
    return username, address


def test_sign_in_answers_alike_for_unknown_user_wrong_password_and_locked_account(
    stack: Stack, locked_agent: tuple[str, str]
) -> None:
    known = unique("known").replace("-", "")
    add_agent(stack, known)
    unknown = unique("nobody").replace("-", "")
    locked, where = locked_agent
    answers = {
        "unknown user": shown(sign_in(stack, unknown, "whatever-password"), unknown),
        "wrong password": shown(sign_in(stack, known, "whatever-password"), known),
        "locked account": shown(sign_in(stack, locked, "whatever-password", address=where), locked),
    }
    statuses = {why: status for why, (status, _) in answers.items()}
    assert len(set(statuses.values())) == 1, statuses
    assert len({body for _, body in answers.values()}) == 1, "the sign-in pages differ"
    assert all(status != 303 for status in statuses.values())
    # The lock is real: even the right password does not get in from there now.
    assert sign_in(stack, locked, PASSWORD, address=where).status_code != 303, "the account was never locked"


def test_an_unknown_username_costs_as_long_as_a_wrong_password(stack: Stack) -> None:
    """Loosely (a busy 2-core machine): a password check skipped for unknown names is ~30x faster."""
    known = unique("timed").replace("-", "")
    add_agent(stack, known)

    def median_seconds(username: str) -> float:
        times = []
        for _ in range(3):  # below the lock-out threshold
            started = time.perf_counter()
            sign_in(stack, username, "not-the-password")
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    unknown, wrong = median_seconds(unique("ghost").replace("-", "")), median_seconds(known)
    assert max(unknown, wrong) < 4 * min(unknown, wrong), f"unknown user {unknown:.3f}s, wrong password {wrong:.3f}s"


def test_failures_from_one_address_do_not_lock_the_agent_out_elsewhere(stack: Stack) -> None:
    username = unique("target").replace("-", "")
    add_agent(stack, username)
    attacker = "203.0.113.66"
    for _ in range(12):
        sign_in(stack, username, "guessing-wrong", address=attacker)
    from_the_office = sign_in(stack, username, PASSWORD, address="192.0.2.20")
    assert from_the_office.status_code == 303, (from_the_office.status_code, from_the_office.text[:300])


def test_the_session_cookie_is_secure_when_served_over_https(stack: Stack) -> None:
    """Behind the deployment's TLS proxy (uvicorn trusts X-Forwarded-Proto from 127.0.0.1)."""
    username = unique("https").replace("-", "")
    add_agent(stack, username)
    response = httpx.post(
        f"{stack.payments_url}/console/sign-in",
        data={"username": username, "password": PASSWORD},
        headers={"X-Forwarded-For": next(_addresses), "X-Forwarded-Proto": "https"},
        timeout=60,
    )
    assert response.status_code == 303, response.text[:300]
    cookie = response.headers.get("set-cookie", "")
    assert re.search(r";\s*secure\b", cookie, re.I), f"no Secure on the session cookie: {cookie!r}"
    assert re.search(r";\s*httponly\b", cookie, re.I) and re.search(r"samesite=strict", cookie, re.I), cookie
