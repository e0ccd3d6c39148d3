"""The processes the whole-stack benchmark measures: our stack (testkit/stack.py's `Stack`, with
quieter logs and request timers) and a bare Rasa server, plus their resident memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from testkit.processes import ROOT
from testkit.stack import PAYMENTS_BIN, RASA_BIN, RASA_TOKEN, Stack

BARE_PROJECT = ROOT / "bench/bare_rasa"


@dataclass
class BenchStack(Stack):
    """`Stack` with WARNING logs (a production log level, so a busy server is not timing its own
    log writes) and the payments service and action server started through bench/timed_*.py,
    which append one line per request to `<workdir>/{payments,actions}.jsonl`."""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "LOG_LEVEL": "WARNING", "BENCH_TIMINGS_DIR": str(self.workdir)}

    def _spawn(self, name: str, argv: list[str]) -> None:
        if name == "payments":
            argv = [
                str(PAYMENTS_BIN / "uvicorn"),
                "--factory",
                "bench.timed_payments:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.payments_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ]
        elif name == "actions":
            argv = [str(RASA_BIN / "python"), "-m", "bench.timed_actions", "--port", str(self.actions_port)]
        super()._spawn(name, argv)


@dataclass
class BareServer(BenchStack):
    """Only a rasa server, with the bare model (bench/bare_rasa): responses, no custom actions."""

    model: Path = ROOT / "var/bench/bare.tar.gz"

    def spawn(self) -> BareServer:
        """Start without waiting (so it loads its model while our stack starts); then `wait_healthy`."""
        self._spawn(
            "rasa",
            self.rasa_argv(self.model, str(BARE_PROJECT / "endpoints.yml"), str(BARE_PROJECT / "credentials.yml")),
        )
        return self

    def health_urls(self) -> dict[str, str]:
        return {"rasa": f"{self.rasa_url}/status?token={RASA_TOKEN}"}


def tree_rss_bytes(pid: int) -> int:
    """Resident memory (VmRSS) of a process and all its descendants; 0 once it is gone."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # Field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces.
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending += children.get(current, [])
        total += _vm_rss_bytes(current)
    return total


def _vm_rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_by_process(stacks: dict[str, Stack]) -> dict[str, int]:
    """{"ours/rasa": bytes, ...} for every process of the given stacks."""
    return {
        f"{label}/{name}": tree_rss_bytes(process.popen.pid)
        for label, stack in stacks.items()
        for name, process in stack.processes.items()
    }
