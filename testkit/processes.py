"""Real servers for tests, benchmarks and stand-ins: a free loopback port, waiting for a server's
health, and the payments service itself (for contract tests of its clients)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], output: Callable[[], str], timeout: float = 60) -> None:
    """Until `url` answers 200; fails with the tail of `output()` when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer:\n{output()[-3000:]}")
        time.sleep(0.2)


ROOT = Path(__file__).resolve().parents[1]
PAYMENTS_PY = ROOT / ".venv/payments/bin/python"


def payments_argv(port: int) -> list[str]:
    """The command line of the payments service (`.venv/payments`) on loopback at `port`."""
    return [
        str(PAYMENTS_PY),
        "-m",
        "uvicorn",
        "--factory",
        "payments.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


@contextmanager
def payments_service(work: Path, token: str) -> Iterator[str]:
    """The real payments app (`.venv/payments`, migrated and seeded SQLite in `work`) on a free
    port, with service token `token`; yields its URL and stops it after."""
    if not PAYMENTS_PY.exists():
        pytest.fail(".venv/payments is missing: run `make envs`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EVENKEEL_ENV": "test",
        "PAYMENTS_SERVICE_TOKEN": token,
        "DATABASE_URL": f"sqlite:///{work}/payments.db",
        "PAYMENTS_PUBLIC_URL": url,
        "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}",
    }
    subprocess.run(
        [str(PAYMENTS_PY), "-m", "payments", "setup"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
    )
    log = (work / "payments.log").open("w")
    process = subprocess.Popen(
        payments_argv(port),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"{url}/health", process, (work / "payments.log").read_text)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
