"""Reading a customer file's bytes once: regular files, pipes and FIFOs; devices refused."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from cstool.errors import UsageError

# A pipe or FIFO has no size to check up front; past this much it is not a customer table.
STREAM_CAP = 2 << 30
_CHUNK = 1 << 20


def read_bytes(path: Path, *, cap: int = STREAM_CAP) -> bytes:
    """The file's bytes, read once. Missing, a folder, a device, unreadable: UsageError."""
    path = Path(path)
    info = stat_input(path)
    if stat.S_ISREG(info.st_mode):
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _usage(path, exc) from None
    try:
        with path.open("rb") as handle:
            parts = []
            total = 0
            while chunk := handle.read(_CHUNK):
                total += len(chunk)
                if total > cap:
                    raise UsageError(
                        f"{path}: more than {cap >> 20} MB came through this pipe and it has "
                        "not ended: is it a customer table?",
                        hint="save the export to a file and name that file",
                    )
                parts.append(chunk)
    except OSError as exc:
        raise _usage(path, exc) from None
    return b"".join(parts)


def stat_input(path: Path) -> os.stat_result:
    """`os.stat` of an input file, refusing what cannot be a table (exit 2, with the path)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _usage(path, exc) from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path}: is a folder, expected a CSV file or a workbook")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a terminal" if _is_tty(path) else "a device"
        raise UsageError(
            f"{path}: is {what}, not a file: it would be read for ever",
            hint="name a CSV or workbook file, or pipe one in: "
            "cstool validate /dev/stdin < file.csv",
        )
    return info


def _is_tty(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _usage(path: Path, exc: OSError) -> UsageError:
    if exc.errno == errno.ENOENT:
        return UsageError(f"{path}: file not found")
    if exc.errno == errno.ENAMETOOLONG:
        return UsageError(
            f"{path}: the file name is too long for this system ({len(path.name)} characters)",
            hint="rename the file or a folder on its path to something shorter",
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return UsageError(
            f"{path}: permission denied (the file or a folder on its path cannot be read)",
            hint="check the permissions of the file and of its folders (ls -ld)",
        )
    if exc.errno == errno.ENOTDIR:
        return UsageError(f"{path}: a part of the path is a file, not a folder")
    return UsageError(f"{path}: cannot read: {exc.strerror or exc}")
