"""localstripe for tests (and local demos): a runner that fills the gaps between localstripe 1.15
and the real Stripe our gateway talks to, plus a session-scoped pytest fixture that starts it.

`make run` starts it (Procfile); by hand: `python -m testkit.stripe --port 8420
[--webhook-url http://127.0.0.1:8000/webhooks/stripe --webhook-secret whsec_localstripe]`.

What stock localstripe 1.15.10 does and does not do (checked against its source and by calls):
- customers, PaymentMethods (`pm_card_visa`, `pm_card_chargeCustomerFail`, card numbers), tokens,
  PaymentIntents created/confirmed on and off session: yes.
- declines: charging 4000000000000341 (`pm_card_chargeCustomerFail`) gives HTTP 402 `card_declined`
  (error type `invalid_request_error`, no `decline_code`, no `payment_intent` in the error);
  4000000000000002 / `pm_card_visa_chargeDeclined` is declined only when ATTACHED to a customer:
  charging it succeeds.
- `Idempotency-Key` is ignored: the same key twice makes two PaymentIntents.  → emulated below.
- `setup_future_usage` on a PaymentIntent is refused (400 "Unexpected setup_future_usage"). → accepted below.
- its Stripe.js stand-in (`/js.stripe.com/v3/`) renders plain inputs for a card Element and checks
  nothing in the browser (a past expiry year reaches localstripe, which answers a bare 400).
  → the real Element's checks added below (`validation_error` with Stripe.js's codes).
  Its `confirmCardPayment` only completes 3-D Secure for an intent that already has a card; it cannot
  pay a new PaymentIntent with the card typed in the Element. → added below (the real Stripe.js
  does the same: POST /v1/payment_intents/{id}/confirm with the publishable key, the client
  secret and `payment_method_data`).
- webhooks: only after `POST /_config/webhooks/{name}` (url, secret); each event is signed like
  Stripe's (`t=...,v1=HMAC-SHA256(secret, "t.payload")`) and sent about a second later.
- it saves its state to /tmp/localstripe.pickle after every write, whatever the port.  → off below,
  so a test instance never overwrites a developer's.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.processes import ROOT, free_port

# --------------------------------------------------------------------------- the runner

CONFIRM_WITH_CARD_JS = r"""
// Added by testkit/stripe.py: confirmCardPayment with a card Element pays a new
// PaymentIntent (what the real Stripe.js does); other calls go to localstripe's own version.
(function () {
  // The checks the real card Element makes before anything is sent, with Stripe.js's codes and
  // messages (https://docs.stripe.com/error-codes): a validation_error, no request to Stripe.
  const MESSAGES = {
    incomplete_number: 'Your card number is incomplete.',
    invalid_number: 'Your card number is invalid.',
    incomplete_expiry: "Your card's expiration date is incomplete.",
    invalid_expiry_month: "Your card's expiration month is invalid.",
    invalid_expiry_month_past: "Your card's expiration date is in the past.",
    invalid_expiry_year: "Your card's expiration year is invalid.",
    invalid_expiry_year_past: "Your card's expiration year is in the past.",
    incomplete_cvc: "Your card's security code is incomplete.",
    incomplete_zip: 'Your postal code is incomplete.',
  };
  const luhn = (digits) => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  };
  const checkCard = (card, postalCode) => {
    const number = String(card.number || '').replace(/\s/g, '');
    const month = String(card.exp_month || '');
    const year = String(card.exp_year || '').replace(/^20$/, '');  // the stand-in prefixes "20"
    const now = new Date();
    let code = null;
    if (!number) { code = 'incomplete_number'; }
    else if (!/^\d+$/.test(number)) { code = 'invalid_number'; }
    else if (number.length < 13) { code = 'incomplete_number'; }
    else if (number.length > 19 || !luhn(number)) { code = 'invalid_number'; }
    else if (!month || !year) { code = 'incomplete_expiry'; }
    else if (!/^\d{1,2}$/.test(month) || Number(month) < 1 || Number(month) > 12) { code = 'invalid_expiry_month'; }
    else if (!/^\d{4}$/.test(year) || Number(year) > now.getFullYear() + 50) { code = 'invalid_expiry_year'; }
    else if (Number(year) < now.getFullYear()) { code = 'invalid_expiry_year_past'; }
    else if (Number(year) === now.getFullYear() && Number(month) < now.getMonth() + 1) {
      code = 'invalid_expiry_month_past';
    }
    else if (!/^\d{3,4}$/.test(String(card.cvc || ''))) { code = 'incomplete_cvc'; }
    else if (!String(postalCode || '').trim()) { code = 'incomplete_zip'; }
    return code && {type: 'validation_error', code: code, message: MESSAGES[code]};
  };
  const makeStripe = Stripe;
  Stripe = (apiKey) => {
    const stripe = makeStripe(apiKey);
    const authenticateOnly = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const element = data && data.payment_method && data.payment_method.card;
      if (!element || typeof element.mount !== 'function') {
        return authenticateOnly(clientSecret, data);
      }
      const card = element.value && element.value.card;
      const invalid = checkCard(card || {}, element.value.postal_code);
      if (invalid) {
        return {error: invalid};
      }
      const pi = clientSecret.match(/^(pi_\w+)_secret_/)[1];
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${pi}/confirm`, {
          method: 'POST',
          body: JSON.stringify({
            key: apiKey,
            client_secret: clientSecret,
            payment_method_data: {
              type: 'card',
              card: card,
              billing_details: {address: {postal_code: element.value.postal_code || null}},
            },
          }),
        });
        const body = await response.json().catch(() => ({}));
        if (response.status !== 200 || body.error) {
          return {error: body.error || {type: 'api_error'}};
        }
        if (body.status === 'requires_action') {
          return authenticateOnly(clientSecret, data);
        }
        return {paymentIntent: body};
      } catch (err) {
        return {error: {type: 'api_connection_error'}};
      }
    };
    return stripe;
  };
})();
"""


def _patch_localstripe() -> None:
    """Apply the additions described in the module docstring to the imported localstripe."""
    from aiohttp import web
    from localstripe import resources, server
    from localstripe.errors import UserError

    resources.Store.dump_to_disk = lambda self: None

    # setup_future_usage: accepted and echoed, as Stripe does.
    original_init = resources.PaymentIntent.__init__

    def intent_init(self: Any, *args: Any, setup_future_usage: str | None = None, **kwargs: Any) -> None:
        if setup_future_usage not in (None, "on_session", "off_session"):
            raise UserError(400, "Bad request")
        original_init(self, *args, **kwargs)
        self.setup_future_usage = setup_future_usage

    resources.PaymentIntent.__init__ = intent_init

    js_path = Path(server.__file__).with_name("localstripe-v3.js")
    script = js_path.read_text() + CONFIRM_WITH_CARD_JS

    async def stripe_js(request: web.Request) -> web.Response:
        return web.Response(text=script, content_type="application/javascript")

    # Replace the stand-in's route (registered at import) by the extended script.
    for route in server.app.router.routes():
        if route.method == "GET" and route.resource is not None and route.resource.canonical == "/js.stripe.com/v3/":
            route._handler = stripe_js

    confirm_path = re.compile(r"^/v1/payment_intents/(\w+)/confirm$")

    @web.middleware
    async def confirm_with_publishable_key(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        match = confirm_path.match(request.path)
        if request.method != "POST" or not match:
            return await handler(request)
        data = await server.get_post_data(request, remove_auth=False) or {}
        if not str(data.get("key", "")).startswith("pk_"):
            return await handler(request)
        intent = resources.PaymentIntent._api_retrieve(match.group(1))
        if data.get("client_secret") != intent.client_secret:
            raise UserError(401, "Unauthorized")
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, "Bad request")
        pm_data = data.get("payment_method_data") or {}
        method = resources.PaymentMethod(
            type="card", card=pm_data.get("card"), billing_details=pm_data.get("billing_details")
        )
        intent.payment_method = method.id
        intent.latest_charge = None  # a new attempt after a decline
        intent._authentication_failed = False
        intent._confirm(on_failure_now=intent._report_failure)
        return server.json_response(intent._export())

    replies: dict[str, tuple[tuple[str, str], int, bytes]] = {}

    @web.middleware
    async def idempotency(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        fingerprint = (request.path, hashlib.sha256(await request.read()).hexdigest())
        if key in replies:
            first, status, body = replies[key]
            if first != fingerprint:
                return server.json_response(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the same parameters.",
                        }
                    },
                    status=400,
                )
            return web.Response(
                status=status, body=body, content_type="application/json", headers={"Idempotent-Replayed": "true"}
            )
        try:
            response = await handler(request)
        except UserError as exc:
            response = exc.to_response()
        if response.status < 500 and response.status not in (401, 409, 429):
            replies[key] = (fingerprint, response.status, response.body)
        return response

    # Order: errors → publishable-key confirm → authentication → idempotency → localstripe's own.
    server.app.middlewares.insert(1, confirm_with_publishable_key)
    server.app.middlewares.insert(3, idempotency)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m testkit.stripe")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--webhook-url", help="register a webhook endpoint at start-up")
    parser.add_argument("--webhook-secret", default="whsec_localstripe")
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import server
    from localstripe.webhooks import register_webhook

    _patch_localstripe()
    if args.webhook_url:
        register_webhook("evenkeel", args.webhook_url, args.webhook_secret, None)
    web.run_app(server.app, host=args.host, port=args.port, print=None)


# --------------------------------------------------------------------------- test helpers


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header exactly as Stripe builds it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class LocalStripe:
    url: str
    log_path: Path
    api_key: str = "sk_test_localstripe"
    publishable_key: str = "pk_test_localstripe"

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        response = httpx.post(f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5)
        response.raise_for_status()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/js.stripe.com/v3/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"localstripe did not answer within {timeout}s:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """A fresh localstripe (with the additions above) on a free port for the whole test session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "testkit.stripe", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log_path)
        yield LocalStripe(url=url, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
