"""Rules over what customers did — periods, campaigns, the latest message — agree with the
oracle on every backend, round-trip, and fail with messages that say where and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, Table

from xeno.dsl import RuleError, compile_rule, from_json, parse, registry, render, to_json
from xeno.dsl.tree import Comparison, Number, Period, Word

from . import oracle
from .conftest import count

ACTIVITY_RULES = [
    "spend IN LAST 90 DAYS > 5000",
    "spend IN LAST 90 DAYS >= 0.30",
    "spend IN LAST 30 DAYS = 0",
    "spend IN LAST 30 DAYS < 2599.5",
    "spend IN LAST 30 DAYS <= 0.3",
    "spend IN LAST 2 WEEKS != 0",
    "spend IN LAST 1 MONTH BETWEEN 0.1 AND 5000",
    "spend IN LAST 3 MONTHS IN (0, 0.3, 5000)",
    "spend IN LAST 3 MONTHS NOT IN (0)",
    "spend IN LAST 90 DAYS > 5000.001",
    "spend IN LAST 90 DAYS IS NOT EMPTY",
    "visits IN LAST 30 DAYS >= 2",
    "visits IN LAST 30 DAYS = 0",
    "visits IN LAST 30 DAYS < 1",
    "visits IN LAST 90 DAYS = 2",
    "visits IN LAST 2 WEEKS <= 0.5",
    "NOT visits IN LAST 30 DAYS = 0",
    "visits IN LAST 90 DAYS < 2.5",
    "visits IN LAST 1 WEEK > 0",
    "visits IN LAST 6 MONTHS BETWEEN 2 AND 4",
    "NOT visits IN LAST 30 DAYS >= 1",
    "campaign 1 IS SENT", "campaign 1 IS FAILED", "campaign 1 IS PENDING",
    "campaign 1 IS HOLDOUT", "campaign 1 IS ANY", "campaign 1 IS CONVERTED",
    "campaign 2 IS CONVERTED", "campaign 3 IS CONVERTED",
    "campaign 1 IS SENT AND NOT campaign 1 IS CONVERTED",
    "campaign 1 IS HOLDOUT AND campaign 1 IS CONVERTED",
    "campaign 2 is any or campaign 3 IS sent",
    "NOT campaign 2 IS ANY",
    "last_message IS EMPTY", "last_message IS NOT EMPTY",
    "last_message > 5 days ago", "last_message <= 2026-11-05",
    "NOT last_message >= 18 days ago",
    "campaign 1 IS CONVERTED AND spend IN LAST 90 DAYS > 5000 OR last_message = today",
]


@pytest.mark.parametrize("rule", ACTIVITY_RULES)
def test_activity_rule_counts_match_oracle_on_backend(
    rule: str, engine: Engine, table: Table, rows: list[dict[str, Any]], now: dt.datetime,
    activity: oracle.Activity,
) -> None:
    tree = parse(rule)
    expected = oracle.count(tree, rows, now, activity)
    assert count(engine, table, compile_rule(tree, table, now)) == expected


@pytest.mark.parametrize("rule", [
    "spend IN LAST 90 DAYS > 5000", "visits IN LAST 30 DAYS >= 2", "campaign 1 IS CONVERTED",
    "campaign 2 IS CONVERTED", "campaign 1 IS HOLDOUT AND campaign 1 IS CONVERTED",
    "last_message > 5 days ago", "spend IN LAST 30 DAYS = 0",
])
def test_activity_rule_selects_some_but_not_all(
    rule: str, rows: list[dict[str, Any]], now: dt.datetime, activity: oracle.Activity
) -> None:
    assert 0 < oracle.count(parse(rule), rows, now, activity) < len(rows)


def test_last_touch_leaves_campaign_one_orders_that_campaign_two_took(
    activity: oracle.Activity,
) -> None:
    """The data really exercises last touch: some recipients of 1 converted only for 2."""
    one = {who for who, _ in activity.claims[1]["recipients"]}
    two = {who for who, _ in activity.claims[2]["recipients"]}
    touched_by_both = {r["customer_id"] for r in activity.log
                       if r["campaign_id"] == 1 and r["status"] == "SENT"} & {
        r["customer_id"] for r in activity.log if r["campaign_id"] == 2 and r["status"] == "SENT"}
    assert one and two and (two & touched_by_both) - one


@pytest.mark.parametrize(("rule", "tree"), [
    ("campaign 12 IS SENT", Comparison("campaign", "is", Word("SENT"), param=Number(12))),
    ("spend in last 90 days > 5000",
     Comparison("spend", ">", Number(5000), param=Period(90, "days"))),
    ("visits IN LAST 1 week >= 2", Comparison("visits", ">=", Number(2), param=Period(1, "weeks"))),
])
def test_parameterised_rule_parses_to_a_comparison_with_its_parameter(
    rule: str, tree: Comparison
) -> None:
    assert parse(rule) == tree


@pytest.mark.parametrize("rule", ACTIVITY_RULES)
def test_activity_rule_round_trips_through_text_and_json(rule: str) -> None:
    tree = parse(rule)
    assert parse(render(tree)) == tree
    assert from_json(to_json(tree)) == tree
    assert render(parse(render(tree))) == render(tree)


def test_render_spells_parameters_canonically() -> None:
    assert render(parse("spend in last 1 days > 5 and campaign 7 is converted")) == (
        "spend IN LAST 1 DAY > 5 AND campaign 7 IS CONVERTED")
    assert to_json(parse("campaign 7 IS any")) == {
        "type": "condition", "field": "campaign", "op": "is",
        "param": {"kind": "number", "value": "7"}, "value": {"kind": "word", "value": "ANY"}}
    assert to_json(parse("visits IN LAST 2 MONTHS = 0"))["param"] == {
        "kind": "period", "amount": 2, "unit": "months"}


def _error(rule: str, **kwargs: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse(rule, **kwargs)
    return caught.value


@pytest.mark.parametrize(("rule", "message", "line", "column"), [
    ("campaign 12 IS SENDT", "campaign IS takes SENT, FAILED, PENDING, HOLDOUT, CONVERTED, "
     "ANY, not SENDT — did you mean 'SENT'?", 1, 16),
    ("campaign IS SENT", "campaign needs a number after it", 1, 1),
    ("campaign 1.5 IS SENT", "campaign takes a whole number from 1, not 1.5", 1, 10),
    ("campaign 0 IS SENT", "campaign takes a whole number from 1, not 0", 1, 10),
    ("campaign 3 > 5", "campaign takes IS SENT|FAILED|PENDING|HOLDOUT|CONVERTED|ANY, not >",
     1, 12),
    ("campaign IN LAST 3 DAYS IS SENT",
     "campaign takes a number, not a period (IN LAST N DAYS|WEEKS|MONTHS)", 1, 10),
    ("spend IN LAST 2 YEARS > 5", "a period is counted in days, weeks or months, not years",
     1, 7),
    ("spend IN LAST 0 DAYS > 5", "IN LAST 0 DAYS is out of range", 1, 7),
    ("spend 12 > 5", "spend takes a period (IN LAST N DAYS|WEEKS|MONTHS), not a number", 1, 7),
    ("signup 12 > 5", "signup takes nothing between its name and the operator", 1, 8),
    ("spend IN LAST 90 > 5", "unexpected '>' after '90'; expected days, weeks, months or years",
     1, 18),
    ("city IN LAST 3 DAYS = 'x'", "city takes nothing between its name and the operator", 1, 6),
    ("city IS SENT", "city does not take IS followed by a word", 1, 6),
    ("spend IN LAST 9 DAYS CONTAINS 'x'", "CONTAINS needs a text field; spend is a number",
     1, 22),
    ("last_mesage > 3 days ago", "unknown field 'last_mesage' — did you mean 'last_message'?",
     1, 1),
    ("visits IN LAST 3.5 DAYS > 1", "'IN LAST 3.5 DAYS' needs a whole number of days", 1, 16),
])
def test_activity_error_names_problem_and_position(
    rule: str, message: str, line: int, column: int
) -> None:
    error = _error(rule)
    assert (error.message, error.line, error.column) == (message, line, column)


def test_unknown_campaign_is_named_at_its_number() -> None:
    asked: list[tuple[str, set[int]]] = []

    def exists(kind: str, numbers: set[int]) -> set[int]:
        asked.append((kind, numbers))
        return numbers & {1, 2}

    error = _error("campaign 1 IS SENT OR\n  campaign 99 IS CONVERTED", exists=exists)
    assert (error.message, error.line, error.column) == ("unknown campaign 99", 2, 12)
    assert error.to_dict()["error"] == "invalid_rule"
    assert asked == [("campaign", {1, 99})]  # one look-up for the whole rule
    assert parse("campaign 2 IS ANY", exists=exists) == parse("campaign 2 IS ANY")


def test_unknown_campaign_in_builder_json_is_refused() -> None:
    with pytest.raises(RuleError, match="unknown campaign 5"):
        from_json(to_json(parse("campaign 5 IS SENT")), exists=lambda kind, ids: set())


def test_fields_describe_their_parameter_for_the_builder() -> None:
    spend = registry.get("spend").describe()
    assert spend["parameter"] == {"kind": "period", "required": False, "label": "in the last",
                                  "refers_to": None, "units": ["days", "weeks", "months"]}
    campaign = registry.get("campaign").describe()
    assert campaign["operators"] == ["is"]
    assert campaign["choices"] == ["SENT", "FAILED", "PENDING", "HOLDOUT", "CONVERTED", "ANY"]
    assert campaign["parameter"]["kind"] == "number" and campaign["parameter"]["required"]
    assert registry.get("last_message").describe()["type"] == "datetime"
    assert "parameter" not in registry.get("city").describe()
