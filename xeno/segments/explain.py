"""Explain a rule: per-node counts, resolved dates and one customer's trace.

Every node of the tree gets its `rule` text, `own_count` (customers matching that node alone) and
`left_count` (customers still in after it: the running intersection of an AND's
children so far, the running union of an OR's; a NOT's child and the root keep their
own). At most one COUNT query per node, each filtered by the node's own (indexed)
condition:

    SELECT COUNT(*), SUM(CASE WHEN <earlier siblings> THEN 1 ELSE 0 END)
    FROM customers WHERE <node>

For an AND child, the SUM is the running intersection; for an OR child, summing
`NOT <earlier siblings>` gives what the node adds to the running union. A group's own
count is its last child's running count, so a group without earlier siblings costs
nothing. A customer's trace is one SELECT of every node's expression for that row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select

from xeno.customers.service import COLUMNS, customer_json
from xeno.db.clock import iso, utcnow
from xeno.dsl import describe, registry, render, to_json
from xeno.dsl.tree import And, Comparison, Date, DateTime, Node, Not, Or, Period, Relative, Today
from xeno.extensions import db
from xeno.platform.errors import NotFound
from xeno.segments.service import customers_table, parse_rule, where

TIME_VALUES = (Date, DateTime, Relative, Today)


def explain(
    rule: str, customer_id: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Return the annotated tree of a rule, with one customer's trace when asked.

    The answer is the root node itself (SPEC: "the rule tree with, on every node, ..."),
    plus the resolved `now` and the audience `count`; `tree` repeats the root for
    clients that want the tree apart from those.
    """
    node = parse_rule(rule)
    now = now or utcnow()
    walk = _Walk(now)
    tree = walk.node(node, None, None, 0)
    customer = walk.trace(customer_id) if customer_id is not None else None
    body: dict[str, Any] = {**tree, "now": iso(now), "count": tree["left_count"], "tree": tree}
    if customer is not None:
        body["customer"] = customer
    return body


def _one_of(kind: str, parts: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(*parts) if kind == "and" else or_(*parts)


class _Walk:
    """One pass over the tree; remembers each node's expression for the trace."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.visited: list[tuple[dict[str, Any], ColumnElement[bool]]] = []

    def node(
        self,
        node: Node,
        kind: str | None,
        earlier: list[ColumnElement[bool]] | None,
        before: int | None,
    ) -> dict[str, Any]:
        """Annotate `node`; `earlier` are its preceding siblings in a group of `kind`."""
        expr = where(node, self.now)
        out: dict[str, Any]
        own: int | None = None
        if isinstance(node, (And, Or)):
            group = "and" if isinstance(node, And) else "or"
            children, done = [], []
            left = None
            for child in node.children:
                annotated = self.node(child, group, list(done), left)
                children.append(annotated)
                done.append(where(child, self.now))
                left = annotated["left_count"]
            out, own = {"type": group, "children": children}, left
        elif isinstance(node, Not):
            out = {"type": "not", "child": self.node(node.child, None, None, None)}
        else:
            out = to_json(node)
            resolved = _resolved(node, self.now)
            if resolved:
                out["resolved"] = resolved
        out["rule"] = render(node)
        self.visited.append((out, expr))
        own, left = self._counts(expr, own, kind, earlier, before)
        out["own_count"], out["left_count"] = own, left
        return out

    def _counts(
        self,
        expr: ColumnElement[bool],
        own: int | None,
        kind: str | None,
        earlier: list[ColumnElement[bool]] | None,
        before: int | None,
    ) -> tuple[int, int]:
        if not earlier:
            if own is None:
                own = _scalar(select(func.count()).select_from(customers_table()).where(expr))
            return own, own
        prior = _one_of(kind or "and", earlier)
        if kind == "or":
            prior = not_(prior)
        flagged = func.coalesce(func.sum(case((prior, 1), else_=0)), 0)
        query = select(func.count(), flagged).select_from(customers_table()).where(expr)
        total, hits = db.session.execute(query).one()
        own = int(total) if own is None else own
        if kind == "or":
            return own, int(before or 0) + int(hits)
        return own, int(hits)

    def trace(self, customer_id: str) -> dict[str, Any]:
        """Mark every visited node with whether it holds for one customer (one SELECT)."""
        table = customers_table()
        flags = [case((expr, 1), else_=0) for _, expr in self.visited]
        columns = [table.c[name] for name in COLUMNS]
        row = db.session.execute(
            select(*columns, *flags).where(table.c.external_id == customer_id)
        ).first()
        if row is None:
            raise NotFound(f"no customer {customer_id!r}")
        for (out, _), flag in zip(self.visited, row[len(COLUMNS) :], strict=True):
            out["matches"] = bool(flag)
        return customer_json(row)


def annotate(
    node: Node, now: dt.datetime
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], ColumnElement[bool]]]]:
    """The explain tree of a rule without counts, and every node with its expression.

    Selecting the expressions over one customer row and setting each node's `matches`
    traces that customer through the rule, as `explain(rule, customer_id)` does.
    """
    visited: list[tuple[dict[str, Any], ColumnElement[bool]]] = []

    # Bottom-up: a group's expression is made of its children's, the way compile_rule
    # builds it, so each condition is compiled once however deep it sits.
    def walk(item: Node) -> tuple[dict[str, Any], ColumnElement[bool]]:
        out: dict[str, Any]
        if isinstance(item, (And, Or)):
            kind = "and" if isinstance(item, And) else "or"
            children = [walk(child) for child in item.children]
            out = {"type": kind, "children": [c for c, _ in children]}
            expr = _one_of(kind, [e for _, e in children])
        elif isinstance(item, Not):
            child, inner = walk(item.child)
            out, expr = {"type": "not", "child": child}, not_(inner)
        else:
            out, expr = to_json(item), where(item, now)
            resolved = _resolved(item, now)
            if resolved:
                out["resolved"] = resolved
        out["rule"] = render(item)
        visited.append((out, expr))
        return out, expr

    return walk(node)[0], visited


def _scalar(query: Any) -> int:
    return int(db.session.scalar(query) or 0)


def _resolved(node: Comparison, now: dt.datetime) -> str | None:
    """Say which instants a date condition admits, e.g. 'before 2026-08-25 00:00 UTC';
    for a period, which orders it counts."""
    if isinstance(node.param, Period):
        return f"orders {describe('>=', Relative(node.param.amount, node.param.unit), now)}"
    field = registry.get(node.field)
    if field is None or field.type != "datetime" or node.value is None:
        return None
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if not all(isinstance(v, TIME_VALUES) for v in values):
        return None
    if node.op == "between":
        low, high = values
        return f"{describe('>=', low, now)} and {describe('<=', high, now)}"
    if node.op in ("in", "not in"):
        op, joiner = ("=", " or ") if node.op == "in" else ("!=", " and ")
        return joiner.join(describe(op, v, now) for v in values)
    return describe(node.op, values[0], now)
