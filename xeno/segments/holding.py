"""Which saved segments hold one customer now, and why: one statement for them all.

Every saved rule is compiled against the same `now` and selected as a 0/1 column over
the customer's single row:

    SELECT CASE WHEN <rule 1> THEN 1 ELSE 0 END, CASE WHEN <rule 2> ..., ...
    FROM customers WHERE id = :id

so a profile costs one indexed row lookup whatever the number of segments, never one
query per segment. For the page (`detail`), a second statement of the same kind selects
every node of the segments that hold the customer, and the answer carries the explain
tree with `matches` on every node: why the customer is in.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, case, select

from xeno.db.clock import utcnow
from xeno.db.models import Customer, Segment
from xeno.dsl import RuleError, parse
from xeno.dsl.tree import Node
from xeno.extensions import db
from xeno.segments.explain import annotate
from xeno.segments.service import customers_table, where

MAX_COLUMNS = 1000  # per statement; far above a team's saved segments, below MySQL's limits


@lru_cache(maxsize=1024)
def _parsed(rule: str) -> Node | None:
    """A saved rule's tree (trees are immutable, so one parse serves every profile)."""
    try:
        return parse(rule)
    except RuleError:  # a rule whose field plug-in is gone holds nobody
        return None


def _flags(customer_id: int, expressions: list[ColumnElement[bool]]) -> list[bool]:
    """Each expression evaluated on one customer's row, in as few statements as fit."""
    table = customers_table()
    flags: list[bool] = []
    for start in range(0, len(expressions), MAX_COLUMNS):
        chunk = expressions[start : start + MAX_COLUMNS]
        row = db.session.execute(
            select(*(case((e, 1), else_=0) for e in chunk)).where(table.c.id == customer_id)
        ).first()
        flags += [bool(v) for v in row] if row is not None else [False] * len(chunk)
    return flags


def holding(customer: Customer, detail: bool = False,
            now: dt.datetime | None = None) -> dict[str, Any]:
    """The profile's segments section: the saved segments that hold this customer now.

    Each is `{"id", "name"}`; with `detail`, also `rule` and `why` (the explain tree with
    `matches` on every node).
    """
    now = now or utcnow()
    saved = db.session.execute(
        select(Segment.id, Segment.name, Segment.rule).order_by(Segment.name, Segment.id)
    ).all()
    parsed = [(segment, _parsed(segment.rule)) for segment in saved]
    parsed = [(segment, node) for segment, node in parsed if node is not None]
    flags = _flags(customer.id, [where(node, now) for _, node in parsed])
    held = [(segment, node) for (segment, node), flag in zip(parsed, flags, strict=True) if flag]
    if not detail:
        return {"segments": [{"id": s.id, "name": s.name} for s, _ in held]}
    annotated = [(segment, *annotate(node, now)) for segment, node in held]
    marks = iter(_flags(customer.id, [e for _, _, visited in annotated for _, e in visited]))
    items = []
    for segment, tree, visited in annotated:
        for out, _ in visited:
            out["matches"] = next(marks)
        items.append({"id": segment.id, "name": segment.name, "rule": segment.rule, "why": tree})
    return {"segments": items}
