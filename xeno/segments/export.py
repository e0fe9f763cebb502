"""A segment's members as CSV rows, streamed: one generator for the download and the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from xeno.customers.service import CSV_HEADER, csv_columns, customer_csv_row
from xeno.db.clock import utcnow
from xeno.dsl.tree import Node
from xeno.platform.exports import streamed_rows
from xeno.segments.service import customers_table, parse_rule, where

HEADER = CSV_HEADER


def member_rows(node: Node, now: dt.datetime | None = None) -> Iterator[list[Sequence[Any]]]:
    """Batches of the customers a rule tree matches, as CSV rows of HEADER, by primary key."""
    query = (
        select(*csv_columns())
        .where(where(node, now or utcnow()))
        .order_by(customers_table().c.id)
    )
    return streamed_rows(query, customer_csv_row)


def rule_rows(rule: str) -> Iterator[list[Sequence[Any]]]:
    """Batches of a rule's audience (RuleError before anything is read)."""
    return member_rows(parse_rule(rule))
