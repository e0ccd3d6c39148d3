"""A socket.io client of the web chat connector, as any program (not only our page) can be one.

Runs with the rasa environment (python-socketio lives there, not in the payments one):

    .venv/rasa/bin/python -m tests.security.webchat_client '<json plan>'

The plan: `{"url": "http://127.0.0.1:5005", "path": "/webhooks/webchat/socket.io",
"clients": [{"headers": {...}, "steps": [["request", {...}], ["say", "hi"], ["wait", 2]]}]}`.
Each client connects, runs its steps in order and disconnects; clients run one after the other.
`request` emits `session_request` with the given body and waits for `session_confirm`; `say`
emits `user_uttered` for the confirmed session and waits for `bot_turn_done`. Prints one JSON
object: `{"clients": [{"session_id": <last confirmed id or null>, "events": [[name, data], ...]}]}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import socketio

TURN_TIMEOUT = 60.0


async def run_client(url: str, path: str, spec: dict[str, Any]) -> dict[str, Any]:
    events: list[list[Any]] = []
    arrived: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    sio = socketio.AsyncClient(reconnection=False)
    confirmed: dict[str, Any] = {"session_id": None}

    @sio.on("*")
    async def any_event(name: str, data: Any = None) -> None:
        events.append([name, data])
        if name == "session_confirm":
            # A bare id (Rasa's protocol) or an object carrying it.
            confirmed["session_id"] = data.get("session_id") if isinstance(data, dict) else data
        await arrived.put((name, data))

    async def wait_for(name: str, timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            try:
                got, _ = await asyncio.wait_for(arrived.get(), left)
            except asyncio.TimeoutError:
                return False
            if got == name:
                return True

    try:
        # Long-polling only: the rasa environment's aiohttp (3.9) lacks what python-engineio's
        # websocket transport asks of it (ClientWSTimeout).
        await sio.connect(
            url, headers=spec.get("headers") or {}, socketio_path=path, wait_timeout=20, transports=["polling"]
        )
    except socketio.exceptions.ConnectionError as exc:
        return {"session_id": None, "events": [["connect_error", str(exc)]]}
    try:
        for step in spec.get("steps", []):
            kind, arg = step[0], step[1] if len(step) > 1 else None
            if kind == "request":
                await sio.emit("session_request", arg or {})
                if not await wait_for("session_confirm", 20):
                    events.append(["timeout", "session_confirm"])
            elif kind == "say":
                body = {"message": arg, "session_id": confirmed["session_id"]}
                await sio.emit("user_uttered", body)
                if not await wait_for("bot_turn_done", TURN_TIMEOUT):
                    events.append(["timeout", "bot_turn_done"])
            elif kind == "wait":
                await asyncio.sleep(float(arg or 1))
    finally:
        # Dropped, not closed politely: a polite close waits out the pending long-poll (~30 s).
        await sio.eio.disconnect(abort=True)
    return {"session_id": confirmed["session_id"], "events": events}


async def main(plan: dict[str, Any]) -> dict[str, Any]:
    results = []
    for spec in plan["clients"]:
        results.append(await run_client(plan["url"], plan.get("path", "/webhooks/webchat/socket.io"), spec))
    return {"clients": results}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
