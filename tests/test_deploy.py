"""Dockerfile and docker-compose.yml stay consistent with the CLI and the env contract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from server.config import ENV_OVERRIDES

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {"serve", "worker", "migrate"}


def _cli_commands() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "server", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = set(re.findall(r"^\s{4}(\w[\w-]*)\s", result.stdout, re.MULTILINE))
    return found


def test_compose_services_run_real_cli_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "postgres", "redis"} <= set(services)
    cli = _cli_commands()
    assert cli >= COMMANDS
    assert services["web"]["command"] == ["python", "-m", "server", "serve"]
    assert services["worker"]["command"] == ["python", "-m", "server", "worker"]
    for name, service in services.items():
        command = service.get("command", [])
        if command[:3] == ["python", "-m", "server"]:
            assert command[3] in cli, f"{name} runs an unknown command {command}"
            env = service["environment"]
            unknown = set(env) - set(ENV_OVERRIDES)
            assert not unknown, f"{name} sets env names the app does not read: {unknown}"
            assert env["DATABASE_URL"].startswith("postgres://")
            assert "@postgres:" in env["DATABASE_URL"]
            assert env["REDIS_URL"].startswith("redis://redis:")


def test_dockerfile_is_multi_stage_non_root_and_serves():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'CMD ["python", "-m", "server", "serve"]' in text
    assert "--require-hashes -r /tmp/requirements.lock" in text
    for folder in ("server/", "actors/", "models/", "migrations/"):
        assert f"COPY --chown=app:app {folder}" in text


def test_worker_health_check_is_the_heartbeat_and_web_keeps_the_image_one():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["worker"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "server",
        "worker",
        "--check",
    ]
    assert "healthcheck" not in services["web"]  # the image's /healthz check
    assert "/healthz" in (ROOT / "Dockerfile").read_text()
    # The check is a real option of the worker command.
    result = subprocess.run(
        [sys.executable, "-m", "server", "worker", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--check" in result.stdout
    for name in ("web", "worker"):
        grace = services[name]["stop_grace_period"]
        assert int(grace.rstrip("s")) > 15  # above app.shutdown_timeout_s


def _locked(path: Path) -> set[str]:
    return set(re.findall(r"^([a-z0-9][a-z0-9._-]*)==", path.read_text(), re.MULTILINE))


def test_production_image_gets_runtime_dependencies_only():
    runtime, dev = _locked(ROOT / "requirements.lock"), _locked(ROOT / "requirements-dev.lock")
    assert not runtime & {"pytest", "mypy", "ruff", "pytest-asyncio", "pyyaml"}
    assert runtime < dev and {"pytest", "mypy", "ruff"} <= dev
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        assert "scripts/lock" in text.splitlines()[1]  # how to regenerate it
        blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
        assert all("--hash=sha256:" in b for b in blocks if "==" in b), lock
