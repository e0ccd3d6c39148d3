import pytest

MARIA = {"card_last4": "4821", "dob": "1985-03-14", "zip": "78701"}


def web(**changes):
    return {"channel": "web", "conversation_id": "c1", **MARIA, **changes}


def test_verify_success(client, auth):
    response = client.post("/api/verify", json=web(), headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body.pop("verification_session") and body.pop("session_expires_at")
    assert body == {"verified": True, "account_id": "A1001", "attempts_left": 3, "locked_until": None}


def test_verify_by_sms_with_the_callers_phone(client, auth):
    body = {"channel": "sms", "conversation_id": "s1", "phone": "+15125550101", "card_last4": "4821", "zip": "78701"}
    response = client.post("/api/verify", json=body, headers=auth)
    assert response.json()["account_id"] == "A1001"


def test_verify_failure_gives_attempts_left_and_echoes_nothing(client, auth):
    response = client.post("/api/verify", json=web(dob="1985-03-15", zip="78702"), headers=auth)
    assert response.status_code == 200
    assert response.json() == {
        "verified": False,
        "account_id": None,
        "attempts_left": 2,
        "locked_until": None,
        "verification_session": None,
        "session_expires_at": None,
    }
    assert not any(value in response.text for value in ("4821", "1985-03-15", "78702"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("card_last4", "48x1"),
        ("card_last4", "48211"),
        ("zip", "7870"),
        ("dob", "1985-02-30"),
        ("dob", 0),  # pydantic alone reads a number, or digits, as Unix time: 1970-01-01, a spent attempt
        ("dob", "482112000"),
        ("channel", "fax"),
        ("phone", "5125550101"),
        ("conversation_id", ""),
    ],
)
def test_malformed_field_is_named_not_echoed(client, auth, field, value):
    response = client.post("/api/verify", json=web(**{field: value}), headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["fields"]) == ("validation_error", [field])
    if value:
        assert value not in response.text


def test_every_malformed_field_is_named(client, auth):
    response = client.post("/api/verify", json=web(card_last4="48x1", zip="7870", channel="fax"), headers=auth)
    assert sorted(response.json()["fields"]) == ["card_last4", "channel", "zip"]


def test_the_longest_conversation_id_is_counted_like_any_other(client, auth):
    # "conversation:" and 128 characters did not fit the attempts table: PostgreSQL answered 500.
    wrong = web(conversation_id="c" * 128, zip="78702")
    assert [client.post("/api/verify", json=wrong, headers=auth).json()["attempts_left"] for _ in range(2)] == [2, 1]


def test_missing_factors_are_an_invalid_request(client, auth):
    response = client.post(
        "/api/verify", json={"channel": "web", "conversation_id": "c1", "card_last4": "4821"}, headers=auth
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")


def test_locked_after_three_failures(client, auth):
    wrong = web(zip="78702")
    assert [client.post("/api/verify", json=wrong, headers=auth).json()["attempts_left"] for _ in range(3)] == [2, 1, 0]
    response = client.post("/api/verify", json=web(), headers=auth)
    assert response.status_code == 423
    body = response.json()
    assert body["code"] == "verification_locked"
    assert int(response.headers["Retry-After"]) == body["retry_after_seconds"] == pytest.approx(1800, abs=1)


def test_conversation_id_header_is_accepted(client, auth):
    response = client.post("/api/verify", json=web(), headers={**auth, "X-Conversation-Id": "conv-42"})
    assert response.status_code == 200


def test_the_disclosure_given_on_success_is_audited(client, auth, migrated_url) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from payments.adapters.db import make_engine, make_session_factory
    from payments.adapters.orm import AuditEventRow

    body = {
        "channel": "web",
        "conversation_id": "c-disclosure",
        "card_last4": "4821",
        "dob": "1985-03-14",
        "zip": "78701",
        "disclosure": "third_party",
    }
    assert client.post("/api/verify", json=body, headers=auth).json()["verified"] is True
    engine = make_engine(migrated_url)
    with make_session_factory(engine)() as session:
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "disclosure_given")).all()
    engine.dispose()
    assert [(e.account_id, e.conversation_id, e.detail) for e in events] == [
        ("A1001", "c-disclosure", {"mode": "third_party"})
    ]
