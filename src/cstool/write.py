"""Atomic file writes and spreadsheet-formula neutralising for exported text."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import tempfile
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from cstool.errors import UsageError
from cstool.textbytes import edge_bytes_in

if TYPE_CHECKING:
    import pandas as pd

# Text that a spreadsheet would run as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


@contextlib.contextmanager
def atomic(path: Path, mode: str = "wb", *, protect: Path | None = None) -> Iterator[IO[bytes]]:
    """Write `path` through a temp file in the same folder, fsync, then rename over it.

    A crash leaves either the old file or the new one. `protect` is the input file,
    which is never overwritten. The temp file is created 0600, so the new file is too.

    - A symlink to a file (or a dangling one): the file it points to is written atomically
      (temp file in that file's folder); the symlink stays as it is.
    - A FIFO, a character device (/dev/null, a terminal) or an open descriptor
      (/dev/stdout, /dev/fd/N): written straight through, no temp file, no rename, no fsync;
      a file behind /dev/stdout is appended to, as the shell opened it (`>` or `>>`).
    - A folder, a block device or a socket: UsageError; nothing is renamed over them.
    - Any OSError while creating, writing, fsyncing or renaming (disk full, permission
      denied, read-only file system): UsageError naming the path and the reason, with the
      temp file removed. A BrokenPipeError on a pipe stays one (the reader went away).

    Text modes (without "b") write UTF-8.
    """
    path = Path(path)
    if protect is not None and _same_file(path, protect):
        raise UsageError(f"{path}: refusing to write over the input file; choose another name")
    try:
        kind: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        kind = None
    except OSError as exc:
        raise _failed(path, "cannot write", exc) from exc
    if kind is not None and stat.S_ISDIR(kind):
        raise UsageError(
            f"{path} is a folder; give a file name", hint=f"for example {path / 'out.csv'}"
        )
    if _names_open_descriptor(path) or (
        kind is not None and (stat.S_ISCHR(kind) or stat.S_ISFIFO(kind))
    ):
        append = kind is not None and stat.S_ISREG(kind)
        flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | (os.O_APPEND if append else 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise _failed(path, "cannot open", exc) from exc
        with _handle(fd, mode, path, sync=False) as handle:
            yield handle
        return
    if kind is not None and not stat.S_ISREG(kind):
        raise UsageError(f"{path} is not a regular file; refusing to replace it")
    target = Path(os.path.realpath(path))  # a symlink: write the file it points to
    folder = target.parent if path.is_symlink() else path.parent
    if not folder.is_dir():
        if folder.exists():
            raise UsageError(f"{path}: {folder} is not a folder")
        raise UsageError(f"{path}: folder {folder} does not exist")
    remove_stale_temps(target.parent)
    try:
        # the pid in the name tells a later run whether the writer is still alive
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise _failed(
            path, f"cannot create a file in {folder}", exc, hint="choose a folder you can write to"
        ) from exc
    try:
        with _handle(fd, mode, path, sync=True) as handle:
            yield handle
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise _failed(path, "cannot replace the file", exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# `.<name>.<pid>.<random>.tmp`, and the older `.<name>.<random>.tmp` without a pid
_TEMP_NAME = re.compile(r"^\..+?(?:\.(?P<pid>\d+))?\.[A-Za-z0-9_]{8}\.tmp$")
STALE_TEMP_SECONDS = 300  # a temp file without a pid, older than this, is left by a killed run
STALLED_WRITER_SECONDS = 24 * 3600  # a live pid on a temp this old is a reused pid


def remove_stale_temps(folder: Path, *, now: float | None = None) -> list[Path]:
    """Remove the temp files a killed write left in `folder`; returns what was removed.

    A temp file whose name carries a pid goes when that process is gone (a writer that is
    alive but slow, on a full disk or a stopped terminal, keeps its temp file), or when it
    is a day old (the pid was reused). One without a pid (an older cstool) goes when it is
    older than a few minutes. Only our own regular files are touched, and errors are
    ignored: cleaning up must never stop a write.
    """
    import time

    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                continue
            pid = match.group("pid")
            age = now - info.st_mtime
            if pid is None:
                stale = age > STALE_TEMP_SECONDS
            else:
                stale = age > STALLED_WRITER_SECONDS or not _alive(int(pid))
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user's counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


class _Writer(io.BufferedWriter):
    """A buffered file whose write errors are UsageErrors that name the output."""

    def __init__(self, fd: int, shown: Path) -> None:
        super().__init__(io.FileIO(fd, "wb"))
        self.shown = shown

    def write(self, data: Any, /) -> int:
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _failed(self.shown, "cannot write", exc) from exc

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _failed(self.shown, "cannot write", exc) from exc


@contextlib.contextmanager
def _handle(fd: int, mode: str, shown: Path, *, sync: bool) -> Iterator[IO[bytes]]:
    """`fd` as a file; flushed (and fsynced under `sync`) and closed, errors as UsageError."""
    try:
        writer = _Writer(fd, shown)
    except BaseException:
        os.close(fd)
        raise
    text = None if "b" in mode else io.TextIOWrapper(writer, encoding="utf-8")
    try:
        yield writer if text is None else cast(IO[bytes], text)
        if text is not None:
            text.flush()
        writer.flush()  # write errors come out of `writer` as UsageError (or BrokenPipeError)
        if sync:
            try:
                os.fsync(writer.fileno())
            except OSError as exc:
                raise _failed(shown, "cannot write", exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            writer.raw.close()  # drops what is left in the buffer: nothing to retry
        raise
    try:
        writer.close()
    except OSError as exc:  # some file systems (NFS) report write errors only here
        raise _failed(shown, "cannot write", exc) from exc


def write_failed(path: object, exc: OSError) -> UsageError:
    """`path: cannot write (reason)` with the usual hint (a full disk, no permission)."""
    return _failed(Path(str(path)) if path is not None else Path("the output"), "cannot write", exc)


def _failed(path: Path, what: str, exc: OSError, *, hint: str | None = None) -> UsageError:
    """`path: what (reason)`, with a hint for the usual reasons."""
    reason = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "free some space, or write somewhere else",
        errno.EDQUOT: "free some space, or write somewhere else",
        errno.EACCES: "choose a folder you can write to",
        errno.EPERM: "choose a folder you can write to",
        errno.EROFS: "choose a folder on a writable disk",
    }
    return UsageError(f"{path}: {what} ({reason})", hint=hints.get(exc.errno or 0, hint))


# Folders whose entries name the process's open descriptors: /dev/stdout links into one.
_DESCRIPTOR_FOLDER = re.compile(r"/proc/\d+(?:/task/\d+)?/fd|/dev/fd")


def _names_open_descriptor(path: Path) -> bool:
    """Whether `path` is, or links to, an open descriptor: /dev/stdout, /dev/fd/3, ..."""
    current = os.path.abspath(path)
    for _ in range(40):  # as many links as the kernel follows
        if _DESCRIPTOR_FOLDER.fullmatch(os.path.realpath(os.path.dirname(current))):
            return True
        try:
            link = os.readlink(current)
        except OSError:  # not a link, or not there
            return False
        current = os.path.join(os.path.dirname(current), link)
    return False


def write_bytes(path: Path, data: bytes, *, protect: Path | None = None) -> None:
    """Write bytes atomically."""
    with atomic(path, "wb", protect=protect) as handle:
        handle.write(data)


def write_text(path: Path, text: str, *, protect: Path | None = None) -> None:
    """Write UTF-8 text atomically."""
    write_bytes(path, text.encode("utf-8"), protect=protect)


def write_csv_file(
    path: Path,
    frame: pd.DataFrame,
    *,
    header: list[str] | None = None,
    delimiter: str = ",",
    protect: Path | None = None,
) -> None:
    """Write a frame of text cells as CSV, atomically, formula cells neutralised.

    `header` replaces the frame's column names (the file's own headers, duplicates
    included). Used for the rejects file; cells keep their text exactly, unless a
    spreadsheet would run them (`=HYPERLINK(…)`, `+cmd|…`, `＝1+1` get a leading `'`).
    """
    import csv

    import pandas as pd

    cells = frame.astype(object).where(frame.notna(), "")
    cells.columns = pd.RangeIndex(
        cells.shape[1]
    )  # headers may repeat; cells are neutralised by position
    safe = neutralise_formulas(cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(neutralised_row(header if header is not None else [str(c) for c in frame]))
    writer.writerows(safe.itertuples(index=False, name=None))
    write_text(path, buffer.getvalue(), protect=protect)


def neutralised_row(cells: list[str]) -> list[str]:
    """One row of text cells with formula cells prefixed by `'` (see `neutralise_formulas`)."""
    number = re.compile(_NUMBER)
    return [f"'{c}" if c.startswith(FORMULA_STARTS) and not number.match(c) else c for c in cells]


def distinct_outputs(outputs: dict[str, Path]) -> None:
    """UsageError when two options name one file (`--rejects X --output X`)."""
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        key = os.path.realpath(path)
        if key in seen:
            raise UsageError(
                f"{seen[key]} and {option} both name {path}; give each its own file",
                hint="for example --rejects rejects.csv",
            )
        seen[key] = option


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def neutralise_formulas(frame: pd.DataFrame, *, numbers: Collection[str] = ()) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with `'`, column-wise.

    A cheap first-byte test finds the few candidate cells; only those are looked at closely,
    so a million clean cells cost a few milliseconds per column. `numbers` names text
    columns already validated as numbers or dates, which cannot hold a formula.
    """
    import pandas as pd

    out = frame
    for name in frame.columns:
        if name in numbers:
            continue
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            fixed_categories = _neutralised(pd.Series(column.cat.categories.astype(str)))
            if fixed_categories is not None:
                if out is frame:
                    out = frame.copy(deep=False)
                out[name] = column.cat.rename_categories(fixed_categories.tolist())
            continue
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        fixed = _neutralised(column)
        if fixed is not None:
            if out is frame:
                out = frame.copy(deep=False)
            out[name] = fixed
    return out


_RISKY_FIRST_BYTES = b"=+-@\t\r\n\xef"  # 0xEF starts ＝＋－＠ in UTF-8
_FORMULA_START = "^[=+\\-@\t\r\n＝＋－＠]"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _neutralised(column: pd.Series) -> pd.Series | None:
    """The column with formula cells prefixed, or None when it has none."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = pa.array(column.array, from_pandas=True)
    text = arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = text.cast(pa.string())
    candidates = np.flatnonzero(edge_bytes_in(text, first=_RISKY_FIRST_BYTES))
    if not len(candidates):
        return None
    cells = pc.take(text, pa.array(candidates))
    risky = pc.and_(
        pc.match_substring_regex(cells, _FORMULA_START),
        pc.invert(pc.match_substring_regex(cells, _NUMBER)),
    )
    hits = candidates[np.asarray(pc.fill_null(risky, False).to_numpy(zero_copy_only=False))]
    if not len(hits):
        return None
    values = column.astype("string").copy()
    values.iloc[hits] = "'" + values.iloc[hits]
    return values


STAGING_PREFIX = ".cstool-staging."


def write_files(items: Iterable[tuple[Path, bytes]]) -> list[Path]:
    """Write many small files into their folders: each whole, old or new, never half written.

    Every file is staged in a private folder on the same file system, one `syncfs` makes
    them durable, then they are put in place and the folder is fsynced:

    - into a folder that already holds files, each is staged in `.cstool-staging.<pid>.tmp`
      inside it and renamed into place: a failure before the renames leaves every old file
      as it was, a crash during them a mix of whole old and whole new files;
    - into an empty folder (a new outbox), all are staged in a sibling folder
      (`.<name>.cstool-staging.<pid>.tmp` beside it) that is renamed over the empty one in
      one step: a crash leaves the folder empty or complete, never half filled. The folder
      keeps its name and mode; it is a new folder (inode). Only when nothing could differ:
      our own folder, not a mount point, no setgid bit, no ACL or user attributes, writable;
      otherwise, or when the swap fails (something appeared in the folder meanwhile), the
      files are staged inside it as above.

    A file that already holds the same bytes (a rerun for the same as-of date) is left
    alone, so a rerun replaces nothing. A target that is a folder, link or device is a
    UsageError before anything is written. Staging folders of a killed run are removed.

    Used by `export` and the drafts outbox. Built for 10,000 drafts: plain names in a fresh
    folder instead of a mkstemp call each, one listing of the folder instead of three stats
    a file, one flush for all (fsyncing each took 7 ms apiece), no rename over an unchanged
    file (each costs a flush on ext4), and one rename instead of 10,000 into an empty folder.
    """
    import stat

    grouped: dict[str, list[tuple[Path, bytes]]] = {}  # by folder name: no Path hashing
    for path, data in items:
        if not isinstance(path, Path):
            path = Path(path)
        grouped.setdefault(os.path.dirname(str(path)), []).append((path, data))
    by_folder = {files[0][0].parent: files for files in grouped.values()}
    changed: dict[Path, list[tuple[Path, bytes]]] = {}
    empty: set[Path] = set()
    written: list[Path] = []
    for folder, files in by_folder.items():
        entries = _listing(folder)
        if not entries:
            empty.add(folder)
        for path, data in files:
            written.append(path)
            entry = entries.get(path.name)
            if entry is not None:
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    raise UsageError(f"{path} is not a regular file; refusing to replace it")
                if info.st_size == len(data) and _same_bytes(path, data):
                    continue
            changed.setdefault(folder, []).append((path, data))
    _write_staged(changed, empty)
    return written


def _write_staged(changed: dict[Path, list[tuple[Path, bytes]]], empty: Collection[Path]) -> None:
    """Stage every folder's files, sync once, then swap or rename them into place."""
    import shutil

    staged: list[tuple[Path, str, str | None]] = []  # (folder, staging folder, swap target)
    retry: dict[Path, list[tuple[Path, bytes]]] = {}
    try:
        for folder, files in changed.items():
            swap = _swap_plan(folder) if folder in empty else None
            if swap is not None:
                stage, target, mode = swap
            else:
                stage, target, mode = str(folder / f"{STAGING_PREFIX}{os.getpid()}.tmp"), None, None
                shutil.rmtree(stage, ignore_errors=True)  # our own, from an earlier call
                try:
                    os.mkdir(stage, 0o700)
                except OSError as exc:
                    raise _failed(folder, "cannot create a staging folder", exc) from exc
            staged.append((folder, stage, target))
            _write_into(stage, files)
            if mode is not None:
                try:
                    os.chmod(stage, mode)  # the mode of the folder it replaces
                except OSError as exc:
                    raise _failed(folder, "cannot set the folder's mode", exc) from exc
        if staged:
            _sync_file_system(staged[0][1])
        for folder, stage, target in staged:
            if target is not None:
                try:
                    os.rename(stage, target)  # over the empty folder, in one step
                except OSError:
                    retry[folder] = changed[folder]  # no longer empty, or cannot be replaced
                    continue
                _fsync_folder(Path(target).parent)
                continue
            for path, _ in changed[folder]:
                try:
                    os.replace(os.path.join(stage, path.name), path)
                except OSError as exc:
                    raise _failed(path, "cannot replace the file", exc) from exc
            _fsync_folder(folder)
    finally:
        for _, stage, _ in staged:
            shutil.rmtree(stage, ignore_errors=True)
    if retry:
        _write_staged(retry, ())


def _write_into(stage: str, files: list[tuple[Path, bytes]]) -> None:
    """Create each file (0600, new) in the staging folder and write its bytes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        folder_fd = os.open(stage, os.O_RDONLY)
    except OSError as exc:
        raise _failed(Path(stage), "cannot open the staging folder", exc) from exc
    try:
        for path, data in files:
            try:
                fd = os.open(path.name, flags, 0o600, dir_fd=folder_fd)
                try:
                    _write_all(fd, data)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise _failed(path, "cannot write", exc) from exc
    finally:
        os.close(folder_fd)


_SWAP_MARK = ".cstool-staging."


def _swap_plan(folder: Path) -> tuple[str, str, int] | None:
    """(sibling staging folder, the folder's real path, its mode) to swap an empty folder in.

    None when a new folder might differ from the old one in anything but its inode (owner,
    group, setgid, ACLs or user attributes, a mount point) or when this is not Linux; then
    the files are staged inside the folder.
    """
    import shutil
    import stat
    import sys

    if not sys.platform.startswith("linux") or not hasattr(os, "listxattr"):
        return None
    try:
        info = os.lstat(folder)
        real = os.path.realpath(folder)
        parent, name = os.path.split(real)
        if not name or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return None
        if info.st_mode & stat.S_ISGID or not os.access(real, os.W_OK | os.X_OK):
            return None
        if os.stat(parent).st_dev != info.st_dev or os.path.ismount(real):
            return None
        if os.path.samestat(info, os.stat(os.curdir)):
            return None  # `--drafts .`: the shell would be left in the replaced folder
        if any(not a.startswith("security.") for a in _attributes(real)):
            return None  # ACLs and user attributes would not carry over
        if any(a.startswith("system.posix_acl") for a in _attributes(parent)):
            return None  # staged files would take the parent's default ACL
        prefix = f".{name}{_SWAP_MARK}"
        for entry in os.scandir(parent):  # sibling staging folders of killed runs
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                pid = entry.name.removeprefix(prefix).removesuffix(".tmp")
                if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
                    shutil.rmtree(entry.path, ignore_errors=True)
        stage = os.path.join(parent, f"{prefix}{os.getpid()}.tmp")
        os.mkdir(stage, 0o700)
    except OSError:
        return None
    try:
        made = os.stat(stage)
    except OSError:
        made = None
    if made is None or (made.st_uid, made.st_gid) != (info.st_uid, info.st_gid):
        with contextlib.suppress(OSError):
            os.rmdir(stage)
        return None
    return stage, real, stat.S_IMODE(info.st_mode)


def _attributes(path: str) -> list[str]:
    try:
        return os.listxattr(path, follow_symlinks=False)
    except OSError:  # a file system without extended attributes
        return []


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _listing(folder: Path) -> dict[str, os.DirEntry[str]]:
    """The folder's entries by name (one scandir); staging folders of dead runs removed."""
    import shutil

    try:
        entries = {entry.name: entry for entry in os.scandir(folder)}
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _failed(folder, "cannot read the folder", exc) from exc
    for name in [n for n in entries if n.startswith(STAGING_PREFIX) and n.endswith(".tmp")]:
        pid = name.removeprefix(STAGING_PREFIX).removesuffix(".tmp")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entries.pop(name).path, ignore_errors=True)
    return entries


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(data) + 1) == data
    except OSError:
        return False


def _sync_file_system(any_file: str) -> None:
    """Flush the file system holding `any_file` (Linux syncfs), else everything (os.sync)."""
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        try:
            syncfs = ctypes.CDLL(None, use_errno=True).syncfs
        except (OSError, AttributeError):
            syncfs = None
        if syncfs is not None:
            fd = os.open(any_file, os.O_RDONLY)
            try:
                if syncfs(fd) == 0:
                    return
            finally:
                os.close(fd)
    os.sync()


def _fsync_folder(folder: Path) -> None:
    """Make renames in `folder` durable (not possible on every platform: then skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
