"""An app per test on a migrated database seeded for the fixed clock's day, with services on that clock."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from payments.adapters.db import make_engine, make_session_factory
from payments.api.deps import get_account_service, get_verification_service
from payments.config import Settings
from payments.main import create_app
from payments.seed import seed_demo_data
from payments.services.accounts import AccountService
from payments.services.verification import VerificationService

TOKEN = "test-service-token"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The app's lifespan replaces the root logger's handlers; give other tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    def make(database_url: str, **overrides: object) -> Settings:
        values = dict(
            evenkeel_env="test",
            database_url=database_url,
            payments_service_token=TOKEN,
            verification_max_failures=3,
            verification_lock_minutes=30,
            log_level="WARNING",
        )
        return Settings(_env_file=None, **{**values, **overrides})

    return make


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(migrated_url, clock, make_settings) -> Iterator[TestClient]:
    engine = make_engine(migrated_url)
    with make_session_factory(engine).begin() as session:
        seed_demo_data(session, today=clock().date())
    engine.dispose()

    app = create_app(make_settings(migrated_url))

    def verification_service(request: Request) -> VerificationService:
        settings = request.app.state.settings
        return VerificationService(
            request.app.state.sessions,
            max_failures=settings.verification_max_failures,
            lock_minutes=settings.verification_lock_minutes,
            idle_minutes=settings.verification_idle_minutes,
            session_max_minutes=settings.verification_session_max_minutes,
            clock=clock,
        )

    def account_service(request: Request) -> AccountService:
        return AccountService(request.app.state.sessions, clock=clock)

    app.dependency_overrides[get_verification_service] = verification_service
    app.dependency_overrides[get_account_service] = account_service
    with TestClient(app) as test_client:
        yield test_client


# Shared fixtures of the payment-route tests, registered here so each test module only names them.
from tests.payments.api.payment_client import fake_gateway, pay_client, verified  # noqa: E402, F401
