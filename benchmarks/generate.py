"""Write an N-row customer file for benchmarks.

    python benchmarks/generate.py N OUT.csv [--seed S]

Same core columns as examples/customer_data.csv (everything but Notes), all values valid,
unique IDs, ISO dates around 2026-11-23, some optional cells empty. Built column-wise with
numpy and pyarrow, so 1M rows (≈ 108 MB) take a couple of seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

AS_OF = date(2026, 11, 23)
DEFAULT_SEED = 1

HEADERS = [
    "Customer_ID",
    "Name",
    "Email",
    "Plan",
    "Stage",
    "MRR",
    "Signup_Date",
    "Last_Contact",
    "Renewal_Date",
    "NPS",
    "Open_Tickets",
    "Value_Delivery",
    "Issue_Resolution",
    "Growth_Strategy",
]

FIRST = [
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kira", "Liam", "Maya", "Nils", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara",
    "José", "Zoë", "Will", "Yara", "Zack", "Amir", "Bea", "Chloe", "Dmitri", "Emma",
]  # fmt: skip
LAST = [
    "Adams", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Schmidt",
    "Tanaka", "Weber", "Yilmaz", "Zimmer", "Brown", "Silva", "Kim", "Murphy",
]  # fmt: skip
DOMAINS = ["example.com", "example.org", "example.net"]
PLANS = ["Starter", "Pro", "Business", "Enterprise"]
PLAN_P = [0.45, 0.33, 0.16, 0.06]
PLAN_MRR_LOW = np.array([19, 79, 299, 990])
PLAN_MRR_HIGH = np.array([49, 199, 799, 1990])
STAGES = ["Onboarding", "Active", "Renewal", "Expansion", "At risk"]


def _ascii_lower(names: list[str]) -> list[str]:
    table = str.maketrans({"é": "e", "ë": "e"})
    return [n.translate(table).lower() for n in names]


def _with_nulls(array: pa.Array, rng: np.random.Generator, share: float) -> pa.Array:
    """The same array with about `share` of its cells missing."""
    missing = pa.array(rng.random(len(array)) < share)
    return pc.if_else(missing, pa.nulls(len(array), array.type), array)


def _scores(rng: np.random.Generator, centre: np.ndarray, spread: float) -> np.ndarray:
    """0–10 inputs in half steps around each row's centre."""
    values = np.clip(rng.normal(centre, spread), 0.0, 10.0)
    return np.round(values * 2) / 2


def customer_table(rows: int, seed: int = DEFAULT_SEED) -> pa.Table:
    """An Arrow table of `rows` valid customers with unique IDs (C0000001, …)."""
    rng = np.random.default_rng(seed)
    as_of = np.datetime64(AS_OF.isoformat(), "D")

    ids = pc.binary_join_element_wise(
        "C", pc.utf8_lpad(pa.array(np.arange(1, rows + 1)).cast(pa.string()), 7, "0"), ""
    )
    first_idx = rng.integers(0, len(FIRST), rows)
    last_idx = rng.integers(0, len(LAST), rows)
    first = pa.array(FIRST).take(first_idx)
    last = pa.array(LAST).take(last_idx)
    names = pc.binary_join_element_wise(first, last, " ")
    emails = pc.binary_join_element_wise(
        pa.array(_ascii_lower(FIRST)).take(first_idx),
        ".",
        pa.array(_ascii_lower(LAST)).take(last_idx),
        "@",
        pa.array(DOMAINS).take(rng.integers(0, len(DOMAINS), rows)),
        "",
    )

    plan_idx = rng.choice(len(PLANS), size=rows, p=PLAN_P)
    mrr = np.round(rng.uniform(PLAN_MRR_LOW[plan_idx], PLAN_MRR_HIGH[plan_idx]))

    # Mood: 0 unhappy, 1 middling, 2 happy — drives inputs, NPS, tickets and recency.
    mood = rng.choice(3, size=rows, p=[0.25, 0.35, 0.40])
    centre = np.array([3.5, 6.6, 8.4])[mood]
    value_delivery = _scores(rng, centre, 1.3)
    issue_resolution = _scores(rng, centre - 0.25, 1.5)
    growth_strategy = _scores(rng, centre - 0.5, 1.6)
    nps = np.clip(np.round(rng.normal(np.array([4, 7, 9])[mood], 1.5)), 0, 10).astype(np.int64)
    tickets = rng.poisson(np.array([3.0, 1.0, 0.4])[mood]).astype(np.int64)

    start = np.datetime64("2021-01-04", "D")
    signup = start + rng.integers(0, (as_of - start).astype(int) - 2, rows).astype("timedelta64[D]")
    tenure = (as_of - signup).astype(int)
    ago = np.minimum(rng.exponential(np.array([150.0, 70.0, 25.0])[mood]).astype(int) + 1, tenure)
    last_contact = as_of - ago.astype("timedelta64[D]")
    renewal = as_of + rng.integers(1, 366, rows).astype("timedelta64[D]")

    stage_idx = np.select(
        [tenure < 90, (mood == 0) & (rng.random(rows) < 0.4), (renewal - as_of).astype(int) <= 45],
        [0, 4, 2],
        default=np.where((mood == 2) & (rng.random(rows) < 0.25), 3, 1),
    )

    columns = [
        ids,
        names,
        emails,
        pa.array(PLANS).take(plan_idx),
        pa.array(STAGES).take(stage_idx),
        _with_nulls(pa.array(mrr), rng, 0.05),
        pa.array(signup),
        _with_nulls(pa.array(last_contact), rng, 0.07),
        _with_nulls(pa.array(renewal), rng, 0.08),
        _with_nulls(pa.array(nps), rng, 0.25),
        pa.array(tickets),
        pa.array(value_delivery),
        pa.array(issue_resolution),
        pa.array(growth_strategy),
    ]
    return pa.table(columns, names=HEADERS)


def write_customers(rows: int, out: Path, seed: int = DEFAULT_SEED) -> Path:
    """Write `rows` customers to `out` as UTF-8 CSV, unquoted (no generated cell needs quotes)."""
    table = customer_table(rows, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write((",".join(HEADERS) + "\n").encode())  # pyarrow would quote the header
        pacsv.write_csv(
            table, handle, pacsv.WriteOptions(include_header=False, quoting_style="none")
        )
    tmp.replace(out)  # a half-written file must never pass as a cached one
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: N OUT.csv [--seed S]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, help="number of customers")
    parser.add_argument("out", type=Path, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("N must be at least 1")
    started = time.perf_counter()
    write_customers(args.rows, args.out, args.seed)
    size = args.out.stat().st_size
    print(
        f"wrote {args.rows:,} rows, {size / 1e6:.1f} MB to {args.out} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
