"""Which orders a campaign can claim: SPEC's last-touch attribution, as SQL.

One definition serves both the campaign's results and the rule `campaign N IS CONVERTED`,
so the two can never disagree. Computed when asked, over `communications_log` and
`orders` as they are now: an order ingested late counts as soon as it is stored, and
nothing is kept that could go stale.

- A recipient's order counts for the campaign whose message to that customer became SENT
  (the log row's `updated_at`) last at or before the order — ties broken by the higher
  log id, so an order counts for one campaign at most — if the order falls within that
  campaign's `attribution_days` after it. FAILED, PENDING and HOLDOUT rows are no touch.
- A holdout member's order counts for their campaign if it falls within
  `attribution_days` after the campaign's `created_at`, whatever else they were sent:
  the holdout answers "what would they have done anyway".

The lookups ride on two indexes: orders by (customer_external_id, ordered_at) and log rows
by (customer_id, status, updated_at) for the "no later touch" probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import MetaData, Select, and_, exists, func, or_, select

from .sqlfuncs import add_days, cents_sum


def _tables(md: MetaData) -> tuple[Any, Any, Any, Any]:
    # customers aliased: these queries sit inside rules over `customers` and must not
    # correlate with the outer row
    t = md.tables
    return (t["customers"].alias("buyer"), t["orders"], t["communications_log"],
            t["campaigns"])


def recipient_orders(md: MetaData, campaign_id: int | Sequence[int]) -> Select[Any]:
    """Return (customer_id, order_id, amount, ordered_at, campaign_id) of the orders the
    campaign's (or campaigns') recipients placed that count for it by last touch."""
    customers, orders, log, campaigns = _tables(md)
    touch, later = log.alias("touch"), log.alias("later")
    newer_touch = select(later.c.id).where(
        later.c.customer_id == touch.c.customer_id,
        later.c.status == "SENT",
        later.c.updated_at <= orders.c.ordered_at,
        or_(later.c.updated_at > touch.c.updated_at,
            and_(later.c.updated_at == touch.c.updated_at, later.c.id > touch.c.id)),
    )
    return (
        select(touch.c.customer_id, orders.c.id.label("order_id"), orders.c.amount,
               orders.c.ordered_at, touch.c.campaign_id)
        .select_from(
            touch.join(campaigns, campaigns.c.id == touch.c.campaign_id)
            .join(customers, customers.c.id == touch.c.customer_id)
            .join(orders, orders.c.customer_external_id == customers.c.external_id))
        .where(
            (touch.c.campaign_id == campaign_id if isinstance(campaign_id, int)
             else touch.c.campaign_id.in_(list(campaign_id))),
            touch.c.status == "SENT",
            orders.c.ordered_at >= touch.c.updated_at,
            orders.c.ordered_at <= add_days(touch.c.updated_at, campaigns.c.attribution_days),
            ~exists(newer_touch),
        )
    )


def holdout_orders(md: MetaData, campaign_id: int) -> Select[Any]:
    """Return (customer_id, order_id, amount, ordered_at) of the holdout's orders within
    the campaign's attribution window after its creation."""
    customers, orders, log, campaigns = _tables(md)
    member = log.alias("member")
    return (
        select(member.c.customer_id, orders.c.id.label("order_id"), orders.c.amount,
               orders.c.ordered_at)
        .select_from(
            member.join(campaigns, campaigns.c.id == member.c.campaign_id)
            .join(customers, customers.c.id == member.c.customer_id)
            .join(orders, orders.c.customer_external_id == customers.c.external_id))
        .where(
            member.c.campaign_id == campaign_id,
            member.c.status == "HOLDOUT",
            orders.c.ordered_at >= campaigns.c.created_at,
            orders.c.ordered_at <= add_days(campaigns.c.created_at,
                                            campaigns.c.attribution_days),
        )
    )


def converted_customers(md: MetaData, campaign_id: int) -> Any:
    """Return the ids of the customers who converted for the campaign (either group)."""
    recipients, holdout = recipient_orders(md, campaign_id), holdout_orders(md, campaign_id)
    return recipients.with_only_columns(recipients.selected_columns.customer_id).union(
        holdout.with_only_columns(holdout.selected_columns.customer_id))


def totals(orders_query: Select[Any]) -> Select[Any]:
    """Return (customers converted, orders, revenue in cents) over attributed orders."""
    claimed = orders_query.subquery("claimed")
    return select(func.count(func.distinct(claimed.c.customer_id)), func.count(),
                  func.coalesce(cents_sum(claimed.c.amount), 0))


def revenue_by_campaign(md: MetaData, campaign_ids: Sequence[int]) -> Select[Any]:
    """Return (campaign_id, revenue in cents) of the recipients' attributed orders."""
    claimed = recipient_orders(md, campaign_ids).subquery("claimed")
    return (select(claimed.c.campaign_id, func.coalesce(cents_sum(claimed.c.amount), 0))
            .group_by(claimed.c.campaign_id))


def daily(orders_query: Select[Any]) -> Select[Any]:
    """Return (day, customers) by the day of each converted customer's first counted order."""
    claimed = orders_query.subquery("claimed")
    first = (select(claimed.c.customer_id, func.min(claimed.c.ordered_at).label("first_at"))
             .group_by(claimed.c.customer_id).subquery("first"))
    day = func.date(first.c.first_at)
    return select(day.label("day"), func.count()).group_by(day).order_by(day)
