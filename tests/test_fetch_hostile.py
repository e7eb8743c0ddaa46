"""`movierec fetch` against hostile archives (issue 19, items 4, 10, 16): every member is checked
before a byte of it is written, and a refused archive leaves DATA exactly as it was and nothing
outside it. The archives are tiny, built here with tarfile and read through file:// URLs; the
network side (deadline, redirects, SIGTERM, serve) is in test_fetch_hostile_http.py."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.refresh.fetch import FetchError, fetch_release
from movierec.release import archive as archive_module
from movierec.release.layout import MANIFEST, new_name, write_json
from movierec.release.store import ReleaseStore

NOW = datetime.now(UTC)


def manifest(name: str | None = None, created: datetime | None = None) -> bytes:
    name = name or new_name()
    return json.dumps(
        {"release": name, "created_at": (created or NOW).isoformat(timespec="seconds"), "tables": {"movies": 1}}
    ).encode()


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **fields: object
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, len(data) if kind == tarfile.REGTYPE else 0
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> str:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path.as_uri()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder with one (fake) release that is current: what every refusal must leave alone."""
    folder = tmp_path / "data"
    store = ReleaseStore(folder)
    release = store.releases / "20260101T000000000000Z"
    release.mkdir(parents=True)
    write_json(release / MANIFEST, {"release": release.name, "created_at": "2026-01-01T00:00:00+00:00"})
    store.switch(release)
    return folder


def snapshot(root: Path) -> dict[str, object]:
    """Every path under ``root`` (the data folder's parent: what is outside DATA counts too), with
    its size or link target."""
    return {
        str(p.relative_to(root)): (str(p.readlink()) if p.is_symlink() else p.stat().st_size if p.is_file() else "dir")
        for p in sorted(root.rglob("*"))
    }


def refused(url: str, data: Path, message: str, **settings: object) -> None:
    """``url`` is refused with ``message``, and nothing changed in or beside DATA."""
    before = snapshot(data.parent)
    with pytest.raises(FetchError, match=message) as caught:
        fetch_release(url, data, Settings(data_dir=data, **settings))
    assert "\n" not in str(caught.value)
    assert snapshot(data.parent) == before
    assert ReleaseStore(data).current() == data / "releases" / "20260101T000000000000Z"


def test_a_member_with_dotdot_is_refused_and_nothing_is_written_outside(data: Path, tmp_path: Path) -> None:
    url = archive(tmp_path / "archive.tar.gz", [member(MANIFEST, manifest()), member("../x", b"escaped")])
    refused(url, data, r"the archive member \.\./x points outside the release \(\.\.\)")
    assert not (tmp_path / "x").exists() and not (data / "x").exists()


def test_an_absolute_member_is_refused(data: Path, tmp_path: Path) -> None:
    url = archive(tmp_path / "archive.tar.gz", [member(f"{tmp_path}/abs", b"escaped")])
    refused(url, data, "has an absolute or foreign path")
    assert not (tmp_path / "abs").exists()


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (tarfile.SYMTYPE, "a symbolic link"),
        (tarfile.LNKTYPE, "a hard link"),
        (tarfile.CHRTYPE, "a device"),
        (tarfile.FIFOTYPE, "a fifo"),
    ],
)
def test_links_devices_and_fifos_are_refused(data: Path, tmp_path: Path, kind: bytes, what: str) -> None:
    (tmp_path / "secret").write_text("outside")
    members = [
        member("rel", kind=tarfile.DIRTYPE),
        member(f"rel/{MANIFEST}", manifest()),
        member("rel/tables/movies.parquet", kind=kind, linkname=str(tmp_path / "secret")),
    ]
    refused(archive(tmp_path / "archive.tar.gz", members), data, f"is {what}; a release holds only regular files")
    assert (tmp_path / "secret").read_text() == "outside"


def test_a_sparse_member_of_1_gib_is_refused_before_it_is_written(data: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "raw").mkdir(parents=True)
    (source / MANIFEST).write_bytes(manifest())
    with open(source / "raw" / "ratings.csv.gz", "wb") as handle:
        handle.truncate(1 << 30)  # a hole: no block on disk, 1 GiB once unpacked
    path = tmp_path / "archive.tar.gz"
    subprocess.run(["tar", "--sparse", "-czf", str(path), "-C", str(source), MANIFEST, "raw"], check=True)
    shutil.rmtree(source)
    refused(path.as_uri(), data, r"raw/ratings\.csv\.gz is a sparse file")


def test_more_members_than_the_cap_are_refused_at_the_first_one_over(data: Path, tmp_path: Path) -> None:
    """100,000 tiny members a release may hold (1,100 files, then one folder header repeated:
    building 100,000 distinct headers here would take seconds; bench/fetch_hostile.py does)."""
    info = tarfile.TarInfo()
    headers = []
    for i in range(1_100):
        info.name = f"raw/r{i}.csv.gz"
        headers.append(info.tobuf())
    folder = tarfile.TarInfo("raw")
    folder.type = tarfile.DIRTYPE
    path = tmp_path / "archive.tar.gz"
    path.write_bytes(gzip.compress(b"".join(headers) + folder.tobuf() * 98_900 + bytes(1024), 1))
    refused(path.as_uri(), data, r"holds more than 1,000 members \(MOVIEREC_RELEASE_MAX_FILES\)")
    refused(path.as_uri(), data, r"holds more than 10 members", release_max_files=10)


@pytest.mark.parametrize(
    "name",
    [
        "notes.txt",
        "model/sub/neighbours.parquet",
        "tables/movies.csv",
        "catalog/x.so",
        "report/evil.js",
        ".hidden",
        "raw/movies_metadata.csv",
    ],
)
def test_a_name_a_release_does_not_hold_is_refused(data: Path, tmp_path: Path, name: str) -> None:
    members = [member(MANIFEST, manifest()), member(name, b"x")]
    refused(archive(tmp_path / "archive.tar.gz", members), data, "is not a file a release holds")


def test_a_folder_a_release_does_not_hold_is_refused(data: Path, tmp_path: Path) -> None:
    members = [member(MANIFEST, manifest()), member("bin", kind=tarfile.DIRTYPE)]
    refused(archive(tmp_path / "archive.tar.gz", members), data, "bin is not a file a release holds")


def test_two_release_folders_are_refused(data: Path, tmp_path: Path) -> None:
    members = [member(f"a/{MANIFEST}", manifest()), member(f"b/{MANIFEST}", manifest())]
    refused(archive(tmp_path / "archive.tar.gz", members), data, "is outside the release folder a")


def test_a_member_twice_is_refused(data: Path, tmp_path: Path) -> None:
    members = [
        member(MANIFEST, manifest()),
        member("model/neighbours.parquet", b"a"),
        member("model/neighbours.parquet", b"b"),
    ]
    refused(archive(tmp_path / "archive.tar.gz", members), data, "holds model/neighbours.parquet twice")


def test_the_unpacked_size_is_capped_from_the_headers(data: Path, tmp_path: Path) -> None:
    """Members declaring more than the cap are refused before their bytes are written; members
    within it are counted, and the one that crosses the cap is refused."""
    mib = 1 << 20
    one_big = [member(MANIFEST, manifest()), member("raw/ratings.csv.gz", bytes(2 * mib))]
    refused(
        archive(tmp_path / "archive.tar.gz", one_big),
        data,
        r"unpacks to more than MOVIEREC_RELEASE_MAX_BYTES \(1,048,\d+ bytes left for raw/ratings.csv.gz "
        "of 2,097,152",
        release_max_bytes=mib,
    )
    several = [member(MANIFEST, manifest())] + [member(f"raw/r{i}.csv.gz", bytes(mib // 4)) for i in range(4)]
    refused(archive(tmp_path / "archive.tar.gz", several), data, r"left for raw/r3\.csv\.gz", release_max_bytes=mib)


def test_the_written_bytes_are_counted_whatever_the_headers_say(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap holds while writing too: with the header check out of the way, the copy stops at
    the cap (and what it wrote is removed)."""
    monkeypatch.setattr(archive_module, "_check_file", lambda *args: None)
    members = [member(MANIFEST, manifest()), member("raw/ratings.csv.gz", bytes(3 << 20))]
    refused(
        archive(tmp_path / "archive.tar.gz", members),
        data,
        r"unpacks to more than MOVIEREC_RELEASE_MAX_BYTES \(1,048,576 bytes\)$",
        release_max_bytes=1 << 20,
    )


def test_the_downloaded_archive_is_capped(data: Path, tmp_path: Path) -> None:
    path = tmp_path / "archive.tar.gz"
    path.write_bytes(bytes(3 << 20))
    refused(
        path.as_uri(),
        data,
        r"the archive is larger than MOVIEREC_RELEASE_MAX_BYTES \(2,097,152 bytes\)",
        release_max_bytes=2 << 20,
    )


def test_a_large_json_file_is_refused(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "JSON_MAX_BYTES", 100)
    members = [member(MANIFEST, manifest() + b" " * 200)]
    refused(archive(tmp_path / "archive.tar.gz", members), data, r"manifest.json is 3\d\d bytes; a release's JSON")


@pytest.mark.parametrize(
    ("name", "created", "message"),
    [
        ("zzzz-forever-newest", NOW, "names it 'zzzz-forever-newest', not a release name"),
        ("2026010100000000000Z", NOW, "not a release name"),  # a digit short
        ("20261301T000000000000Z", NOW, "not a release name"),  # month 13
        ("２０２６0101T000000000000Z", NOW, "not a release name"),  # full-width digits
        ("20260102T000000000000Z", "yesterday", "has no created_at timestamp with a time zone"),
        ("20260102T000000000000Z", "2026-01-02T00:00:00", "has no created_at timestamp with a time zone"),
        ("20260102T000000000000Z", NOW + timedelta(days=365), "says it was made in the future"),
        ((NOW + timedelta(days=1)).strftime("%Y%m%dT%H%M%S%fZ"), NOW, "says it was made in the future"),
    ],
    # fixed ids: the ones pytest would derive from NOW differ between two collections (xdist's workers)
    ids=[
        "not a name",
        "a digit short",
        "month 13",
        "full-width digits",
        "created a word",
        "created without zone",
        "created in the future",
        "named in the future",
    ],
)
def test_a_manifest_that_names_no_release_is_refused(
    data: Path, tmp_path: Path, name: str, created: object, message: str
) -> None:
    text = json.dumps(
        {"release": name, "created_at": created.isoformat() if isinstance(created, datetime) else created}
    )
    members = [member(MANIFEST, text.encode())]
    refused(archive(tmp_path / "archive.tar.gz", members), data, message)


def test_refusals_are_one_line_and_exit_2(data: Path, tmp_path: Path) -> None:
    url = archive(tmp_path / "archive.tar.gz", [member(MANIFEST, manifest("zzzz-forever-newest"))])
    result = CliRunner().invoke(app, ["fetch", url, "--data", str(data)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    (tmp_path / "garbage.tar.gz").write_bytes(b"\x1f\x8b" + bytes(100))  # gzip magic, then nothing sensible
    result = CliRunner().invoke(app, ["fetch", (tmp_path / "garbage.tar.gz").as_uri(), "--data", str(data)])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("error: ") and "not a readable release archive" in result.output


def test_nothing_is_written_before_every_member_is_checked(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad member (or manifest) at the end of the archive is refused before the good ones ahead
    of it are written: a bomb pays only the reading."""
    writes: list[Path] = []
    real_write = archive_module._write
    monkeypatch.setattr(
        archive_module, "_write", lambda source, path, *rest: writes.append(path) or real_write(source, path, *rest)
    )
    good = [member("raw/ratings.csv.gz", bytes(1000)), member("model/neighbours.parquet", b"PAR1")]
    refused(
        archive(tmp_path / "archive.tar.gz", [*good, member(MANIFEST, manifest()), member("run.sh", b"x")]),
        data,
        "run.sh is not a file a release holds",
    )
    refused(
        archive(tmp_path / "archive.tar.gz", [*good, member(MANIFEST, manifest("../../etc"))]),
        data,
        "not a release name",
    )
    refused(archive(tmp_path / "archive.tar.gz", good), data, "holds no release folder")
    assert writes == []


def test_a_compression_bomb_is_refused_from_the_headers(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within MOVIEREC_RELEASE_MAX_BYTES but far beyond what a release compresses to (1.1–2.3×):
    refused before a byte is written. (The floor lowered from 64 MiB so the bomb stays small.)"""
    monkeypatch.setattr(archive_module, "RATIO_FLOOR", 1 << 20)
    members = [member(MANIFEST, manifest()), member("raw/ratings.csv.gz", bytes(4 << 20))]
    url = archive(tmp_path / "archive.tar.gz", members)
    size = (tmp_path / "archive.tar.gz").stat().st_size
    assert size < (4 << 20) // 100  # zeros: a ratio of hundreds
    refused(
        url,
        data,
        r"unpacks to more than 20× the archive's size \(a bomb\) \(1,048,\d+ bytes left for "
        r"raw/ratings\.csv\.gz of 4,194,304\)",
    )
