import pytest

WEB_BODY = {"channel": "web", "conversation_id": "c1", "card_last4": "4821", "dob": "1985-03-14", "zip": "78701"}

ENDPOINTS = [("POST", "/api/verify", WEB_BODY), ("GET", "/api/accounts/A1001", None)]
BAD_CREDENTIALS = [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": "Bearer test-service-token-and-more"},
    {"Authorization": "Basic dGVzdC1zZXJ2aWNlLXRva2Vu"},
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("headers", BAD_CREDENTIALS, ids=["none", "wrong", "longer", "basic"])
def test_api_needs_the_service_token(client, method, path, body, headers):
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Maria" not in response.text and "A1001" not in response.text


def test_token_is_checked_before_the_body(client):
    response = client.post("/api/verify", json={"channel": "fax", "card_last4": "48x1"})
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("body", [b'{"channel": "web",', b"\xff\xfe not text"], ids=["malformed json", "not utf-8"])
def test_token_is_checked_before_a_malformed_body(client, body):
    # FastAPI parses the body before any dependency runs: this was 422 (400 for bytes), not 401.
    response = client.post("/api/verify", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (
        401,
        {"code": "unauthorized", "detail": "missing or wrong service token"},
    )
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_malformed_body_with_the_token_is_still_a_validation_error(client, auth):
    response = client.post(
        "/api/verify", content=b'{"channel": "web",', headers={**auth, "Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
