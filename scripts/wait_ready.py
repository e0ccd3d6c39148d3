"""Waits until every service answers its health check, then prints what to open.

Run by honcho next to the services. It stays alive once everything is up (honcho stops all
processes when one exits) and exits non-zero if a service is not healthy in time.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import httpx

TIMEOUT_SECONDS = float(os.environ.get("READY_TIMEOUT_SECONDS", "240"))


def checks() -> dict[str, tuple[str, dict[str, str]]]:
    env = os.environ
    return {
        "payments service": (f"{env['PAYMENTS_URL']}/health/ready", {}),
        "stripe stand-in": (
            f"{env['STRIPE_API_BASE']}/v1/customers?limit=1",
            {"Authorization": "Bearer sk_test_localstripe"},
        ),
        "action server": (f"http://127.0.0.1:{env['ACTIONS_PORT']}/health", {}),
        # /status needs the token and answers only once the model is loaded.
        "rasa server": (f"{env['RASA_URL']}/status?token={env['RASA_AUTH_TOKEN']}", {}),
    }


def main() -> int:
    pending = checks()
    started = time.monotonic()
    while pending:
        for name, (url, headers) in list(pending.items()):
            try:
                if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                    print(f"[ready] {name} is up ({time.monotonic() - started:.0f}s)", flush=True)
                    del pending[name]
            except httpx.HTTPError:
                pass
        if pending and time.monotonic() - started > TIMEOUT_SECONDS:
            print(f"[ready] not healthy after {TIMEOUT_SECONDS:.0f}s: {', '.join(pending)}", flush=True)
            return 1
        time.sleep(1)
    env = os.environ
    print(
        f"""
==================================================================
 Evenkeel is running.
   Talk to the assistant:  make chat        (in another terminal)
   REST channel:           POST {env["RASA_URL"]}/webhooks/rest/webhook
                           Authorization: Bearer {env.get("REST_CHANNEL_TOKEN") or "dev-rest-token"}
                           {{"sender": "me", "message": "hi"}}  (conversation rest-me)
   Web chat page:          {env["RASA_URL"]}/webhooks/webchat/
   Agent console:          {env["PAYMENTS_URL"]}/console  (sam / evenkeel-demo-agent)
   Payments API docs:      {env["PAYMENTS_URL"]}/docs
   Rasa HTTP API:          {env["RASA_URL"]}  (token: RASA_AUTH_TOKEN)
   Demo customer:          card 4821, born 03/14/1985, ZIP 78701
 Ctrl-C stops everything.
==================================================================
""",
        flush=True,
    )
    signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
