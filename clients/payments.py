"""The client of the payments service for the rasa environment: the action server's actions and
the rasa server's connectors reach accounts, money and the compliance ledger only through it.

It imports httpx, the standard library and `contracts/` only (no rasa, no rasa-sdk), so it also
imports under `.venv/payments`, where `tests/clients/test_payments.py` runs it against the real
FastAPI app in-process, and the fake the action tests use (`testkit/fake_payments.py`) against
the same answers.

Every failure is a `PaymentsError`; which one says what to do (translated into replies once, in
`actions/replies.py`, and into log lines by each connector):

| answer                                   | error                                   |
| ---------------------------------------- | --------------------------------------- |
| none (connection error, timeout), or 5xx | `PaymentsUnavailable` (after `Retry`)   |
| 403 `verification_required` (C2)         | `VerificationRequired`                  |
| 404 `not_found`                          | `AccountNotFound`                       |
| 404 from a service without the route     | `RouteMissing` (an `AccountNotFound`)   |
| 409, 410, 422, 423 with a stable `code`  | `Refused` (`.code`, `.detail`)          |
| any other 4xx (our bug or configuration) | `Rejected` (a `PaymentsUnavailable`)    |
| 423 from /api/verify                     | `VerificationLocked`                    |

`delivered(call)` folds those into the three outcomes a ledger write has for a connector:
`Delivery.RECORDED`, `Delivery.REFUSED` (a 4xx: sending it again would not help) or
`Delivery.UNAVAILABLE` (worth trying again later).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import httpx

from contracts.names import PAUSE_REASON_BY_FLAG, PauseReason

if TYPE_CHECKING:  # PEP 692 `**kwargs: Unpack[...]`; typing has it from 3.11, the rasa env runs 3.10
    from typing_extensions import Unpack

log = logging.getLogger(__name__)


# --- errors ------------------------------------------------------------------------------------


class PaymentsError(Exception):
    """Base for errors an action turns into a customer-facing response."""


class PaymentsUnavailable(PaymentsError):
    """The service did not answer, or answered 5xx: apologize and offer a later try or a person."""


class Rejected(PaymentsUnavailable):
    """A 4xx that is no stable refusal (400, 401, a 403 other than `verification_required`): our
    bug or our configuration, never the customer's. A conversation treats it as unavailable;
    it is never retried, and `delivered` counts it refused."""


class VerificationLocked(PaymentsError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"locked for {retry_after_seconds}s")
        self.retry_after_seconds = retry_after_seconds


class AccountNotFound(PaymentsError):
    """404 `not_found`: the account (or payment, or case) is not known."""


class RouteMissing(AccountNotFound):
    """404 that is not the service's own `not_found` answer: a payments service without this
    route yet (an older deployment). Callers that can do without the route catch it."""


class VerificationRequired(PaymentsError):
    """403 `verification_required` (C2): the verification session is missing, expired or ended.
    Handled in one place, the verified-action gate (actions/base.py): verify again."""


class Refused(PaymentsError):
    """The service refused with a stable code (`offer_not_allowed`, `plan_already_active`, ...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Delivery:
    """What became of a write to the compliance ledger, for a connector (plain strings)."""

    RECORDED = "recorded"  # the service committed it (201 Created)
    REFUSED = "refused"  # the service said no (4xx): sending it again would not help
    UNAVAILABLE = "unavailable"  # no answer or 5xx (after the client's retries): try again later


async def delivered(call: Awaitable[object]) -> str:
    """Await a client call and say what became of it (`Delivery.*`) instead of raising:
    `await delivered(client.record_revocation(**body))`."""
    try:
        await call
    except Rejected:
        return Delivery.REFUSED
    except PaymentsUnavailable:
        return Delivery.UNAVAILABLE
    except PaymentsError:
        return Delivery.REFUSED
    return Delivery.RECORDED


# --- what the service answers ------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledPayment:
    """One payment of a plan or offer: its date and amount (minor units)."""

    due_date: date
    amount_cents: int


def _schedule(body: Mapping[str, Any]) -> tuple[ScheduledPayment, ...]:
    """A plan's or offer's `schedule` (`[{"due_date", "amount": {"amount_cents"}}]`)."""
    return tuple(
        ScheduledPayment(date.fromisoformat(p["due_date"]), int(p["amount"]["amount_cents"])) for p in body["schedule"]
    )


@dataclass(frozen=True)
class OfferSummary:
    """An offer `GET /api/accounts/{id}/offers` lists: a plan, a settlement or a pay-now option."""

    id: str
    kind: str
    description: str
    currency: str
    total_cents: int
    schedule: tuple[ScheduledPayment, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> OfferSummary:
        total = body["total"]
        return cls(
            body["id"], body["kind"], body["description"], total["currency"], total["amount_cents"], _schedule(body)
        )


@dataclass(frozen=True)
class Offers:
    """`GET /api/accounts/{id}/offers`: none when collection is not allowed."""

    collection_allowed: bool
    offers: tuple[OfferSummary, ...]


@dataclass(frozen=True)
class BookedPlan:
    """`POST /api/accounts/{id}/plans`: the plan as booked (C5)."""

    id: str
    currency: str
    total_cents: int
    schedule: tuple[ScheduledPayment, ...]
    receipt_url: str | None = None  # C5: the recurring-charge authorization the customer can reopen


@dataclass(frozen=True)
class PaymentLink:
    """`POST /api/payments`: the pending payment and its one-time link."""

    payment_id: str
    amount_cents: int
    currency: str
    link_url: str


@dataclass(frozen=True)
class RecentPayment:
    """A line of `GET /api/accounts/{id}/payments` (`created_at` ISO)."""

    id: str
    amount_cents: int
    currency: str
    status: str
    created_at: str


@dataclass(frozen=True)
class PaymentStatus:
    """`GET /api/payments/{id}` and its conversation-bound `/result`."""

    id: str
    status: str
    amount_cents: int
    currency: str
    conversation_id: str | None
    account_settled: bool = False  # this payment closed the account as settled

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PaymentStatus:
        fields = (body["id"], body["status"], body["amount_cents"], body["currency"], body.get("conversation_id"))
        return cls(*fields, bool(body.get("account_settled")))


@dataclass(frozen=True)
class HandoffCase:
    """`POST /api/handoffs`: the case and where the customer is in the queue."""

    id: str
    queue_position: int


@dataclass(frozen=True)
class VerificationOutcome:
    """`POST /api/verify`: verified or not, and how many tries are left."""

    verified: bool
    account_id: str | None
    attempts_left: int
    session: str | None = None  # C2 `verification_session`: carried by every later account call


@dataclass(frozen=True)
class DueAmount:
    """An amount due on a date (a plan's next installment, a promise)."""

    amount_cents: int
    currency: str
    due_date: date

    @classmethod
    def from_json(cls, body: Mapping[str, Any] | None) -> DueAmount | None:
        if not body:
            return None
        return cls(int(body["amount_cents"]), str(body.get("currency") or "USD"), date.fromisoformat(body["due_date"]))


@dataclass(frozen=True)
class ActivePlan:
    """The plan in force in the standing (C4)."""

    plan_id: str
    kind: str
    status: str  # active | suspended
    next_installment: DueAmount | None


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
    def from_json(cls, body: Mapping[str, Any]) -> Standing:
        plan = body.get("active_plan")
        active = (
            ActivePlan(plan["plan_id"], plan["kind"], plan["status"], DueAmount.from_json(plan.get("next_installment")))
            if plan
            else None
        )
        reasons = tuple(body.get("pause_reasons") or ())
        promise = DueAmount.from_json(body.get("pending_promise"))
        return cls(body["account_id"], body["status"], body["collection"], reasons, active, promise)

    @classmethod
    def from_account(cls, account: AccountSummary) -> Standing:
        """What the account's own flags say (no plan or promise known), for a service without
        the standing route (C4)."""
        reasons = tuple(PAUSE_REASON_BY_FLAG[f] for f in account.flags if f in PAUSE_REASON_BY_FLAG)
        if account.status == "settled":
            reasons += (PauseReason.SETTLED,)
        paused = bool(reasons) or not account.collection_allowed
        return cls(
            account.id, "settled" if account.status == "settled" else "open", "paused" if paused else "allowed", reasons
        )


@dataclass(frozen=True)
class Report:
    """`POST /api/reports`: the report and the accounts it points to."""

    report_id: str
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class PhoneConsent:
    """An opt-out or opt-in by phone number: the accounts on that number, and those it changed."""

    account_ids: tuple[str, ...]
    changed_account_ids: tuple[str, ...]


@dataclass(frozen=True)
class RevocationReceipt:
    """A revocation the service recorded (C4 `POST /api/contact/revocations`)."""

    recorded: bool
    media: tuple[str, ...]
    cease: bool
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class AccountSummary:
    """`GET /api/accounts/{id}`: the account's figures and flags (C2: a verified session only)."""

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
    def from_json(cls, body: Mapping[str, Any]) -> AccountSummary:
        cents = {name: body[name]["amount_cents"] for name in ("balance", "past_due", "minimum_due")}
        return cls(
            id=body["id"],
            first_name=body["first_name"],
            status=body["status"],
            currency=body["balance"]["currency"],
            balance_cents=cents["balance"],
            past_due_cents=cents["past_due"],
            minimum_due_cents=cents["minimum_due"],
            payment_due_date=date.fromisoformat(body["payment_due_date"]),
            days_past_due=body["days_past_due"],
            flags=tuple(body["flags"]),
            collection_allowed=body["collection_allowed"],
            statement={k: v["amount_cents"] for k, v in (body.get("statement") or {}).items()},
        )


# --- the contract ------------------------------------------------------------------------------


class VerifyRequest(TypedDict):
    """`verify`'s keywords. `disclosure` (first_party | third_party) is recorded as the
    `disclosure_given` audit event when verification succeeds."""

    channel: str
    conversation_id: str
    phone: str | None
    card_last4: str | None
    dob: date | None
    zip_code: str | None
    disclosure: str


class PlanRequest(TypedDict):
    """`book_plan`'s keywords, sent as its body. `consent_text`: the exact words the customer was
    shown and agreed to (C5)."""

    offer_id: str
    channel: str
    idempotency_key: str
    consent_text: str
    conversation_id: str


class _PaymentRequired(TypedDict):
    amount_cents: int
    channel: str
    idempotency_key: str
    conversation_id: str


class PaymentRequest(_PaymentRequired, total=False):
    """`create_payment`'s keywords, sent with the account as its body; `plan_id` for a plan's installment."""

    plan_id: str | None


class PromiseRequest(TypedDict):
    """`make_promise`'s keywords, sent as its body (`due_date` as ISO)."""

    amount_cents: int
    due_date: date
    channel: str
    idempotency_key: str
    conversation_id: str


class ReportRequest(TypedDict):
    """`create_report`'s keywords, sent as its body (C4 `POST /api/reports`): `kind` is one of
    contracts.names.ReportKind, `reported_by` one of contracts.names.REPORTED_BY."""

    kind: str
    account_id: str | None
    phone: str | None
    conversation_id: str
    channel: str
    reported_by: str
    summary: str


class HandoffRequest(TypedDict):
    """`create_handoff`'s keywords, sent as its body: `context` is shown to the agent as given."""

    conversation_id: str
    channel: str
    reason: str
    account_id: str | None
    verified: bool
    summary: str
    context: dict[str, Any]


class _RevocationRequired(TypedDict):
    conversation_id: str
    channel: str


class RevocationRequest(_RevocationRequired, total=False):
    """`record_revocation`'s keywords, sent as its body (C4 `POST /api/contact/revocations`): the
    phone or the account, and what is revoked: `media` (sms | voice | email | all), `cease`,
    `inconvenient` times or places (`{"not_before", "not_after", "places", "text"}`); `summary`
    the customer's words, masked."""

    phone: str | None
    account_id: str | None
    media: Sequence[str]
    cease: bool
    inconvenient: Mapping[str, Any] | None
    summary: str | None


class PaymentsClient(Protocol):
    """What the actions and the connectors may ask of the payments service. Every method raises
    the errors of the module docstring; none returns an error value (wrap a call in `delivered`
    for one). The requests with many keywords take them as the TypedDicts above, whose keys are
    the JSON body's: a connector's stored body can be sent again as `create_report(**body)`."""

    async def verify(self, **request: Unpack[VerifyRequest]) -> VerificationOutcome:
        """`POST /api/verify`. Raises `VerificationLocked`."""

    # Every call below that names `session` is a C2 route: it carries X-Verification-Session.
    async def get_account(self, account_id: str, *, conversation_id: str, session: str | None) -> AccountSummary: ...

    async def get_standing(self, account_id: str, *, conversation_id: str, session: str | None) -> Standing:
        """C4 standing; from the account's flags (`Standing.from_account`) on a service without the route."""

    async def get_offers(
        self, account_id: str, *, hardship: bool, conversation_id: str, session: str | None
    ) -> Offers: ...

    async def book_plan(
        self, account_id: str, *, session: str | None, **request: Unpack[PlanRequest]
    ) -> BookedPlan: ...

    async def create_payment(
        self, account_id: str, *, session: str | None, **request: Unpack[PaymentRequest]
    ) -> PaymentLink: ...

    async def recent_payments(
        self, account_id: str, *, conversation_id: str, session: str | None
    ) -> list[RecentPayment]: ...

    async def get_payment(self, payment_id: str, *, conversation_id: str, session: str | None) -> PaymentStatus: ...

    async def get_payment_result(self, payment_id: str, *, conversation_id: str) -> PaymentStatus:
        """The outcome of this conversation's own payment; no verification session needed
        (`AccountNotFound` for any other conversation's payment)."""

    async def make_promise(self, account_id: str, *, session: str | None, **request: Unpack[PromiseRequest]) -> str:
        """The promise's id."""

    async def end_verification_session(self, *, conversation_id: str, reason: str) -> int:
        """C2 `POST /api/verification-sessions/end` (`reason`: contracts.names.EndReason): how
        many sessions ended. Raises `RouteMissing` on a service without the route (the sessions
        still expire by the service's own idle and absolute limits)."""

    async def record_call_conversation(self, account_id: str, *, conversation_id: str) -> None:
        """The call ledger: this call reached the cardholder (Reg F 1006.14(b)(2) counts it).
        Idempotent per conversation id in the service, so a retried turn counts once."""

    async def create_report(self, **request: Unpack[ReportRequest]) -> Report:
        """The accounts the report points to. The service returns the first report of the same
        kind from the same conversation, so a repeat is harmless."""

    async def create_handoff(self, **request: Unpack[HandoffRequest]) -> HandoffCase: ...

    async def set_flag(self, account_id: str, *, flag: str, channel: str, conversation_id: str) -> None:
        """Puts `flag` (contracts.names.Flag) on the account, with the customer as the actor."""

    async def phone_opt_out(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> PhoneConsent:
        """`POST /api/contact/opt-out`: no more `medium` (contracts.names.Medium) to `phone` on
        any account; `channel` is the audit channel. Idempotent: safe to retry."""

    async def phone_opt_in(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> PhoneConsent:
        """`POST /api/contact/opt-in` (START): `medium` to `phone` again. Idempotent."""

    async def phone_wrong_number(self, phone: str, *, channel: str, conversation_id: str) -> None: ...

    async def record_revocation(self, **request: Unpack[RevocationRequest]) -> RevocationReceipt:
        """A consumer's revocation in their own words. No idempotency key in the service: a retry
        after a lost answer records it twice (same flags, a second audit row)."""


# --- over HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """The client's one retry policy. A transient failure (no answer: a connection error or a
    timeout; or a 5xx) is tried again, `attempts` tries in all, waiting `backoff_seconds` and
    doubling after each (0.5 s, 1 s, ...). A 4xx is an answer and is never retried.

    The default is one attempt: a conversation turn does not wait on retries, and the
    customer hears `utter_service_unavailable` at once. A connector writing to the compliance
    ledger (opt-out, opt-in) builds its client with `Retry(attempts=3)`. Only idempotent writes
    belong on a retrying client (see each method)."""

    attempts: int = 1
    backoff_seconds: float = 0.5

    def delay(self, failed_attempt: int) -> float:
        """The wait after the `failed_attempt`-th try (1-based)."""
        return self.backoff_seconds * 2.0 ** (failed_attempt - 1)


class HttpPaymentsClient:
    """`PaymentsClient` over HTTP with the service token. One connection pool per client: build
    one per process (or per connector) and `aclose()` it when the process stops.

    `transport` replaces the network (httpx.MockTransport, httpx.ASGITransport in tests)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout_seconds: float,
        *,
        retry: Retry = Retry(),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retry = retry
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_seconds,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, method: str, path: str, conversation_id: str, session: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request under the retry policy: the answer (any status below 500), else
        `PaymentsUnavailable`; a 403 `verification_required` raises `VerificationRequired`."""
        headers = {"X-Conversation-Id": conversation_id}
        if session:
            headers["X-Verification-Session"] = session
        problem = ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:  # connection refused or reset, timeout
                problem = f"unreachable: {type(exc).__name__}"
            except httpx.HTTPError as exc:
                log.warning("[conversation=%s] payments service unusable: %s", conversation_id, type(exc).__name__)
                raise PaymentsUnavailable(str(exc)) from exc
            else:
                if response.status_code < 500:
                    if response.status_code == 403 and _error_body(response).get("code") == "verification_required":
                        log.info(
                            "[conversation=%s] verification session refused on %s %s", conversation_id, method, path
                        )
                        raise VerificationRequired(path)
                    return response
                problem = f"answered HTTP {response.status_code}"
            log.warning(
                "[conversation=%s] payments service %s on %s %s (attempt %d/%d)",
                conversation_id,
                problem,
                method,
                path,
                attempt,
                self.retry.attempts,
            )
            if attempt < self.retry.attempts:
                await asyncio.sleep(self.retry.delay(attempt))
        raise PaymentsUnavailable(problem)

    async def _answer(
        self, method: str, path: str, conversation_id: str, session: str | None = None, **kwargs: Any
    ) -> Any:
        """The JSON answer of a request, or the error its status means (module docstring)."""
        response = await self._send(method, path, conversation_id, session, **kwargs)
        _raise_for_status(response, f"{method} {path}")
        return response.json() if response.content else None

    async def _created(self, path: str, conversation_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """A write the customer is told about (a revocation, a report): only `201 Created` with its
        JSON body confirms it, because the service answers 201 after its commit (12 CFR 1006.18: we
        confirm only what was recorded). Any other 2xx, or a body that is not the answer, is
        `PaymentsUnavailable`: the connector keeps the request and tries again."""
        response = await self._send("POST", path, conversation_id, json=dict(request))
        _raise_for_status(response, f"POST {path}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 201 or not isinstance(body, dict):
            raise PaymentsUnavailable(f"POST {path} answered HTTP {response.status_code} without its record")
        return body

    async def verify(self, **request: Unpack[VerifyRequest]) -> VerificationOutcome:
        conversation_id, dob = request["conversation_id"], request["dob"]
        body = {
            "channel": request["channel"],
            "conversation_id": conversation_id,
            "phone": request["phone"],
            "card_last4": request["card_last4"],
            "dob": dob.isoformat() if dob else None,
            "zip": request["zip_code"],
            "disclosure": request["disclosure"],
        }
        response = await self._send("POST", "/api/verify", conversation_id, json=body)
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
        body = await self._answer("GET", f"/api/accounts/{account_id}", conversation_id, session)
        return AccountSummary.from_json(body)

    async def get_standing(self, account_id: str, *, conversation_id: str, session: str | None) -> Standing:
        try:
            body = await self._answer("GET", f"/api/accounts/{account_id}/standing", conversation_id, session)
        except RouteMissing:  # a service without the standing route yet (C4): the account's own flags
            account = await self.get_account(account_id, conversation_id=conversation_id, session=session)
            return Standing.from_account(account)
        return Standing.from_json(body)

    async def get_offers(self, account_id: str, *, hardship: bool, conversation_id: str, session: str | None) -> Offers:
        params = {"hardship": "true" if hardship else "false"}
        body = await self._answer("GET", f"/api/accounts/{account_id}/offers", conversation_id, session, params=params)
        return Offers(body["collection_allowed"], tuple(OfferSummary.from_json(o) for o in body["offers"]))

    async def book_plan(self, account_id: str, *, session: str | None, **request: Unpack[PlanRequest]) -> BookedPlan:
        path, conversation_id = f"/api/accounts/{account_id}/plans", request["conversation_id"]
        body = await self._answer("POST", path, conversation_id, session, json=request)
        total = body["total"]
        return BookedPlan(
            body["id"], total["currency"], total["amount_cents"], _schedule(body), body.get("receipt_url")
        )

    async def create_payment(
        self, account_id: str, *, session: str | None, **request: Unpack[PaymentRequest]
    ) -> PaymentLink:
        sent = {"account_id": account_id, "plan_id": None, **request}
        body = await self._answer("POST", "/api/payments", request["conversation_id"], session, json=sent)
        # Payments are flat: `amount_cents` and `currency` (payments/api/payment_schemas.py).
        return PaymentLink(body["id"], body["amount_cents"], body["currency"], body["link_url"])

    async def recent_payments(
        self, account_id: str, *, conversation_id: str, session: str | None
    ) -> list[RecentPayment]:
        body = await self._answer("GET", f"/api/accounts/{account_id}/payments", conversation_id, session)
        items = body["payments"] if isinstance(body, dict) else body
        return [RecentPayment(p["id"], p["amount_cents"], p["currency"], p["status"], p["created_at"]) for p in items]

    async def get_payment(self, payment_id: str, *, conversation_id: str, session: str | None) -> PaymentStatus:
        body = await self._answer("GET", f"/api/payments/{payment_id}", conversation_id, session)
        return PaymentStatus.from_json({**body, "account_settled": False})

    async def get_payment_result(self, payment_id: str, *, conversation_id: str) -> PaymentStatus:
        return PaymentStatus.from_json(await self._answer("GET", f"/api/payments/{payment_id}/result", conversation_id))

    async def make_promise(self, account_id: str, *, session: str | None, **request: Unpack[PromiseRequest]) -> str:
        path, sent = f"/api/accounts/{account_id}/promises", {**request, "due_date": request["due_date"].isoformat()}
        body = await self._answer("POST", path, request["conversation_id"], session, json=sent)
        return str(body["id"])

    async def create_handoff(self, **request: Unpack[HandoffRequest]) -> HandoffCase:
        body = await self._answer("POST", "/api/handoffs", request["conversation_id"], json=request)
        return HandoffCase(body["id"], int(body.get("queue_position") or 1))

    async def set_flag(self, account_id: str, *, flag: str, channel: str, conversation_id: str) -> None:
        request = {"flag": flag, "channel": channel, "actor": "customer", "conversation_id": conversation_id}
        await self._answer("POST", f"/api/accounts/{account_id}/flags", conversation_id, json=request)

    async def phone_opt_out(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> PhoneConsent:
        return await self._phone_consent("/api/contact/opt-out", phone, medium, channel, conversation_id)

    async def phone_opt_in(self, phone: str, *, medium: str, channel: str, conversation_id: str) -> PhoneConsent:
        return await self._phone_consent("/api/contact/opt-in", phone, medium, channel, conversation_id)

    async def _phone_consent(
        self, path: str, phone: str, medium: str, channel: str, conversation_id: str
    ) -> PhoneConsent:
        request = {"phone": phone, "medium": medium, "channel": channel, "conversation_id": conversation_id}
        body = await self._answer("POST", path, conversation_id, json=request)
        return PhoneConsent(tuple(body["account_ids"]), tuple(body["changed_account_ids"]))

    async def phone_wrong_number(self, phone: str, *, channel: str, conversation_id: str) -> None:
        request = {"phone": phone, "channel": channel, "conversation_id": conversation_id}
        await self._answer("POST", "/api/contact/wrong-number", conversation_id, json=request)

    async def record_revocation(self, **request: Unpack[RevocationRequest]) -> RevocationReceipt:
        sent = {**request, "media": list(request.get("media") or ())}
        body = await self._created("/api/contact/revocations", str(request.get("conversation_id") or ""), sent)
        return RevocationReceipt(
            bool(body.get("recorded")),
            tuple(body.get("media") or ()),
            bool(body.get("cease")),
            tuple(body.get("account_ids") or ()),
        )

    async def end_verification_session(self, *, conversation_id: str, reason: str) -> int:
        request = {"conversation_id": conversation_id, "reason": reason}
        body = await self._answer("POST", "/api/verification-sessions/end", conversation_id, json=request)
        return int(body.get("ended", 0))

    async def record_call_conversation(self, account_id: str, *, conversation_id: str) -> None:
        request = {
            "account_id": account_id,
            "medium": "voice",
            "kind": "conversation",
            "direction": "inbound",
            "conversation_id": conversation_id,
        }
        await self._answer("POST", "/api/contact/events", conversation_id, json=request)

    async def create_report(self, **request: Unpack[ReportRequest]) -> Report:
        body = await self._created("/api/reports", str(request.get("conversation_id") or ""), request)
        return Report(str(body.get("report_id") or ""), tuple(body.get("account_ids") or ()))


def _raise_for_status(response: httpx.Response, what: str) -> None:
    """The error a non-2xx answer means (the table of the module docstring)."""
    status = response.status_code
    if status < 300:
        return
    body = _error_body(response)
    if status == 404:
        raise AccountNotFound(what) if body.get("code") == "not_found" else RouteMissing(what)
    if status in (409, 410, 422, 423):
        raise Refused(str(body.get("code", status)), str(body.get("detail", "")))
    if 400 <= status < 500:
        raise Rejected(f"{what} answered HTTP {status}")
    raise PaymentsUnavailable(f"{what} answered HTTP {status}")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    """A JSON error answer (`{"code", "detail"}`), or {} when the answer is not one."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
