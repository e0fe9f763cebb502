"""Explain: per-node counts agree with previews, running counts behave, traces agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from tests import helpers as factories
from xeno.db.clock import utcnow
from xeno.demo import generate
from xeno.dsl import parse
from xeno.extensions import db
from xeno.segments import service as segments
from xeno.segments.explain import explain

CUSTOMERS, ORDERS = 300, 1200
RULES = [
    "spend > 10000 AND visits <= 3",
    "inactive_days > 90",
    "last_visit < 3 months ago",
    '(spend >= 5000 OR visits > 10) AND NOT city IN ("Pune", "Nagpur")',
    'city = "Mumbai" AND email ENDS WITH "@gmail.com" AND visits >= 1',
    "spend BETWEEN 1000 AND 5000 OR avg_order > 2000 OR visits IN (2, 4, 6)",
    "signup >= 2025-06-01 AND last_visit IS EMPTY",
    'name CONTAINS "kumar" OR (visits > 1 AND NOT (city = "Delhi" OR spend < 500))',
    "last_visit BETWEEN 2025-01-01 AND today AND NOT inactive_days <= 30 AND spend > 100",
    'NOT NOT visits = 0 OR phone STARTS WITH "+919"',
]


@pytest.fixture
def crowd(api):
    """Generated customers and orders: some without orders, a city, an email or a phone."""
    people = [{k: v for k, v in c.items() if v != ""} for c in generate.customers(CUSTOMERS)]
    assert api.post_customers(people).status_code == 202
    orders = list(generate.orders(ORDERS, CUSTOMERS))
    for start in range(0, ORDERS, 1000):
        assert api.post_orders(orders[start : start + 1000]).status_code == 202
    return api


def nodes(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an annotated tree, parents first."""
    yield tree
    for child in tree.get("children", [tree["child"]] if "child" in tree else []):
        yield from nodes(child)


def groups(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (n for n in nodes(tree) if n["type"] in ("and", "or"))


@pytest.mark.parametrize("rule", RULES)
def test_explain_own_count_equals_preview_of_each_node(crowd, rule):
    body = crowd.post("/segments/explain", {"rule": rule}).json
    assert body["count"] == crowd.post("/segments/preview", {"rule": rule}).json["count"]
    for node in nodes(body["tree"]):
        preview = crowd.post("/segments/preview", {"rule": node["rule"]}).json
        assert node["own_count"] == preview["count"], node["rule"]


def test_the_answer_is_the_root_node_itself(crowd):
    """SPEC: explain answers "the rule tree", annotated; `now` and `count` ride along."""
    body = crowd.post("/segments/explain", {"rule": RULES[0], "customer_id": "C0000001"}).json
    root = {k: v for k, v in body.items() if k not in ("now", "count", "tree", "customer")}
    assert root == body["tree"]
    assert root["type"] in ("and", "or", "not", "condition")
    assert {"own_count", "left_count", "rule", "matches"} <= set(root)
    assert body["count"] == root["left_count"]


@pytest.mark.parametrize("rule", RULES)
def test_explain_left_count_runs_through_groups(crowd, rule):
    tree = crowd.post("/segments/explain", {"rule": rule}).json["tree"]
    assert tree["left_count"] == tree["own_count"]
    for group in groups(tree):
        lefts = [c["left_count"] for c in group["children"]]
        assert lefts[0] == group["children"][0]["own_count"]
        assert lefts[-1] == group["own_count"]
        pairs = list(zip(lefts, lefts[1:], strict=False))
        if group["type"] == "and":
            assert all(b <= a for a, b in pairs), lefts
        else:
            assert all(b >= a for a, b in pairs), lefts


@pytest.mark.parametrize("rule", RULES)
def test_explain_left_count_is_running_intersection_or_union(crowd, rule):
    tree = crowd.post("/segments/explain", {"rule": rule}).json["tree"]
    for group in groups(tree):
        joiner = " AND " if group["type"] == "and" else " OR "
        for i, child in enumerate(group["children"]):
            prefix = joiner.join(f"({c['rule']})" for c in group["children"][: i + 1])
            count = crowd.post("/segments/preview", {"rule": prefix}).json["count"]
            assert child["left_count"] == count, prefix


def test_explain_and_chain_shrinks_to_rule_count(crowd):
    rule = "signup IS NOT EMPTY AND visits >= 1 AND spend > 2000 AND last_visit > 1 year ago"
    body = crowd.post("/segments/explain", {"rule": rule}).json
    lefts = [c["left_count"] for c in body["tree"]["children"]]
    assert lefts[0] == CUSTOMERS
    assert lefts == sorted(lefts, reverse=True)
    assert lefts[-1] == body["count"] > 0


@pytest.mark.parametrize(
    ("rule", "resolved"),
    [
        ("last_visit < 3 months ago", "before 2026-08-25 12:00 UTC"),
        ("signup >= 2024-01-01", "from 2024-01-01 00:00 UTC"),
        ("signup = 2024-01-01", "from 2024-01-01 00:00 UTC to before 2024-01-02 00:00 UTC"),
        ("last_visit <= today", "before 2026-11-26 00:00 UTC"),
        ("last_visit > 2 weeks ago", "after 2026-11-11 12:00 UTC"),
        (
            "signup BETWEEN 2024-01-01 AND 2024-01-31",
            "from 2024-01-01 00:00 UTC and before 2024-02-01 00:00 UTC",
        ),
        (
            "signup IN (2024-01-01, 1 day ago)",
            "from 2024-01-01 00:00 UTC to before 2024-01-02 00:00 UTC or at 2026-11-24 12:00 UTC",
        ),
    ],
)
def test_explain_resolves_dates(app, rule, resolved):
    now = dt.datetime(2026, 11, 25, 12, 0)
    with app.app_context():
        tree = explain(rule, now=now)["tree"]
    assert tree["resolved"] == resolved


def test_explain_numbers_have_no_resolved(api):
    tree = api.post("/segments/explain", {"rule": "spend > 1 AND city = 'Pune'"}).json["tree"]
    assert all("resolved" not in n for n in nodes(tree))


def test_explain_api_answers_now_rule_and_tree(api):
    body = api.post("/segments/explain", {"rule": "visits>1 and last_visit<3 months ago"}).json
    assert body["rule"] == "visits > 1 AND last_visit < 3 months ago"
    assert body["now"].endswith("Z") and body["count"] == 0
    last = body["tree"]["children"][1]
    assert last["type"] == "condition" and last["resolved"].startswith("before ")
    assert {"field", "op", "value", "own_count", "left_count", "rule"} <= set(last)
    assert "customer" not in body and "matches" not in last


@pytest.mark.parametrize("rule", RULES)
def test_explain_trace_agrees_with_every_nodes_audience(app, crowd, rule):
    now = utcnow()
    with app.app_context():
        trees = {
            c: explain(rule, generate.customer_id(c), now=now) for c in range(1, CUSTOMERS + 1)
        }
        first = trees[1]["tree"]
        audiences = {
            node["rule"]: {c["id"] for c in segments.sample(parse(node["rule"]), now, 500)}
            for node in nodes(first)
        }
    for number, body in trees.items():
        who = generate.customer_id(number)
        assert body["customer"]["id"] == who
        for node in nodes(body["tree"]):
            assert node["matches"] == (who in audiences[node["rule"]]), (who, node["rule"])


def test_explain_trace_through_api(crowd):
    audience = crowd.post("/segments/preview", {"rule": "visits >= 3"}).json["sample"]
    inside = audience[0]["id"]
    body = crowd.post(
        "/segments/explain", {"rule": "visits >= 3 OR city = 'Nowhere'", "customer_id": inside}
    ).json
    assert body["customer"]["id"] == inside
    assert body["tree"]["matches"] is True
    assert [c["matches"] for c in body["tree"]["children"]] == [True, False]


def test_explain_unknown_customer_is_404(api):
    api.post_customers([factories.customer(1)])
    response = api.post("/segments/explain", {"rule": "visits > 1", "customer_id": "C404"})
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"rule": "visits >"}, 400),
        ({"rule": 1}, 422),
        ({"rule": "visits > 1", "customer_id": 7}, 422),
    ],
)
def test_explain_bad_body(api, body, status):
    assert api.post("/segments/explain", body).status_code == status


def test_explain_runs_at_most_one_count_per_node(app, crowd):
    rule = RULES[7]
    seen: list[str] = []

    def log(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", log)
        try:
            body = explain(rule)
            with_customer = len(seen)
            explain(rule, generate.customer_id(1))
        finally:
            event.remove(db.engine, "before_cursor_execute", log)
    assert with_customer <= len(list(nodes(body["tree"])))
    assert len(seen) - with_customer == with_customer + 1
