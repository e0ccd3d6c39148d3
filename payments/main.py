"""The FastAPI application factory: `uvicorn --factory payments.main:create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

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
from payments.config import Settings, get_settings
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The engine and services are created in the lifespan, not at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
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
