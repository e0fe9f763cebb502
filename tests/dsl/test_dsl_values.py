"""Time values resolve to the instants SPEC describes; JSON has the builder's shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xeno.dsl import describe, from_json, parse, resolve, to_json
from xeno.dsl.tree import Date, Relative, Today
from xeno.dsl.values import snap

NOW = dt.datetime(2026, 11, 25, 0, 0, 0)


@pytest.mark.parametrize(("now", "value", "instant"), [
    (dt.datetime(2026, 3, 31, 10, 0), Relative(1, "months"), dt.datetime(2026, 2, 28, 10, 0)),
    (dt.datetime(2024, 3, 31, 10, 0), Relative(1, "months"), dt.datetime(2024, 2, 29, 10, 0)),
    (dt.datetime(2026, 1, 15, 8, 30), Relative(2, "months"), dt.datetime(2025, 11, 15, 8, 30)),
    (dt.datetime(2024, 2, 29, 0, 0), Relative(1, "years"), dt.datetime(2023, 2, 28, 0, 0)),
    (dt.datetime(2026, 1, 1, 0, 0), Relative(2, "weeks"), dt.datetime(2025, 12, 18, 0, 0)),
    (dt.datetime(2026, 1, 1, 0, 0), Relative(0, "days"), dt.datetime(2026, 1, 1, 0, 0)),
])
def test_relative_moment_resolves_to_instant(now, value, instant) -> None:
    window = resolve(value, now)
    assert (window.start, window.is_day) == (instant, False)


def test_date_and_today_resolve_to_whole_days() -> None:
    day = resolve(Date(dt.date(2024, 1, 1)), NOW)
    assert (day.start, day.end) == (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))
    today = resolve(Today(), dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC))
    assert (today.start, today.end) == (dt.datetime(2026, 11, 25), dt.datetime(2026, 11, 26))


def test_describe_says_which_instants_match() -> None:
    assert describe("<", Relative(3, "months"), NOW) == "before 2026-08-25 00:00 UTC"
    assert describe(">", Date(dt.date(2024, 1, 1)), NOW) == "from 2024-01-02 00:00 UTC"
    assert describe("<=", Date(dt.date(2024, 1, 1)), NOW) == "before 2024-01-02 00:00 UTC"


@pytest.mark.parametrize(("op", "number", "scale", "expected"), [
    (">", "9999.999", 2, (">", Decimal("9999.99"))),
    (">=", "9999.999", 2, (">=", Decimal("10000.00"))),
    ("<", "2.5", 0, ("<", Decimal("3"))),
    ("<=", "2.5", 0, ("<=", Decimal("2"))),
    ("=", "2.5", 0, False), ("!=", "2.5", 0, True),
    (">", "1e40", 2, False), ("<", "1e40", 2, True), (">", "-1e40", 2, True),
])
def test_snap_keeps_comparisons_exact(op, number, scale, expected) -> None:
    assert snap(op, Decimal(number), scale, Decimal(10) ** 15) == expected


def test_json_has_the_builder_shape() -> None:
    tree = parse('(spend > 10000 OR visits IN (2, 4)) AND NOT city IS EMPTY AND '
                 'last_visit BETWEEN 2024-01-01 AND 3 months ago AND signup < 2024-01-01T10:00:00Z'
                 ' AND signup >= today AND name CONTAINS "x"')
    assert to_json(tree) == {"type": "and", "children": [
        {"type": "or", "children": [
            {"type": "condition", "field": "spend", "op": ">",
             "value": {"kind": "number", "value": "10000"}},
            {"type": "condition", "field": "visits", "op": "in",
             "value": [{"kind": "number", "value": "2"}, {"kind": "number", "value": "4"}]}]},
        {"type": "not", "child": {"type": "condition", "field": "city", "op": "is empty"}},
        {"type": "condition", "field": "last_visit", "op": "between",
         "value": [{"kind": "date", "value": "2024-01-01"},
                   {"kind": "relative", "amount": 3, "unit": "months"}]},
        {"type": "condition", "field": "signup", "op": "<",
         "value": {"kind": "datetime", "value": "2024-01-01T10:00:00Z"}},
        {"type": "condition", "field": "signup", "op": ">=", "value": {"kind": "today"}},
        {"type": "condition", "field": "name", "op": "contains",
         "value": {"kind": "string", "value": "x"}},
    ]}
    assert from_json(to_json(tree)) == tree


def test_json_accepts_friendly_spellings() -> None:
    tree = from_json({"type": "and", "children": [
        {"type": "condition", "field": "Spend", "op": "<>", "value": {"kind": "number",
                                                                     "value": 5}},
    ]})
    assert tree == parse("spend != 5")
