"""Jinja filters every page uses: Indian digit grouping, rupees, short dates, initials."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask

FILTERS: dict[str, Callable[..., str]] = {}


def _filter(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    def register(func: Callable[..., str]) -> Callable[..., str]:
        FILTERS[name] = func
        return func

    return register


def group_indian(digits: str) -> str:
    """Group an unsigned digit string the Indian way: 12,34,567."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


@_filter("indian")
def indian_number(value: int | float | Decimal | None) -> str:
    """A whole number with Indian digit grouping."""
    number = int(value or 0)
    return ("-" if number < 0 else "") + group_indian(str(abs(number)))


@_filter("inr")
def inr(value: int | float | Decimal | str | None, decimals: int = 2) -> str:
    """Rupees with Indian grouping: ₹12,34,567.50 (decimals=0 rounds to whole rupees)."""
    amount = Decimal(str(value or 0))
    quantum = Decimal(1).scaleb(-decimals)
    text = f"{abs(amount.quantize(quantum, rounding=ROUND_HALF_UP)):f}"
    whole, _, fraction = text.partition(".")
    sign = "-" if amount < 0 else ""
    return f"{sign}₹{group_indian(whole)}" + (f".{fraction}" if fraction else "")


@_filter("shortdate")
def short_date(value: str | datetime | None, with_time: bool = False) -> str:
    """A date as '5 Mar 2025' (optionally with the UTC time); '—' when empty."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    text = f"{value.day} {value:%b %Y}"
    return text + (f", {value:%H:%M} UTC" if with_time else "")


@_filter("ago")
def ago(value: str | datetime | None, now: datetime | None = None) -> str:
    """How long ago a naive-UTC time was: 'just now', '5 min ago', '3 h ago', '2 days ago'."""
    if not value:
        return "never"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    seconds = ((now or datetime.now(UTC).replace(tzinfo=None)) - value).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''} ago"
    return "just now"


@_filter("initials")
def initials(name: str | None) -> str:
    """Up to two initials for an avatar."""
    words = [w for w in (name or "").replace("@", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def init_app(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.filters.update(FILTERS)
