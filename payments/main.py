"""The FastAPI application factory: `uvicorn --factory payments.main:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response

from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.rasa_client import RasaConversations
from payments.adapters.stripe_gateway import StripeGateway
from payments.api.errors import ERROR_RESPONSES, install_error_handlers
from payments.api.routers import accounts, health, pay_page, receipts, verification, webhooks
from payments.api.routers import compliance as compliance_routes
from payments.api.routers import console as console_routes
from payments.api.routers import handoffs as handoff_routes
from payments.api.routers import payments as payment_routes
from payments.api.routers import plans as plan_routes
from payments.config import Settings, get_settings, stripe_js_problems
from payments.domain.policy import load_policy
from payments.logging_setup import configure_logging, conversation_id_var
from payments.services.accounts import AccountService
from payments.services.agents import AgentService
from payments.services.charges import Charges
from payments.services.compliance import ComplianceService
from payments.services.console import ConsoleService
from payments.services.handoffs import HandoffService
from payments.services.pay_page import PayPage
from payments.services.payment_events import PaymentEvents
from payments.services.payment_links import PaymentLinks
from payments.services.plans import PlanService
from payments.services.reports import ReportService
from payments.services.standing import StandingService
from payments.services.verification import VerificationService

log = logging.getLogger("payments")

# `make run` starts the Stripe stand-in next to this service: give it this long to come up.
STRIPE_JS_WAIT_SECONDS = 60.0


def check_stripe_js(settings: Settings) -> None:
    """Refuse to start when the payment page could never load its script (STRIPE_JS_URL malformed,
    or not the one STRIPE_API_BASE needs), saying what to fix; in tests (EVENKEEL_ENV=test) only
    log it, as a test may start the app without a payment page in mind."""
    problems = stripe_js_problems(settings)
    for problem in problems:
        log.error("payment page: %s", problem)
    if problems and settings.evenkeel_env != "test":
        raise RuntimeError("the payment page cannot load Stripe.js: " + " ".join(problems))


async def stripe_js_unreachable(url: str, transport: httpx.AsyncBaseTransport | None = None) -> str | None:
    """Why a browser could not load Stripe.js from `url` now (as a sentence), or None when it loads."""
    try:
        async with httpx.AsyncClient(timeout=3, transport=transport) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        return f"cannot reach {url} ({type(exc).__name__})"
    if response.status_code != 200:
        return f"{url} answered HTTP {response.status_code}"
    if "javascript" not in response.headers.get("content-type", ""):
        return f"{url} did not answer a script (Content-Type {response.headers.get('content-type', 'none')})"
    return None


async def watch_stripe_js(
    url: str, wait_seconds: float = STRIPE_JS_WAIT_SECONDS, transport: httpx.AsyncBaseTransport | None = None
) -> bool:
    """A local run (EVENKEEL_ENV=local) checks in the background that the page's script loads,
    waiting up to `wait_seconds` for the stand-in to start, and logs an error that says what to
    fix when it never does. Start-up does not wait for it (no network needed to start)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        problem = await stripe_js_unreachable(url, transport)
        if problem is None:
            log.info("payment page: Stripe.js loads from %s", url)
            return True
        if time.monotonic() >= deadline:
            log.error(
                "payment page: %s, so card forms will not load (customers see 'The card form could not "
                "load'). Start the Stripe stand-in where STRIPE_API_BASE points (make run starts it on "
                "LOCALSTRIPE_PORT: python -m testkit.stripe --port PORT), or set LOCALSTRIPE_PORT / "
                "STRIPE_API_BASE / STRIPE_JS_URL to where it runs.",
                problem,
            )
            return False
        await asyncio.sleep(1)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The engine and services are created in the lifespan, not at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        check_stripe_js(settings)
        watcher = (
            asyncio.create_task(watch_stripe_js(settings.stripe_js_url)) if settings.evenkeel_env == "local" else None
        )
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        app.state.settings = settings
        app.state.sessions = sessions
        app.state.verification_service = VerificationService(
            sessions,
            max_failures=settings.verification_max_failures,
            lock_minutes=settings.verification_lock_minutes,
            idle_minutes=settings.verification_idle_minutes,
            session_max_minutes=settings.verification_session_max_minutes,
        )
        app.state.account_service = AccountService(sessions)
        app.state.compliance_service = ComplianceService(sessions)
        app.state.standing_service = StandingService(sessions)
        app.state.report_service = ReportService(sessions)
        app.state.handoff_service = HandoffService(sessions)
        app.state.agent_service = AgentService(
            sessions,
            idle_minutes=settings.console_idle_minutes,
            max_hours=settings.console_session_hours,
            lock_minutes=settings.console_lock_minutes,
        )
        app.state.console_service = ConsoleService(
            sessions, app.state.handoff_service, RasaConversations(settings.rasa_url, settings.rasa_auth_token)
        )
        gateway = StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
        app.state.payment_links = PaymentLinks(
            sessions,
            gateway,
            public_url=settings.payments_public_url,
            link_ttl_minutes=settings.payment_link_ttl_minutes,
        )
        app.state.pay_page = PayPage(sessions, gateway)
        app.state.payment_events = PaymentEvents(sessions, gateway)
        app.state.charges = Charges(sessions, gateway)
        app.state.plan_service = PlanService(sessions, load_policy(settings.plan_policy_file or None))
        log.info("payments service ready (database dialect %s)", engine.dialect.name)
        yield
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        engine.dispose()

    app = FastAPI(
        title="Evenkeel payments service",
        description="Accounts, identity verification, balances, plans, payments, handoffs and audit.",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )

    @app.middleware("http")
    async def conversation_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        token = conversation_id_var.set(request.headers.get("x-conversation-id", "-")[:128])
        try:
            return await call_next(request)
        finally:
            conversation_id_var.reset(token)

    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(verification.router)
    app.include_router(accounts.router)
    app.include_router(compliance_routes.router)
    app.include_router(handoff_routes.router)
    app.include_router(payment_routes.router)
    app.include_router(pay_page.router)
    app.include_router(receipts.router)
    app.include_router(console_routes.router)
    app.include_router(webhooks.router)
    app.include_router(plan_routes.router)
    return app
