"""The recurring-charge authorization, `/receipts/{token}`: the customer's copy of what they agreed
to when they booked a plan (Reg E 12 CFR 1005.10(b)), which they can open again. No login: the
token is the key (only its hash is stored), as with payment links."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from payments.api.deps import get_plan_service, get_settings_dep
from payments.api.routers.pay_page import _security_headers, _templates
from payments.config import Settings
from payments.domain.errors import NotFound
from payments.domain.offers import format_date
from payments.services.plans import PlanService

router = APIRouter(tags=["receipts"], include_in_schema=False)

CHANNEL_NAMES = {"sms": "text message", "voice": "phone", "web": "web chat", "rest": "chat"}


@router.get("/receipts/{token}", response_class=HTMLResponse)
async def receipt_page(
    request: Request,
    token: str,
    service: PlanService = Depends(get_plan_service),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """The plan, its amounts and dates, the consent text as shown, and how to cancel (404 unknown)."""
    headers = _security_headers(settings)
    try:
        if len(token) > 100:
            raise NotFound("unknown receipt")
        receipt = await run_in_threadpool(service.receipt, token)
    except NotFound:
        return _templates().TemplateResponse(
            request,
            "pay_message.html",
            {
                "kind": "not_found",
                "title": "This link is not valid",
                "text": "Check that you opened the whole link, or ask us for your plan details in your conversation "
                "with us.",
                "retry": False,
            },
            status_code=404,
            headers=headers,
        )
    return _templates().TemplateResponse(
        request,
        "receipt.html",
        {
            "receipt": receipt,
            "dates": [format_date(line.due_date) for line in receipt.schedule],
            "channel": CHANNEL_NAMES.get(receipt.consent_channel, receipt.consent_channel),
        },
        headers=headers,
    )
