"""Sources at scale: 1M customers + 5M tickets + 1M survey answers + 1M subscriptions, merged
and scored to an enriched CSV, beside DuckDB doing the same joins and aggregations in SQL.

    python benchmarks/bench_sources.py [--customers 1000000] [--runs 1] [--no-write]

Writes the `Sources` section of RESULTS.md (unless --no-write). Targets (issue 14): cstool
within 2× DuckDB's time, peak memory within 6× the input files' size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from harness import DATA, compare, markdown_table, update_results

AS_OF = "2026-11-23"
TOML = """customers = "customers.csv"
[[sources]]
file = "subscriptions.csv"
[[sources]]
file = "tickets.csv"
[[sources]]
file = "surveys.csv"
"""


def _write(table: pa.Table, path: Path) -> None:
    with path.open("wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(
            table, handle, pacsv.WriteOptions(include_header=False, quoting_style="none")
        )


def _stamps(rng: np.random.Generator, n: int, lo: str, hi: str) -> np.ndarray:
    start, end = np.datetime64(lo, "D"), np.datetime64(hi, "D")
    days = start + rng.integers(0, int((end - start).astype(int)), n).astype("timedelta64[D]")
    seconds = rng.integers(0, 86_400, n).astype("timedelta64[s]")
    return days.astype("datetime64[s]") + seconds


def _days(rng: np.random.Generator, n: int, lo: str, hi: str) -> pa.Array:
    return pc.strftime(pa.array(_stamps(rng, n, lo, hi)), "%Y-%m-%d %H:%M:%S")


def generate(folder: Path, customers: int, seed: int = 14) -> Path:
    """The workspace: customers.csv, subscriptions.csv, tickets.csv, surveys.csv, cstool.toml."""
    if (folder / "cstool.toml").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = customers
    number = pa.array(np.arange(1, n + 1)).cast(pa.string())
    ids = pc.binary_join_element_wise("C", pc.utf8_lpad(number, 7, "0"), "")
    emails = pc.binary_join_element_wise("user", number, "@example.com", "")
    scores = [pa.array(rng.integers(0, 11, n)) for _ in range(3)]
    customers_table = pa.table(
        {
            "Customer_ID": ids,
            "Name": pc.binary_join_element_wise("Customer ", number, ""),
            "Email": emails,
            "Stage": pa.array(np.array(["customer", "onboarding"])[rng.integers(0, 2, n)]),
            "Last_Contact": pc.strftime(
                pa.array(
                    np.datetime64(AS_OF, "D") - rng.integers(0, 200, n).astype("timedelta64[D]")
                ),
                "%Y-%m-%d",
            ),
            "Value_Delivery": scores[0],
            "Issue_Resolution": scores[1],
            "Growth_Strategy": scores[2],
        }
    )
    _write(customers_table, folder / "customers.csv")

    def some_emails(count: int) -> pa.Array:
        picked = emails.take(pa.array(rng.integers(0, n, count)))
        upper = rng.random(count) < 0.1  # other letter cases match too
        return pc.if_else(pa.array(upper), pc.utf8_upper(picked), picked)

    subs = n  # one million subscriptions for one million customers
    status = np.array(["active", "canceled", "past_due", "trialing"])[
        rng.choice(4, subs, p=[0.85, 0.08, 0.04, 0.03])
    ]
    _write(
        pa.table(
            {
                "id": pc.binary_join_element_wise(
                    "sub_", pa.array(np.arange(subs)).cast(pa.string()), ""
                ),
                "Customer ID": pc.binary_join_element_wise(
                    "cus_", pa.array(np.arange(subs)).cast(pa.string()), ""
                ),
                "Customer Email": some_emails(subs),
                "Plan": pa.array(np.array(["Basic", "Pro", "Team"])[rng.integers(0, 3, subs)]),
                "Quantity": pa.array(rng.integers(1, 4, subs)),
                "Interval": pa.array(
                    np.array(["month", "year"])[rng.choice(2, subs, p=[0.8, 0.2])]
                ),
                "Amount": pc.cast(pa.array(rng.integers(1, 500, subs) * 1.0), pa.string()),
                "Status": pa.array(status),
                "Start (UTC)": _days(rng, subs, "2022-01-01", "2026-11-01"),
                "Current Period End (UTC)": _days(rng, subs, "2026-11-24", "2027-11-01"),
                "Canceled At (UTC)": pc.if_else(
                    pa.array(status == "canceled"),
                    _days(rng, subs, "2026-01-01", "2026-11-20"),
                    pa.scalar("", pa.string()),
                ),
            }
        ),
        folder / "subscriptions.csv",
    )
    tickets = 5 * n
    ticket_status = ["new", "open", "pending", "hold", "solved", "closed"]
    rating = ["Good", "Bad", "Offered", "Unoffered"]
    state = rng.choice(6, tickets, p=[0.03, 0.05, 0.04, 0.02, 0.3, 0.56])
    created = _stamps(rng, tickets, "2025-01-01", "2026-11-22")
    # Solved and closed tickets have a solve time, 30 hours on average (about half within
    # the default 24-hour target), the others none.
    hours = rng.exponential(30 * 3600, tickets).astype("timedelta64[s]")
    solved = pc.if_else(
        pa.array(state >= 4),
        pc.strftime(pa.array(created + hours), "%Y-%m-%d %H:%M:%S"),
        pa.scalar("", pa.string()),
    )
    _write(
        pa.table(
            {
                "Id": pa.array(np.arange(1, tickets + 1)),
                "Requester email": some_emails(tickets),
                "Status": pa.array(np.array(ticket_status)[state]),
                "Created at": pc.strftime(pa.array(created), "%Y-%m-%d %H:%M:%S"),
                "Solved at": solved,
                "Satisfaction Score": pa.array(
                    np.array(rating)[rng.choice(4, tickets, p=[0.3, 0.05, 0.15, 0.5])]
                ),
            }
        ),
        folder / "tickets.csv",
    )
    answers = n
    score = rng.integers(0, 11, answers).astype(str).astype(object)
    score[rng.random(answers) < 0.05] = ""  # partial responses
    _write(
        pa.table(
            {
                "#": pa.array(np.arange(1, answers + 1)),
                "How likely are you to recommend us": pa.array(score, pa.string()),
                "email": some_emails(answers),
                "Submit Date (UTC)": _days(rng, answers, "2025-06-01", "2026-11-22"),
            }
        ),
        folder / "surveys.csv",
    )
    (folder / "cstool.toml").write_text(TOML, encoding="utf-8")
    return folder


DUCKDB_SQL = """
COPY (
WITH subs AS (
  SELECT lower(trim("Customer Email")) AS email,
         sum(CASE WHEN "Status" IN ('active', 'past_due')
                  THEN "Amount" * "Quantity" * CASE "Interval" WHEN 'year' THEN 1.0 / 12 ELSE 1 END
                  ELSE 0 END) AS mrr,
         arg_max("Plan", CASE WHEN "Status" IN ('active', 'past_due')
                  THEN "Amount" * "Quantity" * CASE "Interval" WHEN 'year' THEN 1.0 / 12 ELSE 1 END
                  ELSE 0 END) AS plan,
         min(CASE WHEN "Status" <> 'canceled' THEN "Current Period End (UTC)" END) AS renewal_date,
         min("Start (UTC)") AS signup_date,
         max(CASE "Status" WHEN 'past_due' THEN 6 WHEN 'active' THEN 5 WHEN 'trialing' THEN 3
             ELSE 1 END) AS status_rank,
         max("Canceled At (UTC)") AS churned_at
  FROM read_csv({subs}, header = true) GROUP BY 1),
tickets AS (
  SELECT lower(trim("Requester email")) AS email,
         count(*) FILTER (WHERE "Status" IN ('new', 'open', 'pending', 'hold')) AS open_tickets,
         max("Created at") AS last_ticket_date,
         count(*) FILTER (WHERE "Satisfaction Score" = 'Good')
           / nullif(count(*) FILTER (WHERE "Satisfaction Score" IN ('Good', 'Bad')), 0)
           AS tickets_rated_good,
         count(*) FILTER (WHERE "Solved at" - "Created at" <= INTERVAL 24 HOUR)
           / nullif(count("Solved at"), 0) AS tickets_solved_on_time
  FROM read_csv({tickets}, header = true) GROUP BY 1),
surveys AS (
  SELECT lower(trim(email)) AS email,
         arg_max("How likely are you to recommend us", "Submit Date (UTC)") AS nps,
         max("Submit Date (UTC)") AS nps_date
  FROM read_csv({surveys}, header = true)
  WHERE "How likely are you to recommend us" IS NOT NULL GROUP BY 1),
c AS (SELECT *, lower(trim("Email")) AS key FROM read_csv({customers}, header = true))
SELECT c.* EXCLUDE (key), s.mrr, s.plan, s.renewal_date, s.signup_date,
       CASE s.status_rank WHEN 6 THEN 'past_due' WHEN 5 THEN 'active' WHEN 3 THEN 'trial'
            WHEN 1 THEN 'churned' END AS status,
       CASE WHEN s.status_rank = 1 THEN s.churned_at END AS churn_date,
       coalesce(t.open_tickets, 0) AS open_tickets, t.last_ticket_date, t.tickets_rated_good,
       t.tickets_solved_on_time,
       v.nps, v.nps_date,
       0.5 * "Value_Delivery" * 10 + 0.3 * "Issue_Resolution" * 10
         + 0.2 * "Growth_Strategy" * 10 AS satisfaction,
       CASE WHEN satisfaction < 50 THEN 'red' WHEN satisfaction < 75 THEN 'yellow'
            ELSE 'green' END AS band
FROM c LEFT JOIN subs s ON s.email = c.key LEFT JOIN tickets t ON t.email = c.key
       LEFT JOIN surveys v ON v.email = c.key
) TO {out} (FORMAT csv, HEADER)
"""


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def duckdb_main(folder: Path, out: Path) -> None:
    """The baseline (run in its own process): the joins and aggregations as one COPY."""
    import duckdb

    sql = DUCKDB_SQL.format(
        subs=_literal(folder / "subscriptions.csv"),
        tickets=_literal(folder / "tickets.csv"),
        surveys=_literal(folder / "surveys.csv"),
        customers=_literal(folder / "customers.csv"),
        out=_literal(out),
    )
    duckdb.connect().execute(sql)


def main(argv: list[str] | None = None) -> None:
    """Generate once, then time cstool and DuckDB interleaved; print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--duckdb", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.duckdb:
        duckdb_main(*args.duckdb)
        return
    folder = generate(DATA / f"sources_v2_{args.customers}", args.customers)
    inputs = sum(
        (folder / name).stat().st_size
        for name in ("customers.csv", "subscriptions.csv", "tickets.csv", "surveys.csv")
    )
    out = folder / "out"
    out.mkdir(exist_ok=True)
    py = sys.executable
    cstool = [
        py,
        "-m",
        "cstool",
        "score",
        "--config",
        str(folder / "cstool.toml"),
        "--as-of",
        AS_OF,
    ]
    commands = {
        "duckdb joins + COPY": [py, __file__, "--duckdb", str(folder), str(out / "duckdb.csv")],
        "cstool score --output (3 sources)": [*cstool, "--output", str(out / "cstool.csv")],
    }
    timings = compare(commands, runs=args.runs, warmup=0)
    table = markdown_table(timings, baseline="duckdb joins + COPY", input_bytes=inputs)
    by_name = {t.name: t for t in timings}
    ours, theirs = by_name["cstool score --output (3 sources)"], by_name["duckdb joins + COPY"]
    speed = ours.median_s / theirs.median_s
    memory = max(ours.peak_bytes) / inputs
    body = "\n".join(
        [
            f"{args.customers:,} customers + {5 * args.customers:,} tickets + "
            f"{args.customers:,} survey answers + {args.customers:,} subscriptions "
            f"({inputs / 1e6:.0f} MB of input), merged and scored to an enriched CSV.",
            "",
            table,
            "",
            f"- time: cstool ÷ DuckDB = {speed:.2f}× (target ≤ 2×)",
            f"- peak memory ÷ input size = {memory:.2f}× (target ≤ 6×)",
        ]
    )
    print(body)
    if not args.no_write:
        update_results("Sources", body)


if __name__ == "__main__":
    main()
