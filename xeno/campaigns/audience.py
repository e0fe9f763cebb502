"""Who a campaign reaches: the customers its rule matches, minus those who may not receive it.

Two kinds of customer are left out, inside the WHERE of the one snapshot statement, never
by a second pass over the recipients:
- the unsubscribed (`customers.unsubscribed_at` is set): always;
- the capped: with `XENO_FREQUENCY_CAP` = N/Dd, a customer who already has N rows SENT or
  PENDING in `communications_log` created in the last D days. The test is a correlated
  COUNT on the index (customer_id, created_at, status): one short range per matched
  customer, so a log of millions of rows is never scanned.
A customer left out for both reasons counts once, as unsubscribed (SPEC "Safe sending").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, func, select, true

from xeno.db.models import Campaign, CommunicationLog, Customer, Segment
from xeno.dsl import compile_rule, render
from xeno.extensions import db
from xeno.platform.config import frequency_cap
from xeno.platform.errors import NotFound
from xeno.segments.service import parse_rule

customers_t = Customer.__table__
log_t = CommunicationLog.__table__
COUNTED = ("SENT", "PENDING")  # what the frequency cap counts; FAILED reached nobody


@dataclass(frozen=True)
class Target:
    """What a campaign is sent to: the rule (and segment), and the customers it matches."""

    rule: str
    segment_id: int | None
    matched: ColumnElement[bool]
    key: tuple[Any, ...]  # names the audience for the duplicate guard


@dataclass(frozen=True)
class Breakdown:
    """Matched by the rule, left out, and the rest: the rows the campaign writes."""

    matched: int
    unsubscribed: int
    frequency_cap: int

    @property
    def audience_size(self) -> int:
        """Those who receive it."""
        return self.matched - self.unsubscribed - self.frequency_cap

    def to_dict(self) -> dict[str, Any]:
        """SPEC's breakdown: `matched`, `excluded`, `audience_size`."""
        return {
            "matched": self.matched,
            "excluded": {"unsubscribed": self.unsubscribed, "frequency_cap": self.frequency_cap},
            "audience_size": self.audience_size,
        }


def of_rule(rule: str | None, segment_id: int | None, now: datetime) -> Target:
    """A segment id or a rule as a target (RuleError, NotFound)."""
    if segment_id is not None:
        segment = db.session.get(Segment, segment_id)
        if segment is None:
            raise NotFound(f"no segment {segment_id}")
        rule = segment.rule
    assert rule is not None
    tree = parse_rule(rule)  # also checks that every campaign it names exists
    key = ("segment", segment_id) if segment_id is not None else ("rule", render(tree))
    return Target(rule, segment_id, compile_rule(tree, customers_t, now), key)


def of_failures(parent: Campaign) -> Target:
    """The customers whose message of `parent` FAILED."""
    failed = select(log_t.c.customer_id).where(
        log_t.c.campaign_id == parent.id, log_t.c.status == "FAILED"
    )
    return Target(parent.rule, parent.segment_id, customers_t.c.id.in_(failed),
                  ("retry", parent.id))


def fingerprint(target: Target, message: str) -> str:
    """The same audience with the same message, as one short key."""
    text = json.dumps([*target.key, message], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cap(now: datetime) -> tuple[int, datetime] | None:
    """The configured cap as (N, since), or None when there is none."""
    configured = frequency_cap(current_app.config.get("FREQUENCY_CAP"))
    if configured is None:
        return None
    limit, days = configured
    return limit, now - timedelta(days=days)


def subscribed() -> ColumnElement[bool]:
    """The customer may be contacted."""
    return customers_t.c.unsubscribed_at.is_(None)


def under_cap(limit: int, since: datetime) -> ColumnElement[bool]:
    """Fewer than `limit` rows SENT or PENDING created since `since` for this customer."""
    recent = (
        select(func.count())
        .select_from(log_t)
        .where(
            log_t.c.customer_id == customers_t.c.id,
            log_t.c.created_at >= since,
            log_t.c.status.in_(COUNTED),
        )
        .correlate(customers_t)
        .scalar_subquery()
    )
    return recent < limit


def receivers(target: Target, now: datetime, ignore_cap: bool) -> ColumnElement[bool]:
    """The WHERE of the snapshot: matched, subscribed, and under the cap unless ignored."""
    limit = None if ignore_cap else cap(now)
    capped = true() if limit is None else under_cap(*limit)
    return and_(target.matched, subscribed(), capped)


def count(target: Target, now: datetime, ignore_cap: bool) -> Breakdown:
    """The whole breakdown in one SELECT (what a preview shows)."""
    limit = None if ignore_cap else cap(now)
    left_by_cap = (
        func.sum(case((and_(subscribed(), ~under_cap(*limit)), 1), else_=0))
        if limit is not None else None
    )
    columns = [func.count(), func.count(customers_t.c.unsubscribed_at)]
    if left_by_cap is not None:
        columns.append(left_by_cap)
    row = db.session.execute(select(*columns).where(target.matched)).one()
    return Breakdown(int(row[0] or 0), int(row[1] or 0),
                     int(row[2] or 0) if left_by_cap is not None else 0)


def matched_and_unsubscribed(target: Target) -> tuple[int, int]:
    """Matched and unsubscribed among them: with the rows written, the rest are capped."""
    row = db.session.execute(
        select(func.count(), func.count(customers_t.c.unsubscribed_at)).where(target.matched)
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
