from fastapi.testclient import TestClient

from payments.main import create_app


def test_health_needs_no_token(client):
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_on_a_migrated_database(client):
    response = client.get("/health/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_not_ready_on_an_unmigrated_database(database_url, make_settings):
    with TestClient(create_app(make_settings(database_url))) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
