"""Dependencies shared by routers: the service token check and the services built at start-up."""

from __future__ import annotations

import hmac

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payments.config import Settings
from payments.services.accounts import AccountService
from payments.services.compliance import ComplianceService
from payments.services.console import ConsoleService
from payments.services.handoffs import HandoffService
from payments.services.payments import PaymentService
from payments.services.plans import PlanService
from payments.services.reports import ReportService
from payments.services.standing import StandingService
from payments.services.verification import VerificationService, VerifiedSession

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


UNAUTHORIZED = {"code": "unauthorized", "detail": "missing or wrong service token"}
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def _token_matches(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    expected = request.app.state.settings.payments_service_token.encode()
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
    return request.app.state.verification_service


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


def get_account_service(request: Request) -> AccountService:
    return request.app.state.account_service


def get_plan_service(request: Request) -> PlanService:
    return request.app.state.plan_service


def get_compliance_service(request: Request) -> ComplianceService:
    return request.app.state.compliance_service


def get_handoff_service(request: Request) -> HandoffService:
    return request.app.state.handoff_service


def get_payment_service(request: Request) -> PaymentService:
    return request.app.state.payment_service


def get_console_service(request: Request) -> ConsoleService:
    return request.app.state.console_service


def get_standing_service(request: Request) -> StandingService:
    return request.app.state.standing_service


def get_report_service(request: Request) -> ReportService:
    return request.app.state.report_service
