"""Every way in, as a customer or an attacker uses it against the running stack: signed Twilio
SMS and voice webhooks (what `scripts/phone.py` sends), our token REST connector (and the same
URL without the token), and the web chat's socket.io (through `webchat_client.py` in the rasa
environment). Nothing here is the product's own code path: these are the requests from outside."""

from __future__ import annotations

import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx

from testkit.stack import RASA_BIN, RASA_TOKEN, ROOT, Stack
from testkit.twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_OUR_NUMBER,
    SMS_PATH,
    VOICE_PATH,
    TwilioApiStandIn,
    new_sid,
    sign,
    sms_form,
)

REST_PATH = "/webhooks/rest/webhook"
AMOUNT = re.compile(r"\$\s?\d")
URL = re.compile(r"https?://[^\s<>\"')]+")

# Seeded demo accounts (README "Demo accounts"): phone, last 4, date of birth, ZIP.
MARIA = ("+15125550101", "4821", "03/14/1985", "78701")  # A1001, $2,450.00
JAMES = ("+12125550102", "1190", "11/02/1972", "10027")  # A1002, $640.50
AISHA = ("+14155550103", "7734", "07/21/1990", "94110")  # A1003, $5,980.25
DANA = ("+14045550105", "9902", "09/09/1995", "30309")  # A1005, $1,150.75


def unique(prefix: str) -> str:
    return f"{prefix}-{new_sid('')[:12]}"


# --- REST --------------------------------------------------------------------------------------


@dataclass
class Rest:
    """`POST /webhooks/rest/webhook`. Our connector wants REST_CHANNEL_TOKEN (sent here both as a
    bearer header and as `?token=`, so either reading of the contract is met) and files the
    message under `rest-<sender>` (contract C1)."""

    stack: Stack
    token: str

    @property
    def url(self) -> str:
        return f"{self.stack.rasa_url}{REST_PATH}"

    def post(self, body: object = None, *, token: str | None = "default", raw: bytes | None = None) -> httpx.Response:
        """`body` as JSON, or `raw` bytes as they are; with our token unless `token` says otherwise."""
        token = self.token if token == "default" else token
        headers: dict[str, str] = {"Content-Type": "application/json"}
        params = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
            params["token"] = token
        content = raw if raw is not None else json.dumps(body).encode()
        return httpx.post(self.url, content=content, headers=headers, params=params, timeout=90)

    def say(self, sender: str, text: str, metadata: dict[str, object] | None = None, **extra: object) -> list[str]:
        """One message with the token; the reply texts (asserts the connector took it)."""
        body: dict[str, object] = {"sender": sender, "message": text, **extra}
        if metadata is not None:
            body["metadata"] = metadata
        response = self.post(body)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        return texts_of(response)


def texts_of(response: httpx.Response) -> list[str]:
    try:
        answer = response.json()
    except ValueError:
        return []
    return [m.get("text") or "" for m in answer if isinstance(m, dict)] if isinstance(answer, list) else []


def rest_conversation(sender: str) -> str:
    return f"rest-{sender}"


# --- SMS ---------------------------------------------------------------------------------------


@dataclass
class Sms:
    """Signed Twilio SMS webhooks; the replies arrive at the Twilio REST stand-in."""

    stack: Stack
    twilio: TwilioApiStandIn
    auth_token: str = DEFAULT_AUTH_TOKEN

    def send(self, phone: str, body: str) -> None:
        url = f"{self.stack.rasa_url}{SMS_PATH}"
        form = sms_form(body, phone, DEFAULT_OUR_NUMBER)
        response = httpx.post(
            url, data=form, headers={"X-Twilio-Signature": sign(url, form, self.auth_token)}, timeout=30
        )
        assert response.status_code == 200, (response.status_code, response.text[:300])

    def say(self, phone: str, body: str, timeout: float = 60, quiet: float = 2.5) -> list[str]:
        """Text the assistant; the texts that came back (up to `timeout` for the first, then
        until `quiet` seconds pass without another)."""
        before = len(self.twilio.to(phone))
        self.send(phone, body)
        deadline, last_change, seen = time.monotonic() + timeout, None, before
        while time.monotonic() < deadline:
            count = len(self.twilio.to(phone))
            if count != seen:
                seen, last_change = count, time.monotonic()
            if last_change is not None and time.monotonic() - last_change >= quiet:
                break
            time.sleep(0.2)
        return [m.body for m in self.twilio.to(phone)[before:]]


# --- voice -------------------------------------------------------------------------------------


@dataclass
class Call:
    """One phone call through signed Twilio voice webhooks, following each <Gather action>."""

    stack: Stack
    phone: str
    auth_token: str = DEFAULT_AUTH_TOKEN
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    url: str = ""

    @property
    def conversation_id(self) -> str:
        return f"voice-{self.call_sid}"  # contract C1

    def post(self, extra: dict[str, str]) -> str:
        """One webhook; what Twilio would say (every <Say>, joined)."""
        url = self.url or f"{self.stack.rasa_url}{VOICE_PATH}"
        form = {
            "CallSid": self.call_sid,
            "AccountSid": DEFAULT_ACCOUNT_SID,
            "From": self.phone,
            "Caller": self.phone,
            "To": DEFAULT_OUR_NUMBER,
            "Called": DEFAULT_OUR_NUMBER,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            "CallStatus": "in-progress",
            **extra,
        }
        response = httpx.post(
            url, data=form, headers={"X-Twilio-Signature": sign(url, form, self.auth_token)}, timeout=90
        )
        assert response.status_code == 200, (response.status_code, response.text[:300])
        document = ET.fromstring(response.text)
        gather = document.find("Gather")
        if gather is not None:
            self.url = urljoin(url, gather.get("action") or url)
        else:
            redirect = document.find("Redirect")
            if redirect is not None and redirect.text:
                self.url = urljoin(url, redirect.text.strip())
        return " ".join((s.text or "").strip() for s in document.iter("Say"))

    def answer(self) -> str:
        return self.post({"CallStatus": "ringing"})

    def press(self, digits: str) -> str:
        return self.post({"Digits": digits, "FinishedOnKey": ""})

    def speak(self, words: str) -> str:
        return self.post({"SpeechResult": words, "Confidence": "0.91"})


# --- web chat ----------------------------------------------------------------------------------


def webchat(stack: Stack, clients: list[dict[str, object]], timeout: float = 600) -> list[dict[str, object]]:
    """Run socket.io clients (see webchat_client.py for the plan) one after the other. Each
    client first loads the chat page like a browser and carries the cookies it set, so a
    connector that binds sessions to a cookie sees a real browser's request."""
    for client in clients:
        page = httpx.get(stack.web_url, timeout=30)
        cookies = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
        headers = dict(client.get("headers") or {})
        if cookies and client.get("cookies", True):
            headers["Cookie"] = cookies
        client["headers"] = headers
        client.pop("cookies", None)
    plan = {"url": stack.rasa_url, "path": "/webhooks/webchat/socket.io", "clients": clients}
    done = subprocess.run(
        [str(RASA_BIN / "python"), "-m", "tests.security.webchat_client", json.dumps(plan)],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["clients"]


def events_named(client: dict[str, object], name: str) -> list[object]:
    return [data for event, data in client["events"] if event == name]


def bot_texts_of(client: dict[str, object]) -> list[str]:
    return [str((d or {}).get("text") or "") for d in events_named(client, "bot_uttered") if isinstance(d, dict)]


# --- what the stack holds ----------------------------------------------------------------------


def tracker_or_none(stack: Stack, conversation_id: str) -> dict[str, object] | None:
    """The conversation's tracker, or None when rasa holds nothing for it (no events at all)."""
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker", params={"token": RASA_TOKEN}, timeout=30
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    tracker = response.json()
    return tracker if tracker.get("events") else None


def user_texts(stack: Stack, conversation_id: str) -> list[str]:
    tracker = tracker_or_none(stack, conversation_id)
    return [str(e.get("text") or "") for e in (tracker or {}).get("events", []) if e.get("event") == "user"]


def all_bot_texts(stack: Stack, conversation_id: str) -> list[str]:
    tracker = tracker_or_none(stack, conversation_id)
    return [str(e.get("text") or "") for e in (tracker or {}).get("events", []) if e.get("event") == "bot"]


def cases_of(stack: Stack, conversation_ids: set[str]) -> list[dict[str, object]]:
    """Handoff cases (open or closed) of these conversations."""
    found = []
    for status in ("open", "claimed", "resolved"):
        response = stack.api("GET", "/api/handoffs", params={"status": status, "limit": 500})
        if response.status_code != 200:
            continue
        found += [c for c in response.json()["cases"] if c["conversation_id"] in conversation_ids]
    return found
