"""ruff (lint and layout) and mypy are part of the suite: a lint, layout or type error fails
the build. `ruff format` owns the layout: run it before committing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# ruff and mypy over the tree
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-5000:]


def test_ruff_format_owns_the_layout():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]


def test_mypy_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "server", "actors", "models"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:]
