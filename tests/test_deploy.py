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
    result = subprocess.run([sys.executable, "-m", "server", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
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
