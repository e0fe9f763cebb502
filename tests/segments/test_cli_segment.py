"""`xeno segment preview | explain | fields` through the CLI runner."""

from __future__ import annotations

import json

import pytest

from tests import helpers as factories
from xeno.dsl import Field, registry


@pytest.fixture
def shop(api):
    """C1..C5; C<n> has n orders of 1000; C5 lives in Pune, the others in Mumbai."""
    api.post_customers(
        [factories.customer(n, city="Pune" if n == 5 else "Mumbai") for n in range(1, 6)]
    )
    orders = []
    for n in range(1, 6):
        orders += [factories.order(n * 100 + k, n, "1000.00", days_ago=n * 30) for k in range(n)]
    api.post_orders(orders)
    return api


def test_preview_prints_count_and_sample_table(runner, shop):
    result = runner.invoke(args=["segment", "preview", "visits >= 3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "3 customer(s) match: visits >= 3"
    assert lines[1].split()[:4] == ["id", "name", "city", "spend"]
    assert [line.split()[0] for line in lines[3:]] == ["C3", "C4", "C5"]
    assert "4,000.00" in result.output


def test_preview_sample_option_limits_rows(runner, shop):
    result = runner.invoke(args=["segment", "preview", "visits >= 1", "--sample", "2"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("5 customer(s)")
    assert len(result.output.splitlines()) == 3 + 2


def test_preview_json_is_the_api_body(runner, shop):
    result = runner.invoke(args=["segment", "preview", 'city = "pune"', "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    api_body = shop.post("/segments/preview", {"rule": 'city = "pune"'}).json
    assert body == api_body
    assert body["count"] == 1 and body["sample"][0]["id"] == "C5"


def test_preview_sql_shows_parameters_apart(runner, shop):
    rule = 'spend > 2500 AND city = "Mumbai\'; DROP TABLE customers; --"'
    result = runner.invoke(args=["segment", "preview", rule, "--sql"])
    assert result.exit_code == 0, result.output
    printed_sql = result.output.split("\n\n")[0].splitlines()
    sql = [line for line in printed_sql if not line.startswith("--")]
    assert any("SELECT count(*)" in line for line in sql)
    assert not any("DROP TABLE" in line or "2500" in line for line in sql)
    params = [line for line in result.output.splitlines() if line.startswith("--   ")]
    assert any("Decimal('2500.00')" in p for p in params)
    assert any("DROP TABLE customers" in p for p in params)
    assert "0 customer(s) match" in result.output


@pytest.mark.parametrize(
    ("rule", "message"),
    [("spnd > 3", "did you mean 'spend'"), ("visits >", "value"), ("", "the rule is empty")],
)
def test_preview_bad_rule_exits_2_with_caret(runner, app, rule, message):
    result = runner.invoke(args=["segment", "preview", rule])
    assert result.exit_code == 2
    assert message in result.output
    if rule:
        assert "^" in result.output and rule in result.output


def test_explain_prints_tree_with_counts(runner, shop):
    rule = "visits >= 2 AND last_visit < 3 months ago"
    result = runner.invoke(args=["segment", "explain", rule])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2 customer(s) match: " + rule)
    root, first, second = lines[2:5]
    assert root.split() == ["2", "2", "AND"]
    assert first.split() == ["4", "4", "visits", ">=", "2"]
    assert second.split()[:2] == ["2", "2"] and "[before " in second and "UTC]" in second
    assert second.index("last_visit") > root.index("AND")


def test_explain_customer_marks_each_clause(runner, shop):
    rule = 'visits >= 2 AND NOT city = "Pune"'
    result = runner.invoke(args=["segment", "explain", rule, "--customer", "C5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "customer C5 (Customer 5) is OUT" in lines[1]
    marks = [line[:1] for line in lines[3:]]
    assert marks == ["✗", "✓", "✗", "✓"]


def test_explain_unknown_customer_is_bad_parameter(runner, shop):
    result = runner.invoke(args=["segment", "explain", "visits > 1", "--customer", "NOPE"])
    assert result.exit_code == 2
    assert "no customer 'NOPE'" in result.output


def test_explain_bad_rule_exits_2(runner, app):
    result = runner.invoke(args=["segment", "explain", "visits >> 1"])
    assert result.exit_code == 2 and "^" in result.output


def test_fields_lists_types_operators_and_plugins(runner, app):
    registry.register(Field("tier", "integer", lambda t: t.c.visits, help="Loyalty tier."))
    try:
        result = runner.invoke(args=["segment", "fields"])
    finally:
        registry.unregister("tier")
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    assert {"spend", "visits", "city", "last_visit", "tier"} <= set(rows)
    assert "CONTAINS" in rows["city"] and "BETWEEN" in rows["spend"]
    assert rows["tier"].split()[1] == "integer" and "Loyalty tier." in rows["tier"]
