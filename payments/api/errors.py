"""Domain errors → `{"code", "detail"}` JSON, once, for every route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from payments.api.deps import UNAUTHORIZED, UNAUTHORIZED_HEADERS, lacks_required_service_token
from payments.api.schemas import ErrorOut
from payments.domain.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidRequest,
    NotFound,
    PolicyRefused,
    UpstreamUnavailable,
    VerificationLocked,
    VerificationRequired,
)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    VerificationRequired: 403,
    VerificationLocked: 423,
    InvalidRequest: 422,
    PolicyRefused: 422,
    Conflict: 409,
    Gone: 410,
    UpstreamUnavailable: 503,
}


# Documented for every operation, so the OpenAPI schema says what the handlers below send: without
# this FastAPI documents 422 as its own `HTTPValidationError` (`detail` a list), which we never send.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorOut, "description": "`validation_error` (a malformed body or parameter) or a refusal"},
    "default": {"model": ErrorOut, "description": "an error: `{code, detail}`"},
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 400)
        body: dict[str, object] = {"code": exc.code, "detail": exc.detail}
        headers = {}
        if isinstance(exc, VerificationLocked):
            body["retry_after_seconds"] = exc.retry_after_seconds
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and await lacks_required_service_token(request):
            return JSONResponse(UNAUTHORIZED, status_code=401, headers=UNAUTHORIZED_HEADERS)
        body = exc.detail if isinstance(exc.detail, dict) else {"code": "http_error", "detail": exc.detail}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if await lacks_required_service_token(request):
            return JSONResponse(UNAUTHORIZED, status_code=401, headers=UNAUTHORIZED_HEADERS)
        # Name the fields, never echo their values (they may be verification factors).
        fields = [".".join(str(p) for p in err["loc"] if p != "body") for err in exc.errors()]
        return JSONResponse(
            {"code": "validation_error", "detail": "invalid request body", "fields": fields},
            status_code=422,
        )
