"""A customer as the API shows it in samples and lists (SPEC "Segment rule language")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")

# the customers columns customer_json reads, for queries that select only those
COLUMNS = (
    "external_id",
    "name",
    "email",
    "phone",
    "city",
    "total_spend",
    "visits",
    "last_visit_at",
    "signup_at",
)


def iso(moment: datetime | None) -> str | None:
    """Return a naive-UTC datetime as ISO 8601 with a Z, or None."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def customer_json(row: Any) -> dict[str, Any]:
    """Return SPEC's customer shape from a Customer or a row with the customers columns.

    `id` is the external id; money is a number with 2 decimals; empty text is null.
    """
    spend = Decimal(row.total_spend or 0)
    visits = int(row.visits or 0)
    average = (spend / visits).quantize(CENT) if visits else Decimal("0.00")
    return {
        "id": row.external_id,
        "name": row.name,
        "email": row.email or None,
        "phone": row.phone or None,
        "city": row.city or None,
        "spend": float(spend),
        "visits": visits,
        "avg_order": float(average),
        "last_visit": iso(row.last_visit_at),
        "signup": iso(row.signup_at),
    }
