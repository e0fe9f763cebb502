"""One customer's profile: the customer, their latest orders, and sections other domains add.

Customers sit below segments and campaigns, so the profile cannot ask them itself: each
registers a section (`register_section(app, "messages", provider)`) in its `init_app`,
the way stream stores are registered, and the profile calls every registered provider
with the customer. A provider answers the keys it adds to the profile, JSON-ready;
`detail=True` (the page) may carry more than the API shows (the segments' "why").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, func, select

from xeno.customers.service import customer_json, get_customer
from xeno.db.clock import iso
from xeno.db.models import Customer, Order
from xeno.extensions import db

LATEST = 50  # orders and messages shown on a profile
Provider = Callable[[Customer, bool], dict[str, Any]]
EXTENSION = "xeno_profile_sections"


def register_section(app: Flask, name: str, provider: Provider) -> None:
    """Add a section to every customer profile: `provider(customer, detail)` → its keys."""
    app.extensions.setdefault(EXTENSION, {})[name] = provider


def _exactly(column: Any, value: str) -> ColumnElement[bool]:
    """`column = value` compared byte for byte (MySQL's default collation ignores case)."""
    if db.engine.dialect.name in ("mysql", "mariadb"):
        return column.collate("utf8mb4_bin") == value
    return column == value


def latest_orders(customer: Customer, limit: int = LATEST) -> tuple[list[dict[str, Any]], int]:
    """The customer's latest orders, newest first, and how many orders they have."""
    mine = (Order.customer_external_id == customer.external_id,
            _exactly(Order.customer_external_id, customer.external_id))
    rows = db.session.execute(
        select(Order.external_id, Order.amount, Order.ordered_at, Order.created_at)
        .where(*mine).order_by(Order.ordered_at.desc(), Order.id.desc()).limit(limit)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(Order).where(*mine)) or 0
    orders = [
        {"id": r.external_id, "amount": float(r.amount), "ordered_at": iso(r.ordered_at),
         "received_at": iso(r.created_at)}
        for r in rows
    ]
    return orders, int(total)


def customer_detail(customer: Customer) -> dict[str, Any]:
    """The customer JSON with its free-form attributes and consent."""
    return {
        **customer_json(customer),
        "attributes": customer.attributes or {},
        # the consent column arrives with the sending work; until then nobody unsubscribed
        "unsubscribed_at": iso(getattr(customer, "unsubscribed_at", None)),
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
    }


def profile(external_id: str, detail: bool = False) -> dict[str, Any]:
    """The customer, their latest orders and every registered section (NotFound if unknown)."""
    customer = get_customer(external_id)
    orders, total = latest_orders(customer)
    body = {**customer_detail(customer), "orders": orders, "orders_total": total}
    for provider in current_app.extensions.get(EXTENSION, {}).values():
        body.update(provider(customer, detail))
    return body
