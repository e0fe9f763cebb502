"""Safe sending: consent, the frequency cap and the breakdown, against counts made here.

Each test builds its own history in `communications_log` (rows of an earlier campaign with
chosen times and statuses) and works out by hand who may receive the next campaign, then
compares that with what the snapshot wrote and what the API said.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.helpers import csrf, customer, load_customers
from xeno import create_app
from xeno.db.clock import utcnow
from xeno.db.models import Campaign, CommunicationLog, Customer
from xeno.extensions import db
from xeno.platform.config import ConfigError

COUNT = 40


@pytest.fixture(autouse=True)
def _no_delivery(app):
    app.config["CAMPAIGN_AUTOSTART"] = False


def _history(app, rows: dict[int, list[tuple[str, float]]]) -> None:
    """Log rows of earlier campaigns: customer n → [(status, days ago), ...], one per campaign."""
    now = utcnow()
    with app.app_context():
        ids = dict(db.session.execute(select(Customer.external_id, Customer.id)).all())
        for i in range(max(len(v) for v in rows.values())):
            past = Campaign(name=f"past {i}", rule="visits >= 0", message=f"m{i}",
                            status="done", created_at=now - timedelta(days=30))
            db.session.add(past)
            db.session.flush()
            db.session.add_all(
                CommunicationLog(campaign_id=past.id, customer_id=ids[f"C{n}"], message="x",
                                 status=entries[i][0], updated_at=now,
                                 created_at=now - timedelta(days=entries[i][1]))
                for n, entries in rows.items() if i < len(entries)
            )
        db.session.commit()


def _recipients(app, campaign_id: int) -> set[str]:
    with app.app_context():
        found = set(db.session.scalars(
            select(Customer.external_id).join(CommunicationLog,
                                              CommunicationLog.customer_id == Customer.id)
            .where(CommunicationLog.campaign_id == campaign_id)))
        db.session.remove()
    return found


def _unsubscribe(api, numbers) -> None:
    for n in numbers:
        assert api.post(f"/customers/C{n}/unsubscribe", None).status_code == 200


# Who has what in the log, and who unsubscribed: chosen to hit every edge of the rules.
HISTORY = {
    1: [("SENT", 1), ("PENDING", 2)],   # 2 recent: capped at 2/7d
    2: [("SENT", 1), ("FAILED", 2)],    # FAILED does not count: 1 recent
    3: [("SENT", 1), ("SENT", 8)],      # one is older than 7 days: 1 recent
    4: [("PENDING", 0.1), ("SENT", 6.9), ("SENT", 3)],  # 3 recent: capped
    5: [("SENT", 1), ("SENT", 2)],      # capped and unsubscribed: counts once, unsubscribed
    6: [("SENT", 10), ("SENT", 20)],    # old history only
}
UNSUBSCRIBED = {5, 7, 8}


def _expected(cap: int | None, days: int = 7) -> dict[str, set[str]]:
    """Who is left out and why, and who receives: worked out from HISTORY alone."""
    out = {"unsubscribed": set(), "frequency_cap": set(), "receive": set()}
    for n in range(1, COUNT + 1):
        recent = [s for s, ago in HISTORY.get(n, []) if s in ("SENT", "PENDING") and ago < days]
        if n in UNSUBSCRIBED:
            out["unsubscribed"].add(f"C{n}")
        elif cap is not None and len(recent) >= cap:
            out["frequency_cap"].add(f"C{n}")
        else:
            out["receive"].add(f"C{n}")
    return out


@pytest.fixture
def shop(app, api):
    load_customers(api, COUNT)
    _history(app, HISTORY)
    _unsubscribe(api, UNSUBSCRIBED)


@pytest.mark.parametrize("cap, ignore", [("2/7d", False), ("2/7d", True), (None, False),
                                         ("3/7d", False), ("1/2d", False)])
def test_snapshot_leaves_out_the_unsubscribed_and_the_capped(app, api, shop, cap, ignore):
    app.config["FREQUENCY_CAP"] = cap
    limit, days = (None, 7) if cap is None or ignore else (int(cap[0]), int(cap[2]))
    expected = _expected(limit, days)
    body = {"rule": "visits >= 0", "message": "Hi {{ name }}", "ignore_frequency_cap": ignore}
    breakdown = {
        "matched": COUNT,
        "excluded": {"unsubscribed": len(expected["unsubscribed"]),
                     "frequency_cap": len(expected["frequency_cap"])},
        "audience_size": len(expected["receive"]),
    }
    preview = api.post("/campaigns/preview", body).json
    assert {k: preview[k] for k in breakdown} == breakdown
    assert {m["customer"]["id"] for m in preview["messages"]} <= expected["receive"]
    created = api.post("/campaigns", body)
    assert created.status_code == 201, created.json
    assert {k: created.json[k] for k in breakdown} == breakdown
    assert _recipients(app, created.json["id"]) == expected["receive"]
    detail = api.get(f"/campaigns/{created.json['id']}").json
    assert (detail["matched"], detail["excluded"], detail["audience_size"]) == (
        breakdown["matched"], breakdown["excluded"], breakdown["audience_size"])


def test_python_rendered_snapshot_leaves_out_the_same_customers(app, api, shop):
    app.config["FREQUENCY_CAP"] = "2/7d"
    body = {"rule": "visits >= 0", "message": "{% if visits > 1 %}VIP{% endif %}{{ name }}"}
    created = api.post("/campaigns", body).json
    assert _recipients(app, created["id"]) == _expected(2)["receive"]


def test_the_new_campaign_counts_towards_the_cap_of_the_next(app, api, shop):
    app.config["FREQUENCY_CAP"] = "2/7d"
    first = api.post("/campaigns", {"rule": "visits >= 0", "message": "one"}).json
    second = api.post("/campaigns", {"rule": "visits >= 0", "message": "two"}).json
    once = _recipients(app, first["id"])
    # Whoever had one recent row before the first campaign has two now.
    had_one = {f"C{n}" for n in (2, 3)}
    assert had_one <= once
    assert _recipients(app, second["id"]) == once - had_one
    assert second["excluded"]["frequency_cap"] == first["excluded"]["frequency_cap"] + 2


def test_an_audience_of_only_unsubscribed_customers_creates_nothing(app, api, shop):
    body = {"rule": 'name = "Customer 7" OR name = "Customer 8"', "message": "Hi"}
    response = api.post("/campaigns", body)
    assert response.status_code == 422
    assert response.json["error"] == "empty_audience"
    assert (response.json["matched"], response.json["excluded"]["unsubscribed"]) == (2, 2)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign).where(
            Campaign.name.not_like("past%"))) == 0
        assert db.session.scalar(select(func.count()).select_from(CommunicationLog).where(
            CommunicationLog.message != "x")) == 0
    preview = api.post("/campaigns/preview", body).json
    assert (preview["audience_size"], preview["messages"]) == (0, [])


def test_ingestion_sets_and_clears_consent_and_omitted_leaves_it(app, api):
    api.post_customers([customer(1, unsubscribed=True), customer(2, unsubscribed=False),
                        customer(3)])
    items = {c["id"]: c for c in api.get("/customers?per_page=10").json["items"]}
    first_time = items["C1"]["unsubscribed_at"]
    assert first_time and items["C2"]["unsubscribed_at"] is None
    api.post_customers([customer(1, name="Renamed")])  # omitted: unchanged
    api.post_customers([customer(1, unsubscribed=True)])  # again: keeps the first time
    assert api.get("/customers?q=C1").json["items"][0]["unsubscribed_at"] == first_time
    api.post_customers([customer(1, unsubscribed=False), customer(3, unsubscribed=True)])
    items = {c["id"]: c for c in api.get("/customers?per_page=10").json["items"]}
    assert items["C1"]["unsubscribed_at"] is None and items["C3"]["unsubscribed_at"]
    bad = api.post("/customers", [customer(4, unsubscribed="maybe")])
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "unsubscribed"


def test_unsubscribe_and_resubscribe_answer_the_customer(app, api):
    api.post_customers([customer(1), customer(2, id="A/1")])
    first = api.post("/customers/C1/unsubscribe", None)
    assert first.status_code == 200
    assert first.json["id"] == "C1" and first.json["unsubscribed_at"].endswith("Z")
    again = api.post("/customers/C1/unsubscribe", None).json
    assert again["unsubscribed_at"] == first.json["unsubscribed_at"]
    assert api.post("/customers/A/1/unsubscribe", None).json["id"] == "A/1"
    count = api.post("/segments/preview", {"rule": "unsubscribed_at IS NOT EMPTY"}).json
    assert count["count"] == 2
    since = api.post("/segments/preview", {"rule": "unsubscribed_at >= 1 day ago"}).json
    assert since["count"] == 2
    back = api.post("/customers/C1/resubscribe", None)
    assert (back.status_code, back.json["unsubscribed_at"]) == (200, None)
    missing = api.post("/customers/C404/unsubscribe", None)
    assert (missing.status_code, missing.json["error"]) == (404, "not_found")
    assert api.client.post("/api/v1/customers/C1/unsubscribe").status_code == 401


def test_the_session_may_unsubscribe_with_its_csrf_token(app, api, signed_in):
    api.post_customers([customer(1)])
    refused = signed_in.post("/api/v1/customers/C1/unsubscribe")
    assert refused.status_code == 400
    done = signed_in.post("/api/v1/customers/C1/unsubscribe",
                          headers={"X-CSRFToken": csrf(signed_in)})
    assert done.status_code == 200 and done.json["unsubscribed_at"]


@pytest.mark.parametrize("value, expected", [("3/7d", (3, 7)), (" 1 / 30D ", (1, 30)),
                                             ("", None)])
def test_frequency_cap_setting_is_read(monkeypatch, value, expected):
    monkeypatch.setenv("XENO_FREQUENCY_CAP", value)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["FREQUENCY_CAP"] == expected


@pytest.mark.parametrize("value", ["3/7", "0/7d", "3/0d", "three a week", "3/7h"])
def test_a_bad_frequency_cap_setting_stops_start_up(monkeypatch, value):
    monkeypatch.setenv("XENO_FREQUENCY_CAP", value)
    with pytest.raises(ConfigError, match="XENO_FREQUENCY_CAP"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_cap_reads_one_range_of_its_index_per_customer(app, api, shop):
    """The plan, not a timing: a scan of the log per customer would be a million-row disaster."""
    from xeno.campaigns import audience

    app.config["FREQUENCY_CAP"] = "2/7d"
    with app.test_request_context():
        now = utcnow()
        target = audience.of_rule("visits >= 0", None, now)
        query = select(Customer.id).where(audience.receivers(target, now, False))
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "mysql":
            plan = db.session.execute(text(f"EXPLAIN {sql}")).mappings().all()
            log_step = next(p for p in plan if p["table"] in ("communications_log", "l"))
            assert log_step["key"] == "ix_log_customer_recent"
            assert log_step["type"] in ("ref", "range")
        else:
            plan = " ".join(r[-1] for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "ix_log_customer_recent" in plan
