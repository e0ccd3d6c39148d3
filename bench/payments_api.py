"""Payments service under load: p50/p95/p99 of verify, account and offers at N concurrent clients.

Starts the real service (uvicorn, one worker) on a throwaway SQLite database, then drives it with
an asyncio httpx client pool: each simulated client loops verify → account → offers. Run with
`make bench` or `python -m bench.payments_api --clients 20 --seconds 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path

import httpx

from bench.stats import Summary, markdown_table
from testkit.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-service-token"
DEMO = [
    ("4821", "1985-03-14", "78701", "A1001"),
    ("1190", "1972-11-02", "10027", "A1002"),
    ("7734", "1990-07-21", "94110", "A1003"),
    ("9902", "1995-09-09", "30309", "A1005"),
]


def start_service(workdir: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "PAYMENTS_SERVICE_TOKEN": TOKEN,
        "EVENKEEL_ENV": "test",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    subprocess.run([python, "-m", "payments", "setup"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    log = (workdir / "payments.log").open("wb")
    process = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "--factory",
            "payments.main:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("payments service did not start")


async def drive(url: str, clients: int, seconds: float) -> list[Summary]:
    latencies: dict[str, list[float]] = {"verify": [], "account": [], "offers": []}
    errors = {k: 0 for k in latencies}
    stop_at = time.perf_counter() + seconds

    async def timed(name: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError:
            errors[name] += 1
            return None
        latencies[name].append(time.perf_counter() - started)
        if response.status_code != 200:
            errors[name] += 1
        answered: httpx.Response = response
        return answered

    async def customer(http: httpx.AsyncClient, n: int) -> None:
        last4, dob, zip_code, account_id = DEMO[n % len(DEMO)]
        while time.perf_counter() < stop_at:
            conversation_id = f"bench-{uuid.uuid4().hex}"
            body = {
                "channel": "web",
                "conversation_id": conversation_id,
                "card_last4": last4,
                "dob": dob,
                "zip": zip_code,
            }
            verified = await timed("verify", http.post("/api/verify", json=body))
            if verified is None or verified.status_code != 200:
                continue
            # The verification session (contract C2) that every disclosing call carries.
            session = {
                "X-Conversation-Id": conversation_id,
                "X-Verification-Session": verified.json().get("verification_session") or "",
            }
            await timed("account", http.get(f"/api/accounts/{account_id}", headers=session))
            await timed("offers", http.get(f"/api/accounts/{account_id}/offers", headers=session))

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, limits=limits, timeout=30
    ) as http:
        await asyncio.gather(*(customer(http, n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    return [Summary.of(name, latencies[name], errors[name], elapsed) for name in latencies]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    parser.add_argument("--out", default=str(ROOT / "results"))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        process, url = start_service(workdir, database_url)
        try:
            summaries = asyncio.run(drive(url, args.clients, args.seconds))
        finally:
            process.terminate()
            process.wait(timeout=10)

    dialect = database_url.split(":", 1)[0]
    rows = [s.as_dict() for s in summaries]
    report = {
        "benchmark": "payments_api",
        "clients": args.clients,
        "seconds": args.seconds,
        "database": dialect,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "endpoints": rows,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "payments_api.json").write_text(json.dumps(report, indent=2))
    markdown = (
        f"## Payments API at {args.clients} concurrent clients ({dialect}, {args.seconds:.0f} s, "
        f"{os.cpu_count()} CPUs)\n\nEach client loops verify → account → offers.\n\n" + markdown_table(rows) + "\n"
    )
    (out / "payments_api.md").write_text(markdown)
    print(markdown)
    return 1 if any(s.errors for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
