"""Simulated phone calls: signed Twilio Voice webhooks to our voice connector
(`POST /webhooks/twilio_voice/webhook`, channels/voice.py), timed until the TwiML answer arrives.

A call answers, then keys in the card's last 4, the date of birth (MMDDYYYY) and 2 for a payment
plan, each posted to the `<Gather action>` URL of the previous answer, as Twilio would. Signatures
are computed like testkit/twilio.py does, with TWILIO_AUTH_TOKEN or the local default."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from bench.accounts import Customer
from bench.conversation import TURN_TIMEOUT_SECONDS, TurnResult
from contracts.twilio import SIGNATURE_HEADER
from testkit.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_OUR_NUMBER, VOICE_PATH, sign


@dataclass(frozen=True)
class Press:
    name: str
    form: dict[str, str]
    expect: str  # lower-case words the spoken answer must hold


def call_script(c: Customer) -> list[Press]:
    return [
        Press("answer", {"CallStatus": "ringing"}, "last 4 digits"),
        Press("card_last4", {"Digits": c.last4}, "date of birth"),
        Press("dob", {"Digits": c.dob.strftime("%m%d%Y")}, "your balance is"),
        Press("plan_offers", {"Digits": "2"}, "monthly payments"),
    ]


async def call(http: httpx.AsyncClient, rasa_url: str, customer: Customer, results: list[TurnResult]) -> None:
    """One call; stops at the first webhook that fails or does not answer as expected."""
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN") or DEFAULT_AUTH_TOKEN
    call_sid = "CA" + secrets.token_hex(16)
    url = rasa_url + VOICE_PATH
    for press in call_script(customer):
        form = {
            "CallSid": call_sid,
            "AccountSid": DEFAULT_ACCOUNT_SID,
            "From": customer.phone,
            "To": DEFAULT_OUR_NUMBER,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            "CallStatus": "in-progress",
            **press.form,
        }
        wall, started = time.time(), time.perf_counter()
        error, next_url = "", ""
        try:
            response = await http.post(url, data=form, headers={SIGNATURE_HEADER: sign(url, form, auth_token)})
            response.raise_for_status()
            document = ET.fromstring(response.text)
            gather = document.find("Gather")
            spoken = " ".join(s.text or "" for s in document.iter("Say")).lower()
            if press.expect not in spoken:
                error = f"unexpected answer: {spoken[:160]}"
            elif gather is None:
                error = "no <Gather> to answer"
            else:
                next_url = urljoin(url, gather.get("action") or url)
        except httpx.TimeoutException:
            error = "timeout"
        except (httpx.HTTPError, ET.ParseError) as exc:
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        results.append(TurnResult(press.name, customer.phone, wall, time.perf_counter() - started, error))
        if error:
            return
        url = next_url


async def run_voice_step(
    rasa_url: str, callers: int, seconds: float, next_customer: Callable[[], Customer]
) -> tuple[list[TurnResult], float]:
    """`callers` concurrent callers placing calls back to back for `seconds`."""
    results: list[TurnResult] = []
    stop_at = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < stop_at:
            await call(http, rasa_url, next_customer(), results)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=TURN_TIMEOUT_SECONDS) as http:
        await asyncio.gather(*(caller() for _ in range(callers)))
    return results, time.perf_counter() - started
