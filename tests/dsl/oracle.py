"""A plain-Python reading of SPEC's rule semantics, written without the compiler's code."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from dateutil.relativedelta import relativedelta

from xeno.dsl.tree import And, Comparison, Date, DateTime, Node, Not, Number, Or, Relative, Today

TEXT_FIELDS = {"city", "name", "email", "phone"}
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Fold case the way both engines do for ASCII text."""
    return text.translate(_ASCII_FOLD)


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


def comparison(node: Comparison, row: dict[str, Any], now: dt.datetime) -> bool:
    """Evaluate one condition with two-valued logic: anything on an empty value is false."""
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


def matches(node: Node, row: dict[str, Any], now: dt.datetime) -> bool:
    """Tell whether a customer row satisfies a rule tree."""
    if isinstance(node, And):
        return all(matches(c, row, now) for c in node.children)
    if isinstance(node, Or):
        return any(matches(c, row, now) for c in node.children)
    if isinstance(node, Not):
        return not matches(node.child, row, now)
    return comparison(node, row, now)


def count(node: Node, rows: list[dict[str, Any]], now: dt.datetime) -> int:
    """Count the rows a rule matches."""
    return sum(1 for row in rows if matches(node, row, now))
