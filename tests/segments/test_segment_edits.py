"""Segments that stay true while two people edit them: unique names, versions, fresh sizes."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from tests.helpers import customer, order, post_form, scratch_database, test_config
from xeno import create_app
from xeno.db import migrate
from xeno.db.models import Segment
from xeno.extensions import db
from xeno.platform.filters import ago
from xeno.segments import service


@pytest.fixture
def shop(api):
    """C1 spends 25,000 in one visit, C2 12,000 in 2 visits, C3 nothing."""
    api.post_customers([customer(n) for n in (1, 2, 3)])
    api.post_orders([order(1, 1, "25000.00"), order(2, 2, "6000.00"), order(3, 2, "6000.00")])


def _put(api, segment_id, body):
    return api.client.put(f"/api/v1/segments/{segment_id}", json=body, headers=api.headers)


def _stored(app, segment_id):
    with app.app_context():
        segment = db.session.get(Segment, segment_id)
        out = (segment.name, segment.rule, segment.version)
        db.session.remove()
    return out


@pytest.mark.parametrize("first, second", [
    ("Big spenders", "big SPENDERS"), ("Été", "été"), ("Straße", "STRASSE"),
])
def test_segment_names_are_unique_ignoring_case(app, api, shop, first, second):
    assert api.post("/segments", {"name": first, "rule": "spend > 1"}).status_code == 201
    response = api.post("/segments", {"name": second, "rule": "visits > 1"})
    assert response.status_code == 422 and response.json["error"] == "name_taken"
    assert first in response.json["message"] or second in response.json["message"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Segment)) == 1


def test_renaming_onto_another_name_is_taken_but_recasing_ones_own_is_not(app, api, shop):
    big = api.post("/segments", {"name": "Big", "rule": "spend > 10000"}).json
    other = api.post("/segments", {"name": "Other", "rule": "visits > 1"}).json
    taken = _put(api, other["id"], {"name": "BIG"})
    assert taken.status_code == 422 and taken.json["error"] == "name_taken"
    assert _stored(app, other["id"]) == ("Other", "visits > 1", 1)
    recased = _put(api, big["id"], {"name": "BIG", "version": 1})
    assert recased.status_code == 200 and recased.json["name"] == "BIG"


def test_an_edit_from_an_older_version_is_an_edit_conflict(app, api, shop):
    """Tab 1 saves a new rule; tab 2, opened before, renames: refused, the rule stays."""
    created = api.post("/segments", {"name": "Big", "rule": "spend > 10000 AND visits <= 3"}).json
    assert created["version"] == 1
    tab1 = _put(api, created["id"], {"rule": "spend > 20000", "version": 1})
    assert tab1.status_code == 200 and tab1.json["version"] == 2 and tab1.json["size"] == 1
    tab2 = _put(api, created["id"], {"name": "Whales", "rule": created["rule"], "version": 1})
    assert tab2.status_code == 409
    assert tab2.json["error"] == "edit_conflict"
    assert tab2.json["segment"] == api.get(f"/segments/{created['id']}").json
    assert tab2.json["segment"]["rule"] == "spend > 20000"
    assert _stored(app, created["id"]) == ("Big", "spend > 20000", 2)
    overwrite = _put(api, created["id"], {"name": "Whales", "version": 2})
    assert overwrite.status_code == 200 and overwrite.json["version"] == 3
    assert _stored(app, created["id"]) == ("Whales", "spend > 20000", 3)


def test_without_a_version_the_change_applies_and_still_counts_as_one(app, api, shop):
    created = api.post("/segments", {"name": "Big", "rule": "spend > 10000"}).json
    response = _put(api, created["id"], {"name": "Bigger"})
    assert response.status_code == 200 and response.json["version"] == 2


def test_an_edit_landing_between_check_and_write_is_a_conflict(app, api, shop, monkeypatch):
    """Two editors with the same version: the UPDATE itself compares, so one loses."""
    created = api.post("/segments", {"name": "Big", "rule": "spend > 10000"}).json
    real_count = service.count

    def count_while_someone_saves(node, now=None):  # noqa: ANN001
        with db.engine.begin() as other:
            other.execute(update(Segment).where(Segment.id == created["id"])
                          .values(rule="visits > 5", version=Segment.version + 1))
        return real_count(node, now)

    monkeypatch.setattr(service, "count", count_while_someone_saves)
    response = _put(api, created["id"], {"rule": "spend > 1", "version": 1})
    assert response.status_code == 409
    assert response.json["segment"]["rule"] == "visits > 5"
    assert _stored(app, created["id"]) == ("Big", "visits > 5", 2)


def test_list_carries_size_and_counted_at_and_recount_counts_the_page_afresh(app, api, shop):
    old = api.post("/segments", {"name": "Old", "rule": "spend > 10000"}).json
    new = api.post("/segments", {"name": "New", "rule": "visits >= 1"}).json
    assert (old["size"], new["size"]) == (2, 2)
    with app.app_context():  # counted long ago
        db.session.execute(update(Segment).values(counted_at=datetime(2020, 1, 1)))
        db.session.commit()
    api.post_orders([order(4, 3, "15000.00")])  # C3 now spends 15,000 in one visit
    items = api.get("/segments").json["items"]
    assert [(i["name"], i["size"], i["counted_at"]) for i in items] == [
        ("New", 2, "2020-01-01T00:00:00Z"), ("Old", 2, "2020-01-01T00:00:00Z")]
    first_page = api.get("/segments?recount=1&per_page=1").json["items"]
    assert [(i["name"], i["size"]) for i in first_page] == [("New", 3)]
    assert first_page[0]["counted_at"] > "2020-01-01T00:00:00Z"
    after = api.get("/segments").json["items"]
    assert [(i["name"], i["size"], i["counted_at"] == "2020-01-01T00:00:00Z") for i in after] == [
        ("New", 3, False), ("Old", 2, True)]
    assert api.get("/segments?recount=yes").json["items"][1]["size"] == 3
    assert api.get("/segments?recount=maybe").status_code == 422


def test_migration_renames_duplicate_names_it_finds(tmp_path):
    with scratch_database("xeno_dup", tmp_path / "dup.sqlite3") as url:
        app = create_app(test_config(url))
        with app.app_context():
            migrate.upgrade("0003")
            with db.engine.begin() as conn:
                for name in ("Big", "big", "Small"):
                    conn.execute(text(
                        "INSERT INTO segments (name, rule, size, created_at, updated_at) "
                        "VALUES (:n, 'visits > 1', 0, '2025-01-01', '2025-01-01')"), {"n": name})
            migrate.upgrade()
            with db.engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT name, name_key, version, counted_at FROM segments ORDER BY id")).all()
            assert [tuple(r[:3]) for r in rows] == [
                ("Big", "big", 1), ("big (2)", "big (2)", 1), ("Small", "small", 1)]
            assert all(r[3] is not None for r in rows)
            db.engine.dispose()


def test_the_form_without_javascript_refuses_an_old_version_then_overwrites(app, api, signed_in,
                                                                             shop):
    segment = api.post("/segments", {"name": "Big", "rule": "spend > 10000"}).json
    assert _put(api, segment["id"], {"rule": "spend > 20000", "version": 1}).status_code == 200
    form = {"name": "Whales", "rule": "spend > 10000", "action": "save", "version": "1"}
    page = post_form(signed_in, f"/segments/{segment['id']}/edit", **form)
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Someone else changed this segment" in text and "spend > 20000" in text
    assert 'name="version" value="2"' in text  # saving this form again overwrites
    assert _stored(app, segment["id"]) == ("Big", "spend > 20000", 2)
    again = post_form(signed_in, f"/segments/{segment['id']}/edit", **{**form, "version": "2"})
    assert again.status_code == 302
    assert _stored(app, segment["id"]) == ("Whales", "spend > 10000", 3)
    taken = post_form(signed_in, "/segments/new", name="WHALES", rule="visits > 1", action="save")
    assert "already exists" in taken.get_data(as_text=True)


def test_the_segments_page_says_when_sizes_were_counted_and_recounts(app, api, signed_in, shop):
    api.post("/segments", {"name": "Big", "rule": "spend > 10000"})
    with app.app_context():
        db.session.execute(update(Segment).values(counted_at=datetime(2020, 1, 1)))
        db.session.commit()
    api.post_orders([order(4, 3, "15000.00")])
    page = signed_in.get("/segments").get_data(as_text=True)
    assert re.search(r'class="segment-size">2</span>', page) and "counted " in page
    assert "days ago" in page
    fresh = signed_in.get("/segments?recount=1").get_data(as_text=True)
    assert re.search(r'class="segment-size">3</span>', fresh) and "counted just now" in fresh


@pytest.mark.parametrize("seconds, text", [
    (5, "just now"), (61, "1 min ago"), (7200, "2 h ago"), (86400, "1 day ago"),
    (3 * 86400, "3 days ago"),
])
def test_ago_says_how_long_ago(seconds, text):
    now = datetime(2026, 1, 10, 12, 0, 0)
    assert ago(now - timedelta(seconds=seconds), now) == text
    assert ago(None) == "never"
