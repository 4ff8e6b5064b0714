"""The layering rules of docs/architecture.md, checked on the source (no database needed).

- Only the HTTP edge imports aiohttp's web framework: modules named `http.py` and the
  shared edge in `server/web/`.
- Actors are thin: they import domain modules, never an HTTP module.
- Domain code never imports actors: it wakes them by name (server/wake.py); a flow's
  `http.py` may send to its own flow's actors (`actors/<flow>.py`); the composition roots
  (server/web/app.py, server/cli.py) may import the broker set-up.
- Models import nothing of the app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_MODULES = ("aiohttp.web", "aiohttp.abc", "aiohttp.web_")
COMPOSITION_ROOTS = {"server/web/app.py", "server/cli.py"}


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module the file imports (at the top or inside functions), `from x import y` as
    both `x` and `x.y` (y may be a submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_edge(rel: str) -> bool:
    return rel.startswith("server/web/") or rel.endswith("/http.py")


def test_only_the_http_edge_imports_aiohttp_web():
    offenders = {
        _rel(p): sorted(m for m in _imports(p) if m.startswith(WEB_MODULES))
        for p in _sources("server", "actors", "models")
        if not _is_edge(_rel(p))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_actors_never_import_the_http_edge():
    offenders = {
        _rel(p): sorted(
            m
            for m in _imports(p)
            if m == "server.web" or m.startswith("server.web.") or m.endswith(".http")
        )
        for p in _sources("actors")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_domain_code_wakes_actors_by_name_and_http_sends_only_to_its_own_flow():
    offenders: dict[str, list[str]] = {}
    for path in _sources("server"):
        rel = _rel(path)
        actors = sorted(m for m in _imports(path) if m == "actors" or m.startswith("actors."))
        if not actors or rel in COMPOSITION_ROOTS:
            continue
        if rel.endswith("/http.py"):
            flow = rel.split("/")[1]
            allowed = {f"actors.{flow}", *(f"actors.{flow}.{n}" for n in _exported_actors(flow))}
            actors = [m for m in actors if m not in allowed]
        if actors:
            offenders[rel] = actors
    assert offenders == {}


def _exported_actors(flow: str) -> set[str]:
    module = ROOT / "actors" / f"{flow}.py"
    if not module.exists():
        return set()
    tree = ast.parse(module.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.decorator_list
    }


def test_models_import_nothing_of_the_app():
    offenders = {
        _rel(p): sorted(m for m in _imports(p) if m.startswith(("server", "actors")))
        for p in _sources("models")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("from aiohttp import web", "aiohttp.web"),
        ("import aiohttp.web_request", "aiohttp.web_request"),
        ("from actors.sync import sync_shop", "actors.sync"),
        ("from server.sync import http", "server.sync.http"),
    ],
)
def test_the_scanner_sees_imports_inside_functions(tmp_path, statement, expected):
    # The rules are only as good as _imports: it must see imports wherever they stand.
    path = tmp_path / "probe.py"
    path.write_text(f"def f():\n    {statement}\n")
    assert expected in _imports(path)
