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

Both groups come from one pass over the orders of the campaign's window on
`orders.ordered_at`: from its `created_at` (no message is sent before the campaign
exists) to `attribution_days` after its `finished_at` (a finished campaign has no PENDING
row left, so no row becomes SENT after it; an unfinished one is open-ended). Both bounds
are columns of the one campaign row, which the planner reads first as a constant, so a
campaign's results start from the few orders of its window (orders by `ordered_at`)
instead of probing the orders of every recipient: at a million recipients that is a
second instead of tens of seconds. From each order the lookups ride on customers by
external id, the log's (campaign_id, customer_id) key, and log rows by (customer_id,
status, updated_at) for the "no later touch" probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import MetaData, Select, and_, exists, func, literal, or_, select, union_all

from .sqlfuncs import add_days, cents_sum

# An unfinished campaign's window has no end yet (a DATETIME's largest value).
OPEN_END = literal("9999-12-31 23:59:59")
GROUPS = ("SENT", "HOLDOUT")  # the log status of each group: recipients, holdout


def _tables(md: MetaData) -> tuple[Any, Any, Any, Any]:
    # customers aliased: these queries sit inside rules over `customers` and must not
    # correlate with the outer row
    t = md.tables
    return (t["customers"].alias("buyer"), t["orders"], t["communications_log"],
            t["campaigns"])


def claimed_orders(md: MetaData, campaign_id: int,
                   groups: Sequence[str] = GROUPS) -> Select[Any]:
    """Return (campaign_id, status, customer_id, order_id, amount, ordered_at) of every
    order that converts for the campaign; `status` names the group (SENT: a recipient's
    order by last touch, HOLDOUT: a holdout member's)."""
    customers, orders, log, campaigns = _tables(md)
    touch, later = log.alias("touch"), log.alias("later")
    days = campaigns.c.attribution_days
    newer_touch = select(later.c.id).where(
        later.c.customer_id == touch.c.customer_id,
        later.c.status == "SENT",
        later.c.updated_at <= orders.c.ordered_at,
        or_(later.c.updated_at > touch.c.updated_at,
            and_(later.c.updated_at == touch.c.updated_at, later.c.id > touch.c.id)),
    )
    claims = {
        "SENT": and_(touch.c.status == "SENT",
                     orders.c.ordered_at >= touch.c.updated_at,
                     orders.c.ordered_at <= add_days(touch.c.updated_at, days),
                     ~exists(newer_touch)),
        "HOLDOUT": and_(touch.c.status == "HOLDOUT",
                        orders.c.ordered_at <= add_days(campaigns.c.created_at, days)),
    }
    # Implied by the claims: the campaign's window, stated so that the planner ranges over
    # the orders' time index (see the module's docstring).
    window_end = func.coalesce(add_days(campaigns.c.finished_at, days), OPEN_END)
    return (
        select(touch.c.campaign_id, touch.c.status, touch.c.customer_id,
               orders.c.id.label("order_id"), orders.c.amount, orders.c.ordered_at)
        .select_from(
            campaigns
            .join(orders, and_(orders.c.ordered_at >= campaigns.c.created_at,
                               orders.c.ordered_at <= window_end))
            .join(customers, customers.c.external_id == orders.c.customer_external_id)
            .join(touch, and_(touch.c.customer_id == customers.c.id,
                              touch.c.campaign_id == campaigns.c.id)))
        .where(campaigns.c.id == campaign_id,
               touch.c.status.in_(list(groups)),
               or_(*(claims[group] for group in groups)))
    )


def converted_customers(md: MetaData, campaign_id: int) -> Any:
    """Return the ids of the customers who converted for the campaign (either group).

    A distinct derived table: the planner computes it once from the campaign's orders and
    joins the customers to it, where a flattened semi-join would walk every recipient."""
    claimed = claimed_orders(md, campaign_id)
    ids = (claimed.with_only_columns(claimed.selected_columns.customer_id).distinct()
           .subquery("converted"))
    return select(ids.c.customer_id)


def totals(orders_query: Select[Any]) -> Select[Any]:
    """Return (group, customers converted, orders, revenue in cents) over claimed orders."""
    claimed = orders_query.subquery("claimed")
    return (select(claimed.c.status, func.count(func.distinct(claimed.c.customer_id)),
                   func.count(), func.coalesce(cents_sum(claimed.c.amount), 0))
            .group_by(claimed.c.status))


def revenue_by_campaign(md: MetaData, campaign_ids: Sequence[int]) -> Any:
    """Return (campaign_id, revenue in cents) of the recipients' attributed orders.

    One branch per campaign in one statement: each branch has its campaign as a constant
    row and ranges over that campaign's window, where a list of ids would make the planner
    walk every recipient of every campaign."""
    branches = []
    for campaign_id in campaign_ids:
        claimed = claimed_orders(md, campaign_id, groups=("SENT",)).subquery()
        branches.append(select(literal(campaign_id).label("campaign_id"),
                               func.coalesce(cents_sum(claimed.c.amount), 0)))
    return union_all(*branches)


def daily(orders_query: Select[Any]) -> Select[Any]:
    """Return (group, day, customers) by the day of each converted customer's first
    counted order."""
    claimed = orders_query.subquery("claimed")
    first = (select(claimed.c.status, claimed.c.customer_id,
                    func.min(claimed.c.ordered_at).label("first_at"))
             .group_by(claimed.c.status, claimed.c.customer_id).subquery("first"))
    day = func.date(first.c.first_at)
    return (select(first.c.status, day.label("day"), func.count())
            .group_by(first.c.status, day).order_by(first.c.status, day))
