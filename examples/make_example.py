"""Write examples/customer_data.csv: ~200 made-up customers of a one-person SaaS business.

Seeded and reproducible: `python examples/make_example.py` always writes the same bytes.
The people, companies and e-mail addresses are invented (example.com/.org/.net domains).

Each customer gets a hidden "mood" (unhappy / middling / happy) that drives the three
satisfaction inputs, NPS, open tickets and how long ago they were last contacted, so the
file spreads across the health bands roughly 25 % red, a broad middle and many greens.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

AS_OF = date(2026, 11, 23)
SEED = 20261123
ROWS = 200
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

FIRST = [
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kira", "Liam", "Maya", "Nils", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Will", "Yara", "Zack", "Amir", "Bea", "Chloe", "Dmitri", "Emma",
    "Felix", "Hana", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nora", "Oscar", "Priya",
]  # fmt: skip
LAST = [
    "Adams", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Novak", "Okafor", "Patel", "Quinto", "Rossi",
    "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Yilmaz", "Zimmer", "Brown", "Silva",
    "Kim", "Larsen", "Murphy",
]  # fmt: skip
COMPANY_WORDS = [
    "Acme", "Bluebird", "Cedar", "Driftwood", "Ember", "Foxglove", "Granite", "Harbor",
    "Indigo", "Juniper", "Kestrel", "Lumen", "Maple", "Northwind", "Orchard", "Pinecone",
    "Quartz", "Riverbend", "Saffron", "Tidewater", "Upland", "Velvet", "Willow", "Zephyr",
]  # fmt: skip
COMPANY_KINDS = ["Studio", "Labs", "Bakery", "Consulting", "Design", "Dental", "Fitness",
                 "Books", "Travel", "Legal", "Coffee", "Media"]  # fmt: skip
DOMAINS = ["example.com", "example.org", "example.net"]

# Names that exercise quoting and non-ASCII text; each appears once.
SPECIAL_NAMES = [
    ("José García", "jose.garcia"),
    ("Zoë Müller", "zoe.mueller"),
    ("王芳", "wang.fang"),
    ("Smith, Jane", "jane.smith"),
    ("Brightside Studio, LLC", "hello"),
    ("Søren Kierkegaard", "soren.k"),
    ("李伟", "li.wei"),
    ("François Léger", "francois.leger"),
]

# plan -> (share, MRR choices)
PLANS = {
    "Starter": (0.40, [19, 29, 39, 49]),
    "Pro": (0.33, [79, 99, 129, 149, 199]),
    "Business": (0.19, [299, 349, 499, 649, 799]),
    "Enterprise": (0.08, [990, 1200, 1450, 1750, 1990]),
}

NOTES = {
    "unhappy": [
        "Complained about slow exports",
        "Asked about cancelling, offered a call",
        "Missed two invoices",
        "Frustrated with the onboarding, wants a refund",
        "Bug in the sync, waiting on a fix",
        "Champion left the company",
    ],
    "middling": [
        "Uses the basics only",
        "Asked for a CSV import",
        "Quiet since the last release",
        "Wants SSO, maybe next year",
        "Price-sensitive, watch at renewal",
        "Happy with support, unsure about value",
    ],
    "happy": [
        "Referred two customers",
        "Interested in the annual plan",
        "Great call, wants the API",
        "Case study candidate",
        "Asked about adding seats",
        "Loves the weekly report",
    ],
}

MOODS = ["unhappy", "middling", "happy"]
MOOD_WEIGHTS = [0.24, 0.36, 0.40]


def _score(rng: random.Random, centre: float, spread: float) -> float:
    """A 0–10 input in half steps around `centre`."""
    value = min(10.0, max(0.0, rng.gauss(centre, spread)))
    return round(value * 2) / 2


def _fmt_number(value: float) -> str:
    """Plain numbers: `49`, `7.5` (no thousands separators, no currency)."""
    return f"{value:g}" if value != int(value) else str(int(value))


def _next_renewal(signup: date) -> date:
    """The next yearly anniversary of the signup after the as-of date."""
    year = AS_OF.year
    day = min(signup.day, 28)
    candidate = date(year, signup.month, day)
    if candidate <= AS_OF:
        candidate = date(year + 1, signup.month, day)
    return candidate


def customer_rows(rows: int = ROWS, seed: int = SEED) -> list[list[str]]:
    """The example customers as CSV cells (header excluded)."""
    rng = random.Random(seed)
    plan_names = list(PLANS)
    plan_weights = [PLANS[p][0] for p in plan_names]
    special_at = set(rng.sample(range(rows), len(SPECIAL_NAMES)))
    specials = iter(SPECIAL_NAMES)
    used_emails: set[str] = set()
    out: list[list[str]] = []
    for i in range(rows):
        customer_id = f"C{1001 + i}"
        if i in special_at:
            name, local = next(specials)
        elif rng.random() < 0.3:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
            local = rng.choice(["hello", "info", "team", "office", "admin"])
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            local = f"{first}.{last}".lower()
        domain = rng.choice(DOMAINS)
        email = f"{local}@{domain}"
        if email in used_emails:
            email = f"{local}{i}@{domain}"
        used_emails.add(email)

        mood = rng.choices(MOODS, MOOD_WEIGHTS)[0]
        plan = rng.choices(plan_names, plan_weights)[0]
        mrr: float = rng.choice(PLANS[plan][1])
        if plan != "Starter" and rng.random() < 0.12:  # discounted or prorated
            mrr = round(mrr * rng.choice([0.5, 0.8, 0.85]), 2)

        # Signups 2021 → a few days ago; ~10 % within the last 90 days.
        if rng.random() < 0.10:
            signup = AS_OF - timedelta(days=rng.randint(3, 89))
        else:
            signup = date(2021, 1, 4) + timedelta(
                days=rng.randint(0, (AS_OF - date(2021, 1, 4)).days - 90)
            )
        tenure = (AS_OF - signup).days

        centre = {"unhappy": 3.5, "middling": 6.6, "happy": 8.4}[mood]
        value_delivery = _score(rng, centre, 1.3)
        issue_resolution = _score(rng, centre + rng.uniform(-1, 0.5), 1.5)
        growth_strategy = _score(rng, centre - 0.5, 1.6)

        nps_centre = {"unhappy": 4, "middling": 7, "happy": 9}[mood]
        nps = min(10, max(0, round(rng.gauss(nps_centre, 1.5))))
        tickets = {
            "unhappy": rng.choice([1, 2, 3, 3, 4, 5, 6]),
            "middling": rng.choice([0, 0, 1, 1, 2, 3]),
            "happy": rng.choice([0, 0, 0, 0, 1, 2]),
        }[mood]

        # Last contact: a few days to over a year ago, never before signup.
        ago_choices = {
            "unhappy": [(3, 30), (60, 200), (120, 420)],
            "middling": [(2, 40), (30, 120), (90, 400)],
            "happy": [(1, 25), (10, 60), (40, 150)],
        }[mood]
        low, high = rng.choice(ago_choices)
        ago = min(rng.randint(low, high), tenure)
        last_contact: date | None = AS_OF - timedelta(days=ago)

        renewal: date | None = _next_renewal(signup)
        if tenure < 90 and rng.random() < 0.5:
            renewal = signup + timedelta(days=365)

        if mood == "unhappy" and rng.random() < 0.4:
            stage = "At risk"
        elif tenure < 90:
            stage = "Onboarding"
        elif renewal is not None and (renewal - AS_OF).days <= 45:
            stage = "Renewal"
        elif mood == "happy" and rng.random() < 0.25:
            stage = "Expansion"
        else:
            stage = "Active"

        # Missing values in the optional columns.
        mrr_cell = "" if rng.random() < 0.05 else _fmt_number(mrr)
        nps_cell = "" if rng.random() < 0.25 else str(nps)
        if rng.random() < 0.07:
            last_contact = None
        if rng.random() < 0.08:
            renewal = None  # month-to-month, no renewal date
        notes = rng.choice(NOTES[mood]) if rng.random() < 0.5 else ""

        out.append(
            [
                customer_id,
                name,
                email,
                plan,
                stage,
                mrr_cell,
                signup.isoformat(),
                last_contact.isoformat() if last_contact else "",
                renewal.isoformat() if renewal else "",
                nps_cell,
                str(tickets),
                _fmt_number(value_delivery),
                _fmt_number(issue_resolution),
                _fmt_number(growth_strategy),
                notes,
            ]
        )
    return out


def main() -> None:
    """Write the example file (default: next to this script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out", nargs="?", type=Path, default=Path(__file__).with_name("customer_data.csv")
    )
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(customer_rows(args.rows, args.seed))
    print(f"wrote {args.rows} customers to {args.out}")


if __name__ == "__main__":
    main()
