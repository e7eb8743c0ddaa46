"""Bounded memory on pathological raw files (issue 13, point 4), at small caps set by the tests.

The quarantine names every row it holds but keeps the raw fields of only the first N rows of each
(file, reason); a file over the byte or line cap is refused naming the setting; ragged records
keep their place (record number, line) however many there are; large inputs read one after the
other give the same tables as small ones read side by side. Peak memory itself is measured by
bench/hostile.py.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import Result
from tests.helpers import sample_rows
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings, SettingsError
from movierec.etl import run as etl_run
from movierec.etl.run import TABLE_NAMES, run_etl
from movierec.raw.csv_table import read_table
from movierec.raw.files import MOVIES_COLUMNS

FILMS = 30
N = 3  # raw fields kept per (file, reason) in these tests
ID = MOVIES_COLUMNS.index("id")
OVERVIEW = MOVIES_COLUMNS.index("overview")


def csv_line(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


def etl(raw: Path, out: Path) -> Result:
    return CliRunner().invoke(app, ["etl", "--raw", str(raw), "--out", str(out)])


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):
    """Set MOVIEREC_* variables for one test (the commands read them when they start)."""

    def set_env(**values: int) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"MOVIEREC_{name.upper()}", str(value))

    yield set_env


class Hostile:
    """A raw folder: the sample's first films, then crafted rows, each noted as the test wrote it:
    (record number (0-based, after the header), first physical line, raw id, reason, fields)."""

    def __init__(self, folder: Path, sample_raw: Path) -> None:
        self.folder = folder
        self.movies = sample_rows(sample_raw, "movies_metadata.csv", FILMS)
        self.credits = sample_rows(sample_raw, "credits.csv", FILMS)
        ids = [row[ID] for row in self.movies[1:]]
        # Preconditions of the expected counts below: the sample's first films are distinct and valid.
        assert len(set(ids)) == FILMS and all(i.isdigit() and int(i) > 0 for i in ids)
        self.lines = [csv_line(row) for row in self.movies]
        self.records = FILMS
        self.expected: list[tuple[int, int, str | None, str, list[str]]] = []

    def add(self, row: list[str], reason: str) -> None:
        self._append(csv_line(row), [(row, reason)])

    def add_broken(self, row: list[str]) -> None:
        """A record split by a bare line break inside its overview: two ragged records, joined."""
        head, tail = [*row[:OVERVIEW], "First half"], ["second half", *row[OVERVIEW + 1 :]]
        reason = "broken record joined with the next line"
        self._append(csv_line(head).rstrip("\n") + "\n" + csv_line(tail), [(head, reason), (tail, reason)])

    def _append(self, text: str, records: list[tuple[list[str], str]]) -> None:
        line = "".join(self.lines).count("\n") + 1
        for n, (fields, reason) in enumerate(records):
            self.expected.append((self.records, line + n, fields[ID] if len(fields) > ID else None, reason, fields))
            self.records += 1
        self.lines.append(text)

    def write(self, credits: list[list[str]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "movies_metadata.csv").write_text("".join(self.lines), encoding="utf-8")
        (self.folder / "credits.csv").write_text("".join(csv_line(row) for row in credits), encoding="utf-8")


@pytest.fixture
def hostile(tmp_path: Path, sample_raw: Path) -> Hostile:
    """The sample's first films; then the first film repeated 7 times (duplicate id), 6 rows with
    an invalid id, 5 records with 3 fields missing, 4 records broken in two, and in credits the
    first film's row repeated 5 times."""
    raw = Hostile(tmp_path / "raw", sample_raw)
    first = raw.movies[1]
    for _ in range(7):
        raw.add(first, "duplicate id")
    for i in range(6):
        raw.add([*first[:ID], f"x{i}", *first[ID + 1 :]], "invalid id")
    for i in range(5):
        raw.add([*first[:ID], str(990_000 + i), *first[ID + 1 : -3]], "malformed record: 21 fields, expected 24")
    for i in range(4):  # the 4th pair's halves are past N of their field counts: kept for the repair
        raw.add_broken([*first[:ID], str(990_100 + i), *first[ID + 1 :]])
    raw.write(raw.credits + [raw.credits[1]] * 5)
    return raw


def test_quarantine_names_every_row_and_keeps_the_fields_of_the_first_n_per_reason(
    hostile: Hostile, tmp_path: Path, settings_env
) -> None:
    settings_env(quarantine_fields_per_reason=N)
    result = etl(hostile.folder, tmp_path / "out")
    assert result.exit_code == 0, result.output
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    movies_q = quarantine.filter(pl.col("source") == "movies_metadata.csv").sort("record")

    # Every crafted row is there, by record, line, raw id and reason; nothing else is.
    assert movies_q.select("record", "line", "raw_id", "reason").rows() == [
        (record, line, raw_id, reason) for record, line, raw_id, reason, _ in hostile.expected
    ]
    # The raw fields: the first N of each reason (in file order), null for the rest.
    seen: dict[str, int] = {}
    for (record, _, _, reason, fields), got in zip(hostile.expected, movies_q["fields"].to_list(), strict=True):
        seen[reason] = seen.get(reason, 0) + 1
        assert got == (fields if seen[reason] <= N else None), (record, reason)
    assert seen == {
        "duplicate id": 7,
        "invalid id": 6,
        "malformed record: 21 fields, expected 24": 5,
        "broken record joined with the next line": 8,
    }

    credits_q = quarantine.filter(pl.col("source") == "credits.csv").sort("record")
    assert credits_q["record"].to_list() == list(range(FILMS, FILMS + 5))
    assert credits_q["reason"].unique().to_list() == ["duplicate id"]
    assert credits_q["fields"].to_list() == [hostile.credits[1]] * N + [None] * 2

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["quarantine"]["fields_per_reason"] == N
    assert report["quarantine"]["entries"] == quarantine.height == 7 + 6 + 5 + 8 + 5
    assert report["quarantine"]["fields_omitted_by_source"] == {
        "credits.csv": {"duplicate id": 2},
        "movies_metadata.csv": {
            "broken record joined with the next line": 5,
            "duplicate id": 4,
            "invalid id": 3,
            "malformed record: 21 fields, expected 24": 2,
        },
    }
    assert report["quarantine"]["fields_omitted"] == 16 == quarantine["fields"].null_count()
    assert "line" in report["quarantine"]["where"]

    # The accounting still adds up, and every broken record was joined (past N of a field count
    # too: the halves of a possible pair keep their text).
    movies = report["movies"]
    assert movies["rows_read"] == movies["kept"] + movies["repaired"] + movies["quarantined"] == FILMS + 7 + 6 + 5 + 8
    assert (movies["kept"], movies["repaired"], movies["quarantined"]) == (FILMS + 4, 4, 7 + 6 + 5)
    credits = report["credits"]
    assert credits["rows_read"] == credits["kept"] + credits["repaired"] + credits["quarantined"] + credits.get(
        "dropped", 0
    )
    kept = set(pl.read_parquet(tmp_path / "out" / "movies.parquet")["id"].to_list())
    assert {990_100, 990_101, 990_102, 990_103} <= kept


def test_without_a_cap_every_row_keeps_its_fields(hostile: Hostile, tmp_path: Path) -> None:
    report = run_etl(hostile.folder, tmp_path / "out", quarantine_fields=1_000)
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert quarantine["fields"].null_count() == 0 and quarantine.height == 31
    assert report["quarantine"] == {"entries": 31, "fields_per_reason": 1_000, "fields_omitted": 0}


# --- ragged records: their place, however many ----------------------------------------------------


def oracle(text: str) -> list[tuple[int, int, int]]:
    """(record, first line, field count) of every record, by Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    out, line = [], reader.line_num + 1
    for number, fields in enumerate(reader):
        out.append((number, line, len(fields)))
        line = reader.line_num + 1
    return out


@pytest.mark.parametrize("extra", [True, False], ids=["extra fields (Arrow)", "missing fields (Polars)"])
def test_many_ragged_records_keep_their_record_and_line(sample_raw: Path, extra: bool) -> None:
    """Every third record ragged, among records with line breaks inside quotes: each record's
    number and first line are what Python's csv reader says; the text of only the first 2 ragged
    records of a field count is kept, the key (id) of all."""
    rows = sample_rows(sample_raw, "movies_metadata.csv", 120)
    lines = [csv_line(rows[0])]
    for n, row in enumerate(rows[1:]):
        if n % 5 == 1:
            row = [*row[:OVERVIEW], f"two\nlines {n}", *row[OVERVIEW + 1 :]]
        if n % 3 == 0:
            row = [*row, "surplus"] if extra else row[:-2]
        lines.append(csv_line(row))
    text = "".join(lines)
    table = read_table(text.encode(), Path("movies_metadata.csv"), MOVIES_COLUMNS, key="id", ragged_texts=2)

    truth = oracle(text)
    good = [(r, line) for r, line, width in truth if width == len(MOVIES_COLUMNS)]
    bad = [(r, line, width) for r, line, width in truth if width != len(MOVIES_COLUMNS)]
    assert len(bad) == 40 and len(good) == 80
    assert table.frame.select("_record", "_line").rows() == good
    assert [(r.record, r.line, r.width) for r in table.ragged] == bad
    assert [r.key for r in table.ragged] == [rows[1 + r][ID] for r, _, _ in bad]
    assert [r.text is not None for r in table.ragged] == [True, True] + [False] * 38
    assert table.ragged[1].fields() == next(csv.reader(io.StringIO(lines[1 + bad[1][0]], newline="")))


# --- caps: refused with one line naming the setting -------------------------------------------------


def refused(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def test_a_file_over_the_byte_cap_is_refused_naming_the_setting(hostile: Hostile, tmp_path: Path, settings_env) -> None:
    hostile.write(hostile.credits[:4])  # credits well under the cap: the movies file is the one refused
    size = (hostile.folder / "movies_metadata.csv").stat().st_size
    settings_env(max_input_bytes=size - 1)
    refused(
        etl(hostile.folder, tmp_path / "out"),
        f"movies_metadata.csv: {size:,} bytes, more than the {size - 1:,} accepted",
        "MOVIEREC_MAX_INPUT_BYTES",
    )
    assert not (tmp_path / "out").exists()
    settings_env(max_input_bytes=size)
    assert etl(hostile.folder, tmp_path / "out").exit_code == 0


def test_a_zip_declaring_more_than_the_cap_is_refused_from_its_header(
    hostile: Hostile, tmp_path: Path, settings_env
) -> None:
    """The member's recorded size is over the cap: refused before inflating (a member that lied
    about its size would fail zipfile's check instead)."""
    hostile.write(hostile.credits[:4])
    movies = hostile.folder / "movies_metadata.csv"
    data = movies.read_bytes()
    movies.unlink()
    with zipfile.ZipFile(hostile.folder / "movies_metadata.csv.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("movies_metadata.csv", data)
    settings_env(max_input_bytes=len(data) - 1)
    refused(
        etl(hostile.folder, tmp_path / "out"),
        f"movies_metadata.csv.zip: more than {len(data) - 1:,} bytes once decompressed",
        "MOVIEREC_MAX_INPUT_BYTES",
    )


def test_a_file_over_the_line_cap_is_refused_naming_the_setting(hostile: Hostile, tmp_path: Path, settings_env) -> None:
    lines = (hostile.folder / "movies_metadata.csv").read_bytes().count(b"\n")
    settings_env(max_input_lines=lines - 1)
    refused(
        etl(hostile.folder, tmp_path / "out"),
        f"movies_metadata.csv: {lines:,} lines, more than the {lines - 1:,} accepted",
        "MOVIEREC_MAX_INPUT_LINES",
    )
    settings_env(max_input_lines=lines)
    assert etl(hostile.folder, tmp_path / "out").exit_code == 0


def test_the_new_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="MOVIEREC_QUARANTINE_FIELDS_PER_REASON must be at least 0"):
        Settings.from_env({"MOVIEREC_QUARANTINE_FIELDS_PER_REASON": "-1"})
    with pytest.raises(SettingsError, match="MOVIEREC_MAX_INPUT_LINES must be at least 1"):
        Settings.from_env({"MOVIEREC_MAX_INPUT_LINES": "0"})
    assert Settings().max_input_bytes == 512 << 20  # 2.7x the real credits.csv, the largest input


# --- large inputs are read one after the other: same tables ---------------------------------------


def test_inputs_read_one_after_the_other_give_the_same_tables(
    hostile: Hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = run_etl(hostile.folder, tmp_path / "side")
    monkeypatch.setattr(etl_run, "SIDE_BY_SIDE_BYTES", 0)
    serial = run_etl(hostile.folder, tmp_path / "serial")
    for name in [*TABLE_NAMES, "quarantine"]:
        assert pl.read_parquet(tmp_path / "serial" / f"{name}.parquet").equals(
            pl.read_parquet(tmp_path / "side" / f"{name}.parquet")
        ), name
    timing = ("seconds", "steps")
    assert {k: v for k, v in serial.items() if k not in timing} == {k: v for k, v in side.items() if k not in timing}
