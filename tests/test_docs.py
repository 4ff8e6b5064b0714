"""The docs stand alone and name only what exists: env names, CLI commands, files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from server.config import ENV_OVERRIDES, SETTINGS, load_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT_FILES = [
    p
    for p in ROOT.rglob("*")
    if p.is_file()
    and p.suffix in {".md", ".py", ".toml", ".yml", ".yaml", ".js", ".json", ".sh", ""}
    and not {".venv", "var", ".git", "node_modules", "__pycache__"} & set(p.parts)
    and p.stat().st_size < 2_000_000
]


def test_nothing_points_outside_the_repository():
    offenders = []
    for path in TEXT_FILES:
        text = path.read_text(errors="replace")
        if path == Path(__file__):
            continue
        if "../shared" in text or "/work/shared" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
    assert (ROOT / "docs" / "architecture.md").is_file()


def test_env_example_lists_exactly_the_names_the_app_reads():
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert names == set(ENV_OVERRIDES) | {"CONFIG_FILE"}


def test_env_example_values_pass_the_declared_checks(tmp_path):
    text = (ROOT / ".env.example").read_text()
    env = dict(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=(.+)$", text, re.M))
    env.pop("CONFIG_FILE")
    key = Fernet.generate_key().decode()  # the example leaves the Fernet keys to be made
    config = load_config(
        {**env, "VAR_DIR": str(tmp_path), "TOKEN_ENCRYPTION_KEYS": key, "SESSION_SECRET": key}
    )
    assert config.app.production


def test_every_env_name_in_the_readme_table_is_read_by_the_app():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    named = {n for row in rows for n in re.findall(r"`([A-Z][A-Z0-9_]{2,})`", row.split("|")[1])}
    assert named, "no configuration table in README.md"
    assert named <= set(ENV_OVERRIDES) | {"CONFIG_FILE"}, named - set(ENV_OVERRIDES)
    assert set(ENV_OVERRIDES) <= named, set(ENV_OVERRIDES) - named


def _config_toml_lines() -> dict[tuple[str, str], str]:
    """(section, key) -> its line in config.toml, set (`key = ...`) or commented (`# key`)."""
    lines: dict[tuple[str, str], str] = {}
    section = ""
    for line in (ROOT / "config.toml").read_text().splitlines():
        if match := re.match(r"^\[+([a-z_.]+)\]+$", line):
            section = match.group(1)
        elif match := re.match(r"^#?\s*([a-z][a-z0-9_]*)(?:\s*=|\s{2,}#|$)", line):
            lines.setdefault((section, match.group(1)), line)
    return lines


def test_config_toml_has_every_declared_setting_and_no_other():
    lines = _config_toml_lines()
    declared = {(d.section, d.key) for d in SETTINGS} - {("billing", "plans")}
    in_toml = {k for k in lines if not k[0].startswith("billing.plans")}
    assert in_toml == declared, (in_toml - declared, declared - in_toml)
    for d in SETTINGS:
        if d.name == "billing.plans":
            continue
        line = lines[(d.section, d.key)]
        # The comment after the value starts with the env name when there is one.
        comment = line.lstrip("#").split("#", 1)[-1] if "#" in line.lstrip("#") else ""
        first = (re.findall(r"[A-Z][A-Z0-9_]+", comment.split(":")[0].split(";")[0]) or [""])[0]
        if d.setting.env:
            assert first == d.setting.env, (d.name, line)
        else:
            assert first not in ENV_OVERRIDES, (d.name, line)


def test_readme_table_maps_each_env_name_to_its_declared_key():
    readme = (ROOT / "README.md").read_text()
    rows = [line.split("|")[1:3] for line in readme.splitlines() if line.startswith("| `")]
    seen = set()
    for envs_cell, keys_cell in rows:
        envs = re.findall(r"`([A-Z][A-Z0-9_]{2,})`", envs_cell)
        keys = [k.strip() for k in keys_cell.split(",") if k.strip()]
        if not envs or envs == ["CONFIG_FILE"]:
            continue
        places = [ENV_OVERRIDES[e] for e in envs]
        if len(keys) == 1 and keys[0].endswith(".*"):
            assert {s for s, _ in places} == {keys[0][:-2]}, (envs, keys)
        else:
            assert [f"{s}.{k}" for s, k in places] == keys, (envs, keys)
        seen.update(envs)
    assert seen == set(ENV_OVERRIDES)


def test_every_cli_command_the_docs_name_exists():
    result = subprocess.run(
        [sys.executable, "-m", "server", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    commands = set(re.findall(r"^\s{4}(\w[\w-]*)\s", result.stdout, re.MULTILINE))
    for doc in DOCS:
        for command in re.findall(r"python -m server ([a-z][a-z-]+)", doc.read_text()):
            assert command in commands, f"{doc.name} names `python -m server {command}`"


def test_files_the_docs_name_exist():
    for doc in DOCS:
        for ref in re.findall(
            r"`((?:docs|server|actors|models|tests|extensions|scripts|bench)/[\w./-]+)`",
            doc.read_text(),
        ):
            path = ref.split(":")[0]
            assert (ROOT / path).exists(), f"{doc.name} names {ref}"
