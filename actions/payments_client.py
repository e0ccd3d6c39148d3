"""Typed async client for the payments service. The only way actions reach accounts or money."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import httpx

from actions.config import get_settings

log = logging.getLogger(__name__)


class PaymentsError(Exception):
    """Base for errors an action turns into a customer-facing response."""


class PaymentsUnavailable(PaymentsError):
    """The service did not answer, or answered 5xx: apologize and offer a later try or a person."""


class VerificationLocked(PaymentsError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"locked for {retry_after_seconds}s")
        self.retry_after_seconds = retry_after_seconds


class AccountNotFound(PaymentsError):
    pass


@dataclass(frozen=True)
class VerificationOutcome:
    verified: bool
    account_id: str | None
    attempts_left: int


@dataclass(frozen=True)
class AccountSummary:
    id: str
    first_name: str
    status: str
    currency: str
    balance_cents: int
    past_due_cents: int
    minimum_due_cents: int
    payment_due_date: date
    days_past_due: int
    flags: tuple[str, ...]
    collection_allowed: bool

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "AccountSummary":
        return cls(
            id=body["id"],
            first_name=body["first_name"],
            status=body["status"],
            currency=body["balance"]["currency"],
            balance_cents=body["balance"]["amount_cents"],
            past_due_cents=body["past_due"]["amount_cents"],
            minimum_due_cents=body["minimum_due"]["amount_cents"],
            payment_due_date=date.fromisoformat(body["payment_due_date"]),
            days_past_due=body["days_past_due"],
            flags=tuple(body["flags"]),
            collection_allowed=body["collection_allowed"],
        )


class PaymentsClient(Protocol):
    async def verify(
        self,
        *,
        channel: str,
        conversation_id: str,
        phone: str | None,
        card_last4: str | None,
        dob: date | None,
        zip_code: str | None,
    ) -> VerificationOutcome: ...

    async def get_account(self, account_id: str, *, conversation_id: str) -> AccountSummary: ...


class HttpPaymentsClient:
    """`PaymentsClient` over HTTP with the service token. One connection pool per process."""

    def __init__(self, base_url: str, token: str, timeout_seconds: float) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_seconds,
        )

    async def _request(self, method: str, path: str, conversation_id: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(
                method, path, headers={"X-Conversation-Id": conversation_id}, **kwargs
            )
        except httpx.HTTPError as exc:
            log.warning("[conversation=%s] payments service unreachable: %s", conversation_id, type(exc).__name__)
            raise PaymentsUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            log.warning("[conversation=%s] payments service answered %s", conversation_id, response.status_code)
            raise PaymentsUnavailable(f"HTTP {response.status_code}")
        return response

    async def verify(
        self,
        *,
        channel: str,
        conversation_id: str,
        phone: str | None,
        card_last4: str | None,
        dob: date | None,
        zip_code: str | None,
    ) -> VerificationOutcome:
        body = {
            "channel": channel,
            "conversation_id": conversation_id,
            "phone": phone,
            "card_last4": card_last4,
            "dob": dob.isoformat() if dob else None,
            "zip": zip_code,
        }
        response = await self._request("POST", "/api/verify", conversation_id, json=body)
        if response.status_code == 423:
            raise VerificationLocked(int(response.json().get("retry_after_seconds", 0)))
        if response.status_code != 200:
            # A 4xx here is our bug (bad request), not the customer's: treat it as unavailable.
            raise PaymentsUnavailable(f"verify answered HTTP {response.status_code}: {response.text[:200]}")
        data = response.json()
        return VerificationOutcome(data["verified"], data["account_id"], data["attempts_left"])

    async def get_account(self, account_id: str, *, conversation_id: str) -> AccountSummary:
        response = await self._request("GET", f"/api/accounts/{account_id}", conversation_id)
        if response.status_code == 404:
            raise AccountNotFound(account_id)
        if response.status_code != 200:
            raise PaymentsUnavailable(f"account answered HTTP {response.status_code}")
        return AccountSummary.from_json(response.json())


@lru_cache
def default_client() -> PaymentsClient:
    """The process-wide client, built on first use (never at import)."""
    settings = get_settings()
    return HttpPaymentsClient(
        settings.payments_url, settings.payments_service_token, settings.payments_timeout_seconds
    )
