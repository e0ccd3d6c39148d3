"""The action server as `rasa run actions --actions actions` runs it (rasa-sdk's app, one Sanic
worker), plus one JSON line per action call in `$BENCH_TIMINGS_DIR/actions.jsonl`
(conversation id, action name, wall-clock start, milliseconds).

Runs in .venv/rasa: `python -m bench.timed_actions --port 5055`. Started by bench/processes.py."""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
import zlib
from pathlib import Path

from rasa_sdk.endpoint import create_app
from sanic.request import Request
from sanic.response import HTTPResponse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    out = (Path(os.environ["BENCH_TIMINGS_DIR"]) / "actions.jsonl").open("a", buffering=1)
    app = create_app(args.actions)

    @app.middleware("request")
    async def start_clock(request: Request) -> None:
        request.ctx.started = (time.time(), time.perf_counter())

    @app.middleware("response")
    async def stop_clock(request: Request, response: HTTPResponse) -> None:
        if request.path != "/webhook" or not hasattr(request.ctx, "started"):
            return
        wall, started = request.ctx.started
        body = request.body
        if request.headers.get("Content-Encoding") == "deflate":  # COMPRESS_ACTION_SERVER_REQUEST
            body = zlib.decompress(body)
        call = json.loads(body or b"{}")
        out.write(
            json.dumps(
                {
                    "conversation": (call.get("tracker") or {}).get("sender_id", "-"),
                    "what": call.get("next_action", "?"),
                    "status": response.status,
                    "start": wall,
                    "ms": round((time.perf_counter() - started) * 1000, 3),
                }
            )
            + "\n"
        )

    app.run("127.0.0.1", args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
