"""The package's shape (issue 7): imports point one way (no cycle), small files, and the
evaluation users' ratings are read in exactly one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from movierec.config import REPO_ROOT

SRC = REPO_ROOT / "src"
PACKAGE = SRC / "movierec"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(path: Path, known: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {
        m: {t for t in _imports(p, set(modules)) if t != m and not m.startswith(t + ".")} for m, p in modules.items()
    }
    # a module reaching itself again through its imports is a cycle
    cycles = []
    for start in graph:
        seen, stack = set(), list(graph[start])
        while stack:
            node = stack.pop()
            if node == start:
                cycles.append(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(graph[node])
    assert cycles == []


#: Which folders (stages) each folder may import: the data flow ``raw → etl → tables → {model, catalog}
#: → release → api / report``, with the protocol (split, holdout, metrics) a leaf below both model and
#: evaluation, and the orchestrators (pipeline, refresh, cli) on top. A top-level module
#: (``config``, ``pipeline``) counts as a folder of its own.
ALLOWED = {
    "config": set(),
    "vocabulary": set(),
    "protocol": set(),
    "raw": {"config"},
    "etl": {"config", "raw"},
    "release": {"config", "raw"},
    "model": {"config", "protocol", "raw", "release"},  # train.py, the I/O edge, writes the release layout's files
    "evaluation": {"config", "protocol", "raw", "model", "release"},
    "catalog": {"config", "model", "release", "vocabulary"},
    "report": {"config", "raw", "release", "vocabulary"},
    "api": {"config", "release", "catalog", "vocabulary"},
    "pipeline": {"config", "raw", "etl", "model", "catalog", "evaluation", "release", "report"},
    "refresh": {"config", "raw", "etl", "catalog", "release", "pipeline"},
    "cli": {
        "config",
        "raw",
        "etl",
        "model",
        "catalog",
        "evaluation",
        "release",
        "report",
        "pipeline",
        "refresh",
        "api",
        "protocol",
    },
    "__main__": {"cli"},
}


def _folder_graph() -> dict[str, set[str]]:
    """Folder → the other folders its modules import (``movierec.model.cf`` is in ``model``)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        folder = name.split(".")[1] if "." in name else name
        graph.setdefault(folder, set())
        for target in _imports(path, set(modules)):
            if "." in target and (other := target.split(".")[1]) != folder:
                graph[folder].add(other)
    return graph


def test_folders_import_only_what_the_table_allows() -> None:
    graph = _folder_graph()
    assert set(graph) - {"movierec"} == set(ALLOWED), "a new folder needs a row in ALLOWED"
    extra = {f: sorted(graph[f] - ALLOWED[f]) for f in ALLOWED if graph[f] - ALLOWED[f]}
    assert extra == {}


def test_no_folder_cycle() -> None:
    """The table itself (and so the code it bounds) has no cycle between folders."""
    order: list[str] = []
    remaining = {f: set(deps) for f, deps in ALLOWED.items()}
    while remaining:
        ready = sorted(f for f, deps in remaining.items() if not deps - set(order))
        assert ready, f"folder cycle among {sorted(remaining)}"
        order += ready
        for f in ready:
            del remaining[f]
    graph = _folder_graph()
    rank = {f: i for i, f in enumerate(order)}
    assert all(rank[t] < rank[f] for f in ALLOWED for t in graph[f])


def test_no_source_file_over_400_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_only_the_evaluation_run_reads_the_evaluation_users() -> None:
    callers = sorted(
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if re.search(r"\bevaluation_users\b", p.read_text())
    )
    assert callers == ["evaluation/run.py", "protocol/split.py"]
