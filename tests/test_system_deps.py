"""The README's test command installs what the tests need beyond Python (issue 17): `make test`
runs `make system-deps` (scripts/system_deps.sh) before pytest, which installs Debian's chromium and
a Java runtime through apt when they are missing, or stops with one line. CI does nothing else.

The set-up step runs here through `make`, on a PATH holding only stubs written to a temporary
folder: `id` (root or not), `apt-get` (records its arguments and "installs" by writing the stub
binaries), `java` (prints a version) and `chromium`; so nothing is installed on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from movierec.config import REPO_ROOT

MAKE = shutil.which("make") or "/usr/bin/make"
CP = shutil.which("cp") or "/bin/cp"  # the stub apt-get's own tool, outside the stubs' PATH
JAVA_17 = "echo 'openjdk version \"17.0.15\" 2025-04-15' >&2"


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


class Machine:
    """A PATH of stubs: what is installed, whether we are root, what apt-get does."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        root: bool = True,
        apt: bool = True,
        apt_fails: bool = False,
        chromium: bool = False,
        java: str | None = JAVA_17,
    ) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.calls = tmp_path / "apt-calls"
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        stub(self.bin, "id", f"echo {0 if root else 1000}")
        if chromium:
            stub(self.bin, "chromium", "exit 0")
        if java is not None:
            stub(self.bin, "java", java)
        if apt:
            # `apt-get install … PKG…` "installs" a package by copying its stub binary onto the PATH.
            pool = tmp_path / "pool"
            pool.mkdir()
            stub(pool, "chromium", "exit 0")
            stub(pool, "java", JAVA_17)
            files = {"chromium": pool / "chromium", "default-jre-headless": pool / "java"}
            installs = "".join(f"{package}) {CP} {path} {self.bin}/;; " for package, path in files.items())
            stub(
                self.bin,
                "apt-get",
                f'echo "$*" >> {self.calls}\n'
                + (
                    "echo 'E: Unable to locate package' >&2; exit 100"
                    if apt_fails
                    else f'[[ $1 == install ]] && for p in "$@"; do case $p in {installs}esac; done\nexit 0'
                ),
            )

    def make(self, target: str = "system-deps") -> subprocess.CompletedProcess[str]:
        """`make TARGET` in the repository on this PATH (make itself found by its absolute path)."""
        env = {"PATH": str(self.bin), "HOME": os.environ.get("HOME", "/root"), "TMPDIR": str(self.tmp)}
        return subprocess.run(
            [MAKE, "--no-print-directory", target], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    def apt_calls(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def has(self, name: str) -> bool:
        return (self.bin / name).exists()


def test_make_test_runs_the_set_up_step_before_pytest() -> None:
    """The README's command: `make test` installs the system packages, then runs the suite. (A
    recipe that lost the step would let CI, which runs nothing else, go red on a fresh machine.)"""
    commands = subprocess.run(
        [MAKE, "-n", "--no-print-directory", "test"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    step = next(i for i, line in enumerate(commands) if "scripts/system_deps.sh" in line)
    suite = next(i for i, line in enumerate(commands) if "-m pytest" in line)
    assert step < suite, commands


def test_ci_does_what_a_new_user_does() -> None:
    """`.ci/run` installs make when it is absent and runs `make test`: nothing else."""
    lines = [
        line
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == [
        "set -euo pipefail",
        'cd "$(dirname "$0")/.."',
        "command -v make >/dev/null || { apt-get update -qq && apt-get install -y -qq make; }",
        "make test",
    ]


def test_as_root_a_missing_chromium_is_installed_with_one_line(tmp_path: Path) -> None:
    machine = Machine(tmp_path, chromium=False)
    result = machine.make()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "installing chromium with apt-get: chromium is missing (the browser tests need it)"
    ]
    assert result.stderr == ""
    assert machine.apt_calls() == ["update -qq", "install -y -qq chromium"]
    assert machine.has("chromium")
    assert list(machine.tmp.iterdir()) == []  # apt-get's log is kept only when it fails


def test_as_root_a_missing_java_is_installed(tmp_path: Path) -> None:
    machine = Machine(tmp_path, chromium=True, java=None)
    result = machine.make()
    assert result.returncode == 0, result.stderr
    assert machine.apt_calls() == ["update -qq", "install -y -qq default-jre-headless"]
    assert result.stdout.startswith("installing default-jre-headless with apt-get: java is missing")


def test_both_missing_are_installed_in_one_apt_call(tmp_path: Path) -> None:
    machine = Machine(tmp_path, chromium=False, java=None)
    result = machine.make()
    assert result.returncode == 0, result.stderr
    assert machine.apt_calls() == ["update -qq", "install -y -qq chromium default-jre-headless"]
    assert len(result.stdout.splitlines()) == 1


def test_a_java_older_than_17_is_replaced(tmp_path: Path) -> None:
    machine = Machine(tmp_path, chromium=True, java="echo 'openjdk version \"11.0.2\" 2019-01-15' >&2")
    result = machine.make()
    assert result.returncode == 0, result.stderr
    assert "java 11 is older than the 17" in result.stdout
    assert machine.apt_calls()[-1] == "install -y -qq default-jre-headless"


def test_nothing_missing_is_silent_and_calls_no_apt(tmp_path: Path) -> None:
    machine = Machine(tmp_path, chromium=True, java="echo 'java version \"21.0.1\" 2023-10-17 LTS' >&2")
    result = machine.make()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert machine.apt_calls() == []


@pytest.mark.parametrize(("root", "apt"), [(False, True), (True, False)], ids=["not root", "no apt-get"])
def test_without_root_or_apt_it_stops_with_one_line(tmp_path: Path, root: bool, apt: bool) -> None:
    machine = Machine(tmp_path, root=root, apt=apt, chromium=False)
    result = machine.make()
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if not line.startswith("make:")]
    assert errors == [
        "error: chromium is missing (the browser tests need it): run 'apt-get install -y chromium' as root"
    ]
    assert result.stdout == "" and machine.apt_calls() == []


def test_make_test_stops_before_pytest_when_it_cannot_install(tmp_path: Path) -> None:
    """The issue's failure: not a stack of test errors but one line, and pytest never starts."""
    machine = Machine(tmp_path, root=False, chromium=False)
    result = machine.make("test")
    assert result.returncode != 0
    assert "error: chromium is missing" in result.stderr
    assert "pytest" not in result.stdout + result.stderr  # make echoes each command it runs


def test_a_failing_apt_get_stops_with_one_line(tmp_path: Path) -> None:
    machine = Machine(tmp_path, apt_fails=True, chromium=False)
    result = machine.make()
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if not line.startswith("make:")]
    assert len(errors) == 1 and errors[0].startswith("error: 'apt-get install -y chromium' failed (its output: ")
    log = Path(errors[0].split("its output: ")[1].split(")")[0])
    assert "Unable to locate package" in log.read_text()
    assert not machine.has("chromium")
