"""Consent and restriction flags, the audit trail, and the contact check for anything we start."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from payments.api.compliance_schemas import (
    Actor,
    AuditChannel,
    AuditEventOut,
    AuditTrailOut,
    ContactCheckOut,
    ContactCheckRequest,
    ContactEventOut,
    ContactEventRequest,
    ConversationId,
    FlagRequest,
    FlagsOut,
    PhoneConsentOut,
    PhoneConsentRequest,
    ReportOut,
    ReportRequest,
    RevocationOut,
    RevocationRequest,
    StandingOut,
    WrongNumberRequest,
)
from payments.api.deps import (
    Responses,
    get_compliance_service,
    get_report_service,
    get_standing_service,
    require_service_token,
    require_verification_session,
)
from payments.domain.accounts import AccountFlag
from payments.services.compliance import ComplianceService, Inconvenient
from payments.services.reports import ReportService
from payments.services.standing import StandingService

router = APIRouter(prefix="/api", tags=["compliance"], dependencies=[Depends(require_service_token)])

NOT_FOUND: Responses = {404: {"description": "no such account"}}


@router.post("/accounts/{account_id}/flags", response_model=FlagsOut, responses=NOT_FOUND)
def set_flag(
    account_id: str, body: FlagRequest, service: ComplianceService = Depends(get_compliance_service)
) -> FlagsOut:
    """Set a flag (dispute, stop_sms, wrong_number, ...) and return the account's flags.

    Idempotent: a flag already set changes nothing (`changed: false`) and is audited only once.
    `wrong_number` stops SMS and voice to the number on file; a flag in the no-collection set
    (dispute, bankruptcy, attorney, deceased, cease_communication) pauses collection.
    """
    state = service.set_flag(
        account_id,
        body.flag,
        actor=body.actor,
        channel=body.channel,
        conversation_id=body.conversation_id,
        note=body.note,
    )
    return FlagsOut.of(state)


@router.delete(
    "/accounts/{account_id}/flags/{flag}",
    response_model=FlagsOut,
    responses={**NOT_FOUND, 422: {"description": "`flag_requires_agent`: a customer may only clear stop_* flags"}},
)
def clear_flag(
    account_id: str,
    flag: AccountFlag,
    actor: Actor = Query(),
    channel: AuditChannel = Query(),
    conversation_id: ConversationId | None = Query(default=None),
    service: ComplianceService = Depends(get_compliance_service),
) -> FlagsOut:
    """Clear a flag: consent given back (START), a dispute validated, a number corrected. Audited."""
    state = service.clear_flag(account_id, flag, actor=actor, channel=channel, conversation_id=conversation_id)
    return FlagsOut.of(state)


@router.get("/accounts/{account_id}/events", response_model=AuditTrailOut, responses=NOT_FOUND)
def account_events(
    account_id: str,
    limit: int = Query(default=50, ge=1, le=500),
    service: ComplianceService = Depends(get_compliance_service),
) -> AuditTrailOut:
    """The account's audit trail, newest first."""
    entries = service.events(account_id, limit=limit)
    return AuditTrailOut(account_id=account_id, events=[AuditEventOut.of(e) for e in entries])


@router.post("/contact/check", response_model=ContactCheckOut, responses=NOT_FOUND)
def check_contact(
    body: ContactCheckRequest, service: ComplianceService = Depends(get_compliance_service)
) -> ContactCheckOut:
    """May we start a contact on this medium now? `rule` names the first rule that refuses
    (stable codes: cease_communication, collection_paused, wrong_number, opted_out,
    call_frequency, recent_conversation, outside_hours); `next_allowed_at` says when it would be
    allowed, when only time stands in the way."""
    check = service.check_contact(
        body.account_id,
        body.medium,
        body.at,
        record_attempt=body.record_attempt,
        actor=body.actor,
        conversation_id=body.conversation_id,
    )
    return ContactCheckOut.of(check)


@router.post("/contact/events", response_model=ContactEventOut, status_code=201, responses=NOT_FOUND)
def record_contact(
    body: ContactEventRequest, service: ComplianceService = Depends(get_compliance_service)
) -> ContactEventOut:
    """Record a contact: an `attempt` before every outbound call, a `conversation` once a person
    was reached (inbound or outbound). Counted for Reg F; audited."""
    event_id = service.record_contact(
        body.account_id,
        body.medium,
        body.kind,
        body.direction,
        actor=body.actor,
        conversation_id=body.conversation_id,
    )
    return ContactEventOut(
        id=event_id, account_id=body.account_id, medium=body.medium, kind=body.kind, direction=body.direction
    )


@router.post("/contact/opt-out", response_model=PhoneConsentOut)
def opt_out(body: PhoneConsentRequest, service: ComplianceService = Depends(get_compliance_service)) -> PhoneConsentOut:
    """STOP when only the phone is known: stop `medium` on every account with that number."""
    change = service.opt_out_phone(body.phone, body.medium, channel=body.channel, conversation_id=body.conversation_id)
    return PhoneConsentOut(account_ids=list(change.account_ids), changed_account_ids=list(change.changed_account_ids))


@router.post("/contact/opt-in", response_model=PhoneConsentOut)
def opt_in(body: PhoneConsentRequest, service: ComplianceService = Depends(get_compliance_service)) -> PhoneConsentOut:
    """START: give `medium` back on every account with that number."""
    change = service.opt_in_phone(body.phone, body.medium, channel=body.channel, conversation_id=body.conversation_id)
    return PhoneConsentOut(account_ids=list(change.account_ids), changed_account_ids=list(change.changed_account_ids))


@router.post("/contact/wrong-number", response_model=PhoneConsentOut)
def wrong_number(
    body: WrongNumberRequest, service: ComplianceService = Depends(get_compliance_service)
) -> PhoneConsentOut:
    """ "Wrong number": flag every account with that phone `wrong_number`, which stops SMS and
    calls to it (email and inbound contact still work)."""
    change = service.mark_wrong_number_phone(body.phone, channel=body.channel, conversation_id=body.conversation_id)
    return PhoneConsentOut(account_ids=list(change.account_ids), changed_account_ids=list(change.changed_account_ids))


# It tells what the account owes and why it is paused: only to a verified conversation (C2).
@router.get(
    "/accounts/{account_id}/standing",
    response_model=StandingOut,
    dependencies=[Depends(require_verification_session)],
    responses={**NOT_FOUND, 403: {"description": "`verification_required`"}},
)
def standing(account_id: str, service: StandingService = Depends(get_standing_service)) -> StandingOut:
    """Contract C4: whether collection is allowed or paused and why, the plan in force with its
    next installment, a pending promise, and what each medium may carry now (`collection`,
    `notice_only`, `none`). Read before anything is disclosed, offered, charged or sent."""
    return StandingOut.of(service.standing(account_id))


@router.post("/reports", response_model=ReportOut, status_code=201)
def report(body: ReportRequest, service: ReportService = Depends(get_report_service)) -> ReportOut:
    """A report from anyone, cardholder or not: a pending flag on each account the account id or
    the phone points to (`account_ids`, possibly none); collection on them is held until an agent
    reviews it in the console. Audited."""
    receipt = service.record(
        body.kind,
        account_id=body.account_id,
        phone=body.phone,
        conversation_id=body.conversation_id,
        channel=body.channel,
        reported_by=body.reported_by,
        summary=body.summary,
    )
    return ReportOut(report_id=receipt.report_id, account_ids=list(receipt.account_ids), status="pending_review")


@router.post("/contact/revocations", response_model=RevocationOut, status_code=201)
def revoke(body: RevocationRequest, service: ComplianceService = Depends(get_compliance_service)) -> RevocationOut:
    """The customer's own words, in any state: stop these media (`all`: every one) on every account
    with this number and the account given; `cease` sets the cease flag there, which stops every
    medium; inconvenient times are kept by the contact check from now on. Committed before the
    201, so the connector confirms only what is recorded."""
    window = body.inconvenient
    revocation = service.revoke(
        phone=body.phone,
        account_id=body.account_id,
        media=body.media,
        cease=body.cease,
        channel=body.channel,
        conversation_id=body.conversation_id,
        summary=body.summary,
        inconvenient=Inconvenient(window.not_before, window.not_after, tuple(window.places), window.text)
        if window
        else None,
    )
    return RevocationOut(
        recorded=True, media=list(revocation.media), cease=revocation.cease, account_ids=list(revocation.account_ids)
    )
