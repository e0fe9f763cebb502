"""Sample data for `xeno demo`, loaded through the same publish path as the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import func, select

from xeno.db import migrate
from xeno.db.models import Customer
from xeno.demo import generate
from xeno.extensions import db
from xeno.ingest.schemas import CustomerIn, OrderIn
from xeno.platform import streams
from xeno.platform.records import MAX_RECORDS, validate_many

MODELS = {"customers": CustomerIn, "orders": OrderIn}


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(islice(rows, MAX_RECORDS)):
        yield chunk


def publish_generated(kind: str, rows: Iterator[dict[str, Any]]) -> int:
    """Validate and publish generated rows in API-sized batches; return how many."""
    total = 0
    for chunk in _chunks(rows):
        raw = [{k: v for k, v in row.items() if v != ""} for row in chunk]
        messages, errors = validate_many(MODELS[kind], raw)
        if errors:  # generated data is valid by construction; fail loudly if not
            raise ValueError(f"generated {kind} failed validation: {errors[:3]}")
        streams.publish(kind, messages)
        total += len(messages)
    return total


def load_sample_data(
    customers: int, orders: int, fresh: bool = False, echo: Callable[[str], Any] = print
) -> None:
    """Create or upgrade the schema; load generated data if it is empty or `fresh` starts over."""
    if fresh:
        migrate.reset()
    else:
        migrate.upgrade()
        kept = db.session.scalar(select(func.count()).select_from(Customer))
        db.session.remove()
        if kept:
            echo(f"keeping the {kept} customers already there (`xeno demo --fresh` starts over)")
            return
    echo(f"loading {customers} customers and {orders} orders ...")
    publish_generated("customers", generate.customers(customers))
    publish_generated("orders", generate.orders(orders, customers))
