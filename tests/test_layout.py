"""The house keeps one direction: each app imports only the floors below it, and no two modules import each other.

The floors (README, "Layout"), from the ground up. An app may import its own floor's lower neighbours as listed and
anything below; `coalition/` is the composition root (settings, urls, the Celery app, the launcher) and may import
anything. Migrations are history and are left out; tests and the benchmark are not rooms of the house.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Lowest first. Within a floor the order holds too: a package imports only those before it.
FLOORS: list[list[str]] = [
    ["idempotency"],
    ["utilities"],
    ["accounts"],
    ["places"],
    ["pledges"],
    ["meetings", "imports"],
    ["outcomes"],
    ["dashboard"],
    ["backups"],
]
ORDER = {package: (floor, index) for floor, packages in enumerate(FLOORS) for index, package in enumerate(packages)}
COMPOSITION_ROOT = "coalition"
PACKAGES = {*ORDER, COMPOSITION_ROOT}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, name: str) -> set[str]:
    """Every module of the house that `path` imports, at the top or inside a function alike."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for target in imports_of(path, name):
            while target and target not in known:
                target = target.rpartition(".")[0]  # `from pledges.models import Pledge` is an arrow to the module
            if target and target != name:
                edges[name].add(target)
    return edges


def test_every_arrow_points_down() -> None:
    against = sorted(
        f"{source} -> {target}"
        for source, targets in graph().items() for target in targets
        if (here := source.split(".")[0]) != COMPOSITION_ROOT
        and (there := target.split(".")[0]) != here
        and (there == COMPOSITION_ROOT or ORDER[there] > ORDER[here])
    )
    assert not against, "imports against the floors (README, Layout):\n" + "\n".join(against)


def test_no_two_modules_import_each_other() -> None:
    edges = graph()
    loops = sorted({tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if a in edges.get(b, ())})
    assert not loops, f"modules that import each other: {loops}"


def test_the_floors_name_every_app() -> None:
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= PACKAGES, f"an app the layout does not place: {sorted(apps - PACKAGES)}"


def test_tasks_are_sent_by_name_only_through_the_queue_helper() -> None:
    """`send_task` without `ignore_result` subscribes to the Redis result channel first, and a request then waits
    for Redis's reconnection retries when it is down (tests/hardening/test_fault_brief_queue.py): every send by
    name goes through utilities.queue, which sets it."""
    senders = {name for name, path in modules().items()
               if any(isinstance(node, ast.Attribute) and node.attr == "send_task"
                      for node in ast.walk(ast.parse(path.read_text())))}
    assert senders <= {"utilities.queue"}, senders


def test_no_module_is_over_600_lines() -> None:
    """A module that grows past this is two things; split it by what the parts do (migrations and the benchmark,
    which are not rooms of the house, excepted)."""
    long = {name: count for name, path in modules().items()
            if (count := len(path.read_text().splitlines())) > 600}
    assert long == {}, long
