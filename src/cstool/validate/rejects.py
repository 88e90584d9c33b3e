"""What failed, row by row: Problem records for people and the rejected rows with a reason.

Only the failing rows get here, so the Python below runs for a few rows, not the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cstool.errors import Problem
from cstool.read import RawTable, ragged_records
from cstool.validate.cells import Check

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PROBLEM_DETAIL_LIMIT = 1000  # Problem objects built; the count is always exact
_SUMMARY_LINES = 10  # lines named in a per-column message


def problems(
    raw: RawTable,
    header_names: list[str],
    checks: Iterable[Check],
    dup: np.ndarray,
    ids: pd.Series,
) -> list[Problem]:
    """Problem records for the failing rows only (capped), sorted by line then column.

    A summary check gives one Problem for its column: the first line and value, with every
    line counted.
    """
    import numpy as np

    path = str(raw.path)
    lines = raw.line_numbers
    found: list[tuple[int, int, Problem]] = [
        (
            line,
            -1,
            Problem(
                line, None, None, f"{len(raw.header)} cells like the header, found {cells}", path
            ),
        )
        for line, cells in raw.ragged
    ]
    for check in checks:
        failing = np.flatnonzero(check.mask)
        if not len(failing):
            continue
        pos = raw.headers[check.field]
        if check.summary:
            first = int(failing[0])
            named = ", ".join(str(int(lines[i])) for i in failing[:_SUMMARY_LINES])
            more = ", …" if len(failing) > _SUMMARY_LINES else ""
            count = f"{len(failing)} line{'s' if len(failing) != 1 else ''}: {named}{more}"
            value = raw.table.column(pos)[first].as_py()
            line = int(lines[first])
            found.append(
                (
                    line,
                    pos,
                    Problem(
                        line, header_names[pos], str(value), f"{check.expected} ({count})", path
                    ),
                )
            )
            continue
        idx = failing[:PROBLEM_DETAIL_LIMIT]
        values = raw.table.column(pos).take(idx).to_pylist()
        for i, value in zip(idx.tolist(), values, strict=True):
            line = int(lines[i])
            found.append(
                (
                    line,
                    pos,
                    Problem(line, header_names[pos], str(value), check.expected, path, raw.sheet),
                )
            )
    dup_idx = np.flatnonzero(dup)[:PROBLEM_DETAIL_LIMIT]
    if len(dup_idx):
        pos = raw.headers["customer_id"]
        first_of = first_occurrence(ids)
        for i in dup_idx.tolist():
            line = int(lines[i])
            first_line = int(lines[first_of[i]])
            found.append(
                (
                    line,
                    pos,
                    Problem(
                        line,
                        header_names[pos],
                        str(ids.iloc[i]),
                        f"a unique customer ID (the same ID is on line {first_line})",
                        path,
                    ),
                )
            )
    found.sort(key=lambda item: (item[0], item[1]))
    return [p for _, _, p in found]


def cell_problems(raw: RawTable, header_names: list[str], checks: Iterable[Check]) -> list[Problem]:
    """One Problem per failing cell (no summaries): the cells blanked under --skip-invalid."""
    import numpy as np

    path = str(raw.path)
    lines = raw.line_numbers
    found: list[tuple[int, int, Problem]] = []
    for check in checks:
        idx = np.flatnonzero(check.mask)
        if not len(idx):
            continue
        pos = raw.headers[check.field]
        values = raw.table.column(pos).take(idx).to_pylist()
        for i, value in zip(idx.tolist(), values, strict=True):
            line = int(lines[i])
            found.append(
                (
                    line,
                    pos,
                    Problem(line, header_names[pos], str(value), check.expected, path, raw.sheet),
                )
            )
    found.sort(key=lambda item: (item[0], item[1]))
    return [p for _, _, p in found]


def first_occurrence(ids: pd.Series) -> np.ndarray:
    """For each row, the position of the first row with the same ID."""
    import numpy as np
    import pandas as pd

    codes, _ = pd.factorize(ids)
    first = np.full(codes.max() + 1 if len(codes) else 0, -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    first[codes[order]] = order
    return first[codes]


def rejected_rows(
    raw: RawTable,
    header_names: list[str],
    checks: list[Check],
    dup: np.ndarray,
    ids: pd.Series,
    bad: np.ndarray,
) -> pd.DataFrame:
    """The bad rows as they were in the file (text cells), plus a `reason` column, by line."""
    import numpy as np
    import pandas as pd

    reasons: dict[int, list[str]] = {}
    for check in checks:
        col = header_names[raw.headers[check.field]]
        for i in np.flatnonzero(check.mask & bad).tolist():
            reasons.setdefault(i, []).append(f"{col}: expected {check.expected}")
    first_of = first_occurrence(ids)
    lines = raw.line_numbers
    for i in np.flatnonzero(dup).tolist():
        reasons.setdefault(i, []).append(
            f"duplicate customer ID (first on line {int(lines[first_of[i]])})"
        )
    rows: list[tuple[int, list[str], str]] = []
    bad_idx = np.flatnonzero(bad)
    cells = raw.table.take(bad_idx).to_pydict()
    columns = list(cells.values())
    for k, i in enumerate(bad_idx.tolist()):
        values = [str(column[k]) for column in columns]
        rows.append((int(lines[i]), values, "; ".join(reasons.get(i, []))))
    width = len(raw.header)
    for line, record in ragged_records(raw).items():
        padded = (record + [""] * width)[:width]
        rows.append((line, padded, f"line has {len(record)} cells, expected {width}"))
    rows.sort(key=lambda r: r[0])
    frame = pd.DataFrame(
        [[*values, reason] for _, values, reason in rows],
        columns=[*header_names, "reason"],
        dtype=object,
    )
    frame.index = pd.Index([line for line, _, _ in rows], name="line")
    return frame


@dataclass
class InvalidRows:
    """The rows left out under --skip-invalid, kept so that one can be explained on request.

    `explain ID` / `history ID` of a customer whose row was left out show that row's
    problems instead of "unknown customer"; only the asked-for rows are looked at.
    """

    raw: RawTable
    header_names: list[str]
    checks: list[Check]  # every check, required and optional, masks over the file's rows
    dup: np.ndarray
    ids: pd.Series  # the trimmed ID cells, one per row of the file
    bad: np.ndarray  # rows left out

    def problems_of(self, customer_id: str) -> list[Problem]:
        """Every problem of the left-out rows with this ID (case folded), ragged rows too."""
        import numpy as np

        wanted = customer_id.strip()
        ids = self.ids.astype("string")
        same = (ids == wanted).fillna(False).to_numpy(dtype=bool)
        if not (same & self.bad).any():
            same = (ids.str.casefold() == wanted.casefold()).fillna(False).to_numpy(dtype=bool)
        rows = np.flatnonzero(same & self.bad)
        raw = self.raw
        path = str(raw.path)
        lines = raw.line_numbers
        found: list[tuple[int, int, Problem]] = []
        for check in self.checks:
            pos = raw.headers[check.field]
            for i in rows[check.mask[rows]].tolist():
                value = raw.table.column(pos)[i].as_py()
                problem = Problem(
                    int(lines[i]), self.header_names[pos], str(value), check.expected, path
                )
                found.append((int(lines[i]), pos, problem))
        if len(rows) and self.dup[rows].any():
            first_of = first_occurrence(self.ids)
            pos = raw.headers["customer_id"]
            for i in rows[self.dup[rows]].tolist():
                expected = (
                    f"a unique customer ID (the same ID is on line {int(lines[first_of[i]])})"
                )
                found.append(
                    (
                        int(lines[i]),
                        pos,
                        Problem(int(lines[i]), self.header_names[pos], wanted, expected, path),
                    )
                )
        id_pos = raw.headers.get("customer_id")
        for line, cells in ragged_records(raw).items():
            if id_pos is not None and len(cells) > id_pos and cells[id_pos].strip() == wanted:
                expected = f"{len(raw.header)} cells like the header, found {len(cells)}"
                found.append((line, -1, Problem(line, None, None, expected, path)))
        found.sort(key=lambda item: (item[0], item[1]))
        return [dataclasses.replace(p, sheet=raw.sheet) for _, _, p in found]
