"""Request and response bodies for flags, contact checks, the audit trail and handoff cases."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from payments.api.schemas import Phone, iso_text
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import (
    ACTOR_PATTERN,
    ContactKind,
    ContactRule,
    Direction,
    HandoffReason,
    HandoffStatus,
    Medium,
)
from payments.domain.standing import MediumUse, PauseReason, ReportKind, Standing
from payments.domain.verification import Channel
from payments.services.compliance import AuditEntry, ContactCheck, FlagState
from payments.services.handoffs import MAX_CONTEXT_BYTES, Case, context_size

Actor = Annotated[str, StringConstraints(pattern=ACTOR_PATTERN)]
AgentName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{1,58}$")]
ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
# Where an action came from: a conversation channel, the agent console, or a background job.
AuditChannel = Literal["web", "sms", "voice", "rest", "email", "console", "system"]

CONTACT_TIMES = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


def _plausible_contact_time(value: datetime) -> datetime:
    # Near the ends of Python's datetime range the Reg F window and the time-zone arithmetic
    # overflow (year 9999 at -12:00 was a 500); no dialer means a time outside this century.
    if not CONTACT_TIMES[0] <= value < CONTACT_TIMES[1]:
        raise ValueError("`at` must be in the years 2000 to 2099")
    return value


ContactTime = Annotated[AwareDatetime, iso_text(r"\d{4}-\d{2}-\d{2}[Tt ]"), AfterValidator(_plausible_contact_time)]


# --- flags -------------------------------------------------------------------------------


class FlagRequest(BaseModel):
    flag: AccountFlag
    channel: AuditChannel
    actor: Actor
    conversation_id: ConversationId | None = None
    note: str | None = Field(default=None, max_length=500)


class FlagsOut(BaseModel):
    account_id: str
    flags: list[AccountFlag]
    collection_allowed: bool
    changed: bool

    @classmethod
    def of(cls, state: FlagState) -> FlagsOut:
        return cls(
            account_id=state.account_id,
            flags=sorted(state.flags),
            collection_allowed=state.collection_allowed,
            changed=state.changed,
        )


class AuditEventOut(BaseModel):
    at: datetime
    kind: str
    actor: str
    channel: str | None
    conversation_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEventOut:
        return cls(**entry.__dict__)


class AuditTrailOut(BaseModel):
    account_id: str
    events: list[AuditEventOut]


# --- contact -----------------------------------------------------------------------------


class ContactCheckRequest(BaseModel):
    account_id: str = Field(min_length=1, max_length=16)
    medium: Medium
    at: ContactTime | None = None  # default: now
    # Record the outbound attempt in the same transaction when allowed (dialers: check and count at once).
    record_attempt: bool = False
    actor: Actor = "system"
    conversation_id: ConversationId | None = None


class ContactCheckOut(BaseModel):
    account_id: str
    medium: Medium
    at: datetime
    allowed: bool
    rule: ContactRule | None
    detail: str
    next_allowed_at: datetime | None
    recorded_event_id: int | None

    @classmethod
    def of(cls, check: ContactCheck) -> ContactCheckOut:
        d = check.decision
        return cls(
            account_id=check.account_id,
            medium=check.medium,
            at=check.at,
            allowed=d.allowed,
            rule=d.rule,
            detail=d.detail,
            next_allowed_at=d.next_allowed_at,
            recorded_event_id=check.recorded_event_id,
        )


class ContactEventRequest(BaseModel):
    account_id: str = Field(min_length=1, max_length=16)
    medium: Medium
    kind: ContactKind
    direction: Direction
    actor: Actor | None = None  # default: customer for inbound, system for outbound
    conversation_id: ConversationId | None = None


class ContactEventOut(BaseModel):
    id: int
    account_id: str
    medium: Medium
    kind: ContactKind
    direction: Direction


class PhoneConsentRequest(BaseModel):
    phone: Phone
    medium: Medium = Medium.SMS
    channel: AuditChannel = "sms"
    conversation_id: ConversationId | None = None


class WrongNumberRequest(BaseModel):
    phone: Phone
    channel: AuditChannel = "sms"
    conversation_id: ConversationId | None = None


class PhoneConsentOut(BaseModel):
    account_ids: list[str]
    changed_account_ids: list[str]


# --- handoffs ----------------------------------------------------------------------------


class HandoffRequest(BaseModel):
    conversation_id: ConversationId
    channel: Channel
    reason: HandoffReason
    account_id: str | None = Field(default=None, min_length=1, max_length=16)
    verified: bool
    summary: str = Field(min_length=1, max_length=1000)
    # asked_for, offers_made, plan_booked, promise, balance facts...: shown to the agent as given.
    context: dict[str, Any] = Field(default_factory=dict)

    @field_validator("context")
    @classmethod
    def _context_fits(cls, value: dict[str, Any]) -> dict[str, Any]:
        if context_size(value) > MAX_CONTEXT_BYTES:
            raise ValueError(f"context is larger than {MAX_CONTEXT_BYTES} bytes")
        # Python's JSON parser lets NaN and Infinity in; PostgreSQL's json refuses them (a 500).
        json.dumps(value, allow_nan=False, default=str)  # ValueError: a 422 naming `context`
        return value


class ClaimRequest(BaseModel):
    agent: AgentName


class ReleaseRequest(BaseModel):
    agent: AgentName


class ResolveRequest(BaseModel):
    agent: AgentName
    outcome: str = Field(min_length=1, max_length=500)
    resume_assistant: bool


class NoteRequest(BaseModel):
    author: AgentName
    text: str = Field(min_length=1, max_length=4000)


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: datetime


class CaseSummaryOut(BaseModel):
    id: str
    conversation_id: str
    channel: str
    reason: HandoffReason
    priority: int
    status: HandoffStatus
    verified: bool
    account_id: str | None
    summary: str
    context: dict[str, Any]
    waiting_since: datetime
    created_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None
    queue_position: int | None

    @classmethod
    def of(cls, case: Case) -> Self:
        """The case's fields read by name (its notes too, where the model has them)."""
        return cls.model_validate(case, from_attributes=True)


class CaseOut(CaseSummaryOut):
    notes: list[NoteOut]
    # Only in the answer to a resolve: whether the agent handed the conversation back to the assistant.
    resume_assistant: bool | None = None

    @classmethod
    def of(cls, case: Case, *, resume_assistant: bool | None = None) -> Self:
        out = super().of(case)
        if resume_assistant is not None:
            out.resume_assistant = resume_assistant
        return out


class CaseListOut(BaseModel):
    status: HandoffStatus
    cases: list[CaseSummaryOut]

    @classmethod
    def of(cls, status: HandoffStatus, cases: list[Case]) -> CaseListOut:
        return cls(status=status, cases=[CaseSummaryOut.of(c) for c in cases])


# --- standing (contract C4) --------------------------------------------------------------


class MoneyDueOut(BaseModel):
    amount_cents: int
    currency: str
    due_date: date


class ActivePlanOut(BaseModel):
    plan_id: str
    kind: Literal["installments", "settlement", "hardship"]
    status: Literal["active", "suspended"]
    next_installment: MoneyDueOut | None


class PendingPromiseOut(BaseModel):
    promise_id: str
    amount_cents: int
    currency: str
    due_date: date


class StandingOut(BaseModel):
    account_id: str
    status: Literal["open", "settled", "closed"]
    collection: Literal["allowed", "paused"]
    pause_reasons: list[PauseReason]
    active_plan: ActivePlanOut | None
    pending_promise: PendingPromiseOut | None
    media: dict[Medium, MediumUse]

    @classmethod
    def of(cls, standing: Standing) -> StandingOut:
        plan, promise = standing.active_plan, standing.pending_promise
        nxt = plan.next_installment if plan else None
        return cls(
            account_id=standing.account_id,
            status=standing.status,
            collection="allowed" if standing.collection_allowed else "paused",
            pause_reasons=list(standing.pause_reasons),
            active_plan=ActivePlanOut(
                plan_id=plan.plan_id,
                kind=plan.kind,
                status=plan.status,
                next_installment=MoneyDueOut(
                    amount_cents=nxt.amount.amount_cents, currency=nxt.amount.currency, due_date=nxt.due_date
                )
                if nxt
                else None,
            )
            if plan
            else None,
            pending_promise=PendingPromiseOut(
                promise_id=promise.promise_id,
                amount_cents=promise.amount.amount_cents,
                currency=promise.amount.currency,
                due_date=promise.due_date,
            )
            if promise
            else None,
            media=dict(standing.media),
        )


# --- reports from anyone and revocations (contract C4) -----------------------------------

AccountId = Annotated[str, StringConstraints(min_length=1, max_length=16)]
MaskedText = Annotated[str, StringConstraints(max_length=500)]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class ReportRequest(BaseModel):
    kind: ReportKind
    account_id: AccountId | None = None
    phone: Phone | None = None
    conversation_id: ConversationId
    channel: Channel
    reported_by: Literal["cardholder", "third_party", "unknown"]
    summary: MaskedText = ""


class ReportOut(BaseModel):
    report_id: str
    account_ids: list[str]
    status: Literal["pending_review"]


class InconvenientIn(BaseModel):
    not_before: ClockTime | None = None
    not_after: ClockTime | None = None
    places: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=10
    )
    text: MaskedText | None = None

    @model_validator(mode="after")
    def _a_window(self) -> Self:
        if self.not_before and self.not_after and self.not_before >= self.not_after:
            raise ValueError("not_before must be earlier than not_after")
        if not (self.not_before or self.not_after or self.places or self.text):
            raise ValueError("name a time, a place or the consumer's words")
        return self


class RevocationRequest(BaseModel):
    phone: Phone | None = None
    account_id: AccountId | None = None
    conversation_id: ConversationId
    channel: Channel
    media: list[Literal["sms", "voice", "email", "all"]] = Field(default_factory=list, max_length=4)
    cease: bool = False
    inconvenient: InconvenientIn | None = None
    summary: MaskedText | None = None

    @model_validator(mode="after")
    def _something_to_record(self) -> Self:
        if not (self.phone or self.account_id):
            raise ValueError("a revocation needs the phone number or the account id")
        if not (self.media or self.cease or self.inconvenient):
            raise ValueError("a revocation names media, cease or inconvenient times")
        return self


class RevocationOut(BaseModel):
    recorded: bool
    media: list[Medium]
    cease: bool
    account_ids: list[str]
