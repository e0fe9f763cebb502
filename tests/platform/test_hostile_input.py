"""No request gets a 5xx for what it contains (SPEC "Faults"): each input answered 4xx, in JSON.

Every input here once answered 500: bodies nested thousands deep, lone surrogates, template
filters with arguments out of range, deeply nested `{% if %}` and NOT, and a `next`
carrying CR/LF.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.helpers import customer, order
from xeno.db.models import Campaign, Customer, Segment
from xeno.extensions import db

MAX_JSON_DEPTH = 64


def nested_array(depth: int) -> str:
    """`[[[...]]]`, `depth` levels."""
    return "[" * depth + "]" * depth


def nested_object(depth: int, leaf: str = "1") -> str:
    """`{"a":{"a":...}}`, `depth` levels."""
    return '{"a":' * depth + leaf + "}" * depth


def post_raw(api, path: str, body: str):
    """POST text as a JSON body with the API token."""
    return api.client.post(
        f"/api/v1{path}", data=body.encode("utf-8", "surrogatepass"),
        content_type="application/json", headers=api.headers,
    )


def assert_error(response, status: int, code: str) -> dict:
    """SPEC's JSON error shape with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def row_count(app, model) -> int:
    """How many rows a table holds."""
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return count


JSON_PATHS = [
    "/customers", "/orders", "/segments/preview", "/segments", "/segments/explain",
    "/campaigns/preview", "/campaigns",
]


@pytest.mark.parametrize("path", JSON_PATHS)
def test_body_nested_ten_thousand_deep_is_invalid_json(api, path):
    body = assert_error(post_raw(api, path, nested_array(10_000)), 400, "invalid_json")
    assert f"{MAX_JSON_DEPTH} levels" in body["message"]


def test_object_nested_ten_thousand_deep_is_invalid_json(api):
    body = assert_error(post_raw(api, "/customers", nested_object(10_000)), 400, "invalid_json")
    assert f"{MAX_JSON_DEPTH} levels" in body["message"]


def test_attributes_nested_900_deep_are_invalid_json_and_nothing_is_stored(app, api):
    record = json.dumps(customer(1)).replace("}", ', "attributes": ' + nested_object(900) + "}")
    assert_error(post_raw(api, "/customers", record), 400, "invalid_json")
    api.drain()
    assert row_count(app, Customer) == 0


def test_body_of_64_levels_reaches_validation_and_65_does_not(api):
    inner = nested_array(MAX_JSON_DEPTH - 1)  # the object is level 1, "x"'s lists 2 to 64
    allowed = post_raw(api, "/segments/preview", '{"rule": "spend > 1", "x": ' + inner + "}")
    assert_error(allowed, 422, "validation_failed")
    deeper = '{"rule": "spend > 1", "x": ' + nested_array(MAX_JSON_DEPTH) + "}"
    assert_error(post_raw(api, "/segments/preview", deeper), 400, "invalid_json")


def test_brackets_inside_strings_do_not_count_as_nesting(app, api):
    record = customer(1, name="[" * 100 + "{" * 100)
    response = post_raw(api, "/customers", json.dumps(record))
    assert response.status_code == 202, response.get_data(as_text=True)
    api.drain()
    with app.app_context():
        assert db.session.scalar(select(Customer.name)) == "[" * 100 + "{" * 100


LONE = '"\\ud800"'  # the JSON escape of a lone high surrogate
SURROGATE_BODIES = [
    ("/segments/preview", '{"rule": "name = ' + LONE.replace('"', '\\"') + '"}'),
    ("/segments/preview", '{"rule": ' + LONE + "}"),
    ("/segments", '{"name": ' + LONE + ', "rule": "spend > 1"}'),
    ("/segments/explain", '{"rule": "city = \\"\\udfff\\""}'),
    ("/campaigns", '{"name": ' + LONE + ', "rule": "spend >= 0", "message": "Hi"}'),
    ("/campaigns", '{"name": "n", "rule": "spend >= 0", "message": "Hi \\ud800"}'),
    ("/campaigns/preview", '{"rule": "spend >= 0", "message": ' + LONE + "}"),
    ("/customers", '{"id": "C1", "name": ' + LONE + "}"),
    ("/customers", '{"id": ' + LONE + ', "name": "Asha"}'),
    ("/customers", '{"id": "C1", "name": "Asha", "attributes": {' + LONE + ": 1}}"),
    ("/customers", '{"id": "C1", "name": "Asha", "attributes": {"k": ["\\udc00x"]}}'),
    ("/orders", '{"id": "O1", "customer_id": ' + LONE + ', "amount": 1, '
                '"ordered_at": "2024-01-01T00:00:00Z"}'),
]


@pytest.mark.parametrize(("path", "body"), SURROGATE_BODIES)
def test_lone_surrogate_in_any_string_is_refused(app, api, path, body):
    response = post_raw(api, path, body)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.is_json
    assert response.get_json()["error"] in ("invalid_json", "validation_failed")
    api.drain()
    assert row_count(app, Customer) == row_count(app, Segment) == row_count(app, Campaign) == 0


def test_lone_surrogate_as_raw_bytes_is_invalid_json(api):
    raw = b'{"rule": "name = \'\xed\xa0\x80\'"}'  # UTF-8 of U+D800, which UTF-8 forbids
    response = api.client.post(
        "/api/v1/segments/preview", data=raw, content_type="application/json",
        headers=api.headers,
    )
    assert_error(response, 400, "invalid_json")


def test_surrogate_pair_is_a_character_not_an_error(app, api):
    response = post_raw(api, "/customers", '{"id": "C1", "name": "Asha \\ud83d\\ude00"}')
    assert response.status_code == 202, response.get_data(as_text=True)
    api.drain()
    with app.app_context():
        assert db.session.scalar(select(Customer.name)) == "Asha \U0001F600"


BAD_TEMPLATES = [
    ("{{ spend|round(28) }}", "round"),
    ("{{ spend|round(100) }}", "round"),
    ("{{ spend|round(name) }}", "round"),
    ("{{ spend|round(-1) }}", "round"),
    ("{{ spend|round(1, 'sideways') }}", "round"),
    ("{{ spend|round(1, name) }}", "round"),
    ("{{ name|round }}", "round"),
    ("{{ name|truncate(-1) }}", "truncate"),
    ("{{ name|truncate(name) }}", "truncate"),
    ("{{ name|truncate(5, true, name) }}", "truncate"),
    ("{{ name|truncate(2, false, '...', 0) }}", "truncate"),
    ("{{ name|truncate(10, false, '...', -3) }}", "truncate"),
    ("{{ name|trim(5) }}", "trim"),
    ("{{ name|upper(1) }}", "upper"),
    ("{{ name|int(0, 99) }}", "int"),
    ("{% if name %}" * 200 + "x" + "{% endif %}" * 200, "20 levels"),
    ("{% if name %}" * 21 + "x" + "{% endif %}" * 21, "20 levels"),
    ("{{ " + "not " * 300 + "name }}", "20 levels"),
    ("{{ " + "(" * 400 + "name" + ")" * 400 + " }}", "nested"),
    ("{% if " + " and ".join(["name"] * 400) + " %}x{% endif %}", "20 levels"),
]


@pytest.mark.parametrize("path", ["/campaigns/preview", "/campaigns"])
@pytest.mark.parametrize(("template", "named"), BAD_TEMPLATES)
def test_template_out_of_range_is_invalid_template(app, api, path, template, named):
    assert api.post_customers([customer(1), customer(2, city=None)]).status_code == 202
    assert api.post_orders([order(1, 1, "1234.56")]).status_code == 202
    body = {"name": "Offer", "rule": "spend >= 0", "message": template}
    response = api.post(path, body)
    error = assert_error(response, 422, "invalid_template")
    assert named in error["message"]
    assert row_count(app, Campaign) == 0


GOOD_TEMPLATES = [
    ("{{ spend|round(2) }}", "1234.56"),
    ("{{ spend|round(10) }}", "1234.5600000000"),
    ("{{ spend|round(1, 'floor') }}", "1234.5"),
    ("{{ name|truncate(5, true, '', 0) }}", "Custo"),
    ("{{ name|truncate(3, true, '...', 0) }}", "..."),
    ("{{ name|trim('C1 ') }}", "ustomer"),
    ("{{ visits|int(0, 10) }}", "1"),
    ("{% if name %}" * 20 + "x" + "{% endif %}" * 20, "x"),
]


@pytest.mark.parametrize(("template", "text"), GOOD_TEMPLATES)
def test_template_arguments_in_range_still_render(api, template, text):
    assert api.post_customers([customer(1)]).status_code == 202
    assert api.post_orders([order(1, 1, "1234.56")]).status_code == 202
    response = api.post("/campaigns/preview", {"rule": "spend >= 0", "message": template})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["messages"][0]["text"] == text


RULE_PATHS = ["/segments/preview", "/segments", "/segments/explain", "/campaigns/preview"]


@pytest.mark.parametrize("path", RULE_PATHS)
def test_rule_of_1200_nots_is_invalid_rule_at_the_33rd(app, api, path):
    body = {"rule": "not " * 1200 + "spend > 1"}
    body.update({"/segments": {"name": "n"}, "/campaigns/preview": {"message": "Hi"}}.get(path, {}))
    response = api.post(path, body)
    error = assert_error(response, 400, "invalid_rule")
    assert "more than 32 levels" in error["message"]
    assert (error["line"], error["column"]) == (1, 32 * 4 + 1)  # where the 33rd NOT starts
    assert row_count(app, Segment) == 0


@pytest.mark.parametrize(
    "target",
    [
        "/%0D%0A//evil.com", "/%0D%0ALocation:%20http://evil.com", "/%0A/evil.com",
        "/%09/evil.com", "/segments%00", "/%7F", "/%C2%85evil",
    ],
)
def test_next_with_control_characters_goes_to_the_dashboard(signed_in, target):
    response = signed_in.get(f"/login?next={target}")
    assert response.status_code == 302
    assert response.location == "/"
    assert "evil" not in response.headers["Location"]


def test_next_without_control_characters_is_still_followed(signed_in):
    response = signed_in.get("/login?next=/segments%3Fpage%3D2")
    assert response.status_code == 302
    assert response.location == "/segments?page=2"


@pytest.mark.parametrize("path", ["/customers", "/segments", "/campaigns"])
@pytest.mark.parametrize("page", ["99999999999999999999999", "-5", "x", "1e9"])
def test_page_numbers_of_any_size_show_a_page(signed_in, path, page):
    response = signed_in.get(f"{path}?page={page}&per_page={page}")
    assert response.status_code == 200
    assert "text/html" in response.content_type


LONG_RULES = [
    "visits IN (" + ",".join(["1"] * 4990) + ")",
    "NOT city IN (" + ",".join(["'Pune'"] * 1400) + ")",
    " OR ".join(["visits = 1"] * 700),
    " AND ".join(["spend>=1"] * 700),
]


@pytest.mark.parametrize("rule", LONG_RULES, ids=["in", "not_in", "or", "and"])
def test_rules_as_long_as_allowed_are_counted(api, rule):
    assert len(rule) <= 10_000
    assert api.post_customers([customer(1)]).status_code == 202
    assert api.post_orders([order(1, 1, "10.00")]).status_code == 202
    response = api.post("/segments/preview", {"rule": rule})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["count"] == 1
    created = api.post("/campaigns", {"name": "Long", "rule": rule, "message": "Hi {{ name }}"})
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    assert created.get_json()["audience_size"] == 1


@pytest.mark.parametrize("rule", LONG_RULES[:2], ids=["in", "not_in"])
def test_long_lists_are_explained(api, rule):
    assert api.post_customers([customer(1)]).status_code == 202
    response = api.post("/segments/explain", {"rule": rule})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["own_count"] == (0 if rule.startswith("visits") else 1)
