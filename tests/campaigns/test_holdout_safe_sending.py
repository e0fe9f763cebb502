"""The holdout and safe sending together: the snapshot leaves out the unsubscribed and the
capped, then draws the holdout among the rows it writes; HOLDOUT rows are never handed to
the vendor, never count towards the cap, and are exported and filtered like any status."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from sqlalchemy import select, update

from tests.campaigns.test_safe_sending import (
    COUNT,
    HISTORY,
    UNSUBSCRIBED,
    _expected,
    _history,
    _unsubscribe,
)
from tests.helpers import (
    assert_counters_match_log,
    load_customers,
    post_form,
    recording_vendor,
)
from xeno.campaigns import delivery
from xeno.db.models import Campaign, CommunicationLog, Customer
from xeno.extensions import db

OVERDUE = 2.1  # handing times are stored to the second: a 1 s timeout is due 1–2 s later


@pytest.fixture(autouse=True)
def _no_delivery(app):
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def shop(app, api):
    load_customers(api, COUNT)
    _history(app, HISTORY)
    _unsubscribe(api, UNSUBSCRIBED)


def _rows(app, campaign_id: int) -> dict[str, str]:
    """A campaign's log as customer external id → status."""
    with app.app_context():
        rows = dict(db.session.execute(
            select(Customer.external_id, CommunicationLog.status)
            .join(CommunicationLog, CommunicationLog.customer_id == Customer.id)
            .where(CommunicationLog.campaign_id == campaign_id)).all())
        db.session.remove()
    return rows


@pytest.mark.parametrize("message", ["Hi {{ name }}",  # built by SQL
                                     "{% if visits > 1 %}VIP {% endif %}{{ name }}"])  # Python
def test_holdout_is_drawn_among_the_receivers_only(app, api, shop, message):
    app.config["FREQUENCY_CAP"] = "2/7d"
    expected = _expected(2)
    body = {"rule": "visits >= 0", "message": message, "holdout_percent": 50}
    created = api.post("/campaigns", body)
    assert created.status_code == 201, created.json
    rows = _rows(app, created.json["id"])
    held = {c for c, s in rows.items() if s == "HOLDOUT"}
    # The breakdown is sending's: the holdout is part of audience_size, not left out.
    assert created.json["matched"] == COUNT
    assert created.json["excluded"] == {"unsubscribed": len(expected["unsubscribed"]),
                                        "frequency_cap": len(expected["frequency_cap"])}
    assert created.json["audience_size"] == len(expected["receive"]) == len(rows)
    assert set(rows) == expected["receive"]
    assert set(rows.values()) == {"PENDING", "HOLDOUT"}  # 32 draws at 50%: both, surely
    assert created.json["holdout"] == len(held)
    stored = assert_counters_match_log(app, created.json["id"])
    assert (stored["holdout"], stored["pending"]) == (len(held), len(rows) - len(held))
    detail = api.get(f"/campaigns/{created.json['id']}").json
    assert (detail["holdout"], detail["holdout_percent"], detail["audience_size"]) == (
        len(held), 50, len(rows))


def test_holdout_rows_do_not_count_towards_the_cap(app, api, shop):
    app.config["FREQUENCY_CAP"] = "2/7d"
    first = api.post("/campaigns", {"rule": "visits >= 0", "message": "one",
                                    "holdout_percent": 50}).json
    rows = _rows(app, first["id"])
    second = api.post("/campaigns", {"rule": "visits >= 0", "message": "two"}).json
    # C2 and C3 had one recent row: a PENDING message makes two (capped), a HOLDOUT row
    # reached nobody and leaves them at one.
    now_capped = {c for c in ("C2", "C3") if rows[c] == "PENDING"}
    assert set(_rows(app, second["id"])) == set(rows) - now_capped
    assert second["excluded"]["frequency_cap"] == (
        first["excluded"]["frequency_cap"] + len(now_capped))


def test_a_retry_has_no_holdout_unless_it_asks(app, api):
    load_customers(api, 40)
    parent = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi",
                                     "holdout_percent": 20, "attribution_days": 14}).json
    failed = parent["audience_size"] - parent["holdout"]
    with app.app_context():
        db.session.execute(update(CommunicationLog).where(
            CommunicationLog.campaign_id == parent["id"], CommunicationLog.status == "PENDING")
            .values(status="FAILED"))
        db.session.execute(update(Campaign).where(Campaign.id == parent["id"]).values(
            failed=failed, pending=0))
        db.session.commit()
        db.session.remove()
    retry = api.post(f"/campaigns/{parent['id']}/retry", {})
    assert retry.status_code == 201, retry.json
    assert (retry.json["audience_size"], retry.json["holdout"]) == (failed, 0)
    assert set(_rows(app, retry.json["id"]).values()) == {"PENDING"}
    detail = api.get(f"/campaigns/{retry.json['id']}").json
    assert (detail["holdout_percent"], detail["attribution_days"], detail["parent_id"]) == (
        0, 14, parent["id"])
    asked = api.post(f"/campaigns/{parent['id']}/retry",
                     {"allow_duplicate": True, "holdout_percent": 50}).json
    statuses = list(_rows(app, asked["id"]).values())
    assert asked["holdout"] == statuses.count("HOLDOUT") and 0 < asked["holdout"] < failed
    assert_counters_match_log(app, asked["id"])


def test_holdout_rows_are_never_handed_to_the_vendor_nor_swept(app, api):
    load_customers(api, 30)
    created = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi",
                                      "holdout_percent": 50}).json
    cid = created["id"]
    with app.app_context():
        held = set(db.session.scalars(select(CommunicationLog.id).where(
            CommunicationLog.campaign_id == cid, CommunicationLog.status == "HOLDOUT")))
        db.session.remove()
    assert held and len(held) == created["holdout"]
    with recording_vendor() as (url, handed), app.app_context():
        app.config["VENDOR_URL"] = url
        assert delivery.dispatch(cid) == created["audience_size"] - len(held)
        time.sleep(OVERDUE)
        swept = delivery.sweep_overdue(timeout=1)
    assert swept == {"handed": created["audience_size"] - len(held), "failed": 0}
    assert handed and not held & set(handed)
    stored = assert_counters_match_log(app, cid)
    assert stored["holdout"] == len(held)


def test_log_and_its_csv_filter_holdout_rows(app, api):
    load_customers(api, 30)
    created = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi",
                                      "holdout_percent": 50}).json
    cid, held = created["id"], created["holdout"]
    assert held > 0
    page = api.get(f"/campaigns/{cid}/log?status=holdout&per_page=500").json
    assert page["total"] == len(page["items"]) == held
    assert {i["status"] for i in page["items"]} == {"HOLDOUT"}
    response = api.get(f"/campaigns/{cid}/log.csv?status=HOLDOUT")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(int(r["id"]) for r in rows) == sorted(i["id"] for i in page["items"])
    assert {r["status"] for r in rows} == {"HOLDOUT"}


def test_the_two_step_pages_carry_holdout_and_attribution(app, api, signed_in):
    load_customers(api, 20)
    fields = dict(name="Measured", audience="rule", rule="visits >= 0", message="Hi",
                  key="form-h", holdout_percent="25", attribution_days="14")
    page = signed_in.get("/campaigns/confirm", query_string=fields).get_data(as_text=True)
    assert 'name="holdout_percent" value="25"' in page
    assert 'name="attribution_days" value="14"' in page
    assert re.search(r'id="confirm-holdout">25% \(about 5\)<', page)
    assert 'id="confirm-attribution">14<' in page
    assert re.search(r'id="edit-link" href="[^"]*holdout_percent=25', page)
    response = post_form(signed_in, "/campaigns/send", **fields)
    assert response.status_code == 303
    cid = int(response.location.rsplit("/", 1)[1])
    with app.app_context():
        c = db.session.get(Campaign, cid)
        assert (c.name, c.holdout_percent, c.attribution_days, c.audience_size) == (
            "Measured", 25, 14, 20)
        db.session.remove()
    assert_counters_match_log(app, cid)
    again = signed_in.get(f"/campaigns/new?again={cid}").get_data(as_text=True)
    assert re.search(r'name="holdout_percent"[^>]*value="25"', again)
