"""Handoff cases for the agent console: create (the assistant), queue, claim, note, release, resolve."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from payments.api.compliance_schemas import (
    CaseListOut,
    CaseOut,
    ClaimRequest,
    HandoffRequest,
    NoteRequest,
    ReleaseRequest,
    ResolveRequest,
)
from payments.api.deps import Responses, get_console_service, get_handoff_service, require_service_token
from payments.domain.compliance import HandoffStatus
from payments.services.agents import Agent
from payments.services.console import ConsoleService
from payments.services.handoffs import HandoffService

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"], dependencies=[Depends(require_service_token)])

NOT_FOUND: Responses = {404: {"description": "no such case"}}
CONFLICTS: Responses = {
    409: {"description": "`already_claimed`, `claimed_by_other`, `not_claimed` or `already_resolved`"},
}


@router.post(
    "",
    response_model=CaseOut,
    status_code=201,
    responses={
        200: {"description": "the conversation's open or claimed case, returned again"},
        404: {"description": "no such account"},
    },
)
def create_case(
    body: HandoffRequest, response: Response, service: HandoffService = Depends(get_handoff_service)
) -> CaseOut:
    """Open a case (201), or get back the conversation's open-or-claimed case (200), more urgent
    if this reason is. A dispute also flags the account disputed."""
    case, created = service.create(
        conversation_id=body.conversation_id,
        channel=body.channel.value,
        reason=body.reason,
        verified=body.verified,
        summary=body.summary,
        context=body.context,
        account_id=body.account_id,
    )
    if not created:
        response.status_code = 200
    return CaseOut.of(case)


@router.get("", response_model=CaseListOut)
def list_cases(
    status: HandoffStatus = Query(default=HandoffStatus.OPEN),
    limit: int = Query(default=100, ge=1, le=500),
    service: HandoffService = Depends(get_handoff_service),
) -> CaseListOut:
    """Open and claimed cases: most urgent first, then longest waiting. Resolved: newest first."""
    return CaseListOut.of(status, service.list_cases(status, limit))


@router.get("/{case_id}", response_model=CaseOut, responses=NOT_FOUND)
def get_case(case_id: str, service: HandoffService = Depends(get_handoff_service)) -> CaseOut:
    return CaseOut.of(service.get(case_id))


@router.post("/{case_id}/claim", response_model=CaseOut, responses={**NOT_FOUND, **CONFLICTS})
def claim_case(case_id: str, body: ClaimRequest, service: HandoffService = Depends(get_handoff_service)) -> CaseOut:
    """Exactly one agent wins; the other gets 409 `already_claimed` naming who has it."""
    return CaseOut.of(service.claim(case_id, body.agent))


@router.post("/{case_id}/notes", response_model=CaseOut, status_code=201, responses=NOT_FOUND)
def add_note(case_id: str, body: NoteRequest, service: HandoffService = Depends(get_handoff_service)) -> CaseOut:
    return CaseOut.of(service.add_note(case_id, body.author, body.text))


@router.post("/{case_id}/release", response_model=CaseOut, responses={**NOT_FOUND, **CONFLICTS})
def release_case(case_id: str, body: ReleaseRequest, service: HandoffService = Depends(get_handoff_service)) -> CaseOut:
    """Back to the queue, at the place its waiting time gives it. Only the claiming agent."""
    return CaseOut.of(service.release(case_id, body.agent))


@router.post(
    "/{case_id}/resolve",
    response_model=CaseOut,
    responses={**NOT_FOUND, **CONFLICTS, 503: {"description": "rasa unreachable; nothing changed"}},
)
async def resolve_case(
    case_id: str, body: ResolveRequest, console: ConsoleService = Depends(get_console_service)
) -> CaseOut:
    """Close the case (only the claiming agent) and resume the assistant in Rasa; with
    `resume_assistant` the assistant also greets the customer and carries on. For agent tools
    outside the console (the agent name is what the customer sees)."""
    agent = Agent(id=0, username=body.agent, display_name=body.agent)
    case = await console.resolve(case_id, agent, body.outcome, body.resume_assistant)
    return CaseOut.of(case, resume_assistant=body.resume_assistant)
