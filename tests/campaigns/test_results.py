"""Did it work: GET /campaigns/<id>/results against an oracle computed here from the rows
the test wrote — recipients against the holdout, last touch across overlapping campaigns,
FAILED recipients, orders before sending, the Wald interval, no holdout."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import func, literal, select, update

from tests.dsl.oracle import attribute
from tests.helpers import (
    assert_counters_match_log,
    counters,
    customer,
    live_server,
    load_customers,
    test_config,
    wait_until,
)
from xeno import create_app
from xeno.db.clock import utcnow
from xeno.db.models import Campaign, CommunicationLog, Customer, Order
from xeno.extensions import db
from xeno.platform import broker as xbroker

NOW = utcnow().replace(microsecond=0)
T0 = NOW - dt.timedelta(days=12)


@pytest.fixture(autouse=True)
def _no_delivery(app):
    """Statuses and times are set by the test, not by a vendor."""
    app.config["CAMPAIGN_AUTOSTART"] = False


def _at(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _orders(api, *items: tuple[int, dt.datetime, str]) -> None:
    body = [{"id": f"O{i}", "customer_id": f"C{who}", "amount": amount, "ordered_at": _at(when)}
            for i, (who, when, amount) in enumerate(items, start=1)]
    assert api.post_orders(body).status_code == 202


def _campaign(api, app, rule: str, created: dt.datetime, days: int, **extra: Any) -> int:
    response = api.post("/campaigns", {"rule": rule, "message": "Hi", "attribution_days": days,
                                       **extra})
    assert response.status_code == 201, response.json
    with app.app_context():
        db.session.execute(update(Campaign).where(Campaign.id == response.json["id"])
                           .values(created_at=created))
        db.session.execute(update(CommunicationLog)
                           .where(CommunicationLog.campaign_id == response.json["id"])
                           .values(created_at=created, updated_at=created))
        db.session.commit()
    return response.json["id"]


def _settle(app, campaign_id: int, rows: dict[int, tuple[str, dt.datetime]]) -> None:
    """Give customers' rows a status and time, then recount the counters from the log."""
    with app.app_context():
        ids = dict(db.session.execute(select(Customer.external_id, Customer.id)).all())
        for who, (status, when) in rows.items():
            db.session.execute(update(CommunicationLog).where(
                CommunicationLog.campaign_id == campaign_id,
                CommunicationLog.customer_id == ids[f"C{who}"]).values(status=status,
                                                                       updated_at=when))
        counts = dict(db.session.execute(
            select(CommunicationLog.status, func.count())
            .where(CommunicationLog.campaign_id == campaign_id)
            .group_by(CommunicationLog.status)).all())
        db.session.execute(update(Campaign).where(Campaign.id == campaign_id).values(
            sent=counts.get("SENT", 0), failed=counts.get("FAILED", 0),
            pending=counts.get("PENDING", 0), holdout=counts.get("HOLDOUT", 0)))
        db.session.commit()


def _oracle(app, campaign_id: int) -> dict[str, Any]:
    """SPEC's results computed in Python from the rows as stored."""
    with app.app_context():
        log = [dict(r._mapping) for r in db.session.execute(select(CommunicationLog.__table__))]
        orders = [dict(r._mapping) for r in db.session.execute(select(Order.__table__))]
        campaigns = {c.id: {"id": c.id, "created_at": c.created_at,
                            "attribution_days": c.attribution_days}
                     for c in db.session.scalars(select(Campaign))}
        external = dict(db.session.execute(select(Customer.id, Customer.external_id)).all())
        db.session.remove()
    claims = attribute(campaigns, log, orders, external)[campaign_id]
    out: dict[str, Any] = {"attribution_days": campaigns[campaign_id]["attribution_days"]}
    for group, status in (("recipients", "SENT"), ("holdout", "HOLDOUT")):
        size = sum(1 for r in log if r["campaign_id"] == campaign_id and r["status"] == status)
        pairs = claims[group]
        out[group] = {"count": size, "converted": len({who for who, _ in pairs}),
                      "orders": len(pairs),
                      "revenue": float(sum((Decimal(o["amount"]) for _, o in pairs),
                                           Decimal(0)))}
    n1, n2 = out["recipients"]["count"], out["holdout"]["count"]
    p1 = out["recipients"]["converted"] / n1 if n1 else None
    p2 = out["holdout"]["converted"] / n2 if n2 else None
    out["conversion_rate"] = {"recipients": p1, "holdout": p2}
    if p1 is None or p2 is None:
        out["uplift"] = out["incremental_revenue"] = None
        return out
    half = 1.96 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    out["uplift"] = {"absolute": p1 - p2, "relative": (p1 - p2) / p2 if p2 else None,
                     "ci95": [p1 - p2 - half, p1 - p2 + half]}
    out["incremental_revenue"] = (out["recipients"]["revenue"]
                                  - out["holdout"]["revenue"] * n1 / n2)
    return out


def _same(got: Any, want: Any) -> bool:
    """Equal, floats to 1e-9 relative, through nested dicts and lists."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            _same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) == len(want)
                and all(_same(g, w) for g, w in zip(got, want, strict=True)))
    if isinstance(want, float) and not isinstance(got, bool):
        return isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9,
                                                               abs_tol=1e-9)
    return got == want and type(got) is type(want)


def _results(api, campaign_id: int) -> dict[str, Any]:
    response = api.get(f"/campaigns/{campaign_id}/results")
    assert response.status_code == 200, response.json
    body = response.json
    assert dt.datetime.fromisoformat(body.pop("as_of").replace("Z", "+00:00"))
    return body


@pytest.fixture
def two_campaigns(app, api):
    """A (7 days) and B (3 days, sent two days after A) over C1..C12, with a holdout in A."""
    api.post_customers([customer(n) for n in range(1, 14)])
    a = _campaign(api, app, "visits >= 0", T0, 7)
    b = _campaign(api, app, 'name IN ("Customer 2", "Customer 3", "Customer 13")',
                  T0 + dt.timedelta(days=2), 3)
    sent_a, sent_b = T0 + dt.timedelta(hours=1), T0 + dt.timedelta(days=2, hours=1)
    _settle(app, a, {
        **{n: ("SENT", sent_a) for n in (1, 2, 3, 4, 5, 13)}, 6: ("FAILED", sent_a),
        7: ("PENDING", T0), 8: ("SENT", sent_a),
        **{n: ("HOLDOUT", T0) for n in (9, 10, 11, 12)}})
    _settle(app, b, {2: ("SENT", sent_b), 3: ("SENT", sent_b), 13: ("FAILED", sent_b)})
    day = dt.timedelta(days=1)
    _orders(api,
            (1, T0 + 2 * day, "1000.00"),            # A: in its window
            (1, T0 - day, "555.00"),                 # before sending: never counts
            (2, T0 + 3 * day, "200.50"),             # last touch B, within 3 days: B
            (3, T0 + 6 * day, "300.00"),             # last touch B, 4 days after: nobody
            (4, T0 + day, "400.00"),                 # before B existed: A
            (5, T0 + 8 * day, "500.00"),             # after A's 7 days: nobody
            (6, T0 + day, "600.00"),                 # FAILED in A: nobody
            (13, T0 + 3 * day, "130.00"),            # FAILED in B, SENT in A: A
            (8, sent_a, "0.10"), (8, sent_a + day, "0.20"),  # at the SENT instant: counts
            (9, T0 + 2 * day, "900.00"),             # holdout: converts
            (10, T0 - 2 * day, "1.00"),              # holdout, before the campaign: no
            (11, T0 + 8 * day, "1100.00"),           # holdout, after 7 days: no
            (12, T0 + day, "12.00"), (12, T0 + 5 * day, "12.50"))  # two orders, one customer
    return a, b


def test_results_match_the_oracle_for_recipients_and_holdout(app, api, two_campaigns):
    a, _b = two_campaigns
    body = _results(api, a)
    assert _same(body, _oracle(app, a)), (body, _oracle(app, a))
    # the oracle itself is what SPEC says, spelled out for this data
    assert body["recipients"] == {"count": 7, "converted": 4, "orders": 5,
                                  "revenue": pytest.approx(1530.30)}
    assert body["holdout"] == {"count": 4, "converted": 2, "orders": 3,
                               "revenue": pytest.approx(924.50)}
    p1, p2 = 4 / 7, 2 / 4
    half = 1.96 * math.sqrt(p1 * (1 - p1) / 7 + p2 * (1 - p2) / 4)
    assert body["uplift"]["absolute"] == pytest.approx(p1 - p2)
    assert body["uplift"]["relative"] == pytest.approx((p1 - p2) / p2)
    assert body["uplift"]["ci95"] == pytest.approx([p1 - p2 - half, p1 - p2 + half])
    assert body["incremental_revenue"] == pytest.approx(1530.30 - 924.50 * 7 / 4)


def test_last_touch_gives_an_order_to_the_later_campaign_only(app, api, two_campaigns):
    _a, b = two_campaigns
    body = _results(api, b)
    assert _same(body, _oracle(app, b)), (body, _oracle(app, b))
    assert body["recipients"] == {"count": 2, "converted": 1, "orders": 1, "revenue": 200.5}
    assert body["uplift"] is None and body["incremental_revenue"] is None
    assert body["conversion_rate"] == {"recipients": 0.5, "holdout": None}


def test_converted_rule_selects_the_customers_results_count(app, api, two_campaigns):
    a, b = two_campaigns
    converted = api.post("/segments/preview", {"rule": f"campaign {a} IS CONVERTED"}).json
    assert sorted(c["id"] for c in converted["sample"]) == ["C1", "C12", "C13", "C4", "C8",
                                                           "C9"]
    only_b = api.post("/segments/preview", {"rule": f"campaign {b} IS CONVERTED"}).json
    assert [c["id"] for c in only_b["sample"]] == ["C2"]


def test_finished_campaigns_count_to_the_last_instant_of_their_window(app, api,
                                                                     two_campaigns):
    """A finished campaign's window ends `attribution_days` after its finished_at (the
    query ranges over that window): the same answers as the oracle, with an order at the
    window's last instant counted and one a second later not."""
    a, b = two_campaigns
    sent_a, sent_b = T0 + dt.timedelta(hours=1), T0 + dt.timedelta(days=2, hours=1)
    _settle(app, a, {7: ("FAILED", sent_a)})  # nothing PENDING: the campaign can finish
    with app.app_context():  # finished as receipts finish it: at its last moved row
        for cid, last in ((a, sent_a), (b, sent_b)):
            db.session.execute(update(Campaign).where(Campaign.id == cid)
                               .values(status="done", finished_at=last))
        db.session.commit()
    edge = [{"id": "edge", "customer_id": "C4", "amount": "70.00",
             "ordered_at": _at(sent_a + dt.timedelta(days=7))},
            {"id": "past", "customer_id": "C5", "amount": "80.00",
             "ordered_at": _at(sent_a + dt.timedelta(days=7, seconds=1))}]
    assert api.post_orders(edge).status_code == 202
    for cid in (a, b):
        body = _results(api, cid)
        assert _same(body, _oracle(app, cid)), (cid, body, _oracle(app, cid))
    recipients = _results(api, a)["recipients"]
    assert (recipients["converted"], recipients["orders"]) == (4, 6)
    assert recipients["revenue"] == pytest.approx(1530.30 + 70)
    converted = api.post("/segments/preview", {"rule": f"campaign {a} IS CONVERTED"}).json
    assert sorted(c["id"] for c in converted["sample"]) == ["C1", "C12", "C13", "C4", "C8",
                                                           "C9"]
    items = {c["id"]: c for c in api.get("/campaigns").json["items"]}
    assert items[a]["revenue"] == pytest.approx(1600.30) and items[b]["revenue"] == 200.5


def test_list_and_detail_carry_revenue_and_holdout(app, api, two_campaigns):
    a, b = two_campaigns
    items = {c["id"]: c for c in api.get("/campaigns").json["items"]}
    assert items[a]["revenue"] == pytest.approx(1530.30) and items[b]["revenue"] == 200.5
    for item in items.values():
        assert (item["sent"] + item["failed"] + item["pending"] + item["holdout"]
                == item["audience_size"])
    detail = api.get(f"/campaigns/{a}").json
    assert (detail["holdout"], detail["attribution_days"], detail["revenue"]) == (
        4, 7, pytest.approx(1530.30))


def test_orders_ingested_later_count_as_they_arrive(app, api, two_campaigns):
    a, _b = two_campaigns
    before = _results(api, a)["recipients"]
    _orders_later = [{"id": "late", "customer_id": "C5", "amount": "50.00",
                      "ordered_at": _at(T0 + dt.timedelta(days=3))}]
    assert api.post_orders(_orders_later).status_code == 202
    after = _results(api, a)["recipients"]
    assert (after["converted"], after["orders"]) == (before["converted"] + 1,
                                                    before["orders"] + 1)
    assert after["revenue"] == pytest.approx(before["revenue"] + 50)


def test_daily_counts_first_conversions_per_group(app, api, two_campaigns):
    a, _b = two_campaigns
    body = api.get(f"/campaigns/{a}/results/daily").json
    assert body["days"][0] == T0.date().isoformat()
    assert sum(body["recipients"]) == 4 and sum(body["holdout"]) == 2
    assert body["holdout"][body["days"].index((T0 + dt.timedelta(days=1)).date().isoformat())] == 1


def test_relative_uplift_is_null_when_the_holdout_never_converts(app, api):
    api.post_customers([customer(n) for n in range(1, 5)])
    c = _campaign(api, app, "visits >= 0", T0, 7)
    _settle(app, c, {1: ("SENT", T0), 2: ("SENT", T0), 3: ("HOLDOUT", T0),
                     4: ("HOLDOUT", T0)})
    _orders(api, (1, T0 + dt.timedelta(days=1), "10.00"))
    body = _results(api, c)
    assert body["uplift"]["absolute"] == 0.5 and body["uplift"]["relative"] is None
    assert _same(body, _oracle(app, c)), (body, _oracle(app, c))


def test_results_of_an_unknown_campaign_is_a_404(api):
    response = api.get("/campaigns/999999/results")
    assert response.status_code == 404 and response.json["error"] == "not_found"


@pytest.mark.parametrize("extra", [{"holdout_percent": 51}, {"holdout_percent": -1},
                                   {"holdout_percent": "10"}, {"attribution_days": 0},
                                   {"attribution_days": 91}, {"attribution_days": 1.5}])
def test_out_of_range_settings_are_a_422(api, extra):
    response = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi", **extra})
    assert response.status_code == 422
    assert list(extra)[0] in str(response.json)


def _statuses(app, campaign_id: int) -> dict[str, int]:
    with app.app_context():
        counts = dict(db.session.execute(
            select(CommunicationLog.status, func.count())
            .where(CommunicationLog.campaign_id == campaign_id)
            .group_by(CommunicationLog.status)).all())
        db.session.remove()
    return counts


@pytest.mark.parametrize("sql_messages", [True, False])
def test_holdout_share_is_within_a_binomial_bound(app, api, monkeypatch, sql_messages):
    """2000 customers, 20% asked: the drawn share is Binomial(2000, 0.2), σ ≈ 17.9; on
    both snapshot paths (message built in SQL, or rendered in Python)."""
    from xeno.campaigns import messages

    load_customers(api, 2000)
    if not sql_messages:
        monkeypatch.setattr(messages.MessageTemplate, "sql", lambda *a: None)
    response = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi {{ name }}",
                                       "holdout_percent": 20})
    assert response.status_code == 201 and response.json["audience_size"] == 2000
    counts = _statuses(app, response.json["id"])
    held = counts["HOLDOUT"]
    assert abs(held - 400) <= 4 * math.sqrt(2000 * 0.2 * 0.8)
    assert counts == {"HOLDOUT": held, "PENDING": 2000 - held}
    body = api.get(f"/campaigns/{response.json['id']}").json
    assert (body["holdout"], body["pending"], body["holdout_percent"]) == (held, 2000 - held, 20)
    log = api.get(f"/campaigns/{response.json['id']}/log?status=holdout&per_page=5").json
    assert log["total"] == held and {i["status"] for i in log["items"]} == {"HOLDOUT"}


def test_holdout_rows_are_never_sent_and_the_campaign_finishes(app, api):
    load_customers(api, 60)
    demo = create_app(test_config(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=None))
    with live_server(demo) as url:
        response = requests.post(f"{url}/api/v1/campaigns", headers=api.headers, timeout=60,
                                 json={"rule": "visits >= 0", "message": "Hi",
                                       "holdout_percent": 50})
        assert response.status_code == 201, response.text
        campaign_id = response.json()["id"]
        assert wait_until(lambda: counters(app, campaign_id)["status"] == "done", timeout=120)
        with demo.app_context():
            assert xbroker.wait_background(30)
            db.engine.dispose()
    stored = assert_counters_match_log(app, campaign_id)
    counts = _statuses(app, campaign_id)
    assert counts.get("PENDING", 0) == 0 and counts["HOLDOUT"] == stored["holdout"] > 0
    assert stored["sent"] + stored["failed"] == 60 - stored["holdout"]
    with app.app_context():  # written once by the snapshot, never touched by delivery
        moved = db.session.scalar(select(func.count()).select_from(CommunicationLog).where(
            CommunicationLog.campaign_id == campaign_id, CommunicationLog.status == "HOLDOUT",
            CommunicationLog.updated_at != CommunicationLog.created_at))
        db.session.remove()
    assert moved == 0


def test_an_audience_all_held_back_is_done_at_once(app, api, monkeypatch):
    from xeno.campaigns import holdout

    api.post_customers([customer(1)])
    monkeypatch.setattr(holdout, "status_column", lambda percent: literal("HOLDOUT"))
    response = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi",
                                       "holdout_percent": 50})
    assert response.json["status"] == "done"
    assert counters(app, response.json["id"])["holdout"] == 1


def test_cli_sends_with_a_holdout_and_prints_results(app, api, runner):
    api.post_customers([customer(n) for n in range(1, 41)])
    sent = runner.invoke(args=["campaign", "send", "--rule", "visits >= 0", "--message", "Hi",
                               "--holdout-percent", "50", "--attribution-days", "3",
                               "--no-wait"])
    assert sent.exit_code == 0, sent.output
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
        campaign_id, held = campaign.id, campaign.holdout
        assert (campaign.holdout_percent, campaign.attribution_days) == (50, 3)
        db.session.remove()
    assert f"campaign {campaign_id}: 40 recipient(s), {held} held back" in sent.output
    shown = runner.invoke(args=["campaign", "results", str(campaign_id)])
    assert shown.exit_code == 0, shown.output
    holdout_line = next(x for x in shown.output.splitlines() if x.startswith("holdout"))
    assert holdout_line.split()[1:3] == [str(held), "customers,"]
    assert "Nobody has received the message yet" in shown.output
    bad = runner.invoke(args=["campaign", "send", "--rule", "visits >= 0", "--message", "Hi",
                              "--holdout-percent", "60"])
    assert bad.exit_code == 2 and "--holdout-percent" in bad.output
