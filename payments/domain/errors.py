"""Typed domain errors. The API maps each `code` to an HTTP status once (api/errors.py)."""


class DomainError(Exception):
    """Base for errors a caller can act on. `code` is stable and documented; `detail` is for people."""

    code = "domain_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    code = "not_found"


class VerificationLocked(DomainError):
    code = "verification_locked"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class InvalidRequest(DomainError):
    code = "invalid_request"
