"""docker-compose.yml and docker/*.Dockerfile, checked without a Docker engine.

`docker-compose config` (Debian's docker-compose 1.29) validates and resolves the compose file;
the resolved YAML is then compared with what the code really reads: payments/config.py,
actions/config.py, bot/endpoints.production.yml and bot/credentials.yml. The Dockerfiles are
checked for the files they copy from the repository.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest
import yaml

from payments.config import Settings

REPO = Path(__file__).resolve().parents[2]

SERVICES = {"rasa", "actions", "payments", "scheduler", "postgres", "redis"}
# Required variables (`${VAR:?...}`): no default secret is ever deployed. Each deployment needs
# only its own; the web chat's include TWILIO_AUTH_TOKEN and TWILIO_PUBLIC_BASE_URL because
# payments/config.py and channels/config.py refuse to start in production without them.
WEB = {
    "PAYMENTS_SERVICE_TOKEN": "test-service-token",
    "RASA_AUTH_TOKEN": "test-rasa-token",
    "STRIPE_API_KEY": "sk_test_compose",
    "POSTGRES_PASSWORD": "test-postgres-password",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_compose",
    "STRIPE_WEBHOOK_SECRET": "whsec_compose",
    "TWILIO_AUTH_TOKEN": "test-twilio-token",
    "CHANNEL_FACTS_KEY": "test-channel-facts-key",
    "TWILIO_PUBLIC_BASE_URL": "https://bot.example.com",
    "PAYMENTS_PUBLIC_URL": "https://pay.example.com",
    "ACTION_SERVER_TOKEN": "test-action-server-token",
}
SMS = {**WEB, "TWILIO_ACCOUNT_SID": "AC11111111111111111111111111111111", "TWILIO_FROM_NUMBER": "+15005550006"}
FULL = SMS  # voice adds no required variable: each of its settings has a default (channels/config.py)
# deployment -> (compose files, the variables it needs)
DEPLOYMENTS = {
    "web": (["docker-compose.yml"], WEB),
    "sms": (["docker-compose.yml", "deploy/compose.sms.yml"], SMS),
    "full": (["docker-compose.yml", "deploy/compose.sms.yml", "deploy/compose.voice.yml"], FULL),
}
REQUIRED = FULL
# Who waits for whom, and for what.
DEPENDENCIES = {
    "rasa": {"actions", "postgres", "redis"},
    "actions": {"payments"},
    "payments": {"postgres"},
    "scheduler": {"payments"},
    "postgres": set(),
    "redis": set(),
}
PUBLISHED = {"rasa": {5005}, "payments": {8000}}


# --- helpers ---------------------------------------------------------------------------------


def run_compose_config(
    variables: dict[str, str], env_file: Path, files: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` in the repository with only `variables` set (and `files`, the
    full deployment by default).

    The environment is built from scratch and `--env-file` points at an empty file, so neither
    the caller's environment (`make` exports local defaults) nor a developer's `.env` leaks in.
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **variables}
    chosen = DEPLOYMENTS["full"][0] if files is None else files
    return subprocess.run(
        ["docker-compose", *(f"--file={name}" for name in chosen), "--env-file", str(env_file), "config"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def require_docker_compose() -> None:
    """Fail (never skip): without docker-compose nothing here would be checked."""
    if shutil.which("docker-compose") is None:
        pytest.fail(
            "docker-compose is not on PATH: install it with `apt-get install docker-compose` "
            "(scripts/install-system-deps.sh does this)",
            pytrace=False,
        )


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def published_ports(service: dict) -> set[int]:
    ports = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ports.add(int(port["published"]))
        else:  # "HOST:CONTAINER" or "IP:HOST:CONTAINER"
            ports.add(int(str(port).split(":")[-2]))
    return ports


def placeholders(path: Path) -> set[str]:
    """The `${VAR}` names in a Rasa config file (Rasa fills them from the environment)."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", path.read_text()))


def shell_variables(path: Path) -> set[str]:
    return set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", path.read_text()))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def copy_sources(path: Path) -> list[str]:
    """The repository paths a Dockerfile's COPY/ADD instructions read (not `COPY --from=stage`)."""
    sources = []
    for keyword, arguments in dockerfile_instructions(path):
        if keyword not in ("COPY", "ADD"):
            continue
        parts = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        if any(part.startswith("--from") for part in parts):
            continue
        paths = [part for part in parts if not part.startswith("--")]
        sources.extend(paths[:-1])  # the last one is the destination
    return sources


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip().strip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(source: str, patterns: list[str]) -> bool:
    parts = PurePosixPath(source).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


def built_services(compose: dict) -> dict[str, tuple[Path, Path]]:
    """service -> (build context, Dockerfile) for the services built from this repository."""
    built = {}
    for name, service in compose["services"].items():
        if "build" in service:
            context = (REPO / service["build"]["context"]).resolve()
            built[name] = (context, context / service["build"].get("dockerfile", "Dockerfile"))
    return built


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_docker_compose()
    path = tmp_path_factory.mktemp("compose") / "empty.env"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def compose(empty_env_file: Path) -> dict:
    result = run_compose_config(REQUIRED, empty_env_file)
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


# --- the compose file ------------------------------------------------------------------------


def test_docker_compose_is_installed() -> None:
    require_docker_compose()


def test_compose_config_is_valid_and_has_every_service(compose: dict) -> None:
    assert set(compose["services"]) == SERVICES


@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_each_deployment_validates_with_only_its_variables(empty_env_file: Path, deployment: str) -> None:
    files, variables = DEPLOYMENTS[deployment]
    result = run_compose_config(variables, empty_env_file, files)
    assert result.returncode == 0, f"{deployment}: docker-compose config failed:\n{result.stderr}"
    assert set(yaml.safe_load(result.stdout)["services"]) == SERVICES


@pytest.mark.parametrize(
    ("deployment", "missing"),
    [(name, var) for name, (_, needed) in sorted(DEPLOYMENTS.items()) for var in sorted(needed)],
)
def test_each_deployment_names_a_missing_variable(empty_env_file: Path, deployment: str, missing: str) -> None:
    files, variables = DEPLOYMENTS[deployment]
    result = run_compose_config({k: v for k, v in variables.items() if k != missing}, empty_env_file, files)
    assert result.returncode != 0, f"{deployment}: docker-compose config accepted an unset {missing}"
    assert f"set {missing} " in result.stderr, result.stderr  # the message says what to set


def test_sms_settings_reach_every_process_that_sends_texts(compose: dict) -> None:
    for name in ("rasa", "payments", "scheduler"):
        env = environment(compose["services"][name])
        assert env["TWILIO_ACCOUNT_SID"] == SMS["TWILIO_ACCOUNT_SID"], name
        assert env["TWILIO_FROM_NUMBER"] == SMS["TWILIO_FROM_NUMBER"], name


def test_the_env_example_lists_every_variable_of_every_deployment() -> None:
    text = (REPO / "deploy.env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))
    used = set()
    for name in ("docker-compose.yml", "deploy/compose.sms.yml", "deploy/compose.voice.yml"):
        code = "\n".join(line.split("#", 1)[0] for line in (REPO / name).read_text().splitlines())
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)[:}]", code))
    assert used - listed == set(), f"in the compose files but not in deploy.env.example: {sorted(used - listed)}"


def test_every_service_has_a_healthcheck(compose: dict) -> None:
    without = [name for name, service in compose["services"].items() if not service.get("healthcheck", {}).get("test")]
    assert without == []


def test_services_wait_for_their_dependencies_to_be_healthy(compose: dict) -> None:
    for name, expected in DEPENDENCIES.items():
        depends_on = compose["services"][name].get("depends_on") or {}
        assert set(depends_on) == expected, name
        conditions = {dependency: spec.get("condition") for dependency, spec in depends_on.items()}
        assert set(conditions.values()) <= {"service_healthy"}, (name, conditions)


def test_only_rasa_and_payments_are_published(compose: dict) -> None:
    published = {name: published_ports(service) for name, service in compose["services"].items()}
    assert {name: ports for name, ports in published.items() if ports} == PUBLISHED


# --- environment variable names match the code -----------------------------------------------


def test_payments_gets_only_settings_it_reads(compose: dict) -> None:
    known = {field.upper() for field in Settings.model_fields}
    known |= shell_variables(REPO / "docker" / "payments-entrypoint.sh")  # e.g. SEED_DEMO_DATA
    known.add("FORWARDED_ALLOW_IPS")  # uvicorn's: which proxy's X-Forwarded-For it believes
    unknown = set(environment(compose["services"]["payments"])) - known
    assert unknown == set(), f"not read by payments/config.py or the entrypoint: {sorted(unknown)}"


def test_payments_settings_from_compose_are_valid_in_production(compose: dict) -> None:
    env = environment(compose["services"]["payments"])
    fields = {name.lower(): value for name, value in env.items() if name.lower() in Settings.model_fields}
    settings = Settings(_env_file=None, **fields)  # runs the production checks (no dev secrets, no SQLite)
    assert settings.evenkeel_env == "production"
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.database_url.endswith("@postgres:5432/evenkeel")
    assert settings.stripe_api_base == ""  # the real Stripe API


def test_actions_gets_only_settings_it_reads(compose: dict) -> None:
    read = set(re.findall(r"\"([A-Z][A-Z0-9_]+)\"", (REPO / "actions" / "config.py").read_text()))
    unknown = set(environment(compose["services"]["actions"])) - read
    assert unknown == set(), f"not read by actions/config.py: {sorted(unknown)}"


def test_rasa_gets_every_variable_its_config_uses(compose: dict) -> None:
    needed = placeholders(REPO / "bot" / "endpoints.production.yml") | placeholders(
        REPO / "bot" / "credentials.production.yml"
    )
    needed.add("RASA_AUTH_TOKEN")  # the --auth-token of the image's command
    missing = needed - set(environment(compose["services"]["rasa"]))
    assert missing == set(), f"used by the rasa config but not set in docker-compose.yml: {sorted(missing)}"


def test_postgres_init_creates_the_tracker_database(compose: dict) -> None:
    tracker_db = environment(compose["services"]["rasa"])["TRACKER_DB_NAME"]
    mounts = [str(volume).split(":") for volume in compose["services"]["postgres"]["volumes"]]
    init_scripts = [Path(source) for source, target, *_ in mounts if target.startswith("/docker-entrypoint-initdb.d/")]
    created = {
        name for script in init_scripts for name in re.findall(r"CREATE DATABASE\s+(\w+)", script.read_text(), re.I)
    }
    assert tracker_db in created


# --- the Dockerfiles -------------------------------------------------------------------------


def test_every_referenced_dockerfile_exists(compose: dict) -> None:
    built = built_services(compose)
    assert set(built) == {"rasa", "actions", "payments", "scheduler"}
    missing = [str(dockerfile) for _, dockerfile in built.values() if not dockerfile.is_file()]
    assert missing == []


def test_every_copy_source_exists(compose: dict) -> None:
    missing = [
        f"{dockerfile.relative_to(REPO)}: {source}"
        for context, dockerfile in built_services(compose).values()
        for source in copy_sources(dockerfile)
        if not glob.glob(str(context / source))
    ]
    assert missing == []


def test_no_copy_source_is_excluded_by_dockerignore(compose: dict) -> None:
    patterns = dockerignore_patterns()
    excluded = [
        f"{dockerfile.relative_to(REPO)}: {source}"
        for _, dockerfile in built_services(compose).values()
        for source in copy_sources(dockerfile)
        if ignored(source, patterns)
    ]
    assert excluded == []
