"""Film cards (catalog/cards.py): built at publish time from the tables, memory-mapped when served."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from movierec.catalog.cards import CARDS, Card, CardsError, build_cards, open_cards, write_cards
from movierec.catalog.check import CatalogCheckError, check_catalog
from movierec.config import Settings


@pytest.fixture(scope="module")
def expected(sample_tables: Path) -> dict[int, Card]:
    """Every film's card computed with pandas, row by row, from the parquet tables."""
    movies = pd.read_parquet(sample_tables / "movies.parquet", columns=["id", "overview", "collection"])
    genres = pd.read_parquet(sample_tables / "genres.parquet")
    crew = pd.read_parquet(sample_tables / "crew.parquet")
    cast = pd.read_parquet(sample_tables / "cast.parquet").sort_values(["movie_id", "order"], kind="stable")

    def distinct(values: pd.Series) -> list[str]:
        seen: list[str] = []
        for value in values.dropna():
            if value not in seen:
                seen.append(value)
        return seen

    genres_of = genres.groupby("movie_id")["genre"].apply(distinct).to_dict()
    directors_of = crew[crew["job"] == "Director"].groupby("movie_id")["name"].apply(distinct).to_dict()
    cast_of = cast.groupby("movie_id")["name"].apply(lambda names: distinct(names)[:5]).to_dict()

    def text(value: object) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    return {
        int(film.id): Card(
            genres_of.get(film.id, []),
            directors_of.get(film.id, []),
            cast_of.get(film.id, []),
            text(film.overview),
            text(film.collection),
        )
        for film in movies.itertuples()
    }


def test_built_cards_equal_the_tables(sample_tables: Path, expected: dict[int, Card]) -> None:
    frame = build_cards(sample_tables)
    assert frame["id"].to_list() == sorted(expected)  # one row per film, sorted by id
    built = {
        row["id"]: Card(row["genres"], row["directors"], row["cast"], row["overview"], row["collection"])
        for row in frame.iter_rows(named=True)
    }
    assert built == expected
    assert built[862].directors == ["John Lasseter"] and len(built[862].cast) == 5
    assert sum(1 for card in built.values() if not card.directors) > 0  # films without a director exist


def test_the_release_holds_the_cards_and_reads_them_lazily(sample_data: Path, expected: dict[int, Card]) -> None:
    path = sample_data / "current" / CARDS
    cards = open_cards(path)
    assert cards is not None and len(cards) == len(expected)
    for film_id in (862, *list(expected)[::97]):
        assert cards.card(film_id) == expected[film_id]
    assert cards.card(0) is None and cards.card(10**12) is None and cards.card(-5) is None


def mapped_kb(name: str) -> int:
    """The resident kB of this process's mappings of the file ``name`` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(maxsplit=1)[0]
        if "-" in first and all(c in "0123456789abcdef-" for c in first):
            inside = line.endswith(f"/{name}")
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


def test_the_cards_are_mapped_on_the_first_card_not_read(sample_data: Path, expected: dict[int, Card]) -> None:
    path = sample_data / "current" / CARDS
    cards = open_cards(path)
    assert cards is not None and cards._table is None  # nothing opened before a card is asked for
    before = pa.total_allocated_bytes()
    assert cards.card(862) is not None
    # Arrow allocates nothing for a memory-mapped IPC file: the overviews stay in the page cache.
    assert pa.total_allocated_bytes() - before < path.stat().st_size // 100
    # and the pages a card touched are not left resident in the process
    for film_id in list(expected)[::7]:
        assert cards.card(film_id) == expected[film_id]
    assert cards._mapped is not None and len(cards._mapped) == path.stat().st_size
    assert mapped_kb("cards.arrow") == 0


@pytest.mark.slow
def test_the_server_does_not_import_pyarrow_before_a_card(sample_data: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from movierec.catalog.indexes import load_catalog; "
        "from movierec.config import Settings; import movierec.api.app; "
        f"c = load_catalog(Path({str((sample_data / 'current').resolve())!r}), Settings()); "
        "print('pyarrow' in sys.modules, c.cards.card(862).directors, 'pyarrow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "['John", "Lasseter']", "True"]


def test_a_release_without_cards_and_a_broken_file(tmp_path: Path, sample_tables: Path) -> None:
    assert open_cards(tmp_path / "catalog" / "cards.arrow") is None  # an older release
    broken = tmp_path / "broken.arrow"
    broken.write_bytes(b"ARROW1\x00\x00not really")
    cards = open_cards(broken)
    assert cards is not None
    with pytest.raises(CardsError, match="not a readable cards file"):
        cards.card(862)
    other = tmp_path / "other.arrow"
    with pa.OSFile(str(other), "wb") as sink, pa.ipc.new_file(sink, pa.schema([("id", pa.int64())])) as writer:
        writer.write_table(pa.table({"id": [1, 2]}))
    with pytest.raises(CardsError, match="lacks the columns"):
        open_cards(other).card(1)  # type: ignore[union-attr]


def test_a_release_with_a_broken_cards_file_is_refused(tmp_path: Path, sample_data: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree((sample_data / "current").resolve(), release)
    assert check_catalog(release, Settings()) == 2993
    (release / CARDS).write_bytes((release / CARDS).read_bytes()[:1000])  # a truncated file
    with pytest.raises(CatalogCheckError, match="not a readable cards file"):
        check_catalog(release, Settings())


def test_write_cards_replaces_the_file_whole(tmp_path: Path, sample_tables: Path) -> None:
    tables = tmp_path / "tables"
    shutil.copytree(sample_tables, tables)
    target = tmp_path / "release" / CARDS
    assert write_cards(tables, target) == build_cards(sample_tables).height
    assert sorted(p.name for p in target.parent.iterdir()) == ["cards.arrow"]  # no temporary left
    cards = open_cards(target)
    assert cards is not None and cards.card(862) is not None
