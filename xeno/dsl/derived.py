"""Compile hooks for the built-in fields that are not a plain column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Numeric,
    Table,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    true,
)
from sqlalchemy.types import TypeDecorator

from .tree import Number
from .values import DAY, snap

MONEY_LIMIT = Decimal(10) ** 12 + 1  # NUMERIC(14,2) stays below 10^12
AVG_DECIMALS = 6
DAY_LIMIT = 4_000_000  # more days than datetime can span: the answer is a constant


class WideInt(TypeDecorator[int]):
    """An integer bound so no engine overflows: int on SQLite, a DECIMAL literal elsewhere."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        """Use DECIMAL arithmetic outside SQLite so BIGINT products cannot overflow."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(65, 1))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        """Bind an int on SQLite and a Decimal with one decimal (a DECIMAL literal) elsewhere."""
        if value is None or dialect.name == "sqlite":
            return value
        return Decimal(value).quantize(Decimal("0.1"))


def _compare(left: ColumnElement[Any], op: str, right: Any) -> ColumnElement[bool]:
    return {
        "=": left.__eq__, ">": left.__gt__, ">=": left.__ge__,
        "<": left.__lt__, "<=": left.__le__,
    }[op](right)


def _constant(flag: bool) -> ColumnElement[bool]:
    return true() if flag else false()


def check_avg_order_value(value: Any) -> str | None:
    """Refuse avg_order values finer than it can compare exactly on every engine."""
    if not isinstance(value, Number) or abs(value.value) >= MONEY_LIMIT:
        return None
    if value.value != value.value.quantize(Decimal(1).scaleb(-AVG_DECIMALS)):
        return f"avg_order compares at most {AVG_DECIMALS} decimals"
    return None


def avg_order(table: Table, op: str, value: Any, now: dt.datetime) -> ColumnElement[bool]:
    """Compare spend / visits exactly, as integer cents × 10^k against value × visits."""
    number = value.value
    if abs(number) >= MONEY_LIMIT:  # beyond any average: clamp without losing meaning
        number = MONEY_LIMIT.copy_sign(number)
    visits = table.c.visits
    no_orders = _compare(Decimal(0), op, number)  # the average is 0 without orders
    cents = number * 100
    k = max(0, -cents.normalize().as_tuple().exponent)
    k = min(k, AVG_DECIMALS - 2)
    scaled = int(cents.scaleb(k).to_integral_value())
    spend_units = cast(func.round(table.c.total_spend * 100), BigInteger) * (10**k)
    rhs = literal(scaled, WideInt()) * visits
    with_orders = and_(visits > 0, _compare(spend_units, op, rhs))
    return or_(with_orders, visits <= 0) if no_orders else with_orders


def _reference_at_most(table: Table, moment: dt.datetime) -> ColumnElement[bool]:
    """Last visit, or signup when never visited, is at or before `moment` (sargable)."""
    last, signup = table.c.last_visit_at, table.c.signup_at
    return or_(and_(last.is_not(None), last <= moment), and_(last.is_(None), signup <= moment))


def _inactive_at_least(table: Table, days: int, now: dt.datetime) -> ColumnElement[bool]:
    """inactive_days >= days  ⇔  reference <= now - days × 24 h."""
    if days > DAY_LIMIT:
        return false()
    if days < -DAY_LIMIT:
        return true()
    try:
        moment = now - days * DAY
    except OverflowError:
        return _constant(days < 0)
    return _reference_at_most(table, moment)


def inactive_days(table: Table, op: str, value: Any, now: dt.datetime) -> ColumnElement[bool]:
    """Turn whole days since the last visit (or signup) into bounds on indexed columns."""
    snapped = snap(op, value.value, 0, Decimal(DAY_LIMIT) * 2)
    if isinstance(snapped, bool):
        return _constant(snapped)
    op, number = snapped
    days = int(number)
    if op == ">":
        return _inactive_at_least(table, days + 1, now)
    if op == ">=":
        return _inactive_at_least(table, days, now)
    if op == "<":
        return ~_inactive_at_least(table, days, now)
    if op == "<=":
        return ~_inactive_at_least(table, days + 1, now)
    return and_(_inactive_at_least(table, days, now), ~_inactive_at_least(table, days + 1, now))
