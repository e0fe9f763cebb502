"""Bulk writes of customers and orders, and the aggregates segments read.

Aggregates are recomputed from the stored orders of the customers a batch touched, never
incremented, so any mix of order arrival, re-sends and updates ends with exact figures.
Each row keeps the version of the record stored in it (when it was accepted, see
`streams.VERSION`) and only a record of the same or a newer version replaces it: a
re-sent record delivered late never reverts the newer one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select, tuple_, update

from xeno.db.bulk import CHUNK, upsert
from xeno.db.clock import utcnow
from xeno.db.models import Customer, Order
from xeno.extensions import db
from xeno.platform.batches import transaction
from xeno.platform.streams import VERSION, entry_version

RECOMPUTE_CHUNK = 1000
customers: Table = Customer.__table__
orders: Table = Order.__table__

CUSTOMER_FIELDS = ("name", "email", "phone", "city", "attributes", "updated_at")
ORDER_FIELDS = ("customer_external_id", "amount", "ordered_at", "attributes", "updated_at")


def _latest_by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Within one read the copy accepted last wins (the last of equal versions: one entry).

    A record without a version (not from a stream) counts as accepted now.
    """
    now = entry_version(f"{int(utcnow().timestamp() * 1000)}-0")[0]
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        record.setdefault(VERSION, now)
        held = latest.get(record["id"])
        if held is None or record[VERSION] >= held[VERSION]:
            latest[record["id"]] = record
    return dict(sorted(latest.items()))  # a fixed lock order keeps concurrent writers apart


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def store_customers(records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Upsert customers; a customer whose orders came first gets them counted now."""
    now = utcnow()
    with_signup, without_signup = [], []
    consent: dict[bool, list[tuple[str, int]]] = {True: [], False: []}
    for ext_id, r in _latest_by_id(records).items():
        if r.get("unsubscribed") is not None:
            consent[bool(r["unsubscribed"])].append((ext_id, r[VERSION]))
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
            "version": r[VERSION],
        }
        (with_signup if r.get("signup_sent") else without_signup).append(row)
    with transaction() as conn:
        # A re-send without signup_at keeps the stored one (SPEC: first-stored time otherwise).
        upsert(conn, customers, with_signup, CUSTOMER_FIELDS + ("signup_at",), version="version")
        upsert(conn, customers, without_signup, CUSTOMER_FIELDS, version="version")
        _store_consent(conn, consent, now)
        ids = [row["external_id"] for row in with_signup + without_signup]
        waiting = _customers_with_orders(conn, ids)
    recompute_aggregates(waiting)
    return []


def _store_consent(
    conn: Connection, consent: dict[bool, list[tuple[str, int]]], now: datetime
) -> None:
    """Set or clear `unsubscribed_at` of the customers whose record said; one UPDATE a chunk.

    Only where that record won the upsert (the row holds its version): an older copy
    delivered late never reverts a newer choice. A customer unsubscribed already keeps the
    first time they asked.
    """
    for unsubscribed, pairs in consent.items():
        value = func.coalesce(customers.c.unsubscribed_at, now) if unsubscribed else None
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start : start + CHUNK]
            conn.execute(
                update(customers)
                .where(tuple_(customers.c.external_id, customers.c.version).in_(chunk))
                .values(unsubscribed_at=value)
            )


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
            "version": r[VERSION],
        }
        for ext_id, r in latest.items()
    ]
    with transaction() as conn:
        moved_from = _previous_customers(conn, list(latest))
        upsert(conn, orders, rows, ORDER_FIELDS, version="version")
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
