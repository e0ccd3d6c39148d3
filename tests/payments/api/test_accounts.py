import pytest

from tests.payments.api.verified import verify_as


@pytest.fixture
def auth(client, auth):
    """The service token and the verification session of A1001 in conv-1 (C2)."""
    return verify_as(client, auth)


def usd(cents):
    return {"amount_cents": cents, "currency": "USD"}


def test_account_facts_for_a_verified_customer(client, auth):
    body = client.get("/api/accounts/A1001", headers=auth).json()
    assert body["first_name"] == "Maria"
    assert (body["balance"], body["past_due"], body["minimum_due"]) == (usd(245000), usd(31000), usd(9500))
    assert body["days_past_due"] == 45
    assert (body["status"], body["preferred_language"], body["time_zone"]) == ("delinquent", "es", "America/Chicago")
    assert (body["flags"], body["collection_allowed"]) == ([], True)


def test_statement_breakdown(client, auth):
    statement = client.get("/api/accounts/A1001", headers=auth).json()["statement"]
    assert statement == {
        "previous_balance": usd(231000),
        "purchases": usd(4500),
        "interest": usd(5500),
        "fees": usd(4000),
        "payments_and_credits": usd(0),
    }


def test_account_body_holds_no_identity_data(client, auth):
    response = client.get("/api/accounts/A1001", headers=auth)
    assert not {"full_name", "name", "phone", "dob", "date_of_birth", "zip", "zip_code", "card_last4"} & set(
        response.json()
    )
    assert not any(value in response.text for value in ("Lopez", "5550101", "1985-03-14", "78701", "4821"))


def test_bankruptcy_stops_collection(client, auth):
    body = client.get("/api/accounts/A1004", headers=verify_as(client, auth, "A1004", "conv-4")).json()
    assert (body["flags"], body["collection_allowed"], body["days_past_due"]) == (["bankruptcy"], False, 95)


def test_an_account_the_session_was_not_opened_for_is_refused(client, auth):
    # No one verifies for an account that does not exist, so it is refused before it is looked up.
    for account in ("A9999", "A1002"):
        response = client.get(f"/api/accounts/{account}", headers=auth)
        assert (response.status_code, response.json()["code"]) == (403, "verification_required")
        assert "James" not in response.text


def test_a_nul_character_is_a_bad_request_on_every_database(client, auth):
    # PostgreSQL text cannot hold NUL: psycopg raised DataError, a 500 (tests/payments/adapters/test_db.py).
    # The account route refuses it at the session check (bound to "A1001"); the audit trail's route
    # takes the account id to the database.
    assert client.get("/api/accounts/A1001%00", headers=auth).status_code == 403
    response = client.get("/api/accounts/A1001%00/events", headers=auth)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
