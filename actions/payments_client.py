"""Typed async client for the payments service. The only way actions reach accounts or money."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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


class Refused(PaymentsError):
    """The service refused with a stable code (`offer_not_allowed`, `plan_already_active`, ...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ScheduledPayment:
    due_date: date
    amount_cents: int


@dataclass(frozen=True)
class OfferSummary:
    id: str
    kind: str
    description: str
    currency: str
    total_cents: int
    schedule: tuple[ScheduledPayment, ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "OfferSummary":
        return cls(
            id=body["id"],
            kind=body["kind"],
            description=body["description"],
            currency=body["total"]["currency"],
            total_cents=body["total"]["amount_cents"],
            schedule=tuple(
                ScheduledPayment(date.fromisoformat(p["due_date"]), p["amount"]["amount_cents"])
                for p in body["schedule"]
            ),
        )


@dataclass(frozen=True)
class Offers:
    collection_allowed: bool
    offers: tuple[OfferSummary, ...]


@dataclass(frozen=True)
class BookedPlan:
    id: str
    currency: str
    total_cents: int
    schedule: tuple[ScheduledPayment, ...]


@dataclass(frozen=True)
class PaymentLink:
    payment_id: str
    amount_cents: int
    currency: str
    link_url: str


@dataclass(frozen=True)
class RecentPayment:
    id: str
    amount_cents: int
    currency: str
    status: str
    created_at: str


@dataclass(frozen=True)
class PaymentStatus:
    id: str
    status: str
    amount_cents: int
    currency: str
    conversation_id: str | None


@dataclass(frozen=True)
class HandoffCase:
    id: str
    queue_position: int


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
    statement: dict[str, int] = field(default_factory=dict)  # previous_balance, purchases, ... in cents

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
            statement={k: v["amount_cents"] for k, v in (body.get("statement") or {}).items()},
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

    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str) -> Offers: ...

    async def book_plan(
        self, account_id: str, *, offer_id: str, channel: str, idempotency_key: str, consent_text: str,
        conversation_id: str,
    ) -> BookedPlan: ...

    async def create_payment(
        self, account_id: str, *, amount_cents: int, channel: str, idempotency_key: str, conversation_id: str,
        plan_id: str | None = None,
    ) -> PaymentLink: ...

    async def recent_payments(self, account_id: str, *, conversation_id: str) -> list[RecentPayment]: ...

    async def get_payment(self, payment_id: str, *, conversation_id: str) -> "PaymentStatus": ...

    async def make_promise(
        self, account_id: str, *, amount_cents: int, due_date: date, channel: str, idempotency_key: str,
        conversation_id: str,
    ) -> str: ...

    async def create_handoff(
        self, *, conversation_id: str, channel: str, reason: str, account_id: str | None, verified: bool,
        summary: str, context: dict[str, Any],
    ) -> HandoffCase: ...

    async def set_flag(self, account_id: str, *, flag: str, channel: str, conversation_id: str) -> None: ...

    async def phone_opt_out(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> None: ...

    async def phone_wrong_number(self, phone: str, *, channel: str, conversation_id: str) -> None: ...


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
            # Recorded as the `disclosure_given` audit event when verification succeeds.
            "disclosure": get_settings().disclosure_mode,
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


    def _raise_for_refusal(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 404:
            raise AccountNotFound(what)
        if response.status_code in (409, 410, 422, 423):
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            raise Refused(body.get("code", str(response.status_code)), body.get("detail", ""))
        if response.status_code >= 300:
            raise PaymentsUnavailable(f"{what} answered HTTP {response.status_code}")

    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str) -> Offers:
        response = await self._request(
            "GET", f"/api/accounts/{account_id}/offers", conversation_id,
            params={"hardship": "true" if hardship else "false"},
        )
        self._raise_for_refusal(response, "offers")
        body = response.json()
        return Offers(body["collection_allowed"], tuple(OfferSummary.from_json(o) for o in body["offers"]))

    async def book_plan(
        self, account_id: str, *, offer_id: str, channel: str, idempotency_key: str, consent_text: str,
        conversation_id: str,
    ) -> BookedPlan:
        response = await self._request("POST", f"/api/accounts/{account_id}/plans", conversation_id, json={
            "offer_id": offer_id, "channel": channel, "idempotency_key": idempotency_key,
            "consent_text": consent_text, "conversation_id": conversation_id,
        })
        self._raise_for_refusal(response, "book plan")
        body = response.json()
        return BookedPlan(
            id=body["id"], currency=body["total"]["currency"], total_cents=body["total"]["amount_cents"],
            schedule=tuple(
                ScheduledPayment(date.fromisoformat(p["due_date"]), p["amount"]["amount_cents"])
                for p in body["schedule"]
            ),
        )

    async def create_payment(
        self, account_id: str, *, amount_cents: int, channel: str, idempotency_key: str, conversation_id: str,
        plan_id: str | None = None,
    ) -> PaymentLink:
        response = await self._request("POST", "/api/payments", conversation_id, json={
            "account_id": account_id, "amount_cents": amount_cents, "channel": channel,
            "idempotency_key": idempotency_key, "conversation_id": conversation_id, "plan_id": plan_id,
        })
        self._raise_for_refusal(response, "payment")
        body = response.json()
        # Payments are flat: `amount_cents` and `currency` (payments/api/payment_schemas.py).
        return PaymentLink(body["id"], body["amount_cents"], body["currency"], body["link_url"])

    async def recent_payments(self, account_id: str, *, conversation_id: str) -> list[RecentPayment]:
        response = await self._request("GET", f"/api/accounts/{account_id}/payments", conversation_id)
        self._raise_for_refusal(response, "recent payments")
        body = response.json()
        items = body["payments"] if isinstance(body, dict) else body
        return [
            RecentPayment(p["id"], p["amount_cents"], p["currency"], p["status"], p["created_at"])
            for p in items
        ]

    async def get_payment(self, payment_id: str, *, conversation_id: str) -> PaymentStatus:
        response = await self._request("GET", f"/api/payments/{payment_id}", conversation_id)
        self._raise_for_refusal(response, "payment")
        body = response.json()
        return PaymentStatus(
            body["id"], body["status"], body["amount_cents"], body["currency"], body.get("conversation_id"),
        )

    async def make_promise(
        self, account_id: str, *, amount_cents: int, due_date: date, channel: str, idempotency_key: str,
        conversation_id: str,
    ) -> str:
        response = await self._request("POST", f"/api/accounts/{account_id}/promises", conversation_id, json={
            "amount_cents": amount_cents, "due_date": due_date.isoformat(), "channel": channel,
            "idempotency_key": idempotency_key, "conversation_id": conversation_id,
        })
        self._raise_for_refusal(response, "promise")
        return str(response.json()["id"])

    async def create_handoff(
        self, *, conversation_id: str, channel: str, reason: str, account_id: str | None, verified: bool,
        summary: str, context: dict[str, Any],
    ) -> HandoffCase:
        response = await self._request("POST", "/api/handoffs", conversation_id, json={
            "conversation_id": conversation_id, "channel": channel, "reason": reason, "account_id": account_id,
            "verified": verified, "summary": summary, "context": context,
        })
        self._raise_for_refusal(response, "handoff")
        body = response.json()
        return HandoffCase(body["id"], int(body.get("queue_position") or 1))

    async def set_flag(self, account_id: str, *, flag: str, channel: str, conversation_id: str) -> None:
        response = await self._request("POST", f"/api/accounts/{account_id}/flags", conversation_id, json={
            "flag": flag, "channel": channel, "actor": "customer", "conversation_id": conversation_id,
        })
        self._raise_for_refusal(response, "flag")

    async def phone_opt_out(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> None:
        response = await self._request("POST", "/api/contact/opt-out", conversation_id, json={
            "phone": phone, "medium": medium, "channel": channel,
        })
        self._raise_for_refusal(response, "opt-out")

    async def phone_wrong_number(self, phone: str, *, channel: str, conversation_id: str) -> None:
        response = await self._request("POST", "/api/contact/wrong-number", conversation_id, json={
            "phone": phone, "channel": channel,
        })
        self._raise_for_refusal(response, "wrong number")


@lru_cache
def default_client() -> PaymentsClient:
    """The process-wide client, built on first use (never at import)."""
    settings = get_settings()
    return HttpPaymentsClient(
        settings.payments_url, settings.payments_service_token, settings.payments_timeout_seconds
    )
