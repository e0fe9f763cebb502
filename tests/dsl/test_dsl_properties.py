"""Properties over random trees: SQL agrees with the oracle; text and JSON round-trip."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xeno.dsl import compile_rule, from_json, parse, render, to_json
from xeno.dsl.tree import Comparison, DateTime, Number, String, make_and

from . import oracle
from .conftest import World, count
from .strategies import comparisons, trees

FIXTURES = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@FIXTURES
@given(tree=trees)
def test_random_rule_agrees_with_oracle_on_backend(tree: Any, world: World) -> None:
    where = compile_rule(tree, world.table, world.now)
    assert count(world.engine, world.table, where) == oracle.count(tree, world.rows, world.now)


@settings(max_examples=300, deadline=None)
@given(tree=trees)
def test_render_then_parse_gives_the_same_tree(tree: Any) -> None:
    assert parse(render(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(tree=trees)
def test_json_round_trip_gives_the_same_tree(tree: Any) -> None:
    assert from_json(to_json(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=30))
def test_any_string_value_survives_render(text: str) -> None:
    tree = Comparison("city", "contains", String(text))
    assert parse(render(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(number=st.decimals(allow_nan=False, allow_infinity=False, places=4,
                          min_value=-10**12, max_value=10**12))
def test_any_decimal_survives_render_and_json(number: Any) -> None:
    tree = make_and([Comparison("spend", ">", Number(number)),
                     Comparison("last_visit", "<", DateTime(dt.datetime(2024, 1, 1, 1, 2, 3, 4)))])
    assert parse(render(tree)) == tree
    assert from_json(to_json(tree)) == tree


@settings(max_examples=100, deadline=None)
@given(node=comparisons())
def test_render_is_stable(node: Any) -> None:
    assert render(parse(render(node))) == render(node)
