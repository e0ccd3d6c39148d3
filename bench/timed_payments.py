"""The payments app as `payments.main:create_app` builds it, plus one JSON line per request in
`$BENCH_TIMINGS_DIR/payments.jsonl` (conversation id, route, wall-clock start, milliseconds).

Started by bench/processes.py instead of the plain factory, so the whole-stack benchmark can say
how much of a turn the payments service spends. Writing a line costs microseconds; the service
code is unchanged."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from payments.main import create_app as create_payments_app

Scope = dict[str, Any]


class RequestTimer:
    """Pure ASGI middleware: times each HTTP request from its first byte in to its last byte out."""

    def __init__(self, app: Any, out_path: Path) -> None:
        self.app = app
        self.out = out_path.open("a", buffering=1)  # line-buffered: readable while the bench runs

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wall, started = time.time(), time.perf_counter()
        status = 0

        async def timed_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            headers = dict(scope.get("headers") or [])
            # Starlette's router writes the matched route into the scope: group by its template.
            route = getattr(scope.get("route"), "path", None) or scope["path"]
            self.out.write(
                json.dumps(
                    {
                        "conversation": headers.get(b"x-conversation-id", b"-").decode(errors="replace"),
                        "what": f"{scope['method']} {route}",
                        "status": status,
                        "start": wall,
                        "ms": round((time.perf_counter() - started) * 1000, 3),
                    }
                )
                + "\n"
            )


def create_app() -> Any:
    return RequestTimer(create_payments_app(), Path(os.environ["BENCH_TIMINGS_DIR"]) / "payments.jsonl")
