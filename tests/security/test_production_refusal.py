"""Development secrets in production (issue 11): with `EVENKEEL_ENV=production`, each service
refuses to start while any secret still has its published development value, and the rasa
server's production credentials enable no REST channel. Each process is started for real, with
a configuration that is production-ready except for the one value under test, and must exit
naming that variable instead of serving."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from testkit.processes import free_port, payments_argv
from testkit.stack import RASA_BIN, ROOT

START_TIMEOUT = 120  # the action server imports rasa-sdk and our actions; slow on a busy machine

PRODUCTION = {
    "EVENKEEL_ENV": "production",
    "PYTHONPATH": str(ROOT),
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "RASA_TELEMETRY_ENABLED": "false",
    "DATABASE_URL": "postgresql+psycopg://evenkeel:secret@127.0.0.1:5432/evenkeel",
    "PAYMENTS_SERVICE_TOKEN": "prod-service-token-5f0c7c1e",
    "RASA_AUTH_TOKEN": "prod-rasa-token-0b8d2a44",
    "PAYMENTS_URL": "http://127.0.0.1:9",
    "PAYMENTS_PUBLIC_URL": "https://pay.example.com",
    "STRIPE_API_KEY": "sk_live_security_suite",
    "STRIPE_API_BASE": "",
    "STRIPE_WEBHOOK_SECRET": "whsec_prod_3a1f",
    "TWILIO_AUTH_TOKEN": "prod-twilio-token-77aa",
    "TWILIO_PUBLIC_BASE_URL": "https://bot.example.com",
    "CHANNEL_FACTS_KEY": "prod-channel-facts-key-91c2",
    "ACTION_SERVER_TOKEN": "prod-action-token-c3d4",
    "REST_CHANNEL_TOKEN": "",
}
# The action server as the e2e launcher starts it (port from ACTIONS_PORT); the connectors'
# settings as rasa reads them when it loads bot/credentials.yml.
ACTION_SERVER = [str(RASA_BIN / "python"), "-m", "actions.server"]
CHANNEL_SETTINGS = [
    str(RASA_BIN / "python"),
    "-c",
    "from channels.config import ChannelSettings; ChannelSettings.from_env()",
]


def refusal(argv: list[str], env: dict[str, str], health: str | None, workdir: Path) -> tuple[int | None, str]:
    """Start `argv`; (exit code, output) once it exits, or (None, output) if it came up and served."""
    log = workdir / "out.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return process.returncode, log.read_text(errors="replace")
            if health:
                try:
                    if httpx.get(health, timeout=1).status_code == 200:
                        return None, log.read_text(errors="replace")
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        return None, log.read_text(errors="replace")
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def assert_refused(code: int | None, output: str, variable: str) -> None:
    assert code not in (None, 0), f"started in production with the development {variable}:\n{output[-1500:]}"
    assert variable in output, f"exited, but without naming {variable}:\n{output[-1500:]}"


@pytest.mark.parametrize(
    "variable, dev_value",
    [
        ("STRIPE_WEBHOOK_SECRET", "whsec_localstripe"),
        ("PAYMENTS_SERVICE_TOKEN", "dev-service-token"),
        ("RASA_AUTH_TOKEN", "dev-rasa-token"),
        ("TWILIO_AUTH_TOKEN", "dev-twilio-auth-token"),
    ],
)
def test_payments_service_refuses_development_secrets(tmp_path: Path, variable: str, dev_value: str) -> None:
    port = free_port()
    code, output = refusal(
        payments_argv(port),
        {**PRODUCTION, variable: dev_value},
        f"http://127.0.0.1:{port}/health",
        tmp_path,
    )
    assert_refused(code, output, variable)


@pytest.mark.parametrize(
    "variable, dev_value",
    [
        ("ACTION_SERVER_TOKEN", "dev-action-token"),
        ("ACTION_SERVER_TOKEN", ""),
        ("CHANNEL_FACTS_KEY", "dev-channel-facts-key"),
        ("PAYMENTS_SERVICE_TOKEN", "dev-service-token"),
    ],
)
def test_action_server_refuses_development_secrets(tmp_path: Path, variable: str, dev_value: str) -> None:
    port = free_port()
    code, output = refusal(
        ACTION_SERVER,
        {**PRODUCTION, "ACTIONS_PORT": str(port), variable: dev_value},
        f"http://127.0.0.1:{port}/health",
        tmp_path,
    )
    assert_refused(code, output, variable)


@pytest.mark.parametrize(
    "variable, dev_value",
    [
        ("TWILIO_AUTH_TOKEN", "dev-twilio-auth-token"),
        ("TWILIO_PUBLIC_BASE_URL", ""),
        ("CHANNEL_FACTS_KEY", "dev-channel-facts-key"),
        ("PAYMENTS_SERVICE_TOKEN", "dev-service-token"),
    ],
)
def test_channel_settings_refuse_development_secrets(tmp_path: Path, variable: str, dev_value: str) -> None:
    """The connectors' settings (read when rasa loads credentials) refuse, so rasa does not start."""
    code, output = refusal(CHANNEL_SETTINGS, {**PRODUCTION, variable: dev_value}, None, tmp_path)
    assert_refused(code, output, variable)


def test_the_production_configuration_above_starts(tmp_path: Path) -> None:
    """The control: without a development value every process comes up, so each refusal above is
    the one value's doing."""
    payments, actions = free_port(), free_port()
    code, output = refusal(
        payments_argv(payments),
        PRODUCTION,
        f"http://127.0.0.1:{payments}/health",
        tmp_path,
    )
    assert code is None, f"the payments service refused a production-ready configuration:\n{output[-1500:]}"
    code, output = refusal(
        ACTION_SERVER, {**PRODUCTION, "ACTIONS_PORT": str(actions)}, f"http://127.0.0.1:{actions}/health", tmp_path
    )
    assert code is None, f"the action server refused a production-ready configuration:\n{output[-1500:]}"
    code, output = refusal(CHANNEL_SETTINGS, PRODUCTION, None, tmp_path)
    assert code == 0, f"the channel settings refused a production-ready configuration:\n{output[-1500:]}"


def production_credentials() -> Path:
    """The credentials file the production rasa image runs with (docker/rasa.Dockerfile's CMD)."""
    dockerfile = (ROOT / "docker/rasa.Dockerfile").read_text()
    match = re.search(r"--credentials\s+(\S+)", dockerfile)
    assert match, "the rasa image names no credentials file"
    return ROOT / match.group(1)


def test_production_credentials_enable_no_rest_channel() -> None:
    path = production_credentials()
    channels = yaml.safe_load(path.read_text()) or {}
    rest_like = [name for name in channels if name == "rest" or "rest" in name.rsplit(".", 1)[-1].lower()]
    assert not rest_like, f"{path.relative_to(ROOT)} enables {rest_like} in production"
