"""Dependencies shared by routers: the service token check and the services built at start-up."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payments.config import Settings
from payments.services.accounts import AccountService
from payments.services.compliance import ComplianceService
from payments.services.handoffs import HandoffService
from payments.services.payments import PaymentService
from payments.services.plans import PlanService
from payments.services.verification import VerificationService

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def require_service_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """Every call from the action server carries `Authorization: Bearer <PAYMENTS_SERVICE_TOKEN>`."""
    expected = request.app.state.settings.payments_service_token.encode()
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(
            status_code=401,
            detail={"code": "unauthorized", "detail": "missing or wrong service token"},
            headers={"WWW-Authenticate": "Bearer"},
        )


def get_verification_service(request: Request) -> VerificationService:
    return request.app.state.verification_service


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
