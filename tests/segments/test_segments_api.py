"""Segments API: preview, saved segments, errors, fields, statements per preview."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from tests import helpers as factories
from xeno.dsl import Field, registry
from xeno.extensions import db
from xeno.segments import service as segments

CUSTOMER_KEYS = {
    "unsubscribed_at",
    "id",
    "name",
    "email",
    "phone",
    "city",
    "spend",
    "visits",
    "avg_order",
    "last_visit",
    "signup",
}


@pytest.fixture
def shop(api):
    """C1..C10 in Pune (odd) or Mumbai (even); C<n> has n orders of 1000 (spend n×1000)."""
    api.post_customers(
        [factories.customer(n, city="Pune" if n % 2 else "Mumbai") for n in range(1, 11)]
        + [factories.customer(11, city="")]
    )
    orders = []
    for n in range(1, 11):
        orders += [factories.order(n * 100 + k, n, "1000.00", days_ago=n * 10) for k in range(n)]
    api.post_orders(orders)
    return api


def test_preview_answers_count_sample_rule_and_tree(shop):
    response = shop.post("/segments/preview", {"rule": "spend > 5000 and visits <= 8"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["count"] == 3
    assert sorted(c["id"] for c in body["sample"]) == ["C6", "C7", "C8"]
    assert body["rule"] == "spend > 5000 AND visits <= 8"
    assert body["tree"] == {
        "type": "and",
        "children": [
            {
                "type": "condition",
                "field": "spend",
                "op": ">",
                "value": {"kind": "number", "value": "5000"},
            },
            {
                "type": "condition",
                "field": "visits",
                "op": "<=",
                "value": {"kind": "number", "value": "8"},
            },
        ],
    }
    first = body["sample"][0]
    assert set(first) == CUSTOMER_KEYS
    assert (first["spend"], first["visits"], first["avg_order"]) == (6000.0, 6, 1000.0)
    assert first["last_visit"].endswith("Z") and first["city"] == "Mumbai"


def test_preview_sample_holds_at_most_ten(shop):
    body = shop.post("/segments/preview", {"rule": "signup IS NOT EMPTY"}).json
    assert body["count"] == 11
    assert len(body["sample"]) == 10


def test_preview_empty_audience_has_no_sample(shop):
    body = shop.post("/segments/preview", {"rule": "spend > 1000000"}).json
    assert (body["count"], body["sample"]) == (0, [])


def test_preview_customer_without_city_shows_null(shop):
    body = shop.post("/segments/preview", {"rule": "city IS EMPTY"}).json
    assert body["count"] == 1
    assert body["sample"][0]["city"] is None and body["sample"][0]["visits"] == 0


@pytest.mark.parametrize(
    ("rule", "column"),
    [("spnd > 3", 1), ("spend > ", 8), ("visits <= 3 AND", 16), ('spend CONTAINS "x"', 7)],
)
def test_preview_bad_rule_is_400_with_position(api, rule, column):
    response = api.post("/segments/preview", {"rule": rule})
    assert response.status_code == 400
    body = response.json
    assert body["error"] == "invalid_rule"
    assert body["line"] == 1 and body["column"] == column
    assert body["message"] and "expected" in body and "hint" in body


def test_preview_empty_rule_is_400(api):
    response = api.post("/segments/preview", {"rule": "   "})
    assert response.status_code == 400
    assert response.json["message"] == "the rule is empty"


@pytest.mark.parametrize("body", [{"rule": 5}, {"rule": None}, {}, {"rule": ["spend > 1"]}, []])
def test_preview_rule_not_a_string_is_422(api, body):
    response = api.post("/segments/preview", body)
    assert response.status_code == 422
    assert response.json["error"] == "validation_failed"


def test_preview_without_credentials_is_401(client):
    response = client.post("/api/v1/segments/preview", json={"rule": "spend > 1"})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_preview_not_json_is_415(api):
    response = api.client.post("/api/v1/segments/preview", data="rule=spend", headers=api.headers)
    assert response.status_code == 415


def test_segment_create_counts_and_normalises(shop):
    response = shop.post("/segments", {"name": " Big spenders ", "rule": "spend>=8000"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["name"] == "Big spenders"
    assert body["rule"] == "spend >= 8000"
    assert body["size"] == 3
    assert body["created_by"].startswith("token:")
    assert body["created_at"].endswith("Z") and isinstance(body["id"], int)
    assert shop.get(f"/segments/{body['id']}").json == body


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "x", "rule": "spnd > 1"}, 400),
        ({"name": "", "rule": "spend > 1"}, 422),
        ({"name": "x"}, 422),
        ({"name": "x", "rule": 3}, 422),
        ({"name": "x", "rule": "spend > 1", "colour": "red"}, 422),
    ],
)
def test_segment_create_refuses_bad_body(api, body, status):
    response = api.post("/segments", body)
    assert response.status_code == status
    assert api.get("/segments").json["total"] == 0


def test_segment_update_recounts(shop):
    created = shop.post("/segments", {"name": "A", "rule": "visits >= 9"}).json
    assert created["size"] == 2
    response = shop.client.put(
        f"/api/v1/segments/{created['id']}", json={"rule": "visits >= 5"}, headers=shop.headers
    )
    assert response.status_code == 200
    assert (response.json["name"], response.json["size"]) == ("A", 6)
    renamed = shop.client.put(
        f"/api/v1/segments/{created['id']}", json={"name": "B"}, headers=shop.headers
    ).json
    assert (renamed["name"], renamed["rule"], renamed["size"]) == ("B", "visits >= 5", 6)


def test_segment_update_size_follows_new_orders(shop):
    created = shop.post("/segments", {"name": "A", "rule": "visits >= 10"}).json
    shop.post_orders([factories.order(9000 + k, 9) for k in range(3)])
    updated = shop.client.put(
        f"/api/v1/segments/{created['id']}", json={"name": "A"}, headers=shop.headers
    ).json
    assert (created["size"], updated["size"]) == (1, 2)


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"rule": None, "name": None}])
def test_segment_update_needs_name_or_rule(api, body):
    created = api.post("/segments", {"name": "A", "rule": "visits > 1"}).json
    response = api.client.put(f"/api/v1/segments/{created['id']}", json=body, headers=api.headers)
    assert response.status_code == 422 and response.json["error"] == "validation_failed"
    assert response.json["errors"]
    stored = api.get(f"/segments/{created['id']}").json
    assert (stored["name"], stored["rule"]) == ("A", "visits > 1")


def test_segment_update_bad_rule_is_400_and_keeps_old(api):
    created = api.post("/segments", {"name": "A", "rule": "visits > 1"}).json
    response = api.client.put(
        f"/api/v1/segments/{created['id']}", json={"rule": "visits >"}, headers=api.headers
    )
    assert response.status_code == 400
    assert api.get(f"/segments/{created['id']}").json["rule"] == "visits > 1"


def test_segment_delete_then_404(api):
    created = api.post("/segments", {"name": "A", "rule": "visits > 1"}).json
    response = api.client.delete(f"/api/v1/segments/{created['id']}", headers=api.headers)
    assert response.status_code == 204 and response.data == b""
    assert api.get(f"/segments/{created['id']}").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_segment_unknown_id_is_404_json(api, method):
    call = getattr(api.client, method)
    response = call("/api/v1/segments/999", json={"name": "x"}, headers=api.headers)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_segment_list_pages_most_recent_first(api):
    ids = [
        api.post("/segments", {"name": f"S{i}", "rule": "visits > 1"}).json["id"] for i in range(5)
    ]
    first = api.get("/segments?per_page=2").json
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert [s["id"] for s in first["items"]] == ids[::-1][:2]
    third = api.get("/segments?page=3&per_page=2").json
    assert [s["id"] for s in third["items"]] == [ids[0]]
    assert api.get("/segments?page=4&per_page=2").json["items"] == []


def test_segment_list_defaults_and_caps_per_page(api):
    assert api.get("/segments").json["per_page"] == 50
    assert api.get("/segments?per_page=100000").json["per_page"] == 500
    assert api.get("/segments?page=x").status_code == 422


@pytest.fixture
def plugin_field() -> Iterator[Field]:
    """A plug-in field registered for one test."""
    field = registry.register(
        Field("loyalty_tier", "integer", lambda t: t.c.visits, help="Visits, as a tier.")
    )
    yield field
    registry.unregister(field.name)


def test_fields_lists_builtins_and_plugins(api, plugin_field, shop):
    fields = {f["name"]: f for f in api.get("/segments/fields").json["fields"]}
    assert {
        "spend",
        "visits",
        "avg_order",
        "last_visit",
        "inactive_days",
        "signup",
        "city",
        "name",
        "email",
        "phone",
    } <= set(fields)
    assert fields["spend"]["type"] == "number" and ">" in fields["spend"]["operators"]
    assert "contains" in fields["city"]["operators"] and fields["city"]["help"]
    assert fields["loyalty_tier"] == {
        "name": "loyalty_tier",
        "type": "integer",
        "operators": list(plugin_field.operators),
        "help": "Visits, as a tier.",
        "nullable": False,
    }
    assert fields["campaign"]["parameter"]["kind"] == "number"
    assert fields["campaign"]["choices"][:2] == ["SENT", "FAILED"]
    assert fields["spend"]["parameter"]["units"] == ["days", "weeks", "months"]
    assert fields["last_message"]["type"] == "datetime"
    assert shop.post("/segments/preview", {"rule": "loyalty_tier >= 9"}).json["count"] == 2


def test_fields_forget_an_unregistered_plugin(api, plugin_field):
    registry.unregister(plugin_field.name)
    names = [f["name"] for f in api.get("/segments/fields").json["fields"]]
    assert "loyalty_tier" not in names


class StatementLog:
    """Statements the engine runs while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args) -> None:
        self.statements.append(statement)


@pytest.fixture
def statements(app) -> Iterator[StatementLog]:
    log = StatementLog()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    yield log
    event.remove(engine, "before_cursor_execute", log)


def test_preview_runs_one_count_and_one_sample(app, shop, statements):
    with app.app_context():
        statements.statements.clear()
        result = segments.preview("(spend > 1000 OR visits IN (2, 4)) AND NOT city = 'Pune'")
    assert result.count == 5
    on_customers = [s for s in statements.statements if "customers" in s]
    assert len(statements.statements) == 2, statements.statements
    assert on_customers[0].lstrip().upper().startswith("SELECT COUNT(*)")


def test_preview_api_touches_customers_twice(shop, statements):
    statements.statements.clear()
    assert shop.post("/segments/preview", {"rule": "visits > 2"}).status_code == 200
    assert len([s for s in statements.statements if "FROM customers" in s]) == 2


def test_segments_api_is_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/segments"]) == {"get", "post"}
    assert set(paths["/api/v1/segments/{segment_id}"]) == {"get", "put", "delete"}
    preview = paths["/api/v1/segments/preview"]["post"]
    assert {"200", "400", "401", "422"} <= set(preview["responses"])
    assert "404" in paths["/api/v1/segments/explain"]["post"]["responses"]
    assert "/api/v1/segments/fields" in paths
