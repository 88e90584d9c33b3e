"""Baseline: DuckDB, one `COPY (SELECT …) TO` statement.

`python benchmarks/baseline_duckdb.py IN.csv OUT.csv`.

The same enrichment as baseline_pandas.py: satisfaction = 0.5·VD + 0.3·IR + 0.2·GS on
inputs normalised 0–10 → 0–100, band by 50 / 75 on satisfaction.
"""

from __future__ import annotations

import sys

import duckdb

SCALE_MIN, SCALE_MAX = 0.0, 10.0


def _literal(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def enrich_sql(source: str, target: str) -> str:
    """The single COPY statement that reads, enriches and writes."""

    def normalised(column: str) -> str:
        return f"(({column} - {SCALE_MIN}) / ({SCALE_MAX} - {SCALE_MIN}) * 100)"

    satisfaction = (
        f"0.5 * {normalised('Value_Delivery')} + 0.3 * {normalised('Issue_Resolution')}"
        f" + 0.2 * {normalised('Growth_Strategy')}"
    )
    return f"""
        COPY (
            SELECT *,
                   CASE WHEN satisfaction < 50 THEN 'red'
                        WHEN satisfaction < 75 THEN 'yellow'
                        ELSE 'green' END AS band
            FROM (SELECT *, {satisfaction} AS satisfaction
                  FROM read_csv({_literal(source)}, header = true))
        ) TO {_literal(target)} (FORMAT csv, HEADER)
    """


def main() -> None:
    """IN.csv OUT.csv."""
    if len(sys.argv) != 3:
        sys.exit("usage: baseline_duckdb.py IN.csv OUT.csv")
    duckdb.connect().execute(enrich_sql(sys.argv[1], sys.argv[2]))


if __name__ == "__main__":
    main()
