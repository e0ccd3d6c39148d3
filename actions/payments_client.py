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


class VerificationRequired(PaymentsError):
    """403 `verification_required` (C2): the verification session is missing, expired or ended.
    Handled in one place, the verified-action gate (actions/base.py): verify again."""


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
    def from_json(cls, body: dict[str, Any]) -> OfferSummary:
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
    receipt_url: str | None = None  # C5: the recurring-charge authorization the customer can reopen


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
    account_settled: bool = False  # this payment closed the account as settled


@dataclass(frozen=True)
class HandoffCase:
    id: str
    queue_position: int


@dataclass(frozen=True)
class VerificationOutcome:
    verified: bool
    account_id: str | None
    attempts_left: int
    session: str | None = None  # C2 `verification_session`: carried by every later account call


@dataclass(frozen=True)
class DueAmount:
    amount_cents: int
    currency: str
    due_date: date

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> DueAmount | None:
        if not body:
            return None
        return cls(int(body["amount_cents"]), str(body.get("currency") or "USD"), date.fromisoformat(body["due_date"]))


@dataclass(frozen=True)
class ActivePlan:
    plan_id: str
    kind: str
    status: str  # active | suspended
    next_installment: DueAmount | None


# Account flags (GET account) → standing pause reasons (C4), for a service without /standing yet.
PAUSE_REASON_BY_FLAG = {
    "bankruptcy": "bankruptcy",
    "dispute": "dispute",
    "attorney": "attorney",
    "deceased": "deceased",
    "cease_communication": "cease",
}


@dataclass(frozen=True)
class Standing:
    """C4 standing: whether collection is allowed and why not, the active plan, a pending promise."""

    account_id: str
    status: str  # open | settled | closed
    collection: str  # allowed | paused
    pause_reasons: tuple[str, ...] = ()
    active_plan: ActivePlan | None = None
    pending_promise: DueAmount | None = None

    @property
    def paused(self) -> bool:
        return self.collection != "allowed" or self.status == "settled"

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Standing:
        plan = body.get("active_plan")
        return cls(
            account_id=body["account_id"],
            status=body["status"],
            collection=body["collection"],
            pause_reasons=tuple(body.get("pause_reasons") or ()),
            active_plan=ActivePlan(
                plan["plan_id"], plan["kind"], plan["status"], DueAmount.from_json(plan.get("next_installment"))
            )
            if plan
            else None,
            pending_promise=DueAmount.from_json(body.get("pending_promise")),
        )

    @classmethod
    def from_account(cls, account: AccountSummary) -> Standing:
        """What the account's own flags say (no plan or promise known)."""
        reasons = tuple(PAUSE_REASON_BY_FLAG[f] for f in account.flags if f in PAUSE_REASON_BY_FLAG)
        if account.status == "settled":
            reasons += ("settled",)
        paused = bool(reasons) or not account.collection_allowed
        return cls(
            account.id, "settled" if account.status == "settled" else "open", "paused" if paused else "allowed", reasons
        )


@dataclass(frozen=True)
class Report:
    report_id: str
    account_ids: tuple[str, ...]


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
    def from_json(cls, body: dict[str, Any]) -> AccountSummary:
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

    # Every call below that names `session` is a C2 route: it carries X-Verification-Session.
    async def get_account(self, account_id: str, *, conversation_id: str, session: str | None) -> AccountSummary: ...

    async def get_standing(self, account_id: str, *, conversation_id: str, session: str | None) -> Standing: ...

    async def get_offers(
        self, account_id: str, *, hardship: bool, conversation_id: str, session: str | None
    ) -> Offers: ...

    async def book_plan(
        self,
        account_id: str,
        *,
        offer_id: str,
        channel: str,
        idempotency_key: str,
        consent_text: str,
        conversation_id: str,
        session: str | None,
    ) -> BookedPlan: ...

    async def create_payment(
        self,
        account_id: str,
        *,
        amount_cents: int,
        channel: str,
        idempotency_key: str,
        conversation_id: str,
        session: str | None,
        plan_id: str | None = None,
    ) -> PaymentLink: ...

    async def recent_payments(
        self, account_id: str, *, conversation_id: str, session: str | None
    ) -> list[RecentPayment]: ...

    async def get_payment(self, payment_id: str, *, conversation_id: str, session: str | None) -> PaymentStatus: ...

    async def get_payment_result(self, payment_id: str, *, conversation_id: str) -> PaymentStatus: ...

    async def make_promise(
        self,
        account_id: str,
        *,
        amount_cents: int,
        due_date: date,
        channel: str,
        idempotency_key: str,
        conversation_id: str,
        session: str | None,
    ) -> str: ...

    async def end_verification_session(self, *, conversation_id: str, reason: str) -> int: ...

    async def record_call_conversation(self, account_id: str, *, conversation_id: str) -> None: ...

    async def create_report(
        self,
        *,
        kind: str,
        account_id: str | None,
        phone: str | None,
        conversation_id: str,
        channel: str,
        reported_by: str,
        summary: str,
    ) -> Report: ...

    async def create_handoff(
        self,
        *,
        conversation_id: str,
        channel: str,
        reason: str,
        account_id: str | None,
        verified: bool,
        summary: str,
        context: dict[str, Any],
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

    async def _request(
        self, method: str, path: str, conversation_id: str, session: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"X-Conversation-Id": conversation_id}
        if session:
            headers["X-Verification-Session"] = session
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("[conversation=%s] payments service unreachable: %s", conversation_id, type(exc).__name__)
            raise PaymentsUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            log.warning("[conversation=%s] payments service answered %s", conversation_id, response.status_code)
            raise PaymentsUnavailable(f"HTTP {response.status_code}")
        if response.status_code == 403 and _error_body(response).get("code") == "verification_required":
            log.info("[conversation=%s] verification session refused on %s %s", conversation_id, method, path)
            raise VerificationRequired(path)
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
        return VerificationOutcome(
            data["verified"], data["account_id"], data["attempts_left"], data.get("verification_session")
        )

    async def get_account(self, account_id: str, *, conversation_id: str, session: str | None) -> AccountSummary:
        response = await self._request("GET", f"/api/accounts/{account_id}", conversation_id, session)
        if response.status_code == 404:
            raise AccountNotFound(account_id)
        if response.status_code != 200:
            raise PaymentsUnavailable(f"account answered HTTP {response.status_code}")
        return AccountSummary.from_json(response.json())

    async def get_standing(self, account_id: str, *, conversation_id: str, session: str | None) -> Standing:
        response = await self._request("GET", f"/api/accounts/{account_id}/standing", conversation_id, session)
        if response.status_code == 404 and _error_body(response).get("code") != "not_found":
            # A service without the standing route yet (C4): the account's own flags.
            account = await self.get_account(account_id, conversation_id=conversation_id, session=session)
            return Standing.from_account(account)
        self._raise_for_refusal(response, "standing")
        return Standing.from_json(response.json())

    def _raise_for_refusal(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 404:
            raise AccountNotFound(what)
        if response.status_code in (409, 410, 422, 423):
            body = _error_body(response)
            raise Refused(str(body.get("code", response.status_code)), str(body.get("detail", "")))
        if response.status_code >= 300:
            raise PaymentsUnavailable(f"{what} answered HTTP {response.status_code}")

    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str, session: str | None) -> Offers:
        response = await self._request(
            "GET",
            f"/api/accounts/{account_id}/offers",
            conversation_id,
            session,
            params={"hardship": "true" if hardship else "false"},
        )
        self._raise_for_refusal(response, "offers")
        body = response.json()
        return Offers(body["collection_allowed"], tuple(OfferSummary.from_json(o) for o in body["offers"]))

    async def book_plan(
        self,
        account_id: str,
        *,
        offer_id: str,
        channel: str,
        idempotency_key: str,
        consent_text: str,
        conversation_id: str,
        session: str | None,
    ) -> BookedPlan:
        response = await self._request(
            "POST",
            f"/api/accounts/{account_id}/plans",
            conversation_id,
            session,
            json={
                "offer_id": offer_id,
                "channel": channel,
                "idempotency_key": idempotency_key,
                "consent_text": consent_text,
                "conversation_id": conversation_id,
            },
        )
        self._raise_for_refusal(response, "book plan")
        body = response.json()
        return BookedPlan(
            id=body["id"],
            currency=body["total"]["currency"],
            total_cents=body["total"]["amount_cents"],
            schedule=tuple(
                ScheduledPayment(date.fromisoformat(p["due_date"]), p["amount"]["amount_cents"])
                for p in body["schedule"]
            ),
            receipt_url=body.get("receipt_url"),
        )

    async def create_payment(
        self,
        account_id: str,
        *,
        amount_cents: int,
        channel: str,
        idempotency_key: str,
        conversation_id: str,
        session: str | None,
        plan_id: str | None = None,
    ) -> PaymentLink:
        response = await self._request(
            "POST",
            "/api/payments",
            conversation_id,
            session,
            json={
                "account_id": account_id,
                "amount_cents": amount_cents,
                "channel": channel,
                "idempotency_key": idempotency_key,
                "conversation_id": conversation_id,
                "plan_id": plan_id,
            },
        )
        self._raise_for_refusal(response, "payment")
        body = response.json()
        # Payments are flat: `amount_cents` and `currency` (payments/api/payment_schemas.py).
        return PaymentLink(body["id"], body["amount_cents"], body["currency"], body["link_url"])

    async def recent_payments(
        self, account_id: str, *, conversation_id: str, session: str | None
    ) -> list[RecentPayment]:
        response = await self._request("GET", f"/api/accounts/{account_id}/payments", conversation_id, session)
        self._raise_for_refusal(response, "recent payments")
        body = response.json()
        items = body["payments"] if isinstance(body, dict) else body
        return [RecentPayment(p["id"], p["amount_cents"], p["currency"], p["status"], p["created_at"]) for p in items]

    async def get_payment(self, payment_id: str, *, conversation_id: str, session: str | None) -> PaymentStatus:
        response = await self._request("GET", f"/api/payments/{payment_id}", conversation_id, session)
        self._raise_for_refusal(response, "payment")
        body = response.json()
        return PaymentStatus(
            body["id"],
            body["status"],
            body["amount_cents"],
            body["currency"],
            body.get("conversation_id"),
        )

    async def get_payment_result(self, payment_id: str, *, conversation_id: str) -> PaymentStatus:
        """The outcome of this conversation's own payment; no verification session needed
        (`AccountNotFound`-style refusal for any other conversation's payment)."""
        response = await self._request("GET", f"/api/payments/{payment_id}/result", conversation_id)
        self._raise_for_refusal(response, "payment")
        body = response.json()
        return PaymentStatus(
            body["id"],
            body["status"],
            body["amount_cents"],
            body["currency"],
            body["conversation_id"],
            bool(body.get("account_settled")),
        )

    async def make_promise(
        self,
        account_id: str,
        *,
        amount_cents: int,
        due_date: date,
        channel: str,
        idempotency_key: str,
        conversation_id: str,
        session: str | None,
    ) -> str:
        response = await self._request(
            "POST",
            f"/api/accounts/{account_id}/promises",
            conversation_id,
            session,
            json={
                "amount_cents": amount_cents,
                "due_date": due_date.isoformat(),
                "channel": channel,
                "idempotency_key": idempotency_key,
                "conversation_id": conversation_id,
            },
        )
        self._raise_for_refusal(response, "promise")
        return str(response.json()["id"])

    async def create_handoff(
        self,
        *,
        conversation_id: str,
        channel: str,
        reason: str,
        account_id: str | None,
        verified: bool,
        summary: str,
        context: dict[str, Any],
    ) -> HandoffCase:
        response = await self._request(
            "POST",
            "/api/handoffs",
            conversation_id,
            json={
                "conversation_id": conversation_id,
                "channel": channel,
                "reason": reason,
                "account_id": account_id,
                "verified": verified,
                "summary": summary,
                "context": context,
            },
        )
        self._raise_for_refusal(response, "handoff")
        body = response.json()
        return HandoffCase(body["id"], int(body.get("queue_position") or 1))

    async def set_flag(self, account_id: str, *, flag: str, channel: str, conversation_id: str) -> None:
        response = await self._request(
            "POST",
            f"/api/accounts/{account_id}/flags",
            conversation_id,
            json={
                "flag": flag,
                "channel": channel,
                "actor": "customer",
                "conversation_id": conversation_id,
            },
        )
        self._raise_for_refusal(response, "flag")

    async def phone_opt_out(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> None:
        response = await self._request(
            "POST",
            "/api/contact/opt-out",
            conversation_id,
            json={
                "phone": phone,
                "medium": medium,
                "channel": channel,
            },
        )
        self._raise_for_refusal(response, "opt-out")

    async def phone_wrong_number(self, phone: str, *, channel: str, conversation_id: str) -> None:
        response = await self._request(
            "POST",
            "/api/contact/wrong-number",
            conversation_id,
            json={
                "phone": phone,
                "channel": channel,
            },
        )
        self._raise_for_refusal(response, "wrong number")

    async def end_verification_session(self, *, conversation_id: str, reason: str) -> int:
        response = await self._request(
            "POST",
            "/api/verification-sessions/end",
            conversation_id,
            json={
                "conversation_id": conversation_id,
                "reason": reason,
            },
        )
        self._raise_for_refusal(response, "end verification session")
        return int(response.json().get("ended", 0))

    async def record_call_conversation(self, account_id: str, *, conversation_id: str) -> None:
        """The call ledger: this call reached the cardholder (Reg F 1006.14(b)(2) counts it).
        Idempotent per conversation id in the service, so a retried turn counts once."""
        response = await self._request(
            "POST",
            "/api/contact/events",
            conversation_id,
            json={
                "account_id": account_id,
                "medium": "voice",
                "kind": "conversation",
                "direction": "inbound",
                "conversation_id": conversation_id,
            },
        )
        self._raise_for_refusal(response, "call ledger")

    async def create_report(
        self,
        *,
        kind: str,
        account_id: str | None,
        phone: str | None,
        conversation_id: str,
        channel: str,
        reported_by: str,
        summary: str,
    ) -> Report:
        response = await self._request(
            "POST",
            "/api/reports",
            conversation_id,
            json={
                "kind": kind,
                "account_id": account_id,
                "phone": phone,
                "conversation_id": conversation_id,
                "channel": channel,
                "reported_by": reported_by,
                "summary": summary,
            },
        )
        self._raise_for_refusal(response, "report")
        body = response.json()
        return Report(str(body["report_id"]), tuple(body.get("account_ids") or ()))


def _error_body(response: httpx.Response) -> dict[str, Any]:
    """A JSON error answer (`{"code", "detail"}`), or {} when the answer is not one."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@lru_cache
def default_client() -> PaymentsClient:
    """The process-wide client, built on first use (never at import)."""
    settings = get_settings()
    return HttpPaymentsClient(settings.payments_url, settings.payments_service_token, settings.payments_timeout_seconds)
