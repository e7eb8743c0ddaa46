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
    graph = {m: {t for t in _imports(p, set(modules)) if t != m and not m.startswith(t + ".")}
             for m, p in modules.items()}
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


def test_no_source_file_over_400_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_only_the_evaluation_run_reads_the_evaluation_users() -> None:
    callers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if re.search(r"\bevaluation_users\b", p.read_text()))
    assert callers == ["evaluation/run.py", "evaluation/split.py"]
