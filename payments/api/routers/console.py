"""The agent console: `/console` for people, `/console/api/...` for its page script.

Agents sign in with a username and password (argon2id hashes, AgentService); the session token
rides in an HttpOnly, SameSite=Strict cookie scoped to /console. Every state-changing call also
carries the session's CSRF token in `X-CSRF-Token`, which only the console page can read.
Signed-out API calls get 401 `signed_out`; the page then goes to the sign-in form.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from payments.api.compliance_schemas import CaseOut, CaseSummaryOut
from payments.api.deps import app_state, get_console_service, get_report_service
from payments.config import Settings
from payments.domain.compliance import HandoffStatus
from payments.services.agents import AgentService, ConsoleSession, SignInFailed
from payments.services.console import ConsoleService, Line
from payments.services.reports import PendingReport, ReportService

PACKAGE = Path(__file__).resolve().parents[2]
COOKIE = "evenkeel_console"
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

router = APIRouter(prefix="/console", tags=["agent console"], include_in_schema=False)


@cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(PACKAGE / "templates"))


def _agents(request: Request) -> AgentService:
    return app_state(request, "agent_service", AgentService)


async def _session(request: Request) -> ConsoleSession | None:
    return await run_in_threadpool(_agents(request).session_for, request.cookies.get(COOKIE))


async def signed_in(request: Request) -> ConsoleSession:
    """The caller's live session (401 `signed_out` without one); state changes need the CSRF token."""
    session = await _session(request)
    if session is None:
        raise HTTPException(401, detail={"code": "signed_out", "detail": "sign in to the console again"})
    if request.method not in ("GET", "HEAD") and not _same(request.headers.get("x-csrf-token"), session):
        raise HTTPException(403, detail={"code": "csrf", "detail": "reload the console and try again"})
    return session


def _same(csrf_token: str | None, session: ConsoleSession) -> bool:
    return hmac.compare_digest((csrf_token or "").encode(), session.csrf_token.encode())


# --- pages ---------------------------------------------------------------------------------------


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = _templates().TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("", response_class=HTMLResponse)
async def console_page(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    return _page(request, "console.html", agent=session.agent, csrf_token=session.csrf_token)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    return _page(request, "console_sign_in.html", message=None, username="")


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request, username: str = Form(max_length=200), password: str = Form(max_length=500)
) -> Response:
    # SameSite=Strict keeps the cookie off cross-site requests; a cross-site sign-in form is refused too.
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return _page(request, "console_sign_in.html", 403, message="Sign in from the console page.", username="")
    # The client address throttles sign-in. Behind a proxy, uvicorn takes it (and the scheme) from
    # X-Forwarded-For / X-Forwarded-Proto only when the proxy is trusted (FORWARDED_ALLOW_IPS).
    client = request.client.host if request.client else "unknown"
    try:
        token, _ = await run_in_threadpool(_agents(request).sign_in, username, password, client)
    except SignInFailed as exc:
        # One status and one page for every refusal: nothing tells a real username apart.
        return _page(request, "console_sign_in.html", 401, message=exc.detail, username=username[:64])
    response = RedirectResponse("/console", status_code=303)
    settings: Settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/console",
        secure=request.url.scheme == "https" or settings.payments_public_url.startswith("https://"),
        max_age=int(_agents(request).max_age.total_seconds()),  # the server ends it earlier when idle
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, csrf_token: str = Form(default="", max_length=200)) -> Response:
    """A plain form post from the page (its CSRF token in a hidden field)."""
    session = await _session(request)
    if session is not None and _same(csrf_token, session):
        await run_in_threadpool(_agents(request).sign_out, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(404, detail={"code": "not_found", "detail": "no such file"})
    return FileResponse(
        PACKAGE / "static" / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


# --- the page's API ------------------------------------------------------------------------------


class QueueOut(BaseModel):
    agent: str
    open: list[CaseSummaryOut]
    claimed: list[CaseSummaryOut]
    server_time: datetime


class HistoryOut(BaseModel):
    cases: list[CaseOut]


class LineOut(BaseModel):
    index: int
    speaker: str
    text: str
    at: datetime
    agent: str | None

    @classmethod
    def of(cls, line: Line) -> LineOut:
        return cls(**line.__dict__)


class TranscriptOut(BaseModel):
    case: CaseOut
    lines: list[LineOut]
    can_reply: bool
    why_not: str | None


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class ResolveIn(BaseModel):
    outcome: str = Field(min_length=1, max_length=500)
    hand_back: bool


class ReportsOut(BaseModel):
    """Reports from anyone, each pending on one account (or on none, when it pointed nowhere):
    the service's `PendingReport`, field for field."""

    reports: list[PendingReport]


SignedIn = Annotated[ConsoleSession, Depends(signed_in)]
Console = Annotated[ConsoleService, Depends(get_console_service)]
Reports = Annotated[ReportService, Depends(get_report_service)]


@router.get("/api/queue", response_model=QueueOut)
def queue(session: SignedIn, console: Console) -> QueueOut:
    """Open cases, most urgent then longest waiting first; and the cases agents are working."""
    return QueueOut(
        agent=session.agent.username,
        open=[CaseSummaryOut.of(c) for c in console.handoffs.list_cases(HandoffStatus.OPEN)],
        claimed=[CaseSummaryOut.of(c) for c in console.handoffs.list_cases(HandoffStatus.CLAIMED)],
        server_time=console.clock(),
    )


@router.get("/api/history", response_model=HistoryOut)
def history(session: SignedIn, console: Console, limit: int = Query(default=50, ge=1, le=200)) -> HistoryOut:
    """Closed cases, newest first, with their notes and outcome."""
    cases = console.handoffs.list_cases(HandoffStatus.RESOLVED, limit, with_notes=True)
    return HistoryOut(cases=[CaseOut.of(c) for c in cases])


@router.get("/api/cases/{case_id}", response_model=CaseOut)
def open_case(case_id: str, session: SignedIn, console: Console) -> CaseOut:
    """The case, recorded in the audit trail as opened by this agent."""
    return CaseOut.of(console.viewed(case_id, session.agent))


@router.get("/api/cases/{case_id}/transcript", response_model=TranscriptOut)
async def transcript(case_id: str, session: SignedIn, console: Console) -> TranscriptOut:
    """The conversation from Rasa, card numbers masked; polled by the page while the case is open."""
    found = await console.transcript(case_id, session.agent)
    return TranscriptOut(
        case=CaseOut.of(found.case),
        lines=[LineOut.of(line) for line in found.lines],
        can_reply=found.can_reply,
        why_not=found.why_not,
    )


@router.post("/api/cases/{case_id}/claim", response_model=CaseOut)
def claim(case_id: str, session: SignedIn, console: Console) -> CaseOut:
    return CaseOut.of(console.handoffs.claim(case_id, session.agent.username))


@router.post("/api/cases/{case_id}/release", response_model=CaseOut)
def release(case_id: str, session: SignedIn, console: Console) -> CaseOut:
    return CaseOut.of(console.handoffs.release(case_id, session.agent.username))


@router.post("/api/cases/{case_id}/notes", response_model=CaseOut, status_code=201)
def add_note(case_id: str, body: NoteIn, session: SignedIn, console: Console) -> CaseOut:
    return CaseOut.of(console.handoffs.add_note(case_id, session.agent.username, body.text))


@router.post("/api/cases/{case_id}/dispute", response_model=CaseOut)
def mark_dispute(case_id: str, session: SignedIn, console: Console) -> CaseOut:
    return CaseOut.of(console.handoffs.mark_dispute(case_id, session.agent.username))


@router.post("/api/cases/{case_id}/reply", status_code=204)
async def reply(case_id: str, body: ReplyIn, session: SignedIn, console: Console) -> Response:
    """Sent to the customer on their own channel, as this agent."""
    await console.reply(case_id, session.agent, body.text)
    return Response(status_code=204)


@router.post("/api/cases/{case_id}/resolve", response_model=CaseOut)
async def resolve(case_id: str, body: ResolveIn, session: SignedIn, console: Console) -> CaseOut:
    """Close the case; `hand_back` also has the assistant greet the customer and carry on."""
    case = await console.resolve(case_id, session.agent, body.outcome, body.hand_back)
    return CaseOut.of(case, resume_assistant=body.hand_back)


@router.get("/api/cases/{case_id}/reports", response_model=ReportsOut)
def case_reports(case_id: str, session: SignedIn, console: Console, reports: Reports) -> ReportsOut:
    """Reports waiting for review on the case's account or from its conversation."""
    case = console.handoffs.get(case_id)
    found = reports.pending(account_id=case.account_id, conversation_id=case.conversation_id)
    return ReportsOut(reports=found)


@router.get("/api/reports", response_model=ReportsOut)
def pending_reports(session: SignedIn, reports: Reports, limit: int = Query(default=100, ge=1, le=500)) -> ReportsOut:
    """Every report waiting for review, oldest first, with or without a case."""
    return ReportsOut(reports=reports.all_pending(limit))


@router.post("/api/reports/{report_row}/confirm", response_model=PendingReport)
def confirm_report(report_row: int, session: SignedIn, reports: Reports) -> PendingReport:
    """The report is right: its flag is set on the account, as this agent. Audited."""
    return reports.confirm(report_row, session.agent.username)


@router.post("/api/reports/{report_row}/dismiss", response_model=PendingReport)
def dismiss_report(report_row: int, session: SignedIn, reports: Reports) -> PendingReport:
    """The report is wrong (or about someone else): collection may go on. Audited."""
    return reports.dismiss(report_row, session.agent.username)
