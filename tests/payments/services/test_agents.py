"""Agents: argon2id hashes, sign-in refusals that never say which factor, lock-out, sessions that
expire (idle and absolute) and are stored only as a hash of their token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from payments.adapters.orm import AgentRow, AgentSessionRow
from payments.domain.errors import Conflict, InvalidRequest
from payments.services.agents import AgentService, SignInFailed, token_hash

PASSWORD = "correct horse battery"


@pytest.fixture
def agents(sessions, clock) -> AgentService:
    service = AgentService(sessions, idle_minutes=30, max_hours=10, max_failures=5, lock_minutes=15, clock=clock)
    service.add_agent("Sam", "Sam", PASSWORD)
    return service


def test_the_password_is_stored_as_an_argon2id_hash(agents, sessions):
    with sessions() as session:
        stored = session.scalar(select(AgentRow.password_hash).where(AgentRow.username == "sam"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    "username,name,password,code",
    [
        ("", "Lee", PASSWORD, "invalid_request"),
        ("lee", " ", PASSWORD, "invalid_request"),
        ("lee", "Lee", "short", "invalid_request"),
        ("SAM", "Sam again", PASSWORD, "agent_exists"),  # usernames are case-insensitive
    ],
)
def test_add_agent_refuses(agents, username, name, password, code):
    with pytest.raises((InvalidRequest, Conflict)) as refused:
        agents.add_agent(username, name, password)
    assert refused.value.code == code


def test_sign_in_gives_a_session_whose_token_is_stored_only_as_a_hash(agents, sessions):
    token, session = agents.sign_in(" SAM ", PASSWORD)
    assert session.agent.username == "sam" and session.agent.display_name == "Sam"
    with sessions() as db:
        stored = db.scalars(select(AgentSessionRow.token_hash)).all()
    assert stored == [token_hash(token)] and token not in stored
    assert agents.session_for(token).agent.username == "sam"
    assert agents.session_for("not-a-token") is None and agents.session_for(None) is None


@pytest.mark.parametrize("username,password", [("sam", "wrong password!"), ("nobody", PASSWORD)])
def test_wrong_username_or_password_get_the_same_answer(agents, username, password):
    with pytest.raises(SignInFailed) as refused:
        agents.sign_in(username, password)
    assert refused.value.detail.startswith("Wrong username or password.")


def test_an_inactive_agent_cannot_sign_in_or_use_a_session(agents, sessions):
    token, _ = agents.sign_in("sam", PASSWORD)
    with sessions.begin() as db:
        db.scalar(select(AgentRow).where(AgentRow.username == "sam")).active = False
    assert agents.session_for(token) is None
    with pytest.raises(SignInFailed):
        agents.sign_in("sam", PASSWORD)


def refused(agents, username, password, client="198.51.100.1") -> SignInFailed:  # type: ignore[no-untyped-def]
    with pytest.raises(SignInFailed) as error:
        agents.sign_in(username, password, client)
    return error.value


def test_a_right_password_resets_the_failure_count(agents, clock):
    for _ in range(4):
        refused(agents, "sam", "wrong password!")
    agents.sign_in("sam", PASSWORD, "198.51.100.1")
    for _ in range(4):  # four more: not five in a row, so no lock-out
        refused(agents, "sam", "wrong password!")
    agents.sign_in("sam", PASSWORD, "198.51.100.1")


def test_five_failures_lock_that_username_from_that_address_only(agents, clock):
    for _ in range(5):
        refused(agents, "sam", "wrong password!")
    locked = refused(agents, "sam", PASSWORD)
    assert locked.detail == refused(agents, "nobody", PASSWORD).detail == refused(agents, "sam", "wrong!").detail
    agents.sign_in("sam", PASSWORD, "192.0.2.20")  # from the office: nobody can lock an agent out everywhere
    clock.advance(minutes=15, seconds=1)
    agents.sign_in("sam", PASSWORD, "198.51.100.1")


def test_a_repeat_lock_out_within_a_day_lasts_twice_as_long(agents, clock):
    for _ in range(5):
        refused(agents, "sam", "wrong password!")
    clock.advance(minutes=15, seconds=1)
    for _ in range(5):
        refused(agents, "sam", "wrong password!")
    clock.advance(minutes=29)
    refused(agents, "sam", PASSWORD)
    clock.advance(minutes=1, seconds=1)
    agents.sign_in("sam", PASSWORD, "198.51.100.1")


def test_many_failures_from_one_address_make_it_wait_longer_and_longer(agents, clock):
    for n in range(10):  # ten usernames, two tries each: no pair locks, the address does
        clock.advance(seconds=1)
        refused(agents, f"guess{n}", "x", "203.0.113.66")
    refused(agents, "sam", PASSWORD, "203.0.113.66")  # within the wait: refused without a try
    clock.advance(seconds=3)
    refused(agents, "guess0", "x", "203.0.113.66")  # tried (and wrong): the next wait is longer
    clock.advance(seconds=3)
    refused(agents, "sam", PASSWORD, "203.0.113.66")
    clock.advance(seconds=2)
    agents.sign_in("sam", PASSWORD, "203.0.113.66")
    agents.sign_in("sam", PASSWORD, "192.0.2.20")


def test_an_unknown_username_costs_a_hash_check_like_a_known_one(agents, monkeypatch):
    from payments.services import agents as module

    checked = []
    monkeypatch.setattr(module, "_password_matches", lambda h, p: checked.append(h) or False)
    refused(agents, "nobody", "whatever")
    refused(agents, "sam", "whatever")
    assert len(checked) == 2 and checked[0] == module._DUMMY_HASH and checked[1] != module._DUMMY_HASH


def test_sessions_expire_when_idle_or_too_old_and_at_sign_out(agents, clock):
    token, _ = agents.sign_in("sam", PASSWORD)
    clock.advance(minutes=30)
    assert agents.session_for(token) is None  # idle for exactly the limit: over
    assert agents.session_for(token) is None  # and stays over

    token, _ = agents.sign_in("sam", PASSWORD)
    for _ in range(20):
        clock.advance(minutes=29)
        assert agents.session_for(token) is not None
    clock.advance(minutes=29)  # 10 h 09 min after sign-in
    assert agents.session_for(token) is None

    token, _ = agents.sign_in("sam", PASSWORD)
    agents.sign_out(token)
    agents.sign_out(token)  # twice is harmless
    assert agents.session_for(token) is None
