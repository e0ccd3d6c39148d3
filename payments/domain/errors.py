"""Typed domain errors. The API maps each class to an HTTP status once (api/errors.py).

`code` is stable and documented (clients branch on it); `detail` is for people. A class gives
the default code; an instance may name a more precise one (`PolicyRefused("offer_not_allowed", ...)`).
"""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class InvalidRequest(DomainError):
    code = "invalid_request"


class Conflict(DomainError):
    """The request is valid but clashes with current state (an active plan, a claimed case)."""

    code = "conflict"


class PolicyRefused(DomainError):
    """The plan policy or a compliance rule forbids this (`offer_not_allowed`, `collection_paused`, ...)."""

    code = "policy_refused"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)


class Gone(DomainError):
    """A one-time thing that was used up or expired (a payment link)."""

    code = "gone"


class VerificationLocked(DomainError):
    code = "verification_locked"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class VerificationRequired(DomainError):
    """No live verification session for this conversation and account (contract C2): missing,
    unknown, expired, ended, or bound to another conversation or account. One answer for all."""

    code = "verification_required"


class UpstreamUnavailable(DomainError):
    """A vendor (Stripe, Twilio, Rasa) did not answer; the work stays pending and is retried."""

    code = "upstream_unavailable"
