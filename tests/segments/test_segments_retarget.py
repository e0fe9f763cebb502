"""Retargeting through the API: campaign conditions, periods and last_message in previews,
explain and the builder's render; an unknown campaign is a 400 naming it."""

from __future__ import annotations

import pytest

from tests.helpers import customer, order


@pytest.fixture(autouse=True)
def _no_delivery(app):
    """The log rows stay as the snapshot wrote them; nothing is dispatched."""
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def shop(api):
    """C1 spent 6000 lately and 9000 long ago; C2 spent 100 lately; C3 never ordered."""
    api.post_customers([customer(1), customer(2), customer(3)])
    api.post_orders([order(1, 1, "6000.00", days_ago=10), order(2, 1, "9000.00", days_ago=200),
                     order(3, 2, "100.00", days_ago=5), order(4, 2, "50.00", days_ago=40)])


def _ids(body):
    return sorted(c["id"] for c in body["sample"])


@pytest.mark.parametrize(("rule", "expected"), [
    ("spend IN LAST 90 DAYS > 5000", ["C1"]),
    ("spend > 5000 AND NOT spend IN LAST 90 DAYS > 5000", []),
    ("spend IN LAST 30 DAYS < 1000", ["C2", "C3"]),
    ("visits IN LAST 30 DAYS >= 1", ["C1", "C2"]),
    ("visits IN LAST 2 MONTHS = 2", ["C2"]),
    ("visits IN LAST 1 WEEK = 0", ["C1", "C3"]),
])
def test_period_rules_preview_the_right_customers(api, shop, rule, expected):
    response = api.post("/segments/preview", {"rule": rule})
    assert response.status_code == 200, response.json
    assert (response.json["count"], _ids(response.json)) == (len(expected), expected)


def test_campaign_conditions_select_by_log_status(app, api, shop):
    created = api.post("/campaigns", {"rule": "visits >= 1", "message": "Hi"}).json["id"]
    pending = api.post("/segments/preview", {"rule": f"campaign {created} IS PENDING"}).json
    assert _ids(pending) == ["C1", "C2"]
    assert api.post("/segments/preview",
                    {"rule": f"campaign {created} IS SENT"}).json["count"] == 0
    outside = api.post("/segments/preview", {"rule": f"NOT campaign {created} IS ANY"}).json
    assert _ids(outside) == ["C3"]
    assert api.post("/segments/preview",
                    {"rule": "last_message IS EMPTY"}).json["count"] == 3


def test_unknown_campaign_is_a_400_naming_it_at_its_position(api, shop):
    response = api.post("/segments/preview", {"rule": "visits > 0 AND\ncampaign 4242 IS SENT"})
    assert response.status_code == 400
    body = response.json
    assert (body["error"], body["message"], body["line"], body["column"]) == (
        "invalid_rule", "unknown campaign 4242", 2, 10)
    saved = api.post("/segments", {"name": "x", "rule": "campaign 4242 IS CONVERTED"})
    assert saved.status_code == 400 and saved.json["message"] == "unknown campaign 4242"
    tree = {"type": "condition", "field": "campaign", "op": "is",
            "param": {"kind": "number", "value": "4242"}, "value": {"kind": "word", "value": "ANY"}}
    rendered = api.post("/segments/render", {"tree": tree})
    assert rendered.status_code == 400 and rendered.json["message"] == "unknown campaign 4242"


def test_render_turns_the_builders_parameters_into_text(api, shop):
    created = api.post("/campaigns", {"rule": "visits >= 1", "message": "Hi"}).json["id"]
    tree = {"type": "and", "children": [
        {"type": "condition", "field": "spend", "op": ">",
         "param": {"kind": "period", "amount": 90, "unit": "days"},
         "value": {"kind": "number", "value": "5000"}},
        {"type": "not", "child": {"type": "condition", "field": "campaign", "op": "is",
                                  "param": {"kind": "number", "value": str(created)},
                                  "value": {"kind": "word", "value": "converted"}}},
    ]}
    response = api.post("/segments/render", {"tree": tree})
    assert response.status_code == 200, response.json
    assert response.json["rule"] == (
        f"spend IN LAST 90 DAYS > 5000 AND NOT campaign {created} IS CONVERTED")


def test_explain_counts_each_new_clause_and_resolves_the_period(api, shop):
    body = api.post("/segments/explain", {
        "rule": "spend IN LAST 90 DAYS > 5000 OR visits IN LAST 30 DAYS >= 1",
        "customer_id": "C2"}).json
    first, second = body["children"]
    assert (first["own_count"], second["own_count"], body["count"]) == (1, 2, 2)
    assert first["rule"] == "spend IN LAST 90 DAYS > 5000"
    assert first["resolved"].startswith("orders at or after ")
    assert (first["matches"], second["matches"], body["matches"]) == (False, True, True)
