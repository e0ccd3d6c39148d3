"""Starts the real processes (payments service, action server, rasa server) on free ports with a
throwaway database, for end-to-end tests. Reused by every suite that needs the whole stack and by
the whole-stack benchmarks (bench/)."""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from contracts.twilio import SIGNATURE_HEADER, signed_url
from testkit.processes import ROOT, free_port, payments_argv
from testkit.twilio import DEFAULT_AUTH_TOKEN, DEFAULT_OUR_NUMBER, SMS_PATH, sign, sms_form


@contextmanager
def app_in_thread(make_app: Callable[[str], Any], log_level: str = "warning", timeout: float = 20) -> Iterator[str]:
    """Serve `make_app(url)` (an ASGI app, e.g. the payments app built with its public URL) with
    uvicorn in a thread on a free port at `url`; yields the URL once it answers, then stops it."""
    import threading

    import uvicorn

    url = f"http://127.0.0.1:{free_port()}"
    port = int(url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(make_app(url), host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


RASA_BIN = ROOT / ".venv/rasa/bin"
PAYMENTS_BIN = ROOT / ".venv/payments/bin"
MODEL = ROOT / "models/evenkeel.tar.gz"
SERVICE_TOKEN = "e2e-service-token"
STRIPE_WEBHOOK_SECRET = "whsec_e2e"
RASA_TOKEN = "e2e-rasa-token"
REST_TOKEN = "e2e-rest-token"  # our REST connector (channels/rest.py)
CHANNEL_FACTS_KEY = "e2e-channel-facts-key"  # rasa's connectors sign with it, the action server checks
ACTION_SERVER_TOKEN = "e2e-action-token"  # rasa sends it to the action server (bot/endpoints*.yml)
REST_PREFIX = "rest-"
DEMO_AGENT, DEMO_AGENT_PASSWORD = "sam", "evenkeel-demo-agent"  # seeded by `python -m payments setup`
# The seeded demo accounts' answers (card last 4, date of birth, ZIP), as in README.md.
DEMO_FACTORS = {
    "A1001": ("4821", "1985-03-14", "78701"),
    "A1002": ("1190", "1972-11-02", "10027"),
    "A1003": ("7734", "1990-07-21", "94110"),
    "A1004": ("3056", "1968-01-30", "60614"),
    "A1005": ("9902", "1995-09-09", "30309"),
}


def new_conversation(prefix: str = "e2e") -> str:
    """A fresh conversation id of our REST connector: `rest-<sender>` (contract C1)."""
    return f"{REST_PREFIX}{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str] = field(default_factory=list)  # kept so `Stack.start_process` can restart it alike

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    """The running processes and how to reach them."""

    workdir: Path
    payments_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    stripe_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)
    # Per-process additions to `env` (e.g. the action server reaching payments through a proxy).
    env_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    rasa_endpoints: str = "bot/endpoints.yml"
    # Further rasa servers (`start(extra_rasa=...)`) by process name: their ports.
    extra_rasa_ports: dict[str, int] = field(default_factory=dict)
    # Verification sessions kept per account by `as_cardholder`.
    _cardholder_sessions: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    @property
    def payments_url(self) -> str:
        return f"http://127.0.0.1:{self.payments_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        """The web chat page, served by the rasa server (channels/webchat.py)."""
        return f"{self.rasa_url}/webhooks/webchat/"

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "EVENKEEL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{self.workdir}/evenkeel.db",
            "TRACKER_SQLITE_PATH": str(self.workdir / "tracker.db"),
            "PAYMENTS_SERVICE_TOKEN": SERVICE_TOKEN,
            "PAYMENTS_URL": self.payments_url,
            "RASA_URL": self.rasa_url,
            "RASA_AUTH_TOKEN": RASA_TOKEN,
            "REST_CHANNEL_TOKEN": REST_TOKEN,
            "CHANNEL_FACTS_KEY": CHANNEL_FACTS_KEY,
            "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
            "ACTIONS_PORT": str(self.actions_port),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "PAYMENTS_PUBLIC_URL": self.payments_url,
            "STRIPE_API_BASE": self.stripe_url,
            "STRIPE_JS_URL": f"{self.stripe_url}/js.stripe.com/v3/",
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            # The scheduler delivers the outbox (payment confirmations) every second in tests.
            "SCHEDULER_INTERVAL_SECONDS": "1",
        }

    def start(self, timeout: float = 240, extra_rasa: tuple[str, ...] = ()) -> Stack:
        """Start every process; `extra_rasa` names further rasa servers like "rasa" (same model,
        endpoints, credentials; ports in `extra_rasa_ports`), loading alongside it."""
        subprocess.run(
            [str(PAYMENTS_BIN / "python"), "-m", "payments", "setup"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self._spawn(
            "stripe",
            [
                str(PAYMENTS_BIN / "python"),
                "-m",
                "testkit.stripe",
                "--port",
                str(self.stripe_port),
                "--webhook-url",
                f"{self.payments_url}/webhooks/stripe",
                "--webhook-secret",
                STRIPE_WEBHOOK_SECRET,
            ],
        )
        self._spawn("scheduler", [str(PAYMENTS_BIN / "python"), "-m", "payments", "scheduler"])
        self._spawn("payments", payments_argv(self.payments_port))
        # Binds 127.0.0.1:ACTIONS_PORT and answers only with ACTION_SERVER_TOKEN (actions/server.py).
        self._spawn("actions", [str(RASA_BIN / "python"), "-m", "actions.server"])
        self._spawn("rasa", self.rasa_argv(MODEL, self.rasa_endpoints))
        for name in extra_rasa:
            self.extra_rasa_ports[name] = port = free_port()
            argv = list(self.processes["rasa"].argv)
            argv[argv.index("--port") + 1] = str(port)
            self._spawn(name, argv)
        self.wait_healthy(timeout)
        return self

    def rasa_argv(self, model: Path, endpoints: str, credentials: str = "bot/credentials.yml") -> list[str]:
        """The command line of this stack's rasa server: its HTTP API behind `RASA_TOKEN`, on
        loopback at `rasa_port`."""
        return [
            str(RASA_BIN / "rasa"),
            "run",
            "--enable-api",
            "--auth-token",
            RASA_TOKEN,
            "--model",
            str(model),
            "--endpoints",
            endpoints,
            "--credentials",
            credentials,
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.rasa_port),
        ]

    @contextmanager
    def running(self, timeout: float = 240, extra_rasa: tuple[str, ...] = ()) -> Iterator[Stack]:
        """`start`, and `stop` on the way out, however it is left."""
        try:
            yield self.start(timeout, extra_rasa)
        finally:
            self.stop()

    def _spawn(self, name: str, argv: list[str]) -> None:
        log_path = self.workdir / f"{name}.log"
        env = {**self.env, **self.env_overrides.get(name, {})}
        with log_path.open("ab") as log:  # appended: a restarted process keeps its earlier log
            popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = Process(name, popen, log_path, argv)

    def stop_process(self, name: str, kill: bool = False) -> None:
        """Stop one process: SIGTERM (a clean shutdown) or, with `kill`, SIGKILL (a crash)."""
        popen = self.processes[name].popen
        if popen.poll() is None:
            popen.kill() if kill else popen.terminate()
        popen.wait(timeout=30)

    def start_process(self, name: str, timeout: float = 120) -> None:
        """Start a stopped process again with the same command line (so the same port) and wait
        until it is healthy."""
        assert self.processes[name].popen.poll() is not None, f"{name} is still running"
        self._spawn(name, self.processes[name].argv)
        self.wait_healthy(timeout, only=[name])

    def health_urls(self) -> dict[str, str]:
        return {
            "payments": f"{self.payments_url}/health/ready",
            "actions": f"http://127.0.0.1:{self.actions_port}/health",
            "rasa": f"{self.rasa_url}/status?token={RASA_TOKEN}",
            "stripe": f"{self.stripe_url}/js.stripe.com/v3/",
            **{
                name: f"http://127.0.0.1:{port}/status?token={RASA_TOKEN}"
                for name, port in self.extra_rasa_ports.items()
            },
        }

    def wait_healthy(self, timeout: float, only: list[str] | None = None) -> None:
        pending = {n: url for n, url in self.health_urls().items() if only is None or n in only}
        deadline = time.monotonic() + timeout
        while pending:
            for name, url in list(pending.items()):
                process = self.processes[name]
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.popen.returncode}:\n{process.log_tail()}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}\n{self.processes[n].log_tail()}" for n in pending)
                raise RuntimeError(f"not healthy after {timeout}s: {list(pending)}\n{tails}")
            time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in self.processes.values():
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.popen.kill()

    def say(self, conversation_id: str, text: str, rasa_url: str | None = None) -> list[str]:
        """Send one message over our token REST connector (of `rasa_url`, default the main rasa
        server) to `conversation_id` (`rest-...`, see `new_conversation`); the bot's reply texts."""
        assert conversation_id.startswith(REST_PREFIX), f"REST conversations are rest-<sender>: {conversation_id!r}"
        body = {"sender": conversation_id[len(REST_PREFIX) :], "message": text}
        response = httpx.post(
            f"{rasa_url or self.rasa_url}/webhooks/rest/webhook",
            json=body,
            timeout=60,
            headers={"Authorization": f"Bearer {REST_TOKEN}"},
        )
        response.raise_for_status()
        return [m["text"] for m in response.json() if "text" in m]

    def sms_webhook(self, phone: str, body: str, to: str = DEFAULT_OUR_NUMBER) -> httpx.Response:
        """Post one signed SMS webhook from `phone` to our number `to` and return the connector's
        answer, without waiting for a Rasa turn (a revocation is answered before Rasa)."""
        url = signed_url(self.rasa_url, SMS_PATH)  # the stack's rasa has no public base URL of its own
        form = sms_form(body, phone, to)
        reply = httpx.post(url, data=form, headers={SIGNATURE_HEADER: sign(url, form, DEFAULT_AUTH_TOKEN)}, timeout=30)
        reply.raise_for_status()
        return reply

    def text(self, phone: str, body: str, settle_seconds: float = 2.0, timeout: float = 60) -> list[str]:
        """Send one SMS from `phone` through the signed Twilio webhook (what `make phone` does);
        the bot texts that turn added to the conversation's tracker (the SMS themselves go to
        Twilio's REST API, which this stack does not play)."""

        def events() -> list[dict[str, object]]:
            response = httpx.get(
                f"{self.rasa_url}/conversations/{phone}/tracker", params={"token": RASA_TOKEN}, timeout=30
            )
            response.raise_for_status()
            return list(response.json().get("events") or [])

        said_before = sum(1 for e in events() if e.get("event") == "user")
        self.sms_webhook(phone, body)
        deadline = time.monotonic() + timeout
        seen: list[dict[str, object]] = []
        while time.monotonic() < deadline:  # the turn runs after the webhook is answered
            now = events()
            if sum(1 for e in now if e.get("event") == "user") > said_before and now == seen:
                break
            seen = now
            time.sleep(settle_seconds)
        else:
            raise TimeoutError(f"the SMS {body!r} from {phone} never finished its turn")
        users = [i for i, e in enumerate(seen) if e.get("event") == "user"]
        return [str(e.get("text") or "") for e in seen[users[said_before] :] if e.get("event") == "bot"]

    def api(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """Call the payments service's API with the service token (plus `headers`); `kwargs` go to
        `httpx.request` (json, params, ...)."""
        headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", **(headers or {})}
        return httpx.request(method, f"{self.payments_url}{path}", headers=headers, timeout=30, **kwargs)

    def as_cardholder(self, account_id: str) -> dict[str, str]:
        """Headers of a verification session of `account_id` (contract C2): what a test needs to
        read the account, its plans and payments the way the action server does. Opened once per
        account through `POST /api/verify` with the demo account's own answers as a test
        conversation, and kept (see `account_api` for when it is opened again)."""
        if account_id not in self._cardholder_sessions:
            self._cardholder_sessions[account_id] = self._verify(account_id)
        return self._cardholder_sessions[account_id]

    def _verify(self, account_id: str) -> dict[str, str]:
        last4, dob, zip_code = DEMO_FACTORS[account_id]
        conversation = new_conversation("check")
        verified = self.api(
            "POST",
            "/api/verify",
            json={"channel": "rest", "conversation_id": conversation, "card_last4": last4, "dob": dob, "zip": zip_code},
        )
        body = verified.json()
        assert body.get("verified"), body
        return {"X-Conversation-Id": conversation, "X-Verification-Session": body["verification_session"]}

    def account_api(self, account_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """`api` as a verified conversation of `account_id` (see `as_cardholder`). When the service
        refuses the kept session (403 `verification_required`: it expired or was ended), verifies
        afresh once and asks again."""
        response = self.api(method, path, headers=self.as_cardholder(account_id), **kwargs)
        if response.status_code == 403 and _error_code(response) == "verification_required":
            del self._cardholder_sessions[account_id]
            response = self.api(method, path, headers=self.as_cardholder(account_id), **kwargs)
        return response

    def as_agent(
        self, username: str = DEMO_AGENT, password: str = DEMO_AGENT_PASSWORD
    ) -> tuple[httpx.Client, dict[str, str]]:
        """An agent signed in through the console's form (the demo agent by default): a client of
        the payments service holding the session cookie, and the CSRF header the console page
        carries (to send with every console POST)."""
        client = httpx.Client(base_url=self.payments_url, timeout=30)
        response = client.post("/console/sign-in", data={"username": username, "password": password})
        assert response.status_code == 303, (response.status_code, response.text[:300])
        page = client.get("/console")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        return client, {"X-CSRF-Token": csrf.group(1)}

    def bot_texts(self, sender: str) -> list[str]:
        """Every bot message in the conversation, including pushed ones (REST cannot deliver those)."""
        return [e.get("text") or "" for e in self.tracker(sender)["events"] if e.get("event") == "bot"]

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker as rasa's HTTP API answers it (JSON: events, slots, paused...)."""
        response = httpx.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": RASA_TOKEN}, timeout=30
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker


def _error_code(response: httpx.Response) -> object:
    """The `code` of the service's JSON error body, if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
