"""POST /campaigns (snapshot before the 201), preview, list, detail and log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import assert_counters_match_log, customer, log_counts, order
from xeno.db.models import CommunicationLog, Segment
from xeno.extensions import db


@pytest.fixture(autouse=True)
def _no_delivery(app):
    """These tests look at the snapshot; nothing is dispatched."""
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def people(api):
    """Three customers: C1 big spender in Pune, C2 small in Mumbai, C3 without orders or city."""
    api.post_customers([
        customer(1, name="Asha Rao", city="Pune"),
        customer(2, name="Vikram Singh", city="Mumbai"),
        customer(3, name="Zoya", city=None, email=None),
    ])
    api.post_orders([order(1, 1, "12000.00"), order(2, 2, "300.50")])


def _messages(app, campaign_id):
    with app.app_context():
        rows = db.session.execute(
            select(CommunicationLog.customer_id, CommunicationLog.message)
            .where(CommunicationLog.campaign_id == campaign_id)
            .order_by(CommunicationLog.customer_id)
        ).all()
        db.session.remove()
    return [m for _c, m in rows]


def test_create_writes_the_audience_as_pending_before_the_201(app, api, people):
    response = api.post("/campaigns", {"name": "Big", "rule": "spend > 10000",
                                       "message": "Hi [Name], here's 10% off on your next order!"})
    assert response.status_code == 201
    body = response.json
    assert body == {"id": body["id"], "status": "sending", "matched": 1,
                    "excluded": {"unsubscribed": 0, "frequency_cap": 0}, "audience_size": 1,
                    "holdout": 0, "parent_id": None}
    assert log_counts(app, body["id"]) == {"PENDING": 1}
    assert _messages(app, body["id"]) == ["Hi Asha Rao, here's 10% off on your next order!"]
    assert assert_counters_match_log(app, body["id"])["pending"] == 1


@pytest.mark.parametrize(
    "template, expected",
    [
        ("Hi {{ first_name }} from {{ city }}", ["Hi Asha from Pune", "Hi Vikram from Mumbai",
                                                 "Hi Zoya from "]),
        ("{{ city|default('your city') }}: {{ spend }} / {{ visits }}",
         ["Pune: 12000.00 / 1", "Mumbai: 300.50 / 1", "your city: 0.00 / 0"]),
        ("{% if spend > 1000 %}VIP {{ name|upper }}{% else %}{{ first_name|lower }}{% endif %}",
         ["VIP ASHA RAO", "vikram", "zoya"]),
        ("Hi [First Name] {{ spend|round|int }} {{ email|default('no mail') }}",
         ["Hi Asha 12000 c1@example.com", "Hi Vikram 301 c2@example.com", "Hi Zoya 0 no mail"]),
    ],
)
def test_messages_are_personalised_the_same_in_sql_and_python(app, api, people, template,
                                                              expected):
    response = api.post("/campaigns", {"rule": "visits >= 0", "message": template})
    assert response.status_code == 201, response.json
    assert _messages(app, response.json["id"]) == expected


def test_the_sql_snapshot_and_the_python_snapshot_agree(app, api, people, monkeypatch):
    from xeno.campaigns import messages

    template = "Dear {{ first_name|default('friend') }} of {{ city|default('?') }}, {{ spend }}"
    fast = api.post("/campaigns", {"rule": "visits >= 0", "message": template}).json["id"]
    monkeypatch.setattr(messages.MessageTemplate, "sql", lambda *a: None)
    slow = api.post("/campaigns", {"rule": "visits >= 0", "message": template,
                                   "allow_duplicate": True}).json["id"]
    assert _messages(app, fast) == _messages(app, slow)


def test_a_big_python_rendered_snapshot_keeps_awkward_text_exact(app, api):
    """Over 500 rows the Python path bulk-loads (LOAD DATA on MariaDB): text must survive."""
    awkward = 'Tab\there new\nline back\\slash \\N "dq" ₹ दिल्ली 🎉'
    people = [customer(n, name=f"{awkward} {n}") for n in range(1, 701)]
    assert api.post_customers(people).status_code == 202
    template = "{% if visits > 5 %}VIP {% endif %}{{ name }}!"  # `if` keeps it out of SQL
    response = api.post("/campaigns", {"rule": "visits >= 0", "message": template})
    assert (response.status_code, response.json["audience_size"]) == (201, 700)
    expected = sorted(f"{awkward} {n}!" for n in range(1, 701))
    assert sorted(_messages(app, response.json["id"])) == expected


def test_a_campaign_to_a_saved_segment(app, api, people):
    with app.app_context():
        segment = Segment(name="Mumbai", rule='city = "mumbai"')
        db.session.add(segment)
        db.session.commit()
        segment_id = segment.id
    response = api.post("/campaigns", {"name": "M", "segment_id": segment_id, "message": "Hi"})
    assert response.status_code == 201
    detail = api.get(f"/campaigns/{response.json['id']}").json
    assert (detail["segment_id"], detail["rule"], detail["audience_size"]) == (
        segment_id, 'city = "mumbai"', 1)


def test_an_empty_audience_is_refused_and_creates_nothing(app, api, people):
    response = api.post("/campaigns", {"rule": "spend > 99999999", "message": "Hi"})
    assert response.status_code == 422
    assert response.json["error"] == "empty_audience"
    assert (response.json["matched"], response.json["audience_size"]) == (0, 0)
    assert api.get("/campaigns").json["total"] == 0
    assert log_counts(app, 1) == {}


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"rule": "spnd > 1", "message": "Hi"}, 400, "invalid_rule"),
        ({"segment_id": 999, "message": "Hi"}, 404, "not_found"),
        ({"rule": "spend > 1", "segment_id": 1, "message": "Hi"}, 422, "validation_failed"),
        ({"message": "Hi"}, 422, "validation_failed"),
        ({"rule": "spend > 1"}, 422, "validation_failed"),
        ({"rule": 5, "message": "Hi"}, 422, "validation_failed"),
        ({"rule": "spend > 1", "message": "Hi", "extra": 1}, 422, "validation_failed"),
        ({"rule": "spend > 1", "message": "{{ config }}"}, 422, "invalid_template"),
        ({"rule": "spend > 1", "message": "{{ ''.__class__.__mro__ }}"}, 422, "invalid_template"),
    ],
)
def test_bad_requests_store_nothing(app, api, people, body, status, code):
    response = api.post("/campaigns", body)
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    assert api.get("/campaigns").json["total"] == 0


def test_not_json_and_no_token(api, client):
    assert api.client.post("/api/v1/campaigns", data="x", headers=api.headers).status_code == 415
    assert client.post("/api/v1/campaigns", json={}).status_code == 401
    assert client.get("/api/v1/campaigns").status_code == 401


def test_preview_renders_up_to_five_and_stores_nothing(app, api):
    api.post_customers([customer(n, name=f"Person {n}") for n in range(1, 8)])
    response = api.post("/campaigns/preview", {"rule": "visits = 0", "message": "Hi {{ name }}"})
    assert response.status_code == 200
    assert response.json["audience_size"] == 7
    assert [m["text"] for m in response.json["messages"]] == [
        f"Hi Person {n}" for n in range(1, 6)]
    assert response.json["messages"][0]["customer"]["id"] == "C1"
    assert api.get("/campaigns").json["total"] == 0


def test_list_is_most_recent_first_and_paged(app, api, people):
    ids = [api.post("/campaigns", {"name": f"c{i}", "rule": "visits >= 0", "message": f"Hi {i}"})
           .json["id"] for i in range(3)]
    page = api.get("/campaigns?per_page=2").json
    assert [c["id"] for c in page["items"]] == [ids[2], ids[1]]  # same second: higher id first
    assert (page["page"], page["per_page"], page["total"]) == (1, 2, 3)
    item = page["items"][0]
    assert {"audience_size", "sent", "failed", "pending", "status", "name", "segment_id", "rule",
            "message", "created_at"} <= set(item)
    assert [c["id"] for c in api.get("/campaigns?page=2&per_page=2").json["items"]] == [ids[0]]
    assert api.get("/campaigns?page=3&per_page=2").json["items"] == []


def test_detail_and_log(app, api, people):
    cid = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi {{ name }}"}).json["id"]
    assert api.get(f"/campaigns/{cid}").json["audience_size"] == 3
    assert api.get("/campaigns/9999").status_code == 404
    log = api.get(f"/campaigns/{cid}/log?per_page=2").json
    assert log["total"] == 3 and len(log["items"]) == 2
    first = log["items"][0]
    assert set(first) == {"id", "customer_id", "name", "message", "status", "reason",
                          "updated_at"}
    everyone = api.get(f"/campaigns/{cid}/log").json["items"]
    assert sorted((i["customer_id"], i["message"], i["status"]) for i in everyone) == [
        ("C1", "Hi Asha Rao", "PENDING"), ("C2", "Hi Vikram Singh", "PENDING"),
        ("C3", "Hi Zoya", "PENDING")]
    assert first == everyone[0]
    assert api.get(f"/campaigns/{cid}/log?status=FAILED").json == {
        "items": [], "page": 1, "per_page": 50, "total": 0}
    assert api.get(f"/campaigns/{cid}/log?status=nope").status_code == 422
    assert api.get("/campaigns/9999/log").status_code == 404


def test_a_second_snapshot_of_the_same_campaign_is_refused(app, api, people):
    from sqlalchemy.exc import IntegrityError

    from xeno.campaigns import service as campaigns
    from xeno.campaigns.messages import compile_template
    from xeno.db.models import Customer, utcnow

    cid = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi"}).json["id"]
    with app.app_context(), pytest.raises(IntegrityError):
        campaigns.snapshot(db.session.connection(), cid, compile_template("Hi"),
                           Customer.visits >= 0, utcnow())
    assert log_counts(app, cid) == {"PENDING": 3}
