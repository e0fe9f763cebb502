"""Bulk writes of customers and orders, and the aggregates segments read.

Aggregates are recomputed from the stored orders of the customers a batch touched, never
incremented, so any mix of order arrival, re-sends and updates ends with exact figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select, update

from xeno.db.bulk import CHUNK, upsert
from xeno.db.models import Customer, Order
from xeno.extensions import db
from xeno.platform.clock import utcnow

RECOMPUTE_CHUNK = 1000
customers: Table = Customer.__table__
orders: Table = Order.__table__

CUSTOMER_FIELDS = ("name", "email", "phone", "city", "attributes", "updated_at")
ORDER_FIELDS = ("customer_external_id", "amount", "ordered_at", "attributes", "updated_at")


def _latest_by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Within one read the last copy of a record wins, as it would arriving one by one."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[record["id"]] = record
    return dict(sorted(latest.items()))  # a fixed lock order keeps concurrent writers apart


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def store_customers(records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Upsert customers; a customer whose orders came first gets them counted now."""
    now = utcnow()
    with_signup, without_signup = [], []
    for ext_id, r in _latest_by_id(records).items():
        row = {
            "external_id": ext_id,
            "name": r["name"],
            "email": r.get("email"),
            "phone": r.get("phone"),
            "city": r.get("city"),
            "attributes": r.get("attributes"),
            "signup_at": _when(r.get("signup_at")) or now,
            "created_at": now,
            "updated_at": now,
        }
        (with_signup if r.get("signup_sent") else without_signup).append(row)
    with db.engine.begin() as conn:
        # A re-send without signup_at keeps the stored one (SPEC: first-stored time otherwise).
        upsert(conn, customers, with_signup, CUSTOMER_FIELDS + ("signup_at",))
        upsert(conn, customers, without_signup, CUSTOMER_FIELDS)
        ids = [row["external_id"] for row in with_signup + without_signup]
        waiting = _customers_with_orders(conn, ids)
    recompute_aggregates(waiting)
    return []


def store_orders(records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Upsert orders and recompute the aggregates of every customer they touch, old and new."""
    now = utcnow()
    latest = _latest_by_id(records)
    rows = [
        {
            "external_id": ext_id,
            "customer_external_id": r["customer_id"],
            "amount": Decimal(r["amount"]),
            "ordered_at": _when(r["ordered_at"]),
            "attributes": r.get("attributes"),
            "created_at": now,
            "updated_at": now,
        }
        for ext_id, r in latest.items()
    ]
    with db.engine.begin() as conn:
        moved_from = _previous_customers(conn, list(latest))
        upsert(conn, orders, rows, ORDER_FIELDS)
    recompute_aggregates(moved_from | {row["customer_external_id"] for row in rows})
    return []


def _previous_customers(conn: Connection, order_ids: list[str]) -> set[str]:
    """Customers the re-sent orders belonged to before, who may lose them now."""
    found: set[str] = set()
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        query = select(orders.c.customer_external_id).where(orders.c.external_id.in_(chunk))
        found.update(conn.execute(query.distinct()).scalars())
    return found


def _customers_with_orders(conn: Connection, customer_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        query = select(orders.c.customer_external_id).where(
            orders.c.customer_external_id.in_(chunk)
        )
        found.update(conn.execute(query.distinct()).scalars())
    return found


def recompute_aggregates(customer_ids: Iterable[str]) -> None:
    """Set spend, visits and last visit from the stored orders, one statement per chunk.

    Each chunk runs in its own short transaction after the write committed, and locks its
    customer rows first: whichever of two concurrent writers recomputes a customer last
    sees both their orders. Small chunks keep two workers from queueing behind each other
    on the few customers who appear in every batch.
    """
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), RECOMPUTE_CHUNK):
        chunk = ids[start : start + RECOMPUTE_CHUNK]
        with db.engine.begin() as conn:
            if conn.dialect.name == "mysql":
                lock = select(customers.c.id).where(customers.c.external_id.in_(chunk))
                conn.execute(lock.order_by(customers.c.external_id).with_for_update())
            conn.execute(_recompute_statement(chunk))


def _recompute_statement(chunk: list[str]):
    """Correlated subqueries on the covering index (customer, ordered_at, amount).

    Measured on MariaDB at 1M customers, faster than an UPDATE … JOIN of a GROUP BY.
    """
    of_customer = orders.c.customer_external_id == customers.c.external_id
    # ROUND keeps SQLite (which sums in floating point) exact to the paisa.
    spend = select(func.round(func.sum(orders.c.amount), 2)).where(of_customer).scalar_subquery()
    visits = select(func.count()).where(of_customer).scalar_subquery()
    last = select(func.max(orders.c.ordered_at)).where(of_customer).scalar_subquery()
    return (
        update(customers)
        .where(customers.c.external_id.in_(chunk))
        .values(total_spend=func.coalesce(spend, 0), visits=visits, last_visit_at=last)
    )
