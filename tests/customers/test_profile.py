"""GET /customers/<id> and the profile page: orders, messages and segments, each checked
against what the test itself put in, and the segments found in one statement."""

from __future__ import annotations

import html
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tests.helpers import customer, order, signed_post
from xeno.db.models import CommunicationLog, Customer
from xeno.extensions import db


@pytest.fixture(autouse=True)
def _no_delivery(app):
    """Receipts are posted by the tests themselves; nothing is dispatched."""
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def shop(api):
    """C1 with 60 orders (1,000.00 + n each, n days ago), C2 with one, C3 with none."""
    api.post_customers([
        customer(1, name="Asha Rao", city="Pune", attributes={"tier": "gold", "tags": ["a"]}),
        customer(2, name="Vikram Singh", city="Mumbai"),
        customer(3, name="Zoya", city=None),
    ])
    api.post_orders([order(n, 1, f"{1000 + n}.00", days_ago=n) for n in range(1, 61)])
    api.post_orders([order(100, 2, "50.00", days_ago=3)])


def test_profile_has_the_latest_50_orders_newest_first_and_the_total(api, shop):
    response = api.get("/customers/C1")
    assert response.status_code == 200
    body = response.json
    assert body["id"] == "C1" and body["name"] == "Asha Rao" and body["city"] == "Pune"
    assert body["attributes"] == {"tier": "gold", "tags": ["a"]}
    assert body["unsubscribed_at"] is None
    assert body["orders_total"] == 60
    assert [o["id"] for o in body["orders"]] == [f"O{n}" for n in range(1, 51)]
    assert [o["amount"] for o in body["orders"][:2]] == [1001.0, 1002.0]
    assert body["visits"] == 60 and body["spend"] == sum(1000 + n for n in range(1, 61))


def test_profile_messages_show_campaign_status_and_newest_first(app, api, client, shop):
    first = api.post("/campaigns", {"name": "Diwali", "rule": "visits >= 1",
                                    "message": "Hi {{ name }}"}).json["id"]
    second = api.post("/campaigns", {"name": "Winback", "rule": 'city = "pune"',
                                     "message": "Come back"}).json["id"]
    receipt = {"log_id": _log_id(app, first, "C1"), "status": "FAILED"}
    assert signed_post(client, "/receipts", receipt).status_code == 202
    api.drain()
    messages = api.get("/customers/C1").json["messages"]
    assert [(m["campaign_id"], m["campaign_name"], m["status"]) for m in messages] == [
        (second, "Winback", "PENDING"), (first, "Diwali", "FAILED")]
    assert messages[1]["message"] == "Hi Asha Rao" and "reason" in messages[1]
    assert messages[1]["updated_at"].endswith("Z")
    assert api.get("/customers/C3").json["messages"] == []


def _log_id(app, campaign_id, external_id):
    with app.app_context():
        log_id = db.session.scalar(
            select(CommunicationLog.id).join(Customer, Customer.id == CommunicationLog.customer_id)
            .where(CommunicationLog.campaign_id == campaign_id, Customer.external_id == external_id)
        )
        db.session.remove()
    return log_id


RULES = {
    "Big": "spend > 10000",
    "Pune": 'city = "pune"',
    "Few visits": "visits <= 3",
    "Never": "visits = 0",
    "Not Pune": 'NOT city = "Pune"',
    "Recent": "last_visit >= 2 days ago",
}
# What each customer's data above says, worked out by hand.
HOLDS = {
    "C1": {"Big", "Pune", "Recent"},
    "C2": {"Few visits", "Not Pune"},
    "C3": {"Few visits", "Never", "Not Pune"},
}


@pytest.mark.parametrize("external_id", sorted(HOLDS))
def test_profile_segments_are_the_saved_segments_holding_the_customer(api, shop, external_id):
    ids = {name: api.post("/segments", {"name": name, "rule": rule}).json["id"]
           for name, rule in RULES.items()}
    segments = api.get(f"/customers/{external_id}").json["segments"]
    assert {s["name"] for s in segments} == HOLDS[external_id]
    assert all(s["id"] == ids[s["name"]] for s in segments)


@contextmanager
def statements(app):
    """Count the SQL statements the app sends meanwhile."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_segments_of_a_profile_cost_the_same_statements_for_3_or_30_segments(app, api, shop):
    for n in range(3):
        api.post("/segments", {"name": f"S{n}", "rule": f"spend > {n}"})
    with statements(app) as few:
        assert len(api.get("/customers/C1").json["segments"]) == 3
    for n in range(3, 30):
        api.post("/segments", {"name": f"S{n}", "rule": f"spend > {n} AND visits >= 1"})
    with statements(app) as many:
        assert len(api.get("/customers/C1").json["segments"]) == 30
    assert len(many) == len(few)


def test_unknown_customer_is_404_and_ids_compare_exactly(api, shop):
    api.post_customers([customer(9, id="A/B 7")])
    assert api.get("/customers/A/B 7").json["id"] == "A/B 7"
    missing = api.get("/customers/c1")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    assert api.client.get("/api/v1/customers/C1").status_code == 401


def test_profile_page_shows_summary_orders_messages_and_why(api, signed_in, shop):
    api.post("/segments", {"name": "Big Pune", "rule": 'spend > 10000 AND city = "Pune"'})
    api.post("/segments", {"name": "Mumbai", "rule": 'city = "Mumbai"'})
    api.post("/campaigns", {"name": "Diwali", "rule": "visits >= 1", "message": "Hi"})
    page = html.unescape(signed_in.get("/customers/C1").get_data(as_text=True))
    assert "Asha Rao" in page and "₹61,830.00" in page  # 60,000 + 1 + ... + 60
    assert "latest 50 of 60" in page and "O50" in page and "O51" not in page
    assert "Diwali" in page and "PENDING" in page and "Subscribed" in page
    assert "Big Pune" in page and 'city = "Pune"' in page and "✓" in page
    assert ">Mumbai</strong>" not in page  # a segment that does not hold C1
    assert '<code>tier</code>' in page and "gold" in page


def test_customers_list_and_campaign_log_link_to_the_profile(api, signed_in, shop):
    assert 'href="/customers/C1"' in signed_in.get("/customers").get_data(as_text=True)
    campaign = api.post("/campaigns", {"rule": "visits >= 1", "message": "Hi"}).json["id"]
    detail = signed_in.get(f"/campaigns/{campaign}").get_data(as_text=True)
    assert 'href="/customers/C1"' in detail and 'href="/customers/C2"' in detail


def test_profile_page_of_unknown_customer_is_a_404_page(signed_in, shop):
    response = signed_in.get("/customers/nobody")
    assert response.status_code == 404 and "text/html" in response.content_type
