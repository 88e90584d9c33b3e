"""write_files: many small files staged together; an empty folder is filled in one step."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cstool.write import STAGING_PREFIX, write_files

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "customer_data.csv"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _items(folder: Path, n: int) -> list[tuple[Path, bytes]]:
    return [(folder / f"m{i:04d}.eml", f"message {i}\r\n".encode()) for i in range(n)]


def _leftovers(folder: Path) -> list[str]:
    """Staging folders of ours beside or inside `folder`."""
    beside = [p.name for p in folder.parent.iterdir() if ".cstool-staging." in p.name]
    inside = [p.name for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX)]
    return beside + inside


@linux_only
def test_an_empty_folder_is_filled_in_one_step_keeping_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    folder.chmod(0o750)
    # a sibling staging folder of a killed run (a pid that cannot exist) is removed
    dead = tmp_path / ".outbox.cstool-staging.999999999.tmp"
    dead.mkdir()
    (dead / "half.eml").write_bytes(b"half")
    other = tmp_path / ".other.cstool-staging.999999999.tmp"  # another folder's: not ours
    other.mkdir()
    before = folder.stat().st_ino
    items = _items(folder, 50)
    assert write_files(items) == [path for path, _ in items]
    assert folder.stat().st_ino != before  # swapped in: a new folder under the same name
    assert folder.stat().st_mode & 0o7777 == 0o750
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p, _ in items]
    for path, data in items:
        assert path.read_bytes() == data
        assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "outbox"]
    assert _leftovers(folder) == [other.name]


@linux_only
def test_a_folder_that_fills_meanwhile_gets_each_file_renamed_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    real_rename = os.rename

    def someone_writes_first(src: str, dst: str) -> None:
        # another program puts a file into the empty folder just before the swap
        (Path(dst) / "theirs.txt").write_bytes(b"keep me")
        monkeypatch.setattr(os, "rename", real_rename)
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", someone_writes_first)
    before = folder.stat().st_ino
    items = _items(folder, 20)
    write_files(items)
    assert folder.stat().st_ino == before  # not replaced: their file is still there
    assert (folder / "theirs.txt").read_bytes() == b"keep me"
    for path, data in items:
        assert path.read_bytes() == data
    assert _leftovers(folder) == []


@linux_only
def test_a_setgid_folder_and_the_current_folder_are_filled_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2770)  # files made inside take the folder's group: keep that folder
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)  # `--drafts .`: the shell must not be left in a replaced folder
    inodes = {shared: shared.stat().st_ino, here: here.stat().st_ino}
    items = _items(shared, 5) + [(Path(f"n{i}.eml"), b"n") for i in range(3)]
    write_files(items)
    for folder, inode in inodes.items():
        assert folder.stat().st_ino == inode
        assert _leftovers(folder) == []
    assert (shared / "m0004.eml").read_bytes() == b"message 4\r\n"
    assert sorted(p.name for p in here.iterdir()) == ["n0.eml", "n1.eml", "n2.eml"]


def test_a_rerun_into_the_filled_folder_keeps_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    items = _items(folder, 10)
    write_files(items)
    inodes = {path: path.stat().st_ino for path, _ in items}
    changed = [*items[:9], (items[9][0], b"changed")]
    write_files(changed)
    assert all(path.stat().st_ino == inodes[path] for path, _ in items[:9])
    assert items[9][0].read_bytes() == b"changed"
    assert _leftovers(folder) == []


@pytest.mark.slow
@linux_only
def test_kill_9_while_drafting_into_a_new_outbox_leaves_it_empty_or_complete(
    tmp_path: Path,
) -> None:
    base = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    parts = []
    for k in range(40):  # 8,000 customers
        part = base.copy()
        part["Customer_ID"] = part["Customer_ID"] + f"-{k}"
        parts.append(part)
    table = tmp_path / "customers.csv"
    pd.concat(parts).to_csv(table, index=False)
    env = {**os.environ, "CSTOOL_DB": str(tmp_path / "db" / "cstool.db")}
    args = [sys.executable, "-m", "cstool", "followups", str(table), "--as-of", "2026-11-23"]
    args += ["--due", "+365d", "-f", "csv", "-o", str(tmp_path / "f.csv"), "--drafts"]
    done = subprocess.run([*args, str(tmp_path / "complete")], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    complete = {p.name: p.read_bytes() for p in (tmp_path / "complete").iterdir()}
    assert len(complete) == 8000

    outbox = tmp_path / "outbox"
    for _attempt in range(4):
        victim = subprocess.Popen([*args, str(outbox)], env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(".cstool-staging." in p.name for p in tmp_path.iterdir()):
                victim.send_signal(signal.SIGKILL)  # while the outbox is being staged
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                victim.wait(timeout=0.0005)
                break
        if victim.wait(timeout=60) == -signal.SIGKILL:
            break
        for path in outbox.iterdir():  # finished before the kill: empty it, try again
            path.unlink()
    assert victim.returncode == -signal.SIGKILL, "the run always finished before the kill"
    names = [p.name for p in outbox.iterdir()]
    assert names == [] or sorted(names) == sorted(complete)  # never half filled

    again = subprocess.run([*args, str(outbox)], env=env, capture_output=True)
    assert again.returncode == 0, again.stderr
    assert {p.name: p.read_bytes() for p in outbox.iterdir()} == complete
    assert not [p for p in tmp_path.iterdir() if ".cstool-staging." in p.name]
