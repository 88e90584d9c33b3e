"""cstool's workbook reader vs pandas.read_excel(engine="calamine") on a 100k-row .xlsx.

    python benchmarks/bench_workbook.py [ROWS]

Both read the same generated workbook (typed cells: numbers, dates, text, empty cells),
cached in benchmarks/data/. They run interleaved in one process, after a warm-up read each,
and the ratio of their median times is printed (target: cstool ≤ 1.5× pandas). cstool does
more than pandas here: it turns every cell into the text the sheet shows, finds the header
(title rows), drops blank rows and keeps each row's sheet row number.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from generate import customer_table
from harness import DATA, machine_line

RUNS = 5


def workbook(rows: int) -> Path:
    """The generated customer table as an .xlsx (written once with openpyxl, then cached)."""
    out = DATA / f"customers_{rows}.xlsx"
    if out.exists():
        return out
    import openpyxl

    table = customer_table(rows)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Customers")
    sheet.append(table.column_names)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for row in zip(*columns, strict=True):
        sheet.append(list(row))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.xlsx")
    book.save(tmp)
    tmp.replace(out)
    return out


def main() -> None:
    import pandas as pd

    from cstool.config import Settings
    from cstool.read import read_raw

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    path = workbook(rows)
    settings = Settings()

    def cstool_read() -> int:
        return int(read_raw(path, settings).table.num_rows)

    def pandas_read() -> int:
        return len(pd.read_excel(path, engine="calamine"))

    readers = {"cstool read_raw": cstool_read, "pandas read_excel (calamine)": pandas_read}
    for read in readers.values():  # warm-up: imports, page cache
        assert read() == rows
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(RUNS):
        for name, read in readers.items():
            start = time.perf_counter()
            read()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(machine_line())
    print(f"{rows} rows, {path.stat().st_size / 1e6:.1f} MB .xlsx, median of {RUNS}")
    for name, median in medians.items():
        print(f"  {name:32} {median:6.3f} s")
    ratio = medians["cstool read_raw"] / medians["pandas read_excel (calamine)"]
    print(f"  ratio cstool / pandas: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
