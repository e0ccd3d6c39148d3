from __future__ import annotations

from fastapi import APIRouter, Depends

from payments.api.deps import get_verification_service, require_service_token
from payments.api.schemas import EndSessionsRequest, EndSessionsResponse, VerifyRequest, VerifyResponse
from payments.domain.verification import Factors
from payments.services.verification import VerificationService

router = APIRouter(prefix="/api", tags=["identity"], dependencies=[Depends(require_service_token)])


@router.post(
    "/verify",
    response_model=VerifyResponse,
    responses={
        422: {"description": "the channel's required factors are missing or malformed"},
        423: {"description": "locked after repeated failures (`retry_after_seconds`)"},
    },
)
def verify(body: VerifyRequest, service: VerificationService = Depends(get_verification_service)) -> VerifyResponse:
    """Check identity factors. A failure gives `attempts_left`, never which factor was wrong. A
    success opens a verification session for this channel, conversation and account."""
    result = service.verify(
        body.channel,
        body.conversation_id,
        Factors(card_last4=body.card_last4, date_of_birth=body.dob, zip_code=body.zip),
        phone=body.phone,
        disclosure=body.disclosure,
    )
    return VerifyResponse(
        verified=result.verified,
        account_id=result.account_id,
        attempts_left=result.attempts_left,
        locked_until=result.locked_until,
        verification_session=result.session_id,
        session_expires_at=result.session_expires_at,
    )


@router.post("/verification-sessions/end", response_model=EndSessionsResponse)
def end_sessions(
    body: EndSessionsRequest, service: VerificationService = Depends(get_verification_service)
) -> EndSessionsResponse:
    """End every open verification session of the conversation (sign-off, hand-back, end of a
    call, lock-out). Ending none is not an error."""
    return EndSessionsResponse(ended=service.end_sessions(body.conversation_id, body.reason))
