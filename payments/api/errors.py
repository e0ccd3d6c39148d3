"""Domain errors → `{"code", "detail"}` JSON, once, for every route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from payments.domain.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidRequest,
    NotFound,
    PolicyRefused,
    UpstreamUnavailable,
    VerificationLocked,
)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    VerificationLocked: 423,
    InvalidRequest: 422,
    PolicyRefused: 422,
    Conflict: 409,
    Gone: 410,
    UpstreamUnavailable: 503,
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
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"code": "http_error", "detail": exc.detail}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the fields, never echo their values (they may be verification factors).
        fields = [".".join(str(p) for p in err["loc"] if p != "body") for err in exc.errors()]
        return JSONResponse(
            {"code": "validation_error", "detail": "invalid request body", "fields": fields},
            status_code=422,
        )
