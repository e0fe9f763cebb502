"""A plain-Python reading of SPEC's rule semantics, written without the compiler's code."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from dateutil.relativedelta import relativedelta

from xeno.dsl.tree import (
    And,
    Comparison,
    Date,
    DateTime,
    Node,
    Not,
    Number,
    Or,
    Period,
    Relative,
    Today,
)

TEXT_FIELDS = {"city", "name", "email", "phone"}
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Fold case the way both engines do for ASCII text."""
    return text.translate(_ASCII_FOLD)


class Activity:
    """Orders, campaigns and log rows, read the way SPEC says ("Did it work")."""

    def __init__(self, orders: list[dict[str, Any]], campaigns: list[dict[str, Any]],
                 log: list[dict[str, Any]], customers: list[dict[str, Any]]) -> None:
        self.orders, self.campaigns, self.log = orders, {c["id"]: c for c in campaigns}, log
        self.external = {row["id"]: row["external_id"] for row in customers}
        self.by_customer: dict[str, list[dict[str, Any]]] = {}
        for order in orders:
            self.by_customer.setdefault(order["customer_external_id"], []).append(order)
        self.claims = attribute(self.campaigns, log, orders, self.external)

    def orders_of(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Return a customer's orders."""
        return self.by_customer.get(row["external_id"], [])

    def converted(self, campaign_id: int) -> set[int]:
        """Return the ids of customers who converted for a campaign, in either group."""
        claims = self.claims.get(campaign_id, {"recipients": [], "holdout": []})
        return {who for who, _ in claims["recipients"] + claims["holdout"]}


def attribute(campaigns: dict[int, dict[str, Any]], log: list[dict[str, Any]],
              orders: list[dict[str, Any]], external: dict[int, str]
              ) -> dict[int, dict[str, list[tuple[int, dict[str, Any]]]]]:
    """Return, per campaign, the (customer id, order) pairs each group claims.

    Last touch: an order counts for the SENT row with the latest (updated_at, id) at or
    before it, if within that row's campaign's attribution days; holdout members' orders
    count within attribution days after their campaign's creation."""
    number = {ext: cid for cid, ext in external.items()}
    claims: dict[int, dict[str, list[tuple[int, dict[str, Any]]]]] = {
        cid: {"recipients": [], "holdout": []} for cid in campaigns}
    touches: dict[int, list[tuple[dt.datetime, int, int]]] = {}
    for index, row in enumerate(log):
        if row["status"] == "SENT":
            key = row.get("id", index)
            touches.setdefault(row["customer_id"], []).append(
                (row["updated_at"], key, row["campaign_id"]))
    for order in orders:
        who = number.get(order["customer_external_id"])
        before = [t for t in touches.get(who, []) if t[0] <= order["ordered_at"]]
        if not before:
            continue
        sent_at, _, campaign_id = max(before)
        days = dt.timedelta(days=campaigns[campaign_id]["attribution_days"])
        if order["ordered_at"] <= sent_at + days:
            claims[campaign_id]["recipients"].append((who, order))
    for row in log:
        if row["status"] != "HOLDOUT":
            continue
        campaign = campaigns[row["campaign_id"]]
        start = campaign["created_at"]
        end = start + dt.timedelta(days=campaign["attribution_days"])
        for order in orders:
            if (order["customer_external_id"] == external.get(row["customer_id"])
                    and start <= order["ordered_at"] <= end):
                claims[campaign["id"]]["holdout"].append((row["customer_id"], order))
    return claims


def _period_start(period: Period, now: dt.datetime) -> dt.datetime:
    back = {"days": relativedelta(days=period.amount), "weeks": relativedelta(weeks=period.amount),
            "months": relativedelta(months=period.amount)}
    return now - back[period.unit]


def _activity_value(node: Comparison, row: dict[str, Any], now: dt.datetime,
                    activity: Activity) -> Any:
    if node.field == "last_message":
        times = [r["updated_at"] for r in activity.log
                 if r["customer_id"] == row["id"] and r["status"] == "SENT"]
        return max(times) if times else None
    start = _period_start(node.param, now)
    inside = [o for o in activity.orders_of(row) if o["ordered_at"] >= start]
    if node.field == "spend":
        return sum((Fraction(o["amount"]) for o in inside), Fraction(0))
    return Fraction(len(inside))


def _campaign(node: Comparison, row: dict[str, Any], activity: Activity) -> bool:
    campaign_id, state = int(node.param.value), node.value.value
    if state == "CONVERTED":
        return row["id"] in activity.converted(campaign_id)
    return any(r["campaign_id"] == campaign_id and r["customer_id"] == row["id"]
               and state in ("ANY", r["status"]) for r in activity.log)


def field_value(name: str, row: dict[str, Any], now: dt.datetime) -> Any:
    """Return the field's value for a customer, or None when it is empty."""
    if name in TEXT_FIELDS:
        return row[name] or None
    if name == "spend":
        return Fraction(row["total_spend"])
    if name == "visits":
        return Fraction(row["visits"])
    if name == "avg_order":
        visits = row["visits"]
        return Fraction(row["total_spend"]) / visits if visits else Fraction(0)
    if name == "inactive_days":
        since = row["last_visit_at"] or row["signup_at"]
        return Fraction((now - since) // dt.timedelta(days=1))
    if name == "last_visit":
        return row["last_visit_at"]
    if name == "signup":
        return row["signup_at"]
    raise KeyError(name)


def _instant(value: Any, now: dt.datetime) -> dt.datetime:
    if isinstance(value, DateTime):
        return value.value
    amount = value.amount
    back = {"days": relativedelta(days=amount), "weeks": relativedelta(weeks=amount),
            "months": relativedelta(months=amount), "years": relativedelta(years=amount)}
    return now - back[value.unit]


def _compare(op: str, left: Any, right: Any) -> bool:
    return {"=": left == right, "!=": left != right, ">": left > right, ">=": left >= right,
            "<": left < right, "<=": left <= right}[op]


def _one(op: str, actual: Any, value: Any, now: dt.datetime) -> bool:
    """Compare a non-empty field value with one literal."""
    if isinstance(value, Number):
        return _compare(op, actual, Fraction(value.value))
    if isinstance(value, (Date, Today)):
        day = value.value if isinstance(value, Date) else now.date()
        return _compare(op, actual.date(), day)  # whole-day meaning
    if isinstance(value, (DateTime, Relative)):
        return _compare(op, actual, _instant(value, now))
    mine, theirs = fold(actual), fold(value.value)
    if op == "contains":
        return theirs in mine
    if op == "starts with":
        return mine.startswith(theirs)
    if op == "ends with":
        return mine.endswith(theirs)
    return _compare(op, mine, theirs)


def comparison(node: Comparison, row: dict[str, Any], now: dt.datetime,
               activity: Activity | None = None) -> bool:
    """Evaluate one condition with two-valued logic: anything on an empty value is false."""
    if node.field == "campaign":
        assert activity is not None
        return _campaign(node, row, activity)
    if node.param is not None or node.field == "last_message":
        assert activity is not None
        actual = _activity_value(node, row, now, activity)
    else:
        actual = field_value(node.field, row, now)
    if node.op == "is empty":
        return actual is None
    if node.op == "is not empty":
        return actual is not None
    if actual is None:
        return False
    if node.op == "between":
        low, high = node.value
        return _one(">=", actual, low, now) and _one("<=", actual, high, now)
    if node.op == "in":
        return any(_one("=", actual, v, now) for v in node.value)
    if node.op == "not in":
        return not any(_one("=", actual, v, now) for v in node.value)
    return _one(node.op, actual, node.value, now)


def matches(node: Node, row: dict[str, Any], now: dt.datetime,
            activity: Activity | None = None) -> bool:
    """Tell whether a customer row satisfies a rule tree."""
    if isinstance(node, And):
        return all(matches(c, row, now, activity) for c in node.children)
    if isinstance(node, Or):
        return any(matches(c, row, now, activity) for c in node.children)
    if isinstance(node, Not):
        return not matches(node.child, row, now, activity)
    return comparison(node, row, now, activity)


def count(node: Node, rows: list[dict[str, Any]], now: dt.datetime,
          activity: Activity | None = None) -> int:
    """Count the rows a rule matches."""
    return sum(1 for row in rows if matches(node, row, now, activity))
