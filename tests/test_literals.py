"""The vectorized literal parser equals ast.literal_eval, cell by cell."""

from __future__ import annotations

import ast
import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import STANDIN_MOVIES
from movierec.etl.literals import Kind, parse_records, unescape
from movierec.etl.rules import CAST_SCHEMA, COLLECTION_SCHEMA, CREW_SCHEMA, KEYWORD_SCHEMA, MOVIE_LISTS


def expected(cells: list[str | None], schema: dict[str, Kind], container: str = "list") -> list[tuple]:
    """What ast.literal_eval gives: (row, position, *fields) for every dict of every cell."""
    out = []
    for row, cell in enumerate(cells):
        if cell is None or not cell.strip():
            continue
        value = ast.literal_eval(cell)
        dicts = [value] if container == "dict" else value
        for pos, item in enumerate(dicts):
            out.append((row, pos, *[item.get(key) for key in schema]))
    return out


def parsed(
    cells: list[str | None], schema: dict[str, Kind], container: str = "list", **kw
) -> tuple[list[tuple], list[int]]:
    records, bad = parse_records(pl.DataFrame({"c": cells}, schema={"c": pl.String}), "c", schema, container, **kw)
    return records.select("_row", "_pos", *schema).rows(), bad.to_list()


SCHEMA: dict[str, Kind] = {"id": "int", "name": "str"}

TRICKY = [
    "[{'id': 1, 'name': 'Tom Hanks'}, {'id': 2, 'name': 'Tim Allen'}]",
    """[{'id': 3, 'name': "O'Brien"}]""",
    r"[{'id': 4, 'name': 'O\'Brien \"the\" Great'}]",
    r"[{'id': 5, 'name': 'Caf\xe9 \u6771\u4eac \U0001f600'}]",
    r"[{'id': 6, 'name': 'line\nbreak\ttab \\ backslash'}]",
    "[{'id': 7, 'name': None}]",
    "[{'id': None, 'name': 'no id'}]",
    "[]",
    "",
    None,
    "[{'name': 'reversed', 'id': 8}]",
    "[{'id': 9, 'name': 'a {b}: c, 'd''}]".replace("'d''", "d'"),
    "[{'id': 10, 'name': 'Amélie 東京'}]",
    "[{'id': 11}]",
    "[{'id': 12, 'name': 'x'}, {'name': 'only name'}]",
    "[{'id': 13, 'id': 14, 'name': 'repeated key'}, {'name': 'lacks id'}]",
    "[ {'id' : 15 ,'name':'loose spacing'} ]",
    "[{'id': -16, 'name': 'negative'}]",
    """[{'id': 17, 'name': "she said 'hi': {x}"}]""",
    "[{'id': 18, 'name': 'extra', 'profile_path': '/a.jpg', 'gender': 2}]",
]


def test_tricky_cells_equal_literal_eval() -> None:
    got, bad = parsed(TRICKY, SCHEMA)
    assert bad == []
    assert got == expected(TRICKY, SCHEMA)


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
def test_chunking_does_not_change_the_result(chunk_rows: int) -> None:
    got, bad = parsed(TRICKY, SCHEMA, chunk_rows=chunk_rows)
    assert bad == [] and got == expected(TRICKY, SCHEMA)


@pytest.mark.parametrize(
    "cell",
    [
        "[{'id': 1, 'name': 'unterminated'",
        "oops",
        "[{'id': [1], 'name': 'nested list'}]",
        "[{'id': 'one', 'name': 'string where an int belongs'}]",
        "[{'id': 1, 'name': 2}]",
        "[{'id': 1, 'name': 'x'}] trailing",
        "{'id': 1, 'name': 'a dict, not a list'}",
        "[{'id': 1.5, 'name': 'float id'}]",
    ],
)
def test_bad_cells_are_reported_not_raised(cell: str) -> None:
    cells = ["[{'id': 1, 'name': 'fine'}]", cell, "[{'id': 2, 'name': 'also fine'}]"]
    got, bad = parsed(cells, SCHEMA)
    assert bad == [1]
    assert got == [(0, 0, 1, "fine"), (2, 0, 2, "also fine")]


def test_single_dict_container() -> None:
    cells = [
        "{'id': 10194, 'name': 'Toy Story Collection', 'poster_path': '/x.jpg', 'backdrop_path': None}",
        "",
        "{'id': 1, 'name': \"Ocean's Collection\"}",
        "[{'id': 1, 'name': 'a list'}]",
        "nan",
    ]
    got, bad = parsed(cells, COLLECTION_SCHEMA, "dict")
    assert bad == [3, 4]
    assert got == expected([c if i not in (3, 4) else None for i, c in enumerate(cells)], COLLECTION_SCHEMA, "dict")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_unescape_matches_python() -> None:
    for literal in [r"'O\'Brien'", r"'\x41\u00e9\U0001F600'", r"'\\\n\t\r'", r"'\101\7'", r"'\d stays'"]:
        assert unescape(literal[1:-1]) == ast.literal_eval(literal)


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
people = st.lists(
    st.fixed_dictionaries(
        {
            "cast_id": st.integers(0, 999),
            "character": names,
            "gender": st.one_of(st.none(), st.integers(0, 2)),
            "id": st.integers(1, 10**9),
            "name": st.one_of(st.none(), names),
            "order": st.integers(0, 300),
        }
    ),
    max_size=6,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(people, min_size=1, max_size=8))
def test_any_repr_cell_parses_exactly(cells: list[list[dict]]) -> None:
    raw = [repr(cell) for cell in cells]
    schema: dict[str, Kind] = {"id": "int", "name": "str", "character": "str", "order": "int", "gender": "int"}
    got, bad = parsed(raw, schema, chunk_rows=3)
    assert bad == []
    assert got == expected(raw, schema)


def _column(path: Path, name: str) -> list[str | None]:
    frame = pl.read_csv(path, infer_schema=False, columns=[name])
    return frame[name].to_list()


@pytest.mark.slow
def test_real_sample_equals_literal_eval_cell_by_cell(sample_raw: Path) -> None:
    checks: list[tuple[str, str, dict[str, Kind], str]] = [
        ("movies_metadata.csv.gz", raw, schema, "list") for raw, _, schema, _ in MOVIE_LISTS
    ]
    checks += [
        ("movies_metadata.csv.gz", "belongs_to_collection", COLLECTION_SCHEMA, "dict"),
        ("credits.csv.gz", "cast", CAST_SCHEMA, "list"),
        ("credits.csv.gz", "crew", CREW_SCHEMA, "list"),
        ("keywords.csv.gz", "keywords", KEYWORD_SCHEMA, "list"),
    ]
    for file, column, schema, container in checks:
        cells = _column(sample_raw / file, column)
        got, bad = parsed(cells, schema, container)
        assert bad == [], (file, column)
        assert got == expected(cells, schema, container), (file, column)
        assert len(got) > 0


def test_standin_equals_literal_eval_cell_by_cell(standin_raw: Path) -> None:
    """The stand-in (15,000 films, 5 copies with new people): every cast, crew and genres cell;
    literal_eval runs once per distinct cell."""
    for file, column, schema in [
        ("credits.csv", "cast", CAST_SCHEMA),
        ("credits.csv", "crew", CREW_SCHEMA),
        ("movies_metadata.csv", "genres", {"id": "int", "name": "str"}),
    ]:
        cells = _column(standin_raw / file, column)
        got, bad = parsed(cells, schema)
        assert bad == []
        cache: dict[str, list] = {}
        want = []
        for row, cell in enumerate(cells):
            if cell not in cache:
                cache[cell] = [tuple(d.get(k) for k in schema) for d in ast.literal_eval(cell)] if cell else []
            want.extend((row, pos, *fields) for pos, fields in enumerate(cache[cell]))
        assert got == want, (file, column)
        assert len(cells) >= STANDIN_MOVIES


def test_sample_files_are_the_real_layout(sample_raw: Path) -> None:
    with gzip.open(sample_raw / "credits.csv.gz", "rt") as handle:
        assert handle.readline().strip() == "cast,crew,id"
