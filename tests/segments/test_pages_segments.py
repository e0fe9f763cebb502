"""Segment pages through the Flask test client: list, builder, the no-JavaScript form paths."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.helpers import csrf, customer, order, post_form, saved_segment
from xeno.db.models import Segment
from xeno.dsl import parse, to_json
from xeno.extensions import db

RULE = "spend > 10000 AND visits <= 3"


@pytest.fixture
def shop(api) -> None:
    """Five customers: two big spenders with few visits, one with many, two without orders."""
    assert api.post_customers([customer(n) for n in range(1, 6)]).status_code == 202
    orders = [
        order(1, 1, "12000.00"),
        order(2, 2, "6000.00"),
        order(3, 2, "3000.00"),
        *[order(10 + k, 3, "3000.00", days_ago=k + 1) for k in range(5)],
    ]
    assert api.post_orders(orders).status_code == 202


def audience(page: str) -> str:
    """The audience size the builder shows."""
    return re.search(r'<output id="audience-count"[^>]*>([^<]*)</output>', page).group(1)


@pytest.mark.parametrize("path", ["/segments", "/segments/new", "/segments/1/edit"])
def test_segment_pages_signed_out_go_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.location


def test_segment_list_shows_each_segment_with_its_actions(app, signed_in):
    segment_id = saved_segment(app)
    page = signed_in.get("/segments").get_data(as_text=True)
    assert "Big" in page and html.escape(RULE) in page
    assert f'href="/segments/{segment_id}/edit"' in page
    assert f'href="/campaigns/new?segment_id={segment_id}"' in page
    assert f'action="/segments/{segment_id}/delete"' in page


def test_empty_segment_list_invites_a_first_segment(signed_in):
    page = signed_in.get("/segments").get_data(as_text=True)
    assert "No segments yet." in page


def test_builder_shows_total_customers_and_a_rule_box_labelled_rule(signed_in, shop):
    page = signed_in.get("/segments/new").get_data(as_text=True)
    assert '<label for="rule">Rule</label>' in page
    assert audience(page) == "5"
    assert 'data-total="5"' in page
    assert "builder.js" in page


def test_edit_page_carries_the_rule_and_its_tree(app, signed_in):
    segment_id = saved_segment(app)
    page = signed_in.get(f"/segments/{segment_id}/edit").get_data(as_text=True)
    tree = re.search(r'data-tree="([^"]*)"', page).group(1)
    assert json.loads(html.unescape(tree)) == to_json(parse(RULE))
    assert f">{html.escape(RULE)}</textarea>" in page


def test_unknown_segment_edit_is_404(signed_in):
    assert signed_in.get("/segments/999/edit").status_code == 404


def test_no_js_count_shows_audience_sample_and_per_condition_counts(signed_in, shop):
    page = post_form(signed_in, "/segments/new", rule=RULE, action="count").get_data(as_text=True)
    assert audience(page) == "1"
    assert "C1" in page and "customer matches this rule" in page
    counts = re.findall(r"<code>([^<]*)</code>\s*<span class=\"node-count\">([^<]*)<", page)
    assert counts == [
        ("spend &gt; 10000", "2 match · 2 left"),
        ("visits &lt;= 3", "4 match · 1 left"),
    ]


def test_no_js_empty_rule_shows_the_total_and_previews_nothing(signed_in, shop):
    page = post_form(signed_in, "/segments/new", rule=" ", action="count").get_data(as_text=True)
    assert audience(page) == "5"
    assert "customers in total" in page


def test_no_js_broken_rule_shows_the_error_at_its_spot(signed_in, shop):
    response = post_form(signed_in, "/segments/new", rule="spend > 10 AND spnd < 3", action="count")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "did you mean" in page and "line 1, column 16" in page
    context = re.search(r'<pre class="rule-error-context">([^<]*)</pre>', page).group(1)
    line, caret = html.unescape(context).split("\n")[:2]
    assert caret.index("^") == line.index("spnd")


def test_no_js_why_marks_a_customer_in_or_out(signed_in, shop):
    page = post_form(
        signed_in, "/segments/new", rule=RULE, action="why", customer_id="C2"
    ).get_data(as_text=True)
    assert "(C2) is <strong>out</strong>" in page
    assert 'aria-label="false"' in page and 'aria-label="true"' in page


def test_no_js_why_with_an_unknown_customer_says_so(signed_in, shop):
    page = post_form(
        signed_in, "/segments/new", rule=RULE, action="why", customer_id="NOPE"
    ).get_data(as_text=True)
    assert "no customer" in page and audience(page) == "1"


def test_no_js_save_lands_on_the_campaign_history(app, signed_in, shop):
    response = post_form(signed_in, "/segments/new", name="Big spenders", rule=RULE, action="save")
    assert response.status_code == 302
    assert re.fullmatch(r"/campaigns\?saved=\d+", response.location)
    page = signed_in.get(response.location).get_data(as_text=True)
    assert "Segment “Big spenders” saved with <strong>1</strong> customer." in page
    with app.app_context():
        segment = db.session.query(Segment).one()
        assert (segment.rule, segment.size, segment.created_by) == (RULE, 1, "mona@xeno.test")


def test_no_js_save_without_a_name_stays_on_the_builder(app, signed_in, shop):
    response = post_form(signed_in, "/segments/new", name=" ", rule=RULE, action="save")
    assert response.status_code == 200
    assert "Give the segment a name." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Segment).count() == 0


def test_no_js_edit_saves_the_new_rule(app, signed_in, shop):
    segment_id = saved_segment(app)
    response = post_form(
        signed_in, f"/segments/{segment_id}/edit", name="Renamed", rule="visits>=1", action="save"
    )
    assert response.location == f"/campaigns?saved={segment_id}"
    with app.app_context():
        segment = db.session.get(Segment, segment_id)
        assert (segment.name, segment.rule, segment.size) == ("Renamed", "visits >= 1", 3)


def test_delete_removes_the_segment(app, signed_in):
    segment_id = saved_segment(app)
    response = post_form(signed_in, f"/segments/{segment_id}/delete")
    assert response.location == "/segments"
    assert "deleted" in signed_in.get("/segments").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Segment, segment_id) is None


def test_form_post_without_csrf_token_is_refused(signed_in):
    response = signed_in.post("/segments/new", data={"rule": RULE, "action": "save", "name": "x"})
    assert response.status_code == 400


def test_render_turns_the_builders_tree_into_rule_text(signed_in):
    tree = {"type": "and", "children": [
        {"type": "condition", "field": "spend", "op": ">",
         "value": {"kind": "number", "value": "10000"}},
        {"type": "and", "children": [
            {"type": "condition", "field": "visits", "op": "<=",
             "value": {"kind": "number", "value": "3"}}]},
        {"type": "not", "child": {"type": "condition", "field": "last_visit", "op": ">=",
                                  "value": {"kind": "relative", "amount": 3, "unit": "months"}}},
    ]}  # fmt: skip
    response = signed_in.post(
        "/api/v1/segments/render", json={"tree": tree}, headers={"X-CSRFToken": csrf(signed_in)}
    )
    assert response.status_code == 200
    rule = "spend > 10000 AND visits <= 3 AND NOT last_visit >= 3 months ago"
    assert response.json == {"rule": rule, "tree": to_json(parse(rule))}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"tree": {"type": "condition", "field": "spend", "op": "contains",
                   "value": {"kind": "string", "value": "x"}}}, 400),
        ({"tree": {"type": "condition", "field": "spend", "op": ">",
                   "value": {"kind": "number", "value": "abc"}}}, 400),
        ({"tree": {"type": "or", "children": []}}, 400),
        ({"rule": "spend > 1"}, 422),
    ],
)  # fmt: skip
def test_render_refuses_a_bad_tree_with_a_json_error(signed_in, body, status):
    response = signed_in.post(
        "/api/v1/segments/render", json=body, headers={"X-CSRFToken": csrf(signed_in)}
    )
    assert response.status_code == status
    assert response.json["error"] in ("invalid_rule", "validation_failed")


def test_render_needs_the_csrf_header(signed_in):
    tree = {"type": "condition", "field": "spend", "op": "is empty"}
    assert signed_in.post("/api/v1/segments/render", json={"tree": tree}).status_code == 400
