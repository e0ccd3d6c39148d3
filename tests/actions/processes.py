"""Real servers for action tests: a free loopback port, and waiting for a server's health."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, output: Callable[[], str], timeout: float = 60) -> None:
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
