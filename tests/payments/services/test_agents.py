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


@pytest.mark.parametrize("username,name,password,code", [
    ("", "Lee", PASSWORD, "invalid_request"),
    ("lee", " ", PASSWORD, "invalid_request"),
    ("lee", "Lee", "short", "invalid_request"),
    ("SAM", "Sam again", PASSWORD, "agent_exists"),  # usernames are case-insensitive
])
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
    assert refused.value.detail == "Wrong username or password." and not refused.value.locked


def test_an_inactive_agent_cannot_sign_in_or_use_a_session(agents, sessions):
    token, _ = agents.sign_in("sam", PASSWORD)
    with sessions.begin() as db:
        db.scalar(select(AgentRow).where(AgentRow.username == "sam")).active = False
    assert agents.session_for(token) is None
    with pytest.raises(SignInFailed):
        agents.sign_in("sam", PASSWORD)


def test_a_right_password_resets_the_failure_count(agents, clock):
    for _ in range(4):
        with pytest.raises(SignInFailed):
            agents.sign_in("sam", "wrong password!")
    agents.sign_in("sam", PASSWORD)
    for _ in range(4):  # four more: not five in a row, so no lock-out
        with pytest.raises(SignInFailed):
            agents.sign_in("sam", "wrong password!")
    agents.sign_in("sam", PASSWORD)


def test_lock_out_after_five_failures_for_lock_minutes(agents, clock):
    for _ in range(5):
        with pytest.raises(SignInFailed):
            agents.sign_in("sam", "wrong password!")
    with pytest.raises(SignInFailed) as locked:
        agents.sign_in("sam", PASSWORD)
    assert locked.value.locked
    clock.advance(minutes=15, seconds=1)
    agents.sign_in("sam", PASSWORD)


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
