"""Synthetic customers and orders that look like an Indian D2C brand's, for demos and benchmarks."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIRST = [
    "Aarav",
    "Aditi",
    "Akash",
    "Ananya",
    "Anil",
    "Anjali",
    "Arjun",
    "Asha",
    "Ayesha",
    "Deepak",
    "Divya",
    "Farhan",
    "Gaurav",
    "Ishaan",
    "Kavya",
    "Kiran",
    "Lakshmi",
    "Manish",
    "Meera",
    "Mohit",
    "Neha",
    "Nikhil",
    "Pooja",
    "Pranav",
    "Priya",
    "Rahul",
    "Rajesh",
    "Ravi",
    "Riya",
    "Rohan",
    "Sanjay",
    "Sara",
    "Shreya",
    "Siddharth",
    "Sneha",
    "Sunita",
    "Tanvi",
    "Varun",
    "Vikram",
    "Zoya",
    "Harpreet",
    "Fatima",
    "Joseph",
    "Mary",
    "Suresh",
    "Lalitha",
    "Venkat",
    "Gurpreet",
    "Imran",
    "Tenzin",
]
LAST = [
    "Sharma",
    "Verma",
    "Gupta",
    "Kumar",
    "Singh",
    "Patel",
    "Shah",
    "Mehta",
    "Rao",
    "Reddy",
    "Nair",
    "Iyer",
    "Menon",
    "Pillai",
    "Das",
    "Banerjee",
    "Chatterjee",
    "Mukherjee",
    "Bose",
    "Ghosh",
    "Khan",
    "Qureshi",
    "Sheikh",
    "D'Souza",
    "Fernandes",
    "Joshi",
    "Kulkarni",
    "Deshpande",
    "Patil",
    "Jain",
    "Agarwal",
    "Malhotra",
    "Kapoor",
    "Chopra",
    "Gill",
    "Sandhu",
    "Naidu",
    "Hegde",
]
CITIES = (
    ("Mumbai", 14),
    ("Delhi", 14),
    ("Bengaluru", 12),
    ("Hyderabad", 8),
    ("Chennai", 8),
    ("Kolkata", 7),
    ("Pune", 7),
    ("Ahmedabad", 5),
    ("Jaipur", 4),
    ("Lucknow", 3),
    ("Nagpur", 3),
    ("Kochi", 3),
    ("Indore", 2),
    ("Chandigarh", 2),
    ("Bhopal", 2),
    ("Surat", 2),
    ("Coimbatore", 2),
    ("Guwahati", 1),
    ("Visakhapatnam", 1),
    ("Mysuru", 1),
)
DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com")
CUSTOMER_COLUMNS = ("id", "name", "email", "phone", "city", "signup_at")
ORDER_COLUMNS = ("id", "customer_id", "amount", "ordered_at")
DAYS = 730


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def customer_id(n: int) -> str:
    """The external id of the n-th generated customer (1-based)."""
    return f"C{n:07d}"


def customers(count: int, seed: int = 7, now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield `count` customers; some lack an email, a phone or a city, as real data does."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    cities, weights = zip(*CITIES, strict=True)
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first}.{last}".lower().replace("'", "")
        yield {
            "id": customer_id(n),
            "name": f"{first} {last}",
            "email": f"{handle}{n}@{rng.choice(DOMAINS)}" if rng.random() > 0.05 else "",
            "phone": f"+91{rng.randint(6000000000, 9999999999)}" if rng.random() > 0.1 else "",
            "city": rng.choices(cities, weights)[0] if rng.random() > 0.03 else "",
            "signup_at": _iso(
                now - timedelta(days=DAYS + 30) + timedelta(seconds=rng.randrange(DAYS * 86400))
            ),
        }


def orders(
    count: int, customer_count: int, seed: int = 11, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `count` orders over the last two years; a few loyal customers order often."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    for n in range(1, count + 1):
        # Skewed towards low customer numbers: a long tail of one-time buyers.
        who = min(customer_count, int(customer_count * rng.random() ** 1.6) + 1)
        amount = round(rng.lognormvariate(7.2, 0.8), 2)
        yield {
            "id": f"O{n:08d}",
            "customer_id": customer_id(who),
            "amount": f"{max(49.0, min(amount, 250000.0)):.2f}",
            "ordered_at": _iso(now - timedelta(seconds=rng.randrange(DAYS * 86400))),
        }


def write_csv(
    path: Path,
    columns: tuple[str, ...],
    rows: Iterator[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream rows to a CSV file; return how many were written."""
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            written += 1
            if progress and written % 10_000 == 0:
                progress(10_000)
    return written
