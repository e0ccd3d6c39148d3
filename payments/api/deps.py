"""Dependencies shared by routers: the service token check and the services built at start-up."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payments.config import Settings
from payments.services.accounts import AccountService
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
from payments.services.verification import VerificationService, VerifiedSession

_bearer = HTTPBearer(auto_error=False)
T = TypeVar("T")
# OpenAPI `responses=` of a route, as FastAPI types it.
Responses = dict[int | str, dict[str, Any]]


def app_state(request: Request, name: str, kind: type[T]) -> T:
    """`request.app.state.<name>`, as `payments.main.create_app` stored it. Starlette's `State`
    is an untyped namespace (its attributes are Any), hence the cast; `kind` names the type."""
    return cast(T, getattr(request.app.state, name))


def get_settings_dep(request: Request) -> Settings:
    return app_state(request, "settings", Settings)


UNAUTHORIZED = {"code": "unauthorized", "detail": "missing or wrong service token"}
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def _token_matches(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    expected = get_settings_dep(request).payments_service_token.encode()
    return credentials is not None and hmac.compare_digest(credentials.credentials.encode(), expected)


def require_service_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """Every call from the action server carries `Authorization: Bearer <PAYMENTS_SERVICE_TOKEN>`."""
    if not _token_matches(request, credentials):
        raise HTTPException(status_code=401, detail=UNAUTHORIZED, headers=UNAUTHORIZED_HEADERS)


async def lacks_required_service_token(request: Request) -> bool:
    """The matched route needs the service token and the request does not carry it.

    FastAPI reads and parses a JSON body before it runs any dependency, so a malformed body
    fails (422, or 400 when it is not even text) before `require_service_token` is asked: the
    error handlers use this to answer such a caller 401 like any other unauthenticated one.
    """
    route = request.scope.get("route")
    guarded = any(d.dependency is require_service_token for d in getattr(route, "dependencies", ()))
    return guarded and not _token_matches(request, await _bearer(request))


def get_verification_service(request: Request) -> VerificationService:
    return app_state(request, "verification_service", VerificationService)


def require_verification_session(
    request: Request,
    x_verification_session: str | None = Header(default=None),
    x_conversation_id: str | None = Header(default=None),
    service: VerificationService = Depends(get_verification_service),
) -> VerifiedSession:
    """Contract C2: a live verification session of this conversation (and of the path's account,
    when the route has one). Otherwise 403 `verification_required`, the same for every reason.
    A route whose account comes from the body or a stored record calls `require_account` too."""
    return service.check_session(x_verification_session, x_conversation_id, request.path_params.get("account_id"))


def state_getter(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency that returns `app.state.<name>` (tests override each one by identity)."""

    def get(request: Request) -> T:
        return app_state(request, name, kind)

    get.__name__ = f"get_{name}"
    return get


get_account_service = state_getter("account_service", AccountService)
get_plan_service = state_getter("plan_service", PlanService)
get_compliance_service = state_getter("compliance_service", ComplianceService)
get_handoff_service = state_getter("handoff_service", HandoffService)
get_payment_links = state_getter("payment_links", PaymentLinks)
get_pay_page = state_getter("pay_page", PayPage)
get_payment_events = state_getter("payment_events", PaymentEvents)
get_charges = state_getter("charges", Charges)
get_console_service = state_getter("console_service", ConsoleService)
get_standing_service = state_getter("standing_service", StandingService)
get_report_service = state_getter("report_service", ReportService)
