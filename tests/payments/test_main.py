"""The payments service's start-up check of the payment page's script (payments/main.py): refused
when Stripe.js could never load, and, in a local run, a background probe that says what to fix.
No test here needs the network: the probe's HTTP goes through httpx.MockTransport."""

from __future__ import annotations

import logging

import httpx
import pytest

from payments.config import Settings
from payments.main import check_stripe_js, create_app, stripe_js_unreachable, watch_stripe_js

# The app's lifespan replaces the root logger's handlers; that fixture gives other tests theirs back.
from tests.payments.api.conftest import _restore_logging  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_stripe_env")

MOVED = dict(localstripe_port=9420, stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/")


def settings(tmp_path, **values) -> Settings:
    values = {"database_url": f"sqlite:///{tmp_path / 'payments.db'}", "log_level": "WARNING", **values}
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("env", ["local", "production"])
async def test_start_up_is_refused_when_the_page_could_not_load_stripe_js(tmp_path, env):
    values = dict(MOVED)
    if env == "production":  # real Stripe with the stand-in's script
        values = dict(stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/")
        values.update(
            evenkeel_env="production",
            payments_service_token="a-real-service-token",
            rasa_auth_token="a-real-rasa-token",
            twilio_auth_token="a-real-twilio-token",
            stripe_webhook_secret="whsec_a_real_signing_secret",
            stripe_api_key="sk_live_not_a_real_key",
            stripe_api_base="",
            payments_public_url="https://pay.example.com",
            database_url="postgresql+psycopg://evenkeel@db/evenkeel",  # never reached: the check comes first
        )
    app = create_app(settings(tmp_path, **values))
    with pytest.raises(RuntimeError, match="cannot load Stripe.js: STRIPE_JS_URL is http://127.0.0.1:8420"):
        async with app.router.lifespan_context(app):
            pass


async def test_a_consistent_setup_starts_without_the_network(tmp_path):
    app = create_app(settings(tmp_path, evenkeel_env="test", localstripe_port=9420))
    async with app.router.lifespan_context(app):
        assert app.state.settings.stripe_js_url == "http://127.0.0.1:9420/js.stripe.com/v3/"


def test_in_tests_a_mismatch_is_only_logged(tmp_path, caplog):
    with caplog.at_level(logging.ERROR, logger="payments"):
        check_stripe_js(settings(tmp_path, evenkeel_env="test", **MOVED))
    [record] = caplog.records
    assert "set it to http://127.0.0.1:9420/js.stripe.com/v3/" in record.getMessage()


def answering(status: int = 200, content_type: str = "application/javascript") -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, headers={"Content-Type": content_type}))


def refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


URL = "http://127.0.0.1:9420/js.stripe.com/v3/"


async def test_stripe_js_unreachable_names_the_cause():
    assert await stripe_js_unreachable(URL, answering()) is None
    assert await stripe_js_unreachable(URL, answering(404)) == f"{URL} answered HTTP 404"
    assert "did not answer a script" in (await stripe_js_unreachable(URL, answering(200, "text/html")) or "")
    assert await stripe_js_unreachable(URL, httpx.MockTransport(refusing)) == f"cannot reach {URL} (ConnectError)"


async def test_the_local_probe_waits_for_the_stand_in_then_says_what_to_fix(caplog):
    calls: list[str] = []

    def late(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) < 2:
            return refusing(request)
        return httpx.Response(200, headers={"Content-Type": "application/javascript"})

    with caplog.at_level(logging.INFO, logger="payments"):
        assert await watch_stripe_js(URL, wait_seconds=10, transport=httpx.MockTransport(late)) is True
        assert await watch_stripe_js(URL, wait_seconds=0, transport=httpx.MockTransport(refusing)) is False
    assert calls == [URL, URL]
    loaded, failed = caplog.records
    assert loaded.levelno == logging.INFO and URL in loaded.getMessage()
    assert failed.levelno == logging.ERROR
    assert "cannot reach" in failed.getMessage() and "LOCALSTRIPE_PORT" in failed.getMessage()
