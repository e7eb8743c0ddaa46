"""Hostile input to `movierec etl` (issue 13): the output folder, broken and crafted raw files.

Every refusal is exit code 2 and one `error:` line that names the file and the problem, quotes
at most ~200 characters of the input, and leaves nothing behind.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import Result
from tests.helpers import MOVIES_AND_CREDITS, sample_rows
from typer.testing import CliRunner

from movierec.cli import app
from movierec.etl.run import TABLE_NAMES, run_etl
from movierec.raw.files import HEAD_BYTES, InputError

FILMS = 40


@pytest.fixture
def raw(tmp_path: Path, sample_raw: Path) -> Path:
    """The first films of the real sample (and their credits), as plain UTF-8 CSV."""
    folder = tmp_path / "p" / "raw"
    folder.mkdir(parents=True)
    for name in MOVIES_AND_CREDITS:
        write_rows(folder / name, sample_rows(sample_raw, name, FILMS))
    return folder


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8", newline: str = "\n") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def etl(raw: Path, out: Path) -> Result:
    return CliRunner().invoke(app, ["etl", "--raw", str(raw), "--out", str(out)])


def refused(result: Result, *fragments: str) -> str:
    """The one error line of a refused run, checked: exit 2, no traceback, every fragment in it."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    assert len(errors[0]) < 400, errors[0]
    return errors[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- the output folder: the ETL replaces only what it wrote ---------------------------------------


def test_out_that_holds_the_raw_folder_is_refused_and_nothing_is_deleted(raw: Path) -> None:
    parent = raw.parent
    (parent / "notes.txt").write_text("mine")
    before = snapshot(parent)
    refused(etl(raw, parent), "is or contains the raw folder")
    refused(etl(raw, raw), "is or contains the raw folder")
    assert snapshot(parent) == before
    assert hidden(parent) == [] and hidden(parent.parent) == []


def test_out_with_other_files_is_refused(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8")
    refused(etl(raw, out), "is not the output of a previous `movierec etl`", "holiday.jpg")
    assert snapshot(out) == {"holiday.jpg": b"\xff\xd8"}
    (out / "holiday.jpg").unlink()
    (out / "movies.parquet").write_bytes(b"PAR1")  # an ETL file name, but no report: not an output
    refused(etl(raw, out), "has no report.json")
    (out / "movies.parquet").unlink()
    assert etl(raw, out).exit_code == 0  # an empty folder holds nothing to lose
    assert (out / "report.json").is_file() and hidden(tmp_path) == []


def test_previous_output_is_replaced_and_nothing_hidden_is_left(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert etl(raw, out).exit_code == 0
    first = json.loads((out / "report.json").read_text())
    # A killed run's debris beside it: removed by the next run, when it holds only ETL files.
    (tmp_path / f".out-old-{123}").mkdir()
    (tmp_path / ".out-old-123" / "report.json").write_text("{}")
    (tmp_path / ".out-old-7").mkdir()
    (tmp_path / ".out-old-7" / "diary.txt").write_text("not the ETL's")
    result = etl(raw, out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "report.json").read_text())["inputs"] == first["inputs"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.parquet" for t in TABLE_NAMES] + ["quarantine.parquet", "report.json"]
    )
    assert hidden(tmp_path) == [".out-old-7"]
    (out / "extra.csv").write_text("a user's file")
    refused(etl(raw, out), "extra.csv")
    assert (out / "extra.csv").read_text() == "a user's file"


@pytest.mark.parametrize("kind", ["file", "symlink", "dangling symlink", "under a file"])
def test_out_that_is_no_folder_path_is_refused(raw: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "file.txt").write_text("keep me")
    out = {
        "file": tmp_path / "file.txt",
        "symlink": tmp_path / "link",
        "dangling symlink": tmp_path / "dangling",
        "under a file": tmp_path / "file.txt" / "out",
    }[kind]
    if kind == "symlink":
        out.symlink_to(target)
    if kind == "dangling symlink":
        out.symlink_to(tmp_path / "nowhere")
    message = {
        "file": "is a file, not a folder",
        "symlink": "is a symbolic link",
        "dangling symlink": "symbolic link that dangles",
        "under a file": "is a file, not a folder",
    }[kind]
    before = snapshot(tmp_path)
    refused(etl(raw, out), message)
    assert snapshot(tmp_path) == before
    assert hidden(tmp_path) == []
    assert out.is_symlink() == ("symlink" in kind)


# --- broken raw files: one line naming the file and the problem ---------------------------------


def test_gz_that_is_not_gzip(raw: Path, tmp_path: Path) -> None:
    movies = raw / "movies_metadata.csv"
    movies.rename(raw / "movies_metadata.csv.gz")
    refused(etl(raw, tmp_path / "out"), "movies_metadata.csv.gz: not a valid gzip file")
    assert not (tmp_path / "out").exists() and hidden(tmp_path) == []


def test_zip_that_is_not_zip(raw: Path, tmp_path: Path) -> None:
    (raw / "credits.csv").rename(raw / "credits.csv.zip")
    refused(etl(raw, tmp_path / "out"), "credits.csv.zip: not a valid zip file")


def test_truncated_gz(raw: Path, tmp_path: Path) -> None:
    data = gzip.compress((raw / "credits.csv").read_bytes())
    (raw / "credits.csv").unlink()
    (raw / "credits.csv.gz").write_bytes(data[: len(data) // 2])
    refused(etl(raw, tmp_path / "out"), "credits.csv.gz: the gzip file is truncated")


def test_zip_with_a_corrupt_member(raw: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("credits.csv", (raw / "credits.csv").read_bytes())
    data = bytearray(buffer.getvalue())
    data[len(data) // 3] ^= 0xFF  # a flipped byte inside the deflated data
    (raw / "credits.csv").unlink()
    (raw / "credits.csv.zip").write_bytes(bytes(data))
    refused(etl(raw, tmp_path / "out"), "credits.csv.zip: not a valid zip file")


def test_cp1252_file_is_read_with_the_documented_fallback(raw: Path, tmp_path: Path) -> None:
    """What Excel writes on Windows: the same films as from the UTF-8 file, recorded in the report."""
    movies = raw / "movies_metadata.csv"
    with open(movies, encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if _fits_cp1252(row)]
    title = rows[0].index("title")
    rows[1][title] = "Café € Crème"  # é, € and è exist in cp1252 (€ is 0x80, not in latin-1)
    write_rows(movies, rows)
    assert etl(raw, tmp_path / "utf8").exit_code == 0
    write_rows(movies, rows, encoding="cp1252")
    assert b"Caf\xe9 \x80 Cr\xe8me" in movies.read_bytes()
    result = etl(raw, tmp_path / "cp1252")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "cp1252" / "report.json").read_text())
    assert report["encodings"] == {"movies_metadata.csv": "cp1252", "credits.csv": "utf-8"}
    assert json.loads((tmp_path / "utf8" / "report.json").read_text())["encodings"]["movies_metadata.csv"] == "utf-8"
    for table in TABLE_NAMES:
        assert pl.read_parquet(tmp_path / "cp1252" / f"{table}.parquet").equals(
            pl.read_parquet(tmp_path / "utf8" / f"{table}.parquet")
        ), table
    assert "Café € Crème" in pl.read_parquet(tmp_path / "cp1252" / "movies.parquet")["title"].to_list()


def _fits_cp1252(row: list[str]) -> bool:
    try:
        ",".join(row).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def test_mixed_encodings_are_refused(raw: Path, tmp_path: Path) -> None:
    movies = raw / "movies_metadata.csv"
    lines = movies.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b",", b",Am\xc3\xa9lie ", 1)  # UTF-8 é on line 4 …
    lines[9] = lines[9].replace(b",", b",Am\xe9lie ", 1)  # … and a latin-1 é on line 10
    movies.write_bytes(b"\n".join(lines))
    refused(etl(raw, tmp_path / "out"), "movies_metadata.csv: invalid UTF-8 on line 10", "mixed encodings")


@pytest.mark.parametrize("garbage", ["with NUL", "without NUL"])
def test_binary_garbage_after_a_valid_header(raw: Path, tmp_path: Path, garbage: str) -> None:
    movies = raw / "movies_metadata.csv"
    header = movies.read_bytes().split(b"\n", 1)[0] + b"\n"
    noise = random.Random(13).randbytes(200_000)
    if garbage == "without NUL":
        noise = noise.replace(b"\x00", b"\x81")
    movies.write_bytes(header + noise)
    message = "binary data, not CSV text (a NUL byte on line" if garbage == "with NUL" else "neither UTF-8 nor cp1252"
    refused(etl(raw, tmp_path / "out"), "movies_metadata.csv: ", message)


def test_cr_only_line_endings_are_refused(raw: Path, tmp_path: Path) -> None:
    movies = raw / "movies_metadata.csv"
    with open(movies, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    write_rows(movies, rows, newline="\r")
    refused(etl(raw, tmp_path / "out"), "movies_metadata.csv: its lines end with CR only")


@pytest.mark.parametrize("variant", ["UTF-8 BOM", "CRLF"])
def test_bom_and_crlf_are_accepted(raw: Path, tmp_path: Path, variant: str) -> None:
    assert etl(raw, tmp_path / "plain").exit_code == 0
    for name in ("movies_metadata.csv", "credits.csv"):
        path = raw / name
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        if variant == "UTF-8 BOM":
            write_rows(path, rows, encoding="utf-8-sig")
            assert path.read_bytes().startswith(
                b"\xef\xbb\xbfadult" if name.startswith("movies") else b"\xef\xbb\xbfcast"
            )
        else:
            write_rows(path, rows, newline="\r\n")
    result = etl(raw, tmp_path / "variant")
    assert result.exit_code == 0, result.output
    plain = json.loads((tmp_path / "plain" / "report.json").read_text())
    variant_report = json.loads((tmp_path / "variant" / "report.json").read_text())
    assert variant_report["movies"] == plain["movies"] and variant_report["tables"] == plain["tables"]
    assert variant_report["tables"]["movies"] > 0
    for table in TABLE_NAMES:
        assert pl.read_parquet(tmp_path / "variant" / f"{table}.parquet").equals(
            pl.read_parquet(tmp_path / "plain" / f"{table}.parquet")
        ), table


# --- size: capped while decompressing, refused before the whole file is inflated -----------------


def zip_of(path: Path, member: str, chunks: int, chunk: bytes, head: bytes = b"") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(member, "w") as out:
        out.write(head)
        for _ in range(chunks):
            out.write(chunk)


def test_zip_of_nul_bytes_is_refused_from_its_first_bytes(raw: Path, tmp_path: Path) -> None:
    """The issue's 1 GiB of NUL bytes, scaled down: refused from the first 64 KB, not echoed."""
    (raw / "movies_metadata.csv").unlink()
    zip_of(raw / "movies_metadata.csv.zip", "movies_metadata.csv", 64, bytes(1 << 20))
    line = refused(etl(raw, tmp_path / "out"), "movies_metadata.csv.zip: binary data, not CSV text")
    assert "\x00" not in line


def test_decompressed_size_is_capped(raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip of one row repeated (the issue's 1 GiB case) over a cap set small for the test."""
    movies = raw / "movies_metadata.csv"
    header, row = movies.read_bytes().split(b"\n")[:2]
    movies.unlink()
    zip_of(raw / "movies_metadata.csv.zip", "movies_metadata.csv", 3_000, (row + b"\n") * 4, header + b"\n")
    assert (raw / "movies_metadata.csv.zip").stat().st_size < 1 << 20
    monkeypatch.setenv("MOVIEREC_MAX_INPUT_BYTES", str(4 << 20))
    refused(
        etl(raw, tmp_path / "out"),
        "movies_metadata.csv.zip: more than 4,194,304 bytes once decompressed",
        "MOVIEREC_MAX_INPUT_BYTES",
    )
    monkeypatch.setenv("MOVIEREC_MAX_INPUT_BYTES", str(16 << 20))
    result = etl(raw, tmp_path / "out")  # the same file under a larger cap: read, duplicates quarantined
    assert result.exit_code == 0, result.output
    assert "1 films kept, 0 repaired, 11,999 quarantined" in result.output
    with pytest.raises(InputError, match=r"movies_metadata\.csv\.zip: [\d,]+ bytes, more than the 1,000 accepted"):
        run_etl(raw, tmp_path / "other", max_input_bytes=1_000)


@pytest.mark.parametrize("content", ["no line break", "header then no line break"])
def test_file_without_line_break_is_refused(raw: Path, tmp_path: Path, content: str) -> None:
    """The issue's 200 MB line, scaled down: never '0 films kept, exit 0'."""
    movies = raw / "movies_metadata.csv"
    header = movies.read_bytes().split(b"\n", 1)[0]
    body = b"a" * (3 * HEAD_BYTES) if content == "no line break" else header + b"," + b"x," * HEAD_BYTES
    movies.write_bytes(body)
    line = refused(etl(raw, tmp_path / "out"), f"movies_metadata.csv: no line break in its first {HEAD_BYTES:,} bytes")
    assert "aaaa" in line or "adult" in line


def test_error_messages_quote_at_most_200_characters(raw: Path, tmp_path: Path) -> None:
    (raw / "credits.csv").write_text(",".join(f"column_{i}" for i in range(3000)) + "\n1,2\n")
    line = refused(etl(raw, tmp_path / "out"), "credits.csv: missing columns cast, crew, id (found: column_0, column_1")
    assert "characters)" in line


def test_header_only_movies_file_gives_empty_tables(raw: Path, tmp_path: Path) -> None:
    """`movierec etl` alone accounts for zero rows; `movierec pipeline` refuses to publish it
    (tests/test_hostile_release.py)."""
    movies = raw / "movies_metadata.csv"
    movies.write_bytes(movies.read_bytes().split(b"\n", 1)[0] + b"\n")
    result = etl(raw, tmp_path / "out")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["movies"]["rows_read"] == 0 and report["tables"]["movies"] == 0
    assert report["credits"]["dropped"] == FILMS
