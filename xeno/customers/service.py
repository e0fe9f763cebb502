"""Customers as the app shows them: their JSON shape, search, and headline figures.

Built for a million rows:
- search finds the text anywhere in the name, email or city (case-insensitive), or the
  exact external id. No index serves a substring, so one scan collects the ids of at most
  `COUNT_CAP` + 1 matches (it stops early when matches are plentiful; a rare or absent
  text costs one pass over the table, ~0.4 s at a million rows). A narrow search then
  sorts just those ids; a broad one walks the sort column's index, where matches are dense;
- a page is a deferred join: the ids of one page come from the sort column's index
  (InnoDB and SQLite secondary indexes carry the primary key, so that scan never reads a
  row), then only those rows are fetched;
- totals: a search counts its matches exactly, but stops at `COUNT_CAP` (`total_exact`
  is then false); the unfiltered total is the table's row count, cached for a few seconds
  per process instead of counting a million rows on every page view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, or_, select, update

from xeno.db.clock import iso, utcnow
from xeno.db.models import Customer
from xeno.extensions import db
from xeno.platform.errors import NotFound
from xeno.platform.http import Page

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
    "unsubscribed_at",
)


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
        "unsubscribed_at": iso(row.unsubscribed_at),
    }


# The CSV export's columns: the customer JSON's, consent included. `unsubscribed_at`
# arrives with the consent work; until its column exists it is always empty.
CSV_HEADER = (
    "id", "name", "email", "phone", "city", "spend", "visits", "avg_order", "last_visit",
    "signup", "unsubscribed_at",
)


def csv_columns() -> list[Any]:
    """The customers columns `customer_csv_row` reads."""
    table = Customer.__table__
    extra = [table.c.unsubscribed_at] if "unsubscribed_at" in table.c else []
    return [table.c[name] for name in COLUMNS] + extra


def customer_csv_row(row: Any) -> tuple[Any, ...]:
    """One customer as a CSV row of CSV_HEADER: money with 2 decimals, empty text as ''."""
    spend = Decimal(row.total_spend or 0)
    visits = int(row.visits or 0)
    average = (spend / visits).quantize(CENT) if visits else Decimal("0.00")
    return (
        row.external_id, row.name, row.email, row.phone, row.city, f"{spend:.2f}", visits,
        f"{average:.2f}", iso(row.last_visit_at), iso(row.signup_at),
        iso(getattr(row, "unsubscribed_at", None)),
    )


def get_customer(external_id: str) -> Customer:
    """The customer with this external id (compared exactly), or NotFound."""
    # The index finds candidates; Python compares exactly, whatever the column's collation.
    candidates = db.session.scalars(select(Customer).where(Customer.external_id == external_id))
    found = next((c for c in candidates if c.external_id == external_id), None)
    if found is None:
        raise NotFound(f"no customer {external_id!r}")
    return found


# Each sort runs along an index: ties break by the index's next columns and then the
# primary key its entries carry, so a page never needs a sort of the whole table.
SORTS: dict[str, tuple[Any, ...]] = {
    "spend": (Customer.total_spend, Customer.visits),
    "visits": (Customer.visits,),
    "last_visit": (Customer.last_visit_at, Customer.signup_at),
    "name": (Customer.name,),
}
SORT_INDEXES = {
    "spend": "ix_customers_spend_visits",
    "visits": "ix_customers_visits",
    "last_visit": "ix_customers_last_visit_signup",
    "name": "ix_customers_name",
}
DEFAULT_SORT, DEFAULT_ORDER = "spend", "desc"
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 500
COUNT_CAP = 10_000


def search_filter(q: str) -> ColumnElement[bool] | None:
    """The text anywhere in name, email or city, or the exact external id; None for none."""
    q = q.strip()[:200]
    if not q:
        return None
    return or_(
        Customer.name.contains(q, autoescape=True),
        Customer.email.contains(q, autoescape=True),
        Customer.city.contains(q, autoescape=True),
        Customer.external_id == q,
    )


def _cached(key: str, compute: Callable[[], Any]) -> Any:
    """Memoise per app for FIGURES_CACHE_SECONDS (10 s; 0 under TESTING): enough for a headline."""
    ttl = current_app.config.get("FIGURES_CACHE_SECONDS", 0 if current_app.testing else 10)
    if ttl <= 0:
        return compute()
    cache = current_app.extensions.setdefault("xeno_figures_cache", {})
    now = time.monotonic()
    hit = cache.get(key)
    if hit and hit[0] > now:
        return hit[1]
    value = compute()
    cache[key] = (now + ttl, value)  # a race only computes twice; dict writes are atomic
    return value


def _total() -> int:
    return _cached("count", lambda: db.session.scalar(select(func.count(Customer.id))))


def list_customers(
    q: str = "",
    sort: str = DEFAULT_SORT,
    order: str = DEFAULT_ORDER,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[dict[str, Any]]:
    """One page of customers matching `q`, sorted by spend, visits, last visit or name."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    columns = (*SORTS[sort], Customer.id)
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    ordering = columns if order == "asc" else tuple(c.desc() for c in columns)
    ids_query = select(Customer.id).order_by(*ordering)
    where = search_filter(q)
    if where is None:
        total, exact = _total(), True
    else:
        matched = list(db.session.scalars(select(Customer.id).where(where).limit(COUNT_CAP + 1)))
        total, exact = min(len(matched), COUNT_CAP), len(matched) <= COUNT_CAP
        if exact:  # a narrow search: sort the few matches by primary key lookups
            ids_query = ids_query.where(Customer.id.in_(matched))
        else:
            # A broad search. Matches are spread evenly over spend, visits and last visit,
            # so walking that index fills a page after a few hundred rows, where MySQL's
            # own choice may sort every match first. Not over names: a first name's
            # matches sit in one block of the name index, and walking to it from the far
            # end read most of the table (2.2 s at a million rows); one scan that keeps
            # the top of the page costs ~0.5 s whatever the text.
            use = "IGNORE" if sort == "name" else "FORCE"
            hint = f"{use} INDEX ({SORT_INDEXES[sort]})"
            ids_query = (
                ids_query.where(where)
                .with_hint(Customer, hint, "mysql")
                .with_hint(Customer, hint, "mariadb")
            )
    ids = list(db.session.scalars(ids_query.limit(per_page).offset((page - 1) * per_page)))
    rows = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    items = [customer_json(rows[i]) for i in ids if i in rows]
    return Page(items, page, per_page, total, exact)


def headline_figures() -> dict[str, Any]:
    """Customers, orders, revenue and average order, from the customers' aggregates."""

    def compute() -> dict[str, Any]:
        customers, orders, revenue = db.session.execute(
            select(
                func.count(Customer.id),
                func.coalesce(func.sum(Customer.visits), 0),
                func.coalesce(func.sum(Customer.total_spend), 0),
            )
        ).one()
        revenue = Decimal(revenue or 0)
        orders = int(orders or 0)
        average = (revenue / orders).quantize(Decimal("0.01")) if orders else Decimal("0.00")
        return {
            "customers": int(customers or 0),
            "orders": orders,
            "revenue": revenue,
            "average_order": average,
        }

    return _cached("figures", compute)


def set_unsubscribed(external_id: str, unsubscribed: bool) -> dict[str, Any]:
    """Record a customer's consent and return the customer (NotFound if unknown).

    Unsubscribing twice keeps the first time; resubscribing clears it.
    """
    now = utcnow()
    value = func.coalesce(Customer.unsubscribed_at, now) if unsubscribed else None
    db.session.execute(
        update(Customer).where(Customer.external_id == external_id)
        .values(unsubscribed_at=value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    customer = db.session.scalar(select(Customer).where(Customer.external_id == external_id))
    if customer is None:
        db.session.rollback()
        raise NotFound(f"no customer {external_id}")
    db.session.commit()
    db.session.refresh(customer)
    return customer_json(customer)
