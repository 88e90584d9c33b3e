"""Output paths that are not plain files: clear usage errors, never a rename over them."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.errors import UsageError
from cstool.write import atomic, write_bytes, write_text
from tests.conftest import EXAMPLE

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def test_folder_as_output_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(UsageError, match="folder"):
        write_text(folder, "x\n")
    assert folder.is_dir()
    assert list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp file left


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_written_straight_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    write_bytes(fifo, b"a,b\n1,2\n")
    reader.join(timeout=10)
    assert received == [b"a,b\n1,2\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a file renamed over it
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="no /dev/fd")
def test_open_descriptor_is_written_straight_through() -> None:
    read_end, write_end = os.pipe()
    try:
        write_bytes(Path(f"/dev/fd/{write_end}"), b"through the pipe\n")
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as reader:
            read_end = -1
            assert reader.read() == b"through the pipe\n"
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc")
def test_folder_where_no_file_can_be_made() -> None:
    with pytest.raises(UsageError, match="/proc") as caught:
        write_text(Path("/proc/cstool-test-output.csv"), "x\n")
    assert "cannot create a file" in str(caught.value)
    assert not os.path.exists("/proc/cstool-test-output.csv")


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders")
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="Permission denied"):
            write_text(folder / "out.csv", "x\n")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_symlink_to_a_file_writes_the_file_and_keeps_the_link(tmp_path: Path) -> None:
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    target = real_folder / "scored.csv"
    target.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    write_text(link, "new\n")
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv", "real"]
    assert [p.name for p in real_folder.iterdir()] == ["scored.csv"]  # no temp file left


def test_new_file_is_private_and_a_crash_keeps_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_text(path, "old\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(RuntimeError), atomic(path) as handle:
        handle.write(b"half")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_dev_full_is_a_usage_error_and_stays_a_device() -> None:
    full = Path("/dev/full")
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("no /dev/full character device")
    with pytest.raises(UsageError, match="No space left") as caught:
        write_bytes(full, b"x" * 100_000)
    assert "/dev/full" in str(caught.value)
    assert stat.S_ISCHR(os.lstat(full).st_mode)  # never replaced by a regular file


@pytest.mark.parametrize(
    "command",
    [
        ["score", str(EXAMPLE), "--as-of", "2026-11-23"],
        ["followups", str(EXAMPLE), "--format", "csv"],
    ],
)
def test_cli_folder_as_output_exits_2(tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(app, [*command, "--output", str(folder)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "error:" in result.stderr and "folder" in result.stderr
    assert "Traceback" not in result.output
    assert list(folder.iterdir()) == []
