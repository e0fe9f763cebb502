"""Segments: audiences a rule defines — count, sample, save, list, update, delete.

A count is one `SELECT COUNT(*) FROM customers WHERE <compiled rule>` on the indexed
aggregate columns; a sample is the first rows of the same WHERE by primary key. The
rule's relative dates resolve against one `now` per call, so the count and the sample
always describe the same audience.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, select

from xeno.customers.service import COLUMNS, customer_json
from xeno.db.models import Campaign, Customer, Segment
from xeno.dsl import compile_rule, from_json, parse, render, to_json
from xeno.dsl.tree import Node
from xeno.extensions import db
from xeno.platform.clock import iso, utcnow
from xeno.platform.errors import NotFound

SAMPLE_SIZE = 10
MAX_SAMPLE = 500
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 500


# What a rule's numbers may name (`campaign 12`): the kind a field's parameter refers to,
# and the model whose ids answer it.
REFERENCES: dict[str, Any] = {"campaign": Campaign}


def references_exist(kind: str, numbers: set[int]) -> set[int]:
    """Return which of `numbers` name a stored row of `kind` (one query per rule)."""
    model = REFERENCES.get(kind)
    if model is None or not numbers:
        return set()
    return set(db.session.scalars(select(model.id).where(model.id.in_(numbers))))


def parse_rule(rule: str) -> Node:
    """Parse and check a rule, including that every campaign it names exists."""
    return parse(rule, exists=references_exist)


def tree_rule(tree: Any) -> Node:
    """Build and check a rule from the builder's JSON tree, like `parse_rule`."""
    return from_json(tree, exists=references_exist)


def customers_table() -> Table:
    """Return the table rules are compiled against."""
    return Customer.__table__  # type: ignore[return-value]


def where(node: Node, now: dt.datetime) -> ColumnElement[bool]:
    """Return the WHERE clause of a rule tree over `customers`."""
    return compile_rule(node, customers_table(), now)


def count_query(node: Node, now: dt.datetime) -> Select[Any]:
    """Return `SELECT COUNT(*) FROM customers WHERE <rule>`."""
    return select(func.count()).select_from(customers_table()).where(where(node, now))


def sample_query(node: Node, now: dt.datetime, limit: int = SAMPLE_SIZE) -> Select[Any]:
    """Return `limit` matching customers: their ids first, then their rows by primary key.

    Asking for ids alone lets the planner answer from the same covering index as the
    count and stop after `limit` entries; asking for the full rows makes it guess a plan
    for the whole audience (measured: 0.7 ms against 490 ms at a million customers).
    """
    table = customers_table()
    ids = select(table.c.id).where(where(node, now)).limit(limit).subquery("sample_ids")
    columns = [table.c[name] for name in COLUMNS]
    return select(*columns).join_from(table, ids, table.c.id == ids.c.id)


def count(node: Node, now: dt.datetime | None = None) -> int:
    """Return how many customers a rule tree matches."""
    return int(db.session.scalar(count_query(node, now or utcnow())) or 0)


def sample(
    node: Node, now: dt.datetime | None = None, limit: int = SAMPLE_SIZE
) -> list[dict[str, Any]]:
    """Return up to `limit` matching customers in SPEC's customer shape."""
    rows = db.session.execute(sample_query(node, now or utcnow(), limit))
    return [customer_json(row) for row in rows]


@dataclass(frozen=True)
class Preview:
    """An audience before saving: its size, a few members and the rule it came from."""

    count: int
    sample: list[dict[str, Any]]
    rule: str
    tree: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the body of `POST /segments/preview`."""
        return {"count": self.count, "sample": self.sample, "rule": self.rule, "tree": self.tree}


def preview(rule: str, sample_size: int = SAMPLE_SIZE, now: dt.datetime | None = None) -> Preview:
    """Parse a rule and return its audience size and sample; RuleError when it is wrong."""
    node = parse_rule(rule)
    now = now or utcnow()
    size = count(node, now)
    members = sample(node, now, min(max(sample_size, 0), MAX_SAMPLE)) if size else []
    return Preview(size, members, render(node), to_json(node))


def segment_json(segment: Segment) -> dict[str, Any]:
    """Return a saved segment as the API shows it."""
    return {
        "id": segment.id,
        "name": segment.name,
        "rule": segment.rule,
        "size": segment.size,
        "created_at": iso(segment.created_at),
        "created_by": segment.created_by,
        "updated_at": iso(segment.updated_at),
    }


def create_segment(name: str, rule: str, created_by: str | None = None) -> Segment:
    """Save a rule under a name with its current size; the rule is stored normalised."""
    node = parse_rule(rule)
    now = utcnow()
    segment = Segment(
        name=name,
        rule=render(node),
        size=count(node, now),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    db.session.add(segment)
    db.session.commit()
    return segment


def get_segment(segment_id: int) -> Segment:
    """Return a saved segment or raise NotFound."""
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id}")
    return segment


def update_segment(segment_id: int, name: str | None = None, rule: str | None = None) -> Segment:
    """Rename a segment and/or change its rule; the size is counted again either way."""
    segment = get_segment(segment_id)
    node = parse_rule(rule if rule is not None else segment.rule)
    now = utcnow()
    if name is not None:
        segment.name = name
    segment.rule = render(node)
    segment.size = count(node, now)
    segment.updated_at = now
    db.session.commit()
    return segment


def delete_segment(segment_id: int) -> None:
    """Delete a saved segment (campaigns keep their own rule snapshot)."""
    db.session.delete(get_segment(segment_id))
    db.session.commit()


@dataclass(frozen=True)
class SegmentPage:
    """One page of saved segments, most recent first."""

    items: list[Segment]
    page: int
    per_page: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        """Return SPEC's list shape."""
        return {
            "items": [segment_json(s) for s in self.items],
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
        }


def list_segments(page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> SegmentPage:
    """Return one page of saved segments, most recent first (ties: higher id first)."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    query = (
        select(Segment)
        .order_by(Segment.created_at.desc(), Segment.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = list(db.session.scalars(query))
    total = int(db.session.scalar(select(func.count()).select_from(Segment)) or 0)
    return SegmentPage(items, page, per_page, total)
