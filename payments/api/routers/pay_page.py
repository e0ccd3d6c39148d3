"""The customer's payment page, `/pay/{token}`: HTML for phones and desktops, no login.

The card goes from the browser to Stripe only (Stripe.js `confirmCardPayment` with the
PaymentIntent's client secret); this server never receives card fields. After Stripe.js confirms,
the page polls `/pay/{token}/status`, which reports what the Stripe webhook decided.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from payments.api.deps import get_pay_page, get_settings_dep
from payments.api.payment_schemas import LinkStatusOut
from payments.config import Settings
from payments.domain.errors import Gone, NotFound, UpstreamUnavailable
from payments.services.pay_page import PayPage

PACKAGE = Path(__file__).resolve().parents[2]
STATIC_FILES = {"pay.css": "text/css", "pay.js": "text/javascript"}

router = APIRouter(tags=["payment page"], include_in_schema=False)


@cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(PACKAGE / "templates"))


def _security_headers(settings: Settings) -> dict[str, str]:
    """The page holds a bearer link in its URL: never send it on as a Referer, never cache it,
    never frame it; scripts only from us and Stripe."""
    parts = urlsplit(settings.stripe_js_url)
    stripe_js = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "https://js.stripe.com"
    logo = urlsplit(settings.bank_logo_url)
    logo_origin = f" {logo.scheme}://{logo.netloc}" if logo.scheme in ("http", "https") and logo.netloc else ""
    csp = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {stripe_js}",
            f"connect-src 'self' {stripe_js} https://api.stripe.com",
            f"frame-src {stripe_js} https://js.stripe.com https://hooks.stripe.com",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: https://*.stripe.com{logo_origin}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
    }


MESSAGES = {
    "not_found": (
        404,
        "This payment link is not valid",
        "Check that you opened the whole link, or ask us for a new one in your conversation with us.",
    ),
    "link_expired": (
        410,
        "This payment link has expired",
        "For your security, payment links work for a short time only. "
        "Go back to your conversation with us to get a new link.",
    ),
    "link_used": (
        410,
        "This payment link was already used",
        "Each link works for one payment. If you want to make another payment, "
        "ask us for a new link in your conversation with us.",
    ),
    "unavailable": (
        503,
        "We can't take payments right now",
        "Our payment processor is not answering. Nothing was charged. Please try again in a minute.",
    ),
}


def _bank(settings: Settings) -> dict[str, str]:
    """Who the customer is paying, for every page's header and title (BANK_NAME, BANK_LOGO_URL)."""
    return {"bank_name": settings.bank_name, "bank_logo_url": settings.bank_logo_url}


def _message(request: Request, settings: Settings, kind: str) -> HTMLResponse:
    status, title, text = MESSAGES[kind]
    headers = _security_headers(settings)
    if kind == "unavailable":
        headers["Retry-After"] = "60"
    return _templates().TemplateResponse(
        request,
        "pay_message.html",
        {"kind": kind, "title": title, "text": text, "retry": kind == "unavailable", **_bank(settings)},
        status_code=status,
        headers=headers,
    )


@router.get("/pay/{token}", response_class=HTMLResponse)
async def pay_page(
    request: Request,
    token: str,
    service: PayPage = Depends(get_pay_page),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """Who is paying (first name, card's last 4), how much, and the card form; or why not (404,
    410 expired/used, 503 when Stripe is unreachable: the payment stays pending)."""
    if len(token) > 100:
        return _message(request, settings, "not_found")
    try:
        view = await service.page(token)
    except NotFound:
        return _message(request, settings, "not_found")
    except Gone as exc:
        return _message(request, settings, "link_expired" if exc.code == "link_expired" else "link_used")
    except UpstreamUnavailable:
        return _message(request, settings, "unavailable")
    return _templates().TemplateResponse(
        request,
        "pay.html",
        {
            "view": view,
            "amount": view.amount.display(),
            "stripe_js_url": settings.stripe_js_url,
            "publishable_key": settings.stripe_publishable_key,
            "status_url": f"/pay/{token}/status",
            "card_choice_url": f"/pay/{token}/card-choice",
            **_bank(settings),
        },
        headers=_security_headers(settings),
    )


@router.post("/pay/{token}/card-choice")
async def card_choice(
    request: Request,
    token: str,
    save: str = Form(pattern="^(yes|no)$"),
    service: PayPage = Depends(get_pay_page),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """The customer's answer to "save this card for your plan?", then back to the page (303)."""
    if len(token) > 100:
        return _message(request, settings, "not_found")
    try:
        await run_in_threadpool(service.answer_card_saving, token, save == "yes")
    except NotFound:
        return _message(request, settings, "not_found")
    return RedirectResponse(f"/pay/{token}", status_code=303, headers=_security_headers(settings))


@router.get("/pay/{token}/status", response_model=LinkStatusOut)
async def pay_status(token: str, service: PayPage = Depends(get_pay_page)) -> JSONResponse:
    """`pending` | `processing` | `succeeded` | `failed` | `expired` | `canceled` (404 unknown link)."""
    body = LinkStatusOut.of(await run_in_threadpool(service.link_status, token))
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.get("/static/pay/{name}")
def pay_static(name: str) -> Response:
    if name not in STATIC_FILES:
        return JSONResponse({"code": "not_found", "detail": "no such file"}, status_code=404)
    return FileResponse(
        PACKAGE / "static" / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=300"}
    )
