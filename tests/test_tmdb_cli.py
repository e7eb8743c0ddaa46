"""`movierec tmdb-sync` on the command line: a batch from a fake TMDB, and the exit codes."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from tests.fake_tmdb import FakeTmdb, make_movie
from typer.testing import CliRunner

from movierec.cli import app

DAY = date(2026, 11, 30)


def test_cli_writes_a_batch_and_fails_cleanly_without_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeTmdb(api_key="cli-key") as server:
        server.add(make_movie(11), DAY)
        server.add(make_movie(12), DAY)
        monkeypatch.setenv("MOVIEREC_TMDB_URL", server.url)
        monkeypatch.delenv("TMDB_API_KEY", raising=False)
        missing = CliRunner().invoke(
            app, ["tmdb-sync", "--since", "2026-11-30", "--until", "2026-11-30", "--out", str(tmp_path / "none")]
        )
        assert missing.exit_code == 2
        assert missing.output.startswith("error: TMDB_API_KEY is not set")
        assert not (tmp_path / "none").exists()
        monkeypatch.setenv("TMDB_API_KEY", "cli-key")
        result = CliRunner().invoke(
            app, ["tmdb-sync", "--since", "2026-11-30", "--until", "2026-11-30", "--out", str(tmp_path / "batch")]
        )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "batch").iterdir()) == [
        "credits.csv",
        "deleted_ids.txt",
        "failed_ids.txt",
        "keywords.csv",
        "movies_metadata.csv",
        "sync.json",
        "titles.csv",
    ]
    with open(tmp_path / "batch" / "movies_metadata.csv", newline="", encoding="utf-8") as handle:
        assert sorted(row["id"] for row in csv.DictReader(handle)) == ["11", "12"]
