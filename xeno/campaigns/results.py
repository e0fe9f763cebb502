"""Did it work: a campaign's conversions and revenue, recipients against the holdout.

Everything is computed when asked, by SQL over `communications_log` and `orders`
(xeno/dsl/attribution.py holds the one definition of which orders count, shared with the
rule `campaign N IS CONVERTED`): orders that arrive late count as soon as they are
stored, and there is no nightly job whose figures could go stale. Counts come from the
campaign's counters (`sent` is the SENT rows, `holdout` the HOLDOUT rows).

The uplift is the difference of the two conversion rates with its Wald 95% interval,
±1.96·√(p1(1−p1)/n1 + p2(1−p2)/n2). Numbers are unrounded; pages round them.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from sqlalchemy import Table

from xeno.db.clock import iso, utcnow
from xeno.db.models import Campaign
from xeno.dsl import attribution
from xeno.extensions import db
from xeno.platform.errors import NotFound

Z95 = 1.96
GROUP_NAMES = {"SENT": "recipients", "HOLDOUT": "holdout"}  # log status -> results key


def _metadata() -> Any:
    table: Table = Campaign.__table__  # type: ignore[assignment]
    return table.metadata


def _money(cents: Any) -> float:
    return float(Decimal(int(cents or 0)) / 100)


def _groups(campaign: Campaign) -> dict[str, dict[str, Any]]:
    """Both groups' figures from one pass over the campaign's claimed orders."""
    found = {status: (converted, orders, cents) for status, converted, orders, cents
             in db.session.execute(attribution.totals(
                 attribution.claimed_orders(_metadata(), campaign.id)))}
    counts = {"SENT": campaign.sent, "HOLDOUT": campaign.holdout}
    out = {}
    for status, name in GROUP_NAMES.items():
        converted, orders, cents = found.get(status, (0, 0, 0))
        out[name] = {"count": counts[status], "converted": int(converted or 0),
                     "orders": int(orders or 0), "revenue": _money(cents)}
    return out


def _rate(group: dict[str, Any]) -> float | None:
    return group["converted"] / group["count"] if group["count"] else None


def uplift(p1: float, n1: int, p2: float, n2: int) -> dict[str, Any]:
    """Return the absolute and relative uplift of rate p1 over p2 with its Wald 95% interval."""
    absolute = p1 - p2
    half = Z95 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return {"absolute": absolute, "relative": absolute / p2 if p2 else None,
            "ci95": [absolute - half, absolute + half]}


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def results(campaign_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return SPEC's results of a campaign: both groups, their rates, uplift and revenue."""
    campaign = _campaign(campaign_id)
    groups = _groups(campaign)
    recipients, holdout = groups["recipients"], groups["holdout"]
    p1, p2 = _rate(recipients), _rate(holdout)
    lift, incremental = None, None
    if p1 is not None and p2 is not None:
        lift = uplift(p1, recipients["count"], p2, holdout["count"])
        incremental = (recipients["revenue"]
                       - holdout["revenue"] * recipients["count"] / holdout["count"])
    return {
        "attribution_days": campaign.attribution_days,
        "as_of": iso(now or utcnow()),
        "recipients": recipients,
        "holdout": holdout,
        "conversion_rate": {"recipients": p1, "holdout": p2},
        "uplift": lift,
        "incremental_revenue": incremental,
    }


def daily(campaign_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return customers converted per day since the campaign was created, per group."""
    campaign = _campaign(campaign_id)
    counts: dict[str, dict[str, int]] = {name: {} for name in GROUP_NAMES.values()}
    rows = db.session.execute(attribution.daily(
        attribution.claimed_orders(_metadata(), campaign.id)))
    for status, day, n in rows:
        counts[GROUP_NAMES[status]][str(day)[:10]] = int(n)
    first, today = campaign.created_at.date(), (now or utcnow()).date()
    # conversions happen within the window after a touch; show that window, or up to
    # the last day that has one (a long send), but never past today
    seen = [dt.date.fromisoformat(d) for group in counts.values() for d in group]
    last = min(today, max([first + dt.timedelta(days=campaign.attribution_days), *seen]))
    days = [first + dt.timedelta(days=i) for i in range(max(0, (last - first).days) + 1)]
    return {"days": [d.isoformat() for d in days],
            **{name: [group.get(d.isoformat(), 0) for d in days]
               for name, group in counts.items()}}


def revenue_by_campaign(campaign_ids: list[int]) -> dict[int, float]:
    """Return the recipients' attributed revenue of each campaign, a query per hundred
    (SQLite takes at most 500 branches in one UNION)."""
    revenue: dict[int, float] = {}
    for start in range(0, len(campaign_ids), 100):
        query = attribution.revenue_by_campaign(_metadata(), campaign_ids[start:start + 100])
        revenue.update((int(cid), _money(cents)) for cid, cents in db.session.execute(query))
    return revenue


def _points(value: float) -> str:
    return f"{value * 100:+.1f}".replace("-", "−")


def uplift_words(body: dict[str, Any]) -> str:
    """Say in words what the uplift's 95% interval means, for the campaign page."""
    lift = body["uplift"]
    if lift is None:
        if not body["holdout"]["count"]:
            return ("No holdout: nobody was kept back, so there is nothing to compare the "
                    "recipients with and the campaign's effect cannot be told.")
        return "Nobody has received the message yet: there is nothing to compare."
    low, high = lift["ci95"]
    span = f"between {_points(low)} and {_points(high)} points"
    if low > 0:
        return f"{span}: the campaign most likely helped."
    if high < 0:
        return f"{span}: the campaign most likely hurt."
    return (f"{span}: no clear effect yet — the interval includes zero, so the difference "
            "may be chance.")
