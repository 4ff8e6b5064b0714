"""The floors of docs/architecture.md, checked on the imports themselves (AST, no database).

Top to bottom, each importing only its own floor or below:
  5 entry points: server/cli.py, actors/*, the app factory, server/flows.py (the flows'
    composition root), serve;
  4 the edge: server/web/ and each flow's `http.py`;
  3 the flows: one package each under server/ (shops: install and uninstall; webhooks,
    sync, privacy, pixel, billing, proxy, ext, flow, admin), and no flow imports another;
  2 the shop core: the shops' tokens, the Shopify client, security, the services bundle;
  1 the platform: the other modules at the top of server/ (config, db, logs, metrics,
    group commit, wake, tasks, problem, pagination, the registries flows fill in, ...);
  0 models.

Also: only the HTTP edge imports aiohttp's web framework; actors never import the edge;
every actor is declared under a name of server/actor_names.py and every send goes by name
through server/tasks.py; every module that fills a shared registry is imported by
server/flows.py.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_MODULES = ("aiohttp.web", "aiohttp.abc", "aiohttp.web_")

ENTRY, EDGE, FLOW, CORE, PLATFORM, MODELS = 5, 4, 3, 2, 1, 0
FLOOR_NAMES = {5: "entry", 4: "edge", 3: "flow", 2: "core", 1: "platform", 0: "models"}
# Entry points that live beside the modules of a lower floor.
ENTRY_MODULES = {
    "server/__main__.py",
    "server/cli.py",
    "server/deliveries_command.py",  # `deliveries list|retry`: reads two flows' tables
    "server/flows.py",
    "server/web/app.py",
    "server/web/serve.py",
}
CORE_MODULES = {"server/shops/tokens.py", "server/services.py"}
CORE_PACKAGES = {"shopify", "security"}


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


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


def _module_file(module: str) -> str | None:
    """The file of an app module (`server.sync.runs` -> server/sync/runs.py), or None when
    `module` names no file (an attribute: `server.sync.runs.start`)."""
    path = ROOT / Path(*module.split("."))
    if path.with_suffix(".py").is_file():
        return _rel(path.with_suffix(".py"))
    if (path / "__init__.py").is_file():
        return _rel(path / "__init__.py")
    return None


def _app_imports(path: Path) -> set[str]:
    """The app files `path` imports."""
    files = {
        _module_file(m) for m in _imports(path) if m.split(".")[0] in {"server", "actors", "models"}
    }
    return {f for f in files if f is not None and f != _rel(path)}


def floor(rel: str) -> int:
    """The floor of an app file."""
    parts = rel.split("/")
    if rel in ENTRY_MODULES or parts[0] == "actors":
        return ENTRY
    if parts[0] == "models":
        return MODELS
    if parts[1] == "web" or rel.endswith("/http.py"):
        return EDGE
    if rel in CORE_MODULES or parts[1] in CORE_PACKAGES:
        return CORE
    if len(parts) == 2:
        return PLATFORM
    return FLOW


def flow_of(rel: str) -> str | None:
    """The flow a file belongs to (its package under server/), None outside the flows."""
    parts = rel.split("/")
    if parts[0] != "server" or len(parts) < 3 or parts[1] == "web":
        return None
    if floor(rel) not in (FLOW, EDGE):
        return None
    return parts[1]


def _offenders(check) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in _sources("server", "actors", "models"):
        rel = _rel(path)
        bad = sorted(target for target in _app_imports(path) if check(rel, target))
        if bad:
            found[rel] = bad
    return found


def _upward(rel: str, target: str) -> bool:
    return floor(target) > floor(rel)


def _crosses(rel: str, target: str) -> bool:
    mine, theirs = flow_of(rel), flow_of(target)
    return mine is not None and theirs is not None and mine != theirs


@pytest.mark.parametrize(
    ("rel", "target", "upward", "crosses"),
    [
        # The arrows issue 25 found: each is refused.
        ("server/db.py", "server/pixel/partitions.py", True, False),
        ("server/services.py", "server/sync/engine.py", True, False),
        ("server/sync/http.py", "actors/sync.py", True, False),
        ("server/webhooks/topics.py", "server/privacy/requests.py", False, True),
        ("server/shops/uninstall.py", "server/sync/runs.py", False, True),
        ("server/billing/http.py", "server/pixel/http.py", False, True),
        # And what the floors allow.
        ("server/sync/engine.py", "server/shops/tokens.py", False, False),
        ("server/web/keys.py", "server/pixel/ingest.py", False, False),
        ("server/pixel/http.py", "server/pixel/ingest.py", False, False),
        ("actors/sync.py", "server/sync/engine.py", False, False),
    ],
)
def test_the_checks_refuse_the_arrows_they_name(rel, target, upward, crosses):
    assert (_upward(rel, target), _crosses(rel, target)) == (upward, crosses)


def test_each_floor_imports_only_its_own_floor_or_below():
    offenders = _offenders(_upward)
    named = {
        f"{rel} ({FLOOR_NAMES[floor(rel)]})": [f"{t} ({FLOOR_NAMES[floor(t)]})" for t in targets]
        for rel, targets in offenders.items()
    }
    assert named == {}


def test_no_flow_imports_another():
    assert _offenders(_crosses) == {}


def test_the_floors_cover_every_file():
    # A new top-level package or folder must be placed on a floor on purpose.
    known = {"web", *CORE_PACKAGES, "shops", "webhooks", "sync", "privacy", "pixel"}
    known |= {"billing", "proxy", "ext", "flow", "admin"}
    folders = {p.parent.name for p in _sources("server") if p.parent != ROOT / "server"}
    assert folders <= known, folders - known


def test_only_the_http_edge_imports_aiohttp_web():
    offenders = {
        _rel(p): sorted(m for m in _imports(p) if m.startswith(WEB_MODULES))
        for p in _sources("server", "actors", "models")
        if floor(_rel(p)) not in (EDGE,)
        and _rel(p) not in {"server/web/app.py", "server/web/serve.py"}
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_actors_never_import_the_http_edge():
    offenders = {
        _rel(p): sorted(t for t in _app_imports(p) if floor(t) == EDGE) for p in _sources("actors")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


# ----------------------------------------------------------------------- actors


def _actor_names() -> dict[str, str]:
    """server/actor_names.py: constant -> the registered name."""
    tree = ast.parse((ROOT / "server/actor_names.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _actor_decorators() -> list[tuple[str, str, ast.Call]]:
    """(file, function, the @dramatiq.actor(...) call) of every actor declared in actors/."""
    found = []
    for path in _sources("actors"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and ast.unparse(deco.func) == "dramatiq.actor":
                        found.append((_rel(path), node.name, deco))
    return found


def test_every_actor_is_declared_under_a_name_of_actor_names():
    names = _actor_names()
    declared: list[str] = []
    for rel, function, call in _actor_decorators():
        keyword = {k.arg: k.value for k in call.keywords}.get("actor_name")
        assert keyword is not None, f"{rel}: {function} has no actor_name="
        constant = ast.unparse(keyword).removeprefix("actor_names.")
        assert constant in names, f"{rel}: {function}'s name is not from server/actor_names.py"
        declared.append(names[constant])
    assert sorted(declared) == sorted(set(names.values()))  # each name once, none unused


def test_the_registered_names_are_those_of_actor_names(stub_broker):
    from actors.broker import iter_actors

    assert {a.actor_name for a in iter_actors()} == set(_actor_names().values())


# Actor names typed as strings in files being rewritten elsewhere (the hot paths); the
# test fails once one goes, so the exception goes with it.
NAME_STRINGS_ALLOWED: set[tuple[str, str]] = set()


def test_actor_names_are_typed_once():
    # One-word names (ping) are too common a word to hunt for; `__all__` names functions.
    names = {n for n in _actor_names().values() if "_" in n}
    found = set()
    for path in _sources("server", "actors"):
        rel = _rel(path)
        if rel == "server/actor_names.py":
            continue
        tree = ast.parse(path.read_text())
        exports = {
            id(element)
            for node in tree.body
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
            for element in ast.walk(node.value)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in exports:
                found.add((rel, node.value))
    assert found == NAME_STRINGS_ALLOWED


def test_every_send_goes_by_name_through_tasks():
    # get_actor / send_with_options only in server/tasks.py; no actor function's .send.
    actor_functions = {function for _rel_, function, _call in _actor_decorators()}
    offenders = []
    for path in _sources("server", "actors"):
        rel = _rel(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            if node.attr in {"get_actor", "send_with_options"} and rel != "server/tasks.py":
                offenders.append(f"{rel}: .{node.attr}")
            if (
                node.attr in {"send", "send_with_options"}
                and isinstance(node.value, ast.Name)
                and node.value.id in actor_functions
            ):
                offenders.append(f"{rel}: {node.value.id}.{node.attr}")
    assert offenders == []


# ------------------------------------------------------------------- registries

REGISTRIES = {
    "register_topics",
    "UNINSTALL_STEPS",
    "RESEND_STEPS",
    "RETENTION_STEPS",
    "AFTER_MIGRATIONS",
    "PROXY_ROUTES",
    "CUSTOMER_REDACT_STEPS",
    "EXT_ROUTES",
    "FLOW_ACTIONS",
}


def _fills_a_registry(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in REGISTRIES:
            return True
        if (
            isinstance(func, ast.Attribute)
            and func.attr in {"register", "append"}
            and isinstance(func.value, ast.Name)
            and func.value.id in REGISTRIES
        ):
            return True
    return False


def test_every_module_that_fills_a_registry_is_imported_by_the_composition_root():
    registering = {_rel(p) for p in _sources("server") if _fills_a_registry(p)}
    assert "server/sync/changes.py" in registering  # the scan sees registrations
    imported = _app_imports(ROOT / "server/flows.py")
    assert registering - imported == set()


def test_the_composition_root_alone_registers_every_topic_of_the_app_toml():
    # A fresh interpreter: nothing imported before it but server.flows.
    code = (
        "import server.flows, orjson\n"
        "from server.webhook_topics import COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS\n"
        "print(orjson.dumps([SUBSCRIBED_TOPICS, COMPLIANCE_TOPICS]).decode())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    import orjson

    subscribed, compliance = orjson.loads(out.stdout)
    app = tomllib.loads((ROOT / "shopify.app.toml").read_text())
    entries = app["webhooks"]["subscriptions"]
    assert sorted(subscribed) == sorted(t for s in entries for t in s.get("topics", []))
    assert sorted(compliance) == sorted(t for s in entries for t in s.get("compliance_topics", []))


# ---------------------------------------------------------------------- scanner


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


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("server/cli.py", ENTRY),
        ("actors/sweeper.py", ENTRY),
        ("server/web/app.py", ENTRY),
        ("server/web/keys.py", EDGE),
        ("server/sync/http.py", EDGE),
        ("server/sync/engine.py", FLOW),
        ("server/shops/uninstall.py", FLOW),
        ("server/shops/tokens.py", CORE),
        ("server/shopify/client.py", CORE),
        ("server/db.py", PLATFORM),
        ("models/shop.py", MODELS),
    ],
)
def test_the_floors_place_files_as_documented(rel, expected):
    assert floor(rel) == expected
