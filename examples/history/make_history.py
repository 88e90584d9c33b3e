"""Write twelve monthly exports of one made-up customer book: customers_2026-01-01.csv … 12-01.

Seeded and reproducible: `python examples/history/make_history.py` always writes the same
bytes. Same columns as examples/customer_data.csv. About 300 customers; every month some
join and some leave, and who leaves depends on how they were doing: low satisfaction and
a long time since the last contact raise the monthly churn hazard (NPS and tickets follow
the same hidden mood but do not drive churn themselves). Half of the leavers still appear
in the month they left with Stage "Churned"; after that they are gone from the exports.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SEED = 20260101
START_CUSTOMERS = 290
JOINERS_PER_MONTH = (14, 24)
MONTHS = [date(2026, month, 1) for month in range(1, 13)]
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
    "Notes",
]
FIRST = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kira", "Liam", "Maya", "Nils", "Olivia", "Pedro", "Rosa", "Sam", "Tara",
         "Vera"]  # fmt: skip
LAST = ["Adams", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
        "Jensen", "Kowalski", "Lopez", "Moreau", "Novak", "Okafor", "Patel", "Rossi"]  # fmt: skip
PLANS = {"Starter": [19, 29, 39, 49], "Pro": [79, 99, 149], "Business": [299, 499, 649]}


@dataclass
class Customer:
    """One customer's hidden state, carried from month to month."""

    number: int
    name: str
    plan: str
    mrr: float
    signup: date
    mood: float  # 0 unhappy … 1 happy; drifts month to month
    last_contact: date


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _half_points(value: float) -> float:
    """A 0–10 answer in steps of 0.5."""
    return round(_clip(value, 0.0, 10.0) * 2) / 2


def _new_customer(rng: random.Random, number: int, signup: date) -> Customer:
    plan = rng.choices(list(PLANS), weights=[0.5, 0.35, 0.15])[0]
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return Customer(
        number=number,
        name=name,
        plan=plan,
        mrr=float(rng.choice(PLANS[plan])),
        signup=signup,
        mood=rng.betavariate(2.2, 1.6),
        last_contact=signup,
    )


def _row(rng: random.Random, c: Customer, month: date, stage: str) -> list[str]:
    """The customer as the month's export shows it."""
    m = c.mood
    value = _half_points(10 * m + rng.gauss(0, 1.2))
    issues = _half_points(10 * m + rng.gauss(0, 1.8))
    growth = _half_points(10 * m + rng.gauss(0, 2.0))
    nps = "" if rng.random() < 0.3 else str(round(_clip(10 * m + rng.gauss(0, 2.0), 0, 10)))
    tickets = min(9, int(rng.expovariate(1.0) * 3 * (1.1 - m)))
    years = max(1, (month.year - c.signup.year) + 1)
    renewal = date(c.signup.year + years, c.signup.month, min(c.signup.day, 28))
    first, _, last = c.name.partition(" ")
    return [
        f"H{c.number:04d}",
        c.name,
        f"{first.lower()}.{last.lower()}{c.number}@example.com",
        c.plan,
        stage,
        f"{c.mrr:g}",
        c.signup.isoformat(),
        c.last_contact.isoformat(),
        renewal.isoformat(),
        nps,
        str(tickets),
        f"{value:g}",
        f"{issues:g}",
        f"{growth:g}",
        "",
    ]


def churn_hazard(satisfaction: float, days_since_contact: int) -> float:
    """Monthly chance of leaving: low satisfaction and a long silence make it likelier."""
    unhappy = (1 - satisfaction / 10) ** 2
    silent = _clip((days_since_contact - 30) / 90, 0.0, 1.0)
    return 0.008 + 0.16 * unhappy + 0.07 * silent


def make_history(folder: Path, seed: int = SEED) -> list[Path]:
    """Write the twelve monthly exports into `folder`; returns their paths."""
    rng = random.Random(seed)
    customers: list[Customer] = []
    number = 1
    for _ in range(START_CUSTOMERS):
        signup = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1050))
        customers.append(_new_customer(rng, number, signup))
        number += 1
    written = []
    for month in MONTHS:
        rows: list[list[str]] = []
        staying: list[Customer] = []
        for c in customers:
            # The month since the last export: mood drifts, the owner maybe gets in touch.
            c.mood = _clip(c.mood + rng.gauss(0, 0.07), 0.0, 1.0)
            if rng.random() < 0.55:
                c.last_contact = month - timedelta(days=rng.randrange(0, 30))
            satisfaction = 10 * c.mood
            silence = (month - c.last_contact).days
            if c.signup < month - timedelta(days=31) and rng.random() < churn_hazard(
                satisfaction, silence
            ):
                if rng.random() < 0.5:  # left this month and the export still lists it
                    rows.append(_row(rng, c, month, "Churned"))
                continue
            staying.append(c)
            rows.append(_row(rng, c, month, "Active"))
        for _ in range(rng.randint(*JOINERS_PER_MONTH)):
            signup = month - timedelta(days=rng.randrange(1, 28))
            joiner = _new_customer(rng, number, signup)
            number += 1
            staying.append(joiner)
            rows.append(_row(rng, joiner, month, "Active"))
        customers = staying
        rows.sort(key=lambda r: r[0])
        path = folder / f"customers_{month.isoformat()}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HEADERS)
            writer.writerows(rows)
        written.append(path)
    return written


def main() -> None:
    """Command line: write the exports next to this script (or into --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in make_history(args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
