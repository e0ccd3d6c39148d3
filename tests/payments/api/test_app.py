"""`create_app`: routes, wiring from settings, the conversation-id middleware and error mapping."""

from fastapi.testclient import TestClient

from payments.logging_setup import conversation_id_var
from payments.main import create_app
from tests.payments.api.verified import verify_as


def test_openapi_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/verify", "/api/accounts/{account_id}", "/health", "/health/ready"} <= set(paths)


def test_conversation_id_header_reaches_the_log_context(client):
    client.app.add_api_route("/_probe", lambda: {"conversation_id": conversation_id_var.get()})
    assert client.get("/_probe", headers={"X-Conversation-Id": "conv-42"}).json() == {"conversation_id": "conv-42"}
    assert client.get("/_probe").json() == {"conversation_id": "-"}
    assert client.get("/_probe", headers={"X-Conversation-Id": "x" * 500}).json() == {"conversation_id": "x" * 128}


def test_openapi_documents_the_error_body_we_send(client):
    schema = client.get("/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["default"]["content"]["application/json"]["schema"] == error, (method, path)
            # FastAPI's own 422 body (`detail` a list) is never what the validation handler sends.
            assert "HTTPValidationError" not in str(responses), (method, path)
    assert set(schema["components"]["schemas"]["ErrorOut"]["required"]) == {"code", "detail"}


def test_unknown_route_is_json(client):
    response = client.get("/api/nope")
    assert (response.status_code, response.json()["code"]) == (404, "http_error")


def test_services_are_built_from_settings(seeded_url, make_settings, auth):
    app = create_app(make_settings(seeded_url, verification_max_failures=1))
    wrong = {"channel": "web", "conversation_id": "c1", "card_last4": "4821", "dob": "1985-03-14", "zip": "78702"}
    with TestClient(app) as client:
        assert client.post("/api/verify", json=wrong, headers=auth).json()["attempts_left"] == 0
        assert client.post("/api/verify", json=wrong, headers=auth).status_code == 423
        assert (
            client.get("/api/accounts/A1002", headers=verify_as(client, auth, "A1002")).json()["first_name"] == "James"
        )
