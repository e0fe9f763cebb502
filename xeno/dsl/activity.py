"""Fields over what a customer did: orders in a period, messages, campaigns.

They read the sibling tables of the table they are given (`table.metadata.tables[...]`),
so the rule language still knows only a schema, never the app. Most compile to one
set-based subquery the planner runs once (`customers.id IN (SELECT … GROUP BY …)`), not a
correlated lookup per customer: when the set is small, one pass over the orders index
beats a million probes into it. A period aggregate that 0 satisfies is the exception
(see `_in_period`): there the set is most customers, and the probes win.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Table, exists, false, func, select, true

from . import attribution
from .field import Field
from .sqlfuncs import cents_sum
from .tree import Number, Param, Period, Relative, Word
from .values import relative_instant, snap

CAMPAIGN_STATES = ("SENT", "FAILED", "PENDING", "HOLDOUT", "CONVERTED", "ANY")
MONEY_LIMIT = Decimal(10) ** 18  # beyond any sum of NUMERIC(12,2) amounts
COUNT_LIMIT = Decimal(10) ** 18


def period_start(period: Period, now: dt.datetime) -> dt.datetime:
    """Return the first instant of `IN LAST N units` at `now` (months are calendar months)."""
    return relative_instant(Relative(period.amount, period.unit, period.line, period.column),
                            now)


def _compare(left: Any, op: str, right: Any) -> Any:
    return {"=": left.__eq__, ">": left.__gt__, ">=": left.__ge__,
            "<": left.__lt__, "<=": left.__le__}[op](right)


def _in_period(
    table: Table, period: Period, measure: str, op: str, value: Any, now: dt.datetime
) -> ColumnElement[bool]:
    """`aggregate of the period's orders op value`, where no orders count as 0.

    When 0 fails the comparison (`spend IN LAST 90 DAYS > 5000`), the customers who hold
    are grouped in one pass over the orders. When 0 satisfies it (`visits IN LAST 30 DAYS
    < 1`: most customers, those without orders among them), each customer's own aggregate
    is read through the orders' customer index instead: the set-based form would subtract
    every customer who fails, a set often too large for an in-memory temporary table (at
    1M customers / 5M orders 11.7 s against 3.8 s). When only 0 holds for visits, that is
    "no order in the period", and the first order found settles it (NOT EXISTS).
    """
    orders = table.metadata.tables["orders"]
    scale = 2 if measure == "spend" else 0
    snapped = snap(op, value.value, scale, MONEY_LIMIT if scale else COUNT_LIMIT)
    if isinstance(snapped, bool):
        return true() if snapped else false()
    op, number = snapped
    if measure == "spend":
        aggregate, bound = cents_sum(orders.c.amount), int(number * 100)
    else:
        aggregate, bound = func.count(), int(number)
    start = period_start(period, now)
    zero_holds = _compare(Decimal(0), op, number)
    if (measure == "visits" and zero_holds and op in ("=", "<", "<=")
            and not _compare(Decimal(1), op, number)):
        # only 0 holds: no order in the period, which the first order found settles
        return ~exists().where(orders.c.customer_external_id == table.c.external_id,
                               orders.c.ordered_at >= start)
    if zero_holds:
        own = (select(func.coalesce(aggregate, 0))
               .where(orders.c.customer_external_id == table.c.external_id,
                      orders.c.ordered_at >= start)
               .scalar_subquery())
        return _compare(own, op, bound)
    # Grouped in the order of the orders' (customer, time, amount) index, the aggregate
    # streams through it; a range over the time index instead needs a temporary table per
    # group, which MariaDB picks for the fewer rows but pays for: at 5M orders, 90 days take
    # 3.3 s that way and 0.6 s through the customer index.
    ids = (select(orders.c.customer_external_id)
           .with_hint(orders, "USE INDEX (ix_orders_customer)", "mysql")
           .where(orders.c.ordered_at >= start)
           .group_by(orders.c.customer_external_id)
           .having(_compare(aggregate, op, bound)))
    return table.c.external_id.in_(ids)


def spend_in(period: Param) -> Field:
    """`spend IN LAST N units`: the sum of the period's order amounts."""
    assert isinstance(period, Period)
    return Field("spend", "number", compile=partial(_period_hook, period, "spend"),
                 help="Sum of the amounts of the orders in the period; 0 without any.")


def visits_in(period: Param) -> Field:
    """`visits IN LAST N units`: the number of the period's orders."""
    assert isinstance(period, Period)
    return Field("visits", "integer", compile=partial(_period_hook, period, "visits"),
                 help="Number of orders in the period; 0 without any.")


def _period_hook(period: Period, measure: str, table: Table, op: str, value: Any,
                 now: dt.datetime) -> ColumnElement[bool]:
    return _in_period(table, period, measure, op, value, now)


def last_message(table: Table) -> ColumnElement[Any]:
    """The latest time a message to the customer became SENT (NULL when none did)."""
    log = table.metadata.tables["communications_log"]
    return (select(func.max(log.c.updated_at))
            .where(log.c.customer_id == table.c.id, log.c.status == "SENT")
            .scalar_subquery())


def campaign_is(number: Param) -> Field:
    """`campaign N IS <state>`: where the customer stands in campaign N."""
    assert isinstance(number, Number)
    return Field("campaign", "choice", choices=CAMPAIGN_STATES,
                 compile=partial(_campaign_hook, int(number.value)),
                 help=f"The customer's standing in campaign {number.value}.")


def _campaign_hook(campaign_id: int, table: Table, op: str, value: Any,
                   now: dt.datetime) -> ColumnElement[bool]:
    assert isinstance(value, Word)
    state = value.value
    if state == "CONVERTED":
        return table.c.id.in_(attribution.converted_customers(table.metadata, campaign_id))
    log = table.metadata.tables["communications_log"]
    ids = select(log.c.customer_id).where(log.c.campaign_id == campaign_id)
    if state != "ANY":
        ids = ids.where(log.c.status == state)
    return table.c.id.in_(ids)
