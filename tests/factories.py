"""Plain functions that make test records (CTFd's gen_* style)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def customer(n: int, **fields: Any) -> dict[str, Any]:
    """A valid customer record C<n>."""
    return {
        "id": f"C{n}",
        "name": f"Customer {n}",
        "email": f"c{n}@example.com",
        "city": "Mumbai",
        **fields,
    }


def order(
    n: int, customer_n: int, amount: str | float = "100.00", days_ago: float = 1, **fields: Any
) -> dict[str, Any]:
    """A valid order O<n> of customer C<customer_n>."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "id": f"O{n}",
        "customer_id": f"C{customer_n}",
        "amount": amount,
        "ordered_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }
