"""Faults in the middle of a conversation, through the real processes (testkit/stack.py):
the payments service down or crashing right after it committed a booking, and the action server
restarted. Contract: the customer gets an apology with a person or a later try on offer, no
process crashes, the conversation continues once the service is back, and nothing is booked or
charged twice (the idempotency key kept in the `pending` slot).

The other resilience tests live elsewhere:
- two rasa servers sharing the PostgreSQL tracker store and Redis lock store:
  tests/e2e/test_resilience_cluster.py;
- the same Twilio webhook delivered twice at once (one reply, one record): tests/channels/test_sms.py
  and test_voice.py (connector with fakes), tests/channels/test_dedupe.py (memory and Redis),
  tests/channels/test_real_server.py (the real rasa server and tracker);
- Stripe webhooks replayed, out of order or with a bad signature: tests/payments/api/test_webhooks.py;
- hostile and malformed input (schemathesis, hypothesis): tests/payments/api/test_fuzz.py.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from testkit.stack import Stack
from tests.e2e.test_assistant import AISHA, LINK, MARIA, new_sender, verify

SORRY = "Sorry, I can't reach our account system right now. Please try again in a few minutes, or ask for a person."
DANA = ("9902", "09/09/1995", "30309")
JAMES = ("1190", "11/02/1972", "10027")
# Not forwarded as they are: they describe one hop, not the message.
HOP_HEADERS = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class ReplyLosingProxy:
    """HTTP proxy from the action server to the payments service. It forwards every request;
    armed with `lose_next_reply(method, path, then)`, the next matching request still reaches
    the service (which commits it), `then` runs (the test crashes the service there), and the
    connection is closed without an answer. A service that cannot be reached closes the
    connection too. Either way the action server sees what a crash mid-request looks like."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._armed: tuple[str, str, Callable[[], None]] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ReplyLosingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def lose_next_reply(self, method: str, path: str, then: Callable[[], None]) -> None:
        with self._lock:
            self._armed = (method, path, then)

    def _take(self, method: str, path: str) -> Callable[[], None] | None:
        with self._lock:
            if self._armed and self._armed[:2] == (method, path.split("?")[0]):
                then, self._armed = self._armed[2], None
                return then
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the action server's connection pool

            def do_GET(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                try:
                    answer = httpx.request(
                        self.command, proxy.upstream + self.path, headers=headers, content=body, timeout=30
                    )
                except httpx.HTTPError:
                    self.close_connection = True
                    return
                then = proxy._take(self.command, self.path)
                if then is not None:
                    then()
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture(scope="module")
def proxy_and_stack(
    trained_model: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ReplyLosingProxy, Stack]]:
    stack = Stack(tmp_path_factory.mktemp("resilience"))
    proxy = ReplyLosingProxy(stack.payments_url).start()
    stack.env_overrides["actions"] = {"PAYMENTS_URL": proxy.url}
    try:
        with stack.running():
            yield proxy, stack
    finally:
        proxy.stop()


@pytest.fixture
def stack(proxy_and_stack: tuple[ReplyLosingProxy, Stack]) -> Iterator[Stack]:
    """The module's stack; afterwards every process must still be running (nothing crashed).
    One the test left stopped is started again, so a failure does not spread to the next test."""
    running = proxy_and_stack[1]
    yield running
    dead = {name: p.log_tail() for name, p in running.processes.items() if p.popen.poll() is not None}
    for name in dead:
        running.start_process(name)
    assert not dead, dead
    for name, url in running.health_urls().items():
        assert httpx.get(url, timeout=10).status_code == 200, name


@pytest.fixture
def logged(stack: Stack) -> Callable[[str], str]:
    """What a process has logged since the test began."""
    offsets = {name: p.log_path.stat().st_size for name, p in stack.processes.items()}

    def since_start(name: str) -> str:
        with stack.processes[name].log_path.open("rb") as log:
            log.seek(offsets.get(name, 0))
            return log.read().decode(errors="replace")

    return since_start


def assert_no_server_errors(logged: Callable[[str], str]) -> None:
    """Neither rasa nor the action server logged an unhandled exception."""
    for name in ("rasa", "actions"):
        assert "Traceback" not in logged(name), f"{name}:\n{logged(name)[-4000:]}"


def plans_and_payments(stack: Stack, account_id: str) -> tuple[list[str], list[str]]:
    plans = stack.account_api(account_id, "GET", f"/api/accounts/{account_id}/plans").json()
    payments = stack.account_api(
        account_id, "GET", f"/api/accounts/{account_id}/payments", params={"limit": 50}
    ).json()["payments"]
    return [p["id"] for p in plans], [p["id"] for p in payments]


def choose_first_plan(stack: Stack, sender: str) -> None:
    offers = "\n".join(stack.say(sender, "I'd like to set up a payment plan"))
    assert "1. 3 monthly payments of" in offers, offers
    assert "Do you agree to this plan" in " ".join(stack.say(sender, "1"))


def booked(replies: list[str]) -> tuple[str, str]:
    """The confirmation number and payment link in a booking's replies."""
    text = " ".join(replies)
    plan = re.search(r"confirmation number is (PLN-\w+)", text)
    link = LINK.search(text)
    assert plan and link, replies
    return plan.group(1), link.group(0)


def test_payments_down_mid_conversation_apologizes_then_continues_and_books_once(
    stack: Stack, logged: Callable[[str], str]
) -> None:
    sender = new_sender()
    verify(stack, sender, MARIA)
    assert any("$2,450.00" in t for t in stack.say(sender, "what's my balance?"))

    stack.stop_process("payments", kill=True)
    assert stack.say(sender, "I'd like to set up a payment plan") == [SORRY]
    # The offered person: the case cannot be recorded either, so the customer gets our number
    # and the assistant is not paused (no agent would ever pick the conversation up).
    assert any("1-800-555-0199" in t for t in stack.say(sender, "let me talk to a person"))
    assert stack.tracker(sender)["paused"] is False
    stack.start_process("payments")

    choose_first_plan(stack, sender)
    pending = stack.tracker(sender)["slots"]["pending"]
    assert pending and pending["key"]
    stack.stop_process("payments", kill=True)
    assert stack.say(sender, "yes") == [SORRY]  # the booking never reached the service
    assert stack.tracker(sender)["slots"]["pending"] == pending  # kept, key and all
    stack.start_process("payments")
    assert plans_and_payments(stack, "A1001") == ([], [])

    plan_id, _ = booked(stack.say(sender, "yes"))  # the kept `pending` slot: yes still books
    assert plans_and_payments(stack, "A1001")[0] == [plan_id]
    assert len(plans_and_payments(stack, "A1001")[1]) == 1
    assert_no_server_errors(logged)


@pytest.mark.parametrize(
    "lost, account_id, who",
    [
        ("/api/accounts/A1005/plans", "A1005", DANA),  # the plan committed, its reply lost
        ("/api/payments", "A1002", JAMES),  # the plan booked, the first payment committed, its reply lost
    ],
)
def test_payments_crash_after_committing_a_booking_books_once_when_retried(
    proxy_and_stack: tuple[ReplyLosingProxy, Stack],
    stack: Stack,
    logged: Callable[[str], str],
    lost: str,
    account_id: str,
    who: tuple[str, str, str],
) -> None:
    proxy = proxy_and_stack[0]
    sender = new_sender()
    verify(stack, sender, who)
    choose_first_plan(stack, sender)

    proxy.lose_next_reply("POST", lost, then=lambda: stack.stop_process("payments", kill=True))
    replies = stack.say(sender, "yes")
    assert replies[-1] == SORRY
    stack.start_process("payments")
    committed_plans, committed_payments = plans_and_payments(stack, account_id)
    assert len(committed_plans) == 1  # booked, although the reply was lost
    if lost == "/api/payments":  # the booking was confirmed; the link was what failed
        assert replies[0] == f"Your plan is booked. Your confirmation number is {committed_plans[0]}."
        assert len(committed_payments) == 1
    else:
        assert replies == [SORRY] and committed_payments == []

    plan_id, link = booked(stack.say(sender, "yes"))
    plans, payments = plans_and_payments(stack, account_id)
    assert plans == committed_plans == [plan_id]  # the same plan, not a second one
    last_payment_id = stack.tracker(sender)["slots"]["last_payment_id"]
    assert payments == [last_payment_id]
    if committed_payments:
        assert payments == committed_payments
    assert httpx.get(link, timeout=30).status_code == 200
    assert_no_server_errors(logged)


def test_action_server_restarted_mid_conversation_recovers(stack: Stack, logged: Callable[[str], str]) -> None:
    sender = new_sender()
    said = stack.say(sender, "hello") + stack.say(sender, AISHA[0])
    assert any("date of birth" in t for t in said), said

    stack.stop_process("actions", kill=True)
    # Rasa answers 200 with no reply: it logs the failed action and drops its events (Rasa 3.6
    # processor._run_action). The message is kept, the form still waits for the date of birth.
    assert stack.say(sender, AISHA[1]) == []
    assert "Encountered an exception while running action 'verification_form'" in logged("rasa")
    tracker = stack.tracker(sender)
    assert [e.get("text") for e in tracker["events"] if e["event"] == "user"][-1] == AISHA[1]
    assert tracker["slots"]["requested_slot"] == "dob" and not tracker["paused"]
    stack.start_process("actions")

    # The customer goes on with the ZIP: the date kept from the lost turn was never validated,
    # so it is asked again rather than trusted.
    assert stack.say(sender, AISHA[2])[-1] == "Thanks. What is your date of birth? For example 04/22/1979."
    assert stack.say(sender, AISHA[1]) == ["And the 5-digit ZIP code on your account?"]
    assert any("you're verified" in t for t in stack.say(sender, AISHA[2]))
    assert "pay $150.00 today" in " ".join(stack.say(sender, "I want to pay the minimum"))
    link = LINK.search(" ".join(stack.say(sender, "yes")))
    assert link and httpx.get(link.group(0), timeout=30).status_code == 200
    assert len(plans_and_payments(stack, "A1003")[1]) == 1
