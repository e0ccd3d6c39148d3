"""The real payments app in-process for the client's contract test: migrated and seeded SQLite
(once per module), served through `httpx.ASGITransport` with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from actions.config import get_settings
from clients.payments import HttpPaymentsClient
from payments import cli
from payments.config import Settings
from payments.main import create_app

TOKEN = "contract-service-token"


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('payments')) / 'payments.db'}"
    cli.migrate(url)
    cli.seed(url, with_demo_agent=False)
    return url


@pytest.fixture
async def app_client(seeded_database: str) -> AsyncIterator[HttpPaymentsClient]:
    """`HttpPaymentsClient` talking to the real app. Its public URL is the action server's, so
    the links and receipts it makes are the ones the actions may send (and the fake's)."""
    settings = Settings(
        _env_file=None,
        evenkeel_env="test",
        database_url=seeded_database,
        payments_service_token=TOKEN,
        payments_public_url=get_settings().payments_public_url,
        log_level="WARNING",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        client = HttpPaymentsClient("http://payments.test", TOKEN, 10, transport=httpx.ASGITransport(app=app))
        yield client
        await client.aclose()


# The app's lifespan replaces the root logger's handlers: the payments API tests' autouse
# fixture gives other tests theirs back (registered here, as that conftest registers its own).
from tests.payments.api.conftest import _restore_logging  # noqa: E402, F401
