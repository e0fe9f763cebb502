"""Compile a rule tree to a SQLAlchemy Core boolean: bound parameters only, never NULL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, func, not_, or_, true
from sqlalchemy.sql.expression import Grouping

from .errors import RuleError
from .fields import Field, registry
from .tree import And, Comparison, Node, Not, Or, String, Value
from .values import resolve, snap, utc_naive

NUMBER_LIMIT = Decimal(10) ** 15  # beyond any stored number; keeps binds exact
LIKE_ESCAPE = "/"
# SQLite refuses an expression tree deeper than 1000, and `a OR b OR c ...` is a chain as
# deep as it is long: a 10,000-character rule holds 5,000 IN values. Longer lists are
# split into parenthesised groups, so the depth grows with the logarithm of the length.
GROUP = 32


def compile_rule(node: Node, table: Table, now: dt.datetime) -> ColumnElement[bool]:
    """Return a WHERE clause for `node` over `table`; time values resolve against `now`."""
    now = utc_naive(now)
    if isinstance(node, And):
        return _grouped(and_, [compile_rule(c, table, now) for c in node.children])
    if isinstance(node, Or):
        return _grouped(or_, [compile_rule(c, table, now) for c in node.children])
    if isinstance(node, Not):
        return not_(compile_rule(node.child, table, now))
    return _comparison(node, table, now)


def _comparison(node: Comparison, table: Table, now: dt.datetime) -> ColumnElement[bool]:
    field = registry.get(node.field)
    if field is None:
        raise RuleError(f"unknown field '{node.field}'", node.line, node.column)
    field = field.bind(node.param)
    if field.column is None and field.compile is None:
        raise RuleError(f"{field.name} needs a parameter", node.line, node.column)
    op, value = node.op, node.value
    if op == "is empty":
        return is_empty(field, table)
    if op == "is not empty":
        return not_(is_empty(field, table))
    if op == "between":
        low, high = value
        return and_(_primitive(field, table, ">=", low, now),
                    _primitive(field, table, "<=", high, now))
    if op == "in":
        return _grouped(or_, [_primitive(field, table, "=", v, now) for v in value])
    if op == "not in":
        anyof = _grouped(or_, [_primitive(field, table, "=", v, now) for v in value])
        return and_(not_(is_empty(field, table)), not_(anyof))
    if op == "!=":
        return and_(not_(is_empty(field, table)), not_(_primitive(field, table, "=", value, now)))
    return _primitive(field, table, op, value, now)


class _Group(Grouping):
    """Parentheses SQLAlchemy keeps: a plain Grouping passes on its `operator`, so an OR
    inside an OR would be flattened into one long chain again."""

    operator = None
    inherit_cache = True


def _grouped(join: Any, terms: list[Any]) -> ColumnElement[bool]:
    """`join(*terms)` (and_ or or_), nested in groups of GROUP so its depth stays small."""
    while len(terms) > GROUP:
        terms = [_Group(join(*terms[i:i + GROUP])) for i in range(0, len(terms), GROUP)]
    return join(*terms)


def is_empty(field: Field, table: Table) -> ColumnElement[bool]:
    """Return a never-NULL test for 'the field has no value' (NULL or '' for text)."""
    if field.empty is not None:
        return field.empty(table)
    if not field.nullable:
        return false()
    column = field.column(table)
    if field.type == "text":
        # length(), not = '': MySQL's PAD SPACE collations would call '  ' empty
        return or_(column.is_(None), func.length(column) == 0)
    return column.is_(None)


def _primitive(field: Field, table: Table, op: str, value: Value, now: dt.datetime) -> Any:
    """Compile = > >= < <= and the text operators; false whenever the field is empty."""
    if field.compile is not None:
        return field.compile(table, op, value, now)
    column = field.column(table)
    guard = [column.is_not(None)] if field.nullable else []
    if field.type == "text":
        expr = _text(column, op, value)
    elif field.type == "datetime":
        expr = _time(column, op, value, now)
    else:
        snapped = snap(op, value.value, field.scale, NUMBER_LIMIT)
        if isinstance(snapped, bool):
            expr = true() if snapped else false()
        else:
            expr = _cmp(column, *snapped)
    return and_(*guard, expr) if guard else expr


def _cmp(column: Any, op: str, right: Any) -> ColumnElement[bool]:
    return {
        "=": column.__eq__, ">": column.__gt__, ">=": column.__ge__,
        "<": column.__lt__, "<=": column.__le__,
    }[op](right)


def _like_escape(text: str) -> str:
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return text


def _text(column: Any, op: str, value: String) -> ColumnElement[bool]:
    """Case-insensitive by the column's collation; an empty value never matches."""
    text = value.value
    if text == "":
        return false()
    if op == "=":
        # LIKE without wildcards: exact except case, and unlike '=' under MySQL's PAD SPACE
        # it does not ignore trailing spaces; '=' stays for the index
        return and_(column == text, column.like(_like_escape(text), escape=LIKE_ESCAPE))
    if op == "contains":
        return column.contains(text, autoescape=True)
    if op == "starts with":
        return column.startswith(text, autoescape=True)
    if op == "ends with":
        return column.endswith(text, autoescape=True)
    raise RuleError(f"{op.upper()} does not fit text")


def _time(column: Any, op: str, value: Value, now: dt.datetime) -> ColumnElement[bool]:
    """Dates are whole UTC days, date-times and relative moments instants."""
    window = resolve(value, now)
    if not window.is_day:
        return _cmp(column, op, window.start)
    start, end = window.start, window.end  # end None: the day is the last one there is
    if op == "=":
        return column >= start if end is None else and_(column >= start, column < end)
    if op == ">":
        return false() if end is None else column >= end
    if op == ">=":
        return column >= start
    if op == "<":
        return column < start
    if op == "<=":
        return true() if end is None else column < end
    raise RuleError(f"{op.upper()} does not fit dates")
