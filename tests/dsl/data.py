"""Generated customers: awkward on purpose (NULLs, '', case, quotes, %, _, day boundaries)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

NOW = dt.datetime(2026, 11, 25, 12, 0, 0)

CITIES = [None, "", "Pune", "pune", "PUNE", "Pune ", " ", "Mumbai", "mumbai", "Nagpur",
          "New Delhi", "O'Brien Town", "50%_off", "a_b", "a%b", "back\\slash", 'Say "hi"',
          "Bengaluru", "Chennai"]
FIRST = ["Asha", "Ravi", "ravi", "Meera", "KUMAR", "Anil", "O'Brien", "x%y", "under_score",
         'Quote "Q"', "Zed"]
LAST = ["Kumar", "kumar", "Rao", "Shah", "", "Iyer", "D'Souza", "100%", "_lead"]
DOMAINS = ["gmail.com", "GMAIL.COM", "example.com", "yahoo.co.in", "gmail.com.evil"]
SPECIAL_SPENDS = ["0.30", "1000", "1000.00", "4999.99", "5000", "5000.01", "10000", "10000.00",
                  "10000.01", "0.01", "2599.50", "100", "33.33", "999999999.99"]
DAY_EDGES = [
    dt.datetime(2024, 1, 1, 0, 0, 0), dt.datetime(2023, 12, 31, 23, 59, 59),
    dt.datetime(2024, 1, 1, 23, 59, 59), dt.datetime(2024, 1, 2, 0, 0, 0),
    NOW - dt.timedelta(days=90), NOW - dt.timedelta(days=91),
    NOW - dt.timedelta(days=91, seconds=1),
    dt.datetime(2026, 8, 25, 12, 0, 0), dt.datetime(2026, 8, 25, 11, 59, 59),
    NOW.replace(hour=0), NOW, NOW - dt.timedelta(seconds=1), dt.datetime(2025, 11, 25, 12, 0, 0),
]


def _moment(rng: random.Random, days_back: int) -> dt.datetime:
    if rng.random() < 0.15:
        return rng.choice(DAY_EDGES)
    return NOW - dt.timedelta(seconds=rng.randrange(-3600, days_back * 86400))


def _text(rng: random.Random, choices: list[Any]) -> Any:
    return rng.choice(choices)


def generate_customers(n: int, seed: int) -> list[dict[str, Any]]:
    """Return `n` customer rows for `customers`, the same for a given seed."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        visits = rng.choice([0, 0, 0, 1, 1, 2, 3, 3, 4, 6, 10, 11, 25])
        if visits == 0:
            spend = Decimal("0.00")
        elif rng.random() < 0.3:
            spend = Decimal(rng.choice(SPECIAL_SPENDS))
        elif rng.random() < 0.2:  # averages that land exactly on round numbers
            spend = Decimal(rng.choice(["500", "4000.10", "0.10", "33.33"])) * visits
        else:
            spend = Decimal(rng.randrange(1, 2_000_000)) / 100
        signup = _moment(rng, 1500)
        last = None if visits == 0 else max(signup, _moment(rng, 1200))
        first, last_name = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last_name}".strip() if rng.random() < 0.95 else ""
        email = rng.choice([None, "", f"{first.lower()}{i}@{rng.choice(DOMAINS)}",
                            f"{first}{i}@{rng.choice(DOMAINS)}"])
        phone = rng.choice([None, "", f"+9198{rng.randrange(10**8):08d}", "+1 (555) 010"])
        rows.append({
            "id": i + 1, "external_id": f"C{i:05d}", "name": name, "email": email, "phone": phone,
            "city": _text(rng, CITIES), "signup_at": signup, "created_at": signup,
            "updated_at": signup, "attributes": None, "visits": visits,
            "total_spend": spend.quantize(Decimal("0.01")), "last_visit_at": last,
        })
    return rows


# Campaigns that overlap: 2 is sent while 1's window is still open, so last touch decides.
CAMPAIGNS = [
    {"id": 1, "created_at": NOW - dt.timedelta(days=20), "attribution_days": 7},
    {"id": 2, "created_at": NOW - dt.timedelta(days=17), "attribution_days": 3},
    {"id": 3, "created_at": NOW - dt.timedelta(days=2), "attribution_days": 14},
]
STATES = ["SENT"] * 6 + ["FAILED", "PENDING", "HOLDOUT", "HOLDOUT"]
PERIOD_EDGES = [dt.timedelta(days=90), dt.timedelta(days=30), dt.timedelta(weeks=2)]


def generate_activity(
    customers: list[dict[str, Any]], seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Return orders, campaigns and log rows for customers numbered 1..n in list order.

    Orders sit on the edges that matter: the start of a period, the moment a message
    became SENT, the last instant of an attribution window and the one after it.
    """
    rng = random.Random(seed)
    campaigns = [{**c, "name": f"C{c['id']}", "rule": "spend >= 0", "message": "Hi",
                  "status": "done", "audience_size": 0} for c in CAMPAIGNS]
    log: list[dict[str, Any]] = []
    touches: dict[int, list[dt.datetime]] = {}
    for c in CAMPAIGNS:
        for number in rng.sample(range(1, len(customers) + 1), len(customers) // 3):
            status = rng.choice(STATES)
            updated = c["created_at"]
            if status in ("SENT", "FAILED"):
                updated += dt.timedelta(seconds=rng.choice([0, 5, 60, 3600, 86400]))
            if status == "SENT":
                touches.setdefault(number, []).append(updated)
            log.append({"id": len(log) + 1, "campaign_id": c["id"], "customer_id": number,
                        "message": "Hi",
                        "status": status, "created_at": c["created_at"], "updated_at": updated})
    orders: list[dict[str, Any]] = []
    for number, row in enumerate(customers, start=1):
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            when = _order_time(rng, touches.get(number, []))
            amount = Decimal(rng.choice(["0.10", "0.20", "0.00", "2599.50", "5000.00",
                                         "1250.25", str(rng.randrange(1, 900_000) / 100)]))
            orders.append({"external_id": f"O{len(orders):06d}",
                           "customer_external_id": row["external_id"],
                           "amount": amount.quantize(Decimal("0.01")), "ordered_at": when,
                           "created_at": when, "updated_at": when})
    orders.append({"external_id": "O-orphan", "customer_external_id": "NOBODY",
                   "amount": Decimal("9999.00"), "ordered_at": NOW, "created_at": NOW,
                   "updated_at": NOW})
    return orders, campaigns, log


def _order_time(rng: random.Random, touches: list[dt.datetime]) -> dt.datetime:
    pick = rng.random()
    if touches and pick < 0.5:
        touch = rng.choice(touches)
        offset = rng.choice([0, -1, 1, 3600, 2 * 86400, 3 * 86400, 3 * 86400 + 1,
                             7 * 86400, 7 * 86400 + 1, 10 * 86400])
        return min(touch + dt.timedelta(seconds=offset), NOW)
    if pick < 0.65:
        return NOW - rng.choice(PERIOD_EDGES) + dt.timedelta(seconds=rng.choice([-1, 0, 1]))
    return NOW - dt.timedelta(seconds=rng.randrange(0, 200 * 86400))
