"""The README against the code: every command, every setting and every module it should name.

A README that drifts from the code misleads the next engineer more than no README; these tests
read both and fail on the first name one has and the other lacks.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from movierec.cli import app
from movierec.config import PREFIX, REPO_ROOT, Settings

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
PACKAGE = REPO_ROOT / "src" / "movierec"


def _section(title: str) -> str:
    """The README's text under ``## title`` up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, flags=re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _code_block(text: str) -> str:
    match = re.search(r"^```\n(.*?)^```", text, flags=re.M | re.S)
    assert match, "no code block"
    return match.group(1)


def _module_rows() -> dict[str, str]:
    """The module table of '## Data flow': first cell (`raw/`, `config.py`) → the row's text."""
    rows = {}
    for line in _section("Data flow").splitlines():
        if match := re.match(r"\| `([a-z_/.]+)` \|(.*)\|$", line):
            rows[match.group(1)] = match.group(2)
    return rows


def _folders() -> list[str]:
    """Every package folder of src/movierec, as the table names it (``report/sections/``)."""
    return sorted(
        str(path.parent.relative_to(PACKAGE)) + "/" for path in PACKAGE.rglob("__init__.py") if path.parent != PACKAGE
    )


def _commands() -> list[str]:
    return sorted(c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands if c.callback)


def test_every_command_is_in_the_command_line_block() -> None:
    block = _code_block(_section("Command line"))
    listed = sorted(set(re.findall(r"^movierec ([a-z-]+)", block, flags=re.M)))
    assert listed == _commands()


def test_every_setting_is_in_the_settings_table() -> None:
    variables = sorted(PREFIX + f.name.upper() for f in dataclasses.fields(Settings))
    table = _section("Settings")
    assert [v for v in variables if f"`{v}`" not in table] == []
    # and the table names no setting that does not exist
    assert sorted(set(re.findall(rf"`({PREFIX}[A-Z_]+)`", table))) == variables


def test_the_module_table_has_a_row_per_folder_and_top_module() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert sorted(_module_rows()) == sorted(_folders() + top)


@pytest.mark.parametrize("folder", _folders())
def test_every_module_of_a_folder_is_named_in_its_row(folder: str) -> None:
    row = _module_rows().get(folder, "")
    modules = sorted(p.stem for p in (PACKAGE / folder).glob("*.py") if p.stem != "__init__")
    assert [m for m in modules if not re.search(rf"`{m}(\.py)?`", row)] == []


def test_the_data_flow_drawing_shows_every_stage() -> None:
    drawing = _code_block(_section("Data flow"))
    stages = sorted({f.split("/")[0] for f in _folders()} | {"pipeline"})
    assert [s for s in stages if not re.search(rf"\b{s}\b", drawing)] == []
