"""Property-based fuzzing of the payments service's whole HTTP surface.

- Every operation in the app's own OpenAPI schema, with the service token (schemathesis), on a
  migrated and seeded database: no 5xx, answers as documented, every error body `{code, detail}`.
  SQLite always; PostgreSQL too when EVENKEEL_TEST_POSTGRES_URL is set, because some input only
  fails there (NUL characters, NaN in JSON, text longer than a column).
- Every `/api/...` operation without the token, or with a wrong one: 401 and nothing else.
- What the schema cannot describe, by hand-written Hypothesis strategies: the Stripe and Twilio
  webhooks with bad signatures (400 / 403, nothing changes, nothing is charged) and the payment
  page with unknown, used and expired links (404 / 410).
- Every 4xx/5xx body of all of the above is checked for the demo customers' personal data.

Derandomized, bounded (`max_examples`) and without Hypothesis's example database, so CI runs the
same cases every time; they change only when the schema or a strategy does.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus, urlencode

import pytest
import schemathesis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from payments import cli
from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AccountRow, AuditEventRow, NotificationRow, PaymentRow, StripeEventRow
from payments.api.deps import get_account_service, get_verification_service
from payments.config import Settings
from payments.main import create_app
from payments.seed import DEMO_ACCOUNTS, seed_demo_data
from payments.services.accounts import AccountService
from payments.services.verification import VerificationService
from testkit.fake_gateway import FakeGateway
from testkit.stripe import stripe_signature
from tests.payments.api.conftest import TOKEN
from tests.payments.api.payment_client import PUBLIC_URL, TWILIO_TOKEN, WEBHOOK_SECRET, page_path, stripe_event
from tests.payments.api.verified import verify_as
from tests.payments.conftest import FIXED_NOW, POSTGRES_ENV, POSTGRES_SKIP_REASON, FakeClock, _postgres_database
from tests.payments.payment_services import override_payment_services

AUTH = {"Authorization": f"Bearer {TOKEN}"}
UNAUTHORIZED = {"code": "unauthorized", "detail": "missing or wrong service token"}

# Bounded and reproducible: the same examples on every run, no example database between runs.
# `too_slow`: each example is a real request against a real database. FUZZ_N=500 digs deeper locally.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_N", "25")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


# ------------------------------------------------------------------ personal data that must never leak


def _personal_data() -> list[str]:
    """Full names, dates of birth, phone numbers (E.164 and national) and ZIP codes of the demo accounts."""
    values = []
    for _, name, phone, _, dob, zip_code, *_ in DEMO_ACCOUNTS:
        values += [name, dob, phone, phone.removeprefix("+1"), zip_code]
    return values


PERSONAL_DATA = _personal_data()


def assert_no_leak(status: int, body: str, sent: str) -> None:
    """No error body names a demo customer's personal data, unless the request itself carried it
    (an echo of the caller's own input is not a disclosure)."""
    if status < 400:
        return
    leaked = [value for value in PERSONAL_DATA if value in body and value not in sent]
    assert not leaked, f"{status} body discloses {leaked}: {body[:500]}"


def _sent(request: object) -> str:
    """Everything a request carried (URL, decoded; headers; body), as text."""
    url = getattr(request, "url", "")
    body = getattr(request, "body", None) or getattr(request, "content", None) or b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    headers = " ".join(f"{k}: {v}" for k, v in dict(getattr(request, "headers", {})).items())
    return f"{url} {unquote_plus(str(url))} {headers} {body}"


def assert_error_shape(response) -> None:  # type: ignore[no-untyped-def]
    """Every JSON error answer is `{code, detail}` (both text); 422 validation errors add `fields`."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):  # schemathesis's Response keeps every value of a header
        content_type = content_type[0]
    assert content_type.startswith("application/json"), response.text[:300]
    body = json.loads(response.text)
    assert isinstance(body, dict) and {"code", "detail"} <= body.keys(), body
    assert isinstance(body["code"], str) and isinstance(body["detail"], str), body


# ------------------------------------------------------------------ the apps under test


def _migrate_and_seed(url: str, clock: FakeClock) -> str:
    cli.migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_demo_data(session, today=clock().date())
    engine.dispose()
    return url


def _sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'payments.db'}"


def _app(database_url: str, clock: FakeClock, gateway: FakeGateway) -> FastAPI:
    """The real app and services; only Stripe (a fake gateway) and the clock are stand-ins."""
    app = create_app(
        Settings(
            _env_file=None,
            evenkeel_env="test",
            database_url=database_url,
            payments_service_token=TOKEN,
            payments_public_url=PUBLIC_URL,
            stripe_webhook_secret=WEBHOOK_SECRET,
            twilio_auth_token=TWILIO_TOKEN,
            verification_max_failures=3,
            verification_lock_minutes=30,
            log_level="CRITICAL",
        )
    )

    def verification_service(request: Request) -> VerificationService:
        s = request.app.state.settings
        return VerificationService(
            request.app.state.sessions,
            max_failures=s.verification_max_failures,
            lock_minutes=s.verification_lock_minutes,
            clock=clock,
        )

    def account_service(request: Request) -> AccountService:
        return AccountService(request.app.state.sessions, clock=clock)

    app.dependency_overrides[get_verification_service] = verification_service
    app.dependency_overrides[get_account_service] = account_service
    override_payment_services(app, gateway, public_url=PUBLIC_URL, clock=clock, link_ttl_minutes=30)
    return app


class Forward:
    """The ASGI app a schema sends every request to, its checks' probes included: it passes each
    one on to the app its fixture built. Schemas are loaded at import, before any fixture exists.
    (`schemathesis.pytest.from_fixture` would be the natural loader, but schemathesis 4.32.5 sets
    pytest's private `Node._nodeid`, which pytest 9 no longer has.)"""

    def __init__(self) -> None:
        self.target: FastAPI | None = None

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        assert self.target is not None, "the test must request the fixture that builds the app"
        await self.target(scope, receive, send)


WITH_TOKEN, WITHOUT_TOKEN = Forward(), Forward()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzz_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app and migrated, seeded database for the whole run: what one operation creates (cases,
    payments, flags) is there for the next. PostgreSQL too when a server is configured: NUL
    characters, NaN and column lengths are refused there, not on SQLite."""
    clock = FakeClock(FIXED_NOW)
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = _sqlite_url(tmp_path_factory)
        elif not (server := os.environ.get(POSTGRES_ENV)):
            pytest.skip(POSTGRES_SKIP_REASON)
        else:
            url = stack.enter_context(contextmanager(_postgres_database)(server))
        WITH_TOKEN.target = _app(_migrate_and_seed(url, clock), clock, FakeGateway())
        yield WITH_TOKEN.target
        WITH_TOKEN.target = None


@pytest.fixture(scope="module")
def tokenless_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """An app on a database with no tables: a request that got past the token check would fail."""
    WITHOUT_TOKEN.target = _app(_sqlite_url(tmp_path_factory), FakeClock(FIXED_NOW), FakeGateway())
    yield WITHOUT_TOKEN.target
    WITHOUT_TOKEN.target = None


def _schema(app: Forward, config: schemathesis.Config | None = None):  # type: ignore[no-untyped-def]
    """The app's own OpenAPI document (create_app does no I/O; the settings only fill it in)."""
    document = create_app(Settings(_env_file=None, evenkeel_env="test")).openapi()
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = app
    return schema


with_token = _schema(
    WITH_TOKEN, schemathesis.Config.from_dict({"auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}}})
)
without_token = _schema(WITHOUT_TOKEN).include(path_regex="^/api/")

# Checks left out, each a false positive here:
# - positive_data_acceptance: schema-valid is not business-valid: an account id that does not
#   exist is 404, a promise outside the policy's window 422, a second active plan 409.
# - allow_header_conformance: on 405 Starlette's `Allow` lists the methods of the first route
#   matching the path, and FastAPI makes one route per method (GET and POST on /promises are two).
EXCLUDED_CHECKS = [
    schemathesis.checks.positive_data_acceptance,
    schemathesis.checks.allow_header_conformance,
]


@with_token.parametrize()
@FUZZ
def test_every_operation_with_the_token(case, fuzz_app):  # type: ignore[no-untyped-def]
    """No 5xx; status codes, content types, headers and bodies as documented (schemathesis's
    other checks, `not_a_server_error`, `status_code_conformance` and
    `response_schema_conformance` among them); every error `{code, detail}` and free of personal data."""
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    assert_error_shape(response)
    assert_no_leak(response.status_code, response.text, _sent(response.request))
    case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)


@without_token.parametrize()
@without_token.given(authorization=st.sampled_from([None, "Bearer wrong-token", f"Basic {TOKEN}"]))
@settings(FUZZ, max_examples=10)
def test_every_api_operation_without_the_token_is_401(case, authorization, tokenless_app):  # type: ignore[no-untyped-def]
    """No token or a wrong one: 401 before anything else is looked at, a malformed body included.
    (A method the path does not have is 405 for anyone.)"""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    case.headers = headers
    response = case.call()
    expected = 401 if case.method.upper() == case.operation.method.upper() else 405
    assert response.status_code == expected, (
        f"{case.method} {case.formatted_path} with {authorization!r}: {response.status_code} {response.text[:300]}"
    )
    assert_error_shape(response)
    if expected == 401:
        assert response.json() == UNAUTHORIZED and response.headers["www-authenticate"] == ["Bearer"]


# ------------------------------------------------------------------ webhooks and the payment page


@dataclass
class Web:
    client: TestClient
    gateway: FakeGateway
    stripe_payment: str  # pending, link channel
    voice_payment: str  # pending, for <Pay>
    used_token: str  # paid: 410 link_used
    expired_token: str  # 410 link_expired


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """A second app and database for the hand-written strategies, with a few payments in known states."""
    clock, gateway = FakeClock(FIXED_NOW), FakeGateway()
    app = _app(_migrate_and_seed(_sqlite_url(tmp_path_factory), clock), clock, gateway)
    with TestClient(app) as client:

        def create(account_id: str, key: str, channel: str = "sms") -> dict:
            body = {"account_id": account_id, "amount_cents": 5000, "channel": channel, "idempotency_key": key}
            headers = verify_as(client, AUTH, account_id, conversation_id=f"fuzz-{key}")
            response = client.post("/api/payments", json=body, headers=headers)
            assert response.status_code == 201, response.text
            return response.json()

        expired = create("A1005", "fuzz-expired")
        clock.advance(minutes=31)
        used = create("A1003", "fuzz-used")
        assert client.get(page_path(used["link_url"])).status_code == 200  # the page stores its PaymentIntent
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            intent = session.get(PaymentRow, used["id"]).stripe_payment_intent_id
        body = stripe_event("evt_fuzz_used", "succeeded", used["id"], intent_id=intent, amount=5000)
        signed = {"Stripe-Signature": stripe_signature(body, WEBHOOK_SECRET), "Content-Type": "application/json"}
        assert client.post("/webhooks/stripe", content=body, headers=signed).json()["outcome"] == "applied"
        yield Web(
            client,
            gateway,
            stripe_payment=create("A1001", "fuzz-stripe")["id"],
            voice_payment=create("A1001", "fuzz-voice", channel="voice")["id"],
            used_token=page_path(used["link_url"]).removeprefix("/pay/"),
            expired_token=page_path(expired["link_url"]).removeprefix("/pay/"),
        )


def state(client: TestClient) -> dict:
    """What a webhook could change: payments, balances, recorded events, notifications, audit."""
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        return {
            "payments": sorted(session.execute(select(PaymentRow.id, PaymentRow.status)).all()),
            "balances": sorted(session.execute(select(AccountRow.id, AccountRow.balance_cents)).all()),
            "stripe_events": session.scalar(select(func.count()).select_from(StripeEventRow)),
            "notifications": session.scalar(select(func.count()).select_from(NotificationRow)),
            "audit": session.scalar(select(func.count()).select_from(AuditEventRow)),
        }


printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)
any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
visible = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
ids = st.text(visible, min_size=1, max_size=16)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
stripe_kinds = st.sampled_from(["succeeded", "payment_failed", "processing", "canceled", "requires_action"])


@st.composite
def stripe_bodies(draw, payment_id: str) -> bytes:  # type: ignore[no-untyped-def]
    """Raw bytes, arbitrary JSON, or a well-formed event for a real pending payment."""
    return draw(
        st.one_of(
            st.binary(max_size=300),
            st.recursive(
                st.none() | st.booleans() | st.integers() | any_text,
                lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
                max_leaves=12,
            ).map(lambda value: json.dumps(value).encode()),
            st.builds(
                lambda event_id, kind: stripe_event(event_id, kind, payment_id, amount=5000),
                st.from_regex(r"evt_[A-Za-z0-9]{1,20}", fullmatch=True),
                stripe_kinds,
            ),
        )
    )


@st.composite
def bad_stripe_signatures(draw, body: bytes) -> str | None:  # type: ignore[no-untyped-def]
    """Missing, garbage, well-formed with a random MAC, signed with another secret, or signed with
    our secret for other bytes, at another time."""
    timestamp = draw(st.integers(min_value=0, max_value=2**33))
    stale = int(time.time()) - draw(st.integers(min_value=301, max_value=10**9))  # Stripe's tolerance: 300 s
    return draw(
        st.one_of(
            st.none(),
            printable,
            hex64.map(lambda mac: f"t={timestamp},v1={mac}"),
            st.just(stripe_signature(body, "whsec_someone_else")),
            st.just(stripe_signature(body + b" ", WEBHOOK_SECRET)),
            st.just(stripe_signature(body, WEBHOOK_SECRET, timestamp=stale)),
        )
    )


@FUZZ
@given(data=st.data())
def test_stripe_webhook_without_a_good_signature_is_400_and_changes_nothing(web: Web, data: st.DataObject) -> None:
    body = data.draw(stripe_bodies(web.stripe_payment), label="body")
    signature = data.draw(bad_stripe_signatures(body), label="signature")
    before = state(web.client)
    headers = {"Content-Type": data.draw(st.sampled_from(["application/json", "text/plain"]), label="type")}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    response = web.client.post("/webhooks/stripe", content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "bad_signature"), response.text
    assert_error_shape(response)
    assert_no_leak(response.status_code, response.text, _sent(response.request))
    assert state(web.client) == before


OTHER_PAYMENT_PATH = "/webhooks/twilio/pay?payment_id=PAY-OTHER1"
PAY_SUCCESS = {
    "CallSid": "CA123",
    "Result": "success",
    "PaymentToken": "pm_from_twilio",
    "PaymentCardNumber": "xxxx-xxxx-xxxx-4242",
    "PaymentCardType": "visa",
}


@FUZZ
@given(data=st.data())
def test_twilio_pay_without_a_good_signature_is_403_and_charges_nothing(web: Web, data: st.DataObject) -> None:
    fields = data.draw(st.dictionaries(any_text.filter(bool), any_text, max_size=6), label="fields")
    if data.draw(st.booleans(), label="looks like a success"):
        fields = {**fields, **PAY_SUCCESS}
    payment_id = data.draw(
        st.one_of(st.just(web.voice_payment), ids.filter(lambda i: i != "PAY-OTHER1")), label="payment_id"
    )
    path = f"/webhooks/twilio/pay?{urlencode({'payment_id': payment_id})}"
    signature = data.draw(
        st.one_of(
            st.none(),
            printable,
            st.just(RequestValidator("someone-elses-token").compute_signature(f"{PUBLIC_URL}{path}", fields)),
            st.just(RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC_URL}{path}", {**fields, "Extra": "x"})),
            st.just(RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC_URL}{OTHER_PAYMENT_PATH}", fields)),
        ),
        label="signature",
    )
    before, calls = state(web.client), list(web.gateway.calls)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = web.client.post(path, data=fields, headers=headers)
    assert (response.status_code, response.json()["code"]) == (403, "bad_signature"), response.text
    assert_no_leak(response.status_code, response.text, _sent(response.request))
    assert web.gateway.calls == calls and state(web.client) == before


URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@st.composite
def link_tokens(draw, web: Web) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """A token, and whether it is a real link: random text, long text, a real token with one
    character changed, dropped or added (all unknown), or the used and expired links."""
    real = st.sampled_from([web.used_token, web.expired_token])

    def changed(token: str) -> str:
        i = draw(st.integers(0, len(token) - 1))
        edit = draw(st.sampled_from(["replace", "drop", "add"]))
        if edit == "drop":
            return token[:i] + token[i + 1 :]
        other = draw(st.sampled_from(URLSAFE).filter(lambda c: c != token[i]))
        return token[:i] + other + token[i + (edit == "replace") :]

    return draw(
        st.one_of(
            any_text.map(lambda t: (t, False)),
            st.text(visible, min_size=90, max_size=400).map(lambda t: (t, False)),
            real.map(changed).map(lambda t: (t, False)),
            real.map(lambda t: (t, True)),
        )
    )


@FUZZ
@given(data=st.data())
def test_payment_page_with_a_random_or_spent_link_is_404_or_410(web: Web, data: st.DataObject) -> None:
    token, real = data.draw(link_tokens(web), label="token")
    page = web.client.get(f"/pay/{quote(token, safe='')}")
    assert page.status_code == (410 if real else 404), f"{token!r}: {page.status_code} {page.text[:300]}"
    assert_no_leak(page.status_code, page.text, _sent(page.request))
    status = web.client.get(f"/pay/{quote(token, safe='')}/status")
    assert status.status_code == (200 if real else 404), f"{token!r}: {status.status_code} {status.text[:300]}"
    assert_error_shape(status)
    assert_no_leak(status.status_code, status.text, _sent(status.request))
