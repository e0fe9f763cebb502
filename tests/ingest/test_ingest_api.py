"""Ingestion over HTTP: validate, publish, consume, store — and every error SPEC names."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import customer, order, real_servers
from xeno.db.models import Customer, Order
from xeno.extensions import db
from xeno.platform import streams as xstreams


def stored_customers(app) -> dict[str, Customer]:
    with app.app_context():
        rows = db.session.scalars(select(Customer)).all()
        db.session.expunge_all()
        return {c.external_id: c for c in rows}


def plain_aggregates(app) -> dict[str, tuple[Decimal, int, datetime | None]]:
    """What SUM/COUNT/MAX over the stored orders say, per stored customer."""
    with app.app_context():
        query = (
            select(
                Customer.external_id,
                func.sum(Order.amount),
                func.count(Order.id),
                func.max(Order.ordered_at),
            )
            .select_from(Customer)
            .outerjoin(Order, Order.customer_external_id == Customer.external_id)
            .group_by(Customer.external_id)
        )
        return {
            ext: (Decimal(total or 0).quantize(Decimal("0.01")), count, last)
            for ext, total, count, last in db.session.execute(query)
        }


def test_posted_customers_and_orders_are_stored(app, api):
    response = api.post_customers([customer(1, phone="+919812345678"), customer(2, city="")])
    assert response.status_code == 202
    assert response.json["accepted"] == 2
    api.post_orders([order(1, 1, "2599.00"), order(2, 1, "100.50")])

    rows = stored_customers(app)
    assert set(rows) == {"C1", "C2"}
    assert rows["C1"].phone == "+919812345678"
    assert rows["C2"].city is None
    assert rows["C1"].total_spend == Decimal("2699.50")
    assert rows["C1"].visits == 2
    assert rows["C2"].visits == 0 and rows["C2"].last_visit_at is None


def test_single_object_body_is_accepted(api, app):
    response = api.post_customers(customer(7))
    assert response.status_code == 202 and response.json["accepted"] == 1
    assert "C7" in stored_customers(app)


def test_batch_status_reports_counts(api):
    response = api.post_customers([customer(n) for n in range(5)])
    batch = api.get(f"/batches/{response.json['batch_id']}").json
    assert batch == {
        "batch_id": response.json["batch_id"],
        "kind": "customers",
        "status": "done",
        "received": 5,
        "stored": 5,
        "rejected": 0,
        "errors": [],
    }


def test_resending_same_ids_changes_nothing_twice(app, api):
    customers = [customer(n) for n in range(1, 4)]
    orders = [order(n, 1 + n % 3, f"{n * 10}.25") for n in range(1, 10)]
    api.post_customers(customers)
    api.post_orders(orders)
    before = plain_aggregates(app), stored_customers(app)["C1"].total_spend
    api.post_customers(customers)
    api.post_orders(orders)
    api.post_orders(orders)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 9
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 3
    assert (plain_aggregates(app), stored_customers(app)["C1"].total_spend) == before


def test_orders_before_their_customer_count_once_it_arrives(app, api):
    api.post_orders([order(1, 42, "500.00", days_ago=3), order(2, 42, "250.00", days_ago=1)])
    assert "C42" not in stored_customers(app)
    api.post_customers([customer(42)])
    c42 = stored_customers(app)["C42"]
    assert (c42.total_spend, c42.visits) == (Decimal("750.00"), 2)
    assert c42.last_visit_at is not None


def test_resent_customer_without_signup_keeps_stored_signup(app, api):
    api.post_customers([customer(1, signup_at="2024-05-01T10:00:00+05:30")])
    api.post_customers([customer(1, name="Renamed")])
    c1 = stored_customers(app)["C1"]
    assert c1.name == "Renamed"
    assert c1.signup_at == datetime(2024, 5, 1, 4, 30)


def test_aggregates_equal_plain_sums_after_random_mix(app, api):
    rng = random.Random(20261125)
    ids = list(range(1, 31))
    api.post_customers([customer(n) for n in ids[:20]])  # ten arrive only later
    orders: dict[int, dict] = {}
    for _round in range(12):
        batch = []
        for _ in range(rng.randint(1, 40)):
            n = rng.randint(1, 120)
            if n in orders and rng.random() < 0.4:
                batch.append(orders[n])  # an exact re-send
                continue
            record = order(
                n,
                rng.choice(ids),
                f"{rng.randint(1, 500000) / 100:.2f}",
                days_ago=rng.uniform(0, 700),
            )  # new, or an update that may move it
            orders[n] = record
            batch.append(record)
        api.post_orders(batch)
        if _round == 6:
            api.post_customers([customer(n) for n in ids[20:]])
    stored = stored_customers(app)
    expected = plain_aggregates(app)
    assert len(stored) == 30
    for ext, (total, count, last) in expected.items():
        c = stored[ext]
        assert (c.total_spend, c.visits, c.last_visit_at) == (total, count, last), ext
    # and against what was sent, independently of the database
    sent_total = sum(Decimal(o["amount"]) for o in orders.values())
    assert sum(c.total_spend for c in stored.values()) == sent_total


def test_validation_lists_every_bad_record_and_accepts_none(app, api):
    body = [customer(1), {"id": "C2"}, customer(3, email="not-an-email"), customer(4, extra=1)]
    response = api.post("/customers", body)
    assert response.status_code == 422
    assert response.json["error"] == "validation_failed"
    problems = {(e["index"], e["field"]) for e in response.json["errors"]}
    assert problems == {(1, "name"), (2, "email"), (3, "extra")}
    api.drain()
    assert stored_customers(app) == {}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (order(1, 1, amount="-5"), "amount"),
        (order(1, 1, amount="10.123"), "amount"),
        (order(1, 1, amount=True), "amount"),
        (order(1, 1, days_ago=-2), "ordered_at"),
        ({"id": "O1", "customer_id": "C1", "amount": 5}, "ordered_at"),
        (order(1, 1, ordered_at="yesterday"), "ordered_at"),
    ],
)
def test_bad_orders_are_refused_with_the_field(api, record, field):
    response = api.post("/orders", [record])
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == [field]


def test_missing_token_is_401_json(client):
    response = client.post("/api/v1/customers", json=[customer(1)])
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_invalid_token_is_401_json(client):
    response = client.post(
        "/api/v1/customers", json=[customer(1)], headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_invalid_json_is_400(api):
    response = api.client.post(
        "/api/v1/orders", data="[{", headers={**api.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json["error"] == "invalid_json"


def test_non_json_body_is_415(api):
    response = api.client.post(
        "/api/v1/customers",
        data="id,name\n1,a",
        headers={**api.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 415 and response.json["error"] == "unsupported_media_type"


def test_more_than_1000_records_is_413(api, app):
    response = api.post("/customers", [customer(n) for n in range(1001)])
    assert response.status_code == 413 and response.json["error"] == "too_large"
    api.drain()
    assert stored_customers(app) == {}


def test_body_over_one_mebibyte_is_413(api):
    big = [customer(n, attributes={"note": "x" * 2000}) for n in range(600)]
    response = api.post("/customers", big)
    assert response.status_code == 413 and response.json["error"] == "too_large"


def test_unknown_batch_is_404(api):
    response = api.get("/batches/doesnotexist")
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_batches_are_token_only(app, client, api):
    response = client.get("/api/v1/batches/x")
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_ingestion_uses_a_fixed_number_of_statements_per_batch(app, api):
    from sqlalchemy import event

    api.post_customers([customer(n) for n in range(1000)])
    statements: list[str] = []
    with app.app_context():

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            api.post_orders([order(n, n % 1000) for n in range(1000)])
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert 0 < len(writes) <= 3, writes


def test_a_dead_consumers_entries_are_reclaimed_and_applied_once(app, api, broker):
    """A worker that read entries and died before acking: another consumer takes them over."""
    from xeno.platform.streams import drain_stream, ensure_group

    with app.app_context():
        key = xstreams.stream_key("orders")
        ensure_group(broker, key)
        api.post_customers([customer(1)])
        # Publish without queueing a drain, as if the drain job itself were the one that died.
        broker.set("xeno:drain:orders", 1)
        api.post("/orders", [order(1, 1, "10.00"), order(2, 1, "20.00")])
        dead = broker.xreadgroup(xstreams.GROUP, "dead-worker", {key: ">"}, count=10)
        assert len(dead[0][1]) == 1
        assert stored_customers(app)["C1"].visits == 0

        app.config["STREAM_RECLAIM_IDLE_MS"] = 0
        drain_stream("orders", consumer="rescuer")
        drain_stream("orders", consumer="another")  # nothing left to apply twice

        c1 = stored_customers(app)["C1"]
        assert (c1.visits, c1.total_spend) == (2, Decimal("30.00"))
        assert broker.xpending(key, xstreams.GROUP)["pending"] == 0
        batch_id = broker.keys("xeno:batch:*")
        statuses = [
            xstreams.batch_status(k.decode().split(":")[2])
            for k in batch_id
            if not k.endswith(b":errors")
        ]
        assert all(s["stored"] == s["received"] for s in statuses)


@real_servers
def test_broker_down_is_503_and_nothing_is_accepted(app, api, broker):
    import redis as redis_lib

    app.extensions["xeno_redis"] = redis_lib.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2
    )
    try:
        response = api.post("/customers", [customer(1)])
        health = client_health(app)
    finally:
        app.extensions["xeno_redis"] = broker
    assert response.status_code == 503
    assert response.json["error"] == "broker_unavailable"
    assert broker.keys("xeno:*") == []
    assert health["broker"]["status"].startswith("down") and health["broker"]["durable"] is False


def client_health(app):
    return app.test_client().get("/healthz").json


@real_servers
def test_database_down_is_503_on_health(app):
    from sqlalchemy import create_engine

    engines = db._app_engines[app]
    real = engines[None]
    engines[None] = create_engine(
        "mysql+pymysql://root@127.0.0.1:1/x", connect_args={"connect_timeout": 1}
    )
    try:
        response = app.test_client().get("/healthz")
    finally:
        engines[None] = real
    assert response.status_code == 503 and response.json["database"].startswith("down")


@pytest.mark.parametrize("size", [3, 600])  # small chunks go multi-row, big ones through staging
def test_awkward_text_survives_the_bulk_write(app, api, size):
    awkward = 'Tab\there, new\nline, back\\slash, \\N, quote\' "dq", ₹ दिल्ली, emoji 🎉'
    records = [
        customer(n, name=f"{awkward} {n}", city="Pune\\", attributes={"note": awkward, "n": n})
        for n in range(size)
    ]
    assert api.post_customers(records).status_code == 202
    rows = stored_customers(app)
    assert len(rows) == size
    for n in range(size):
        row = rows[f"C{n}"]
        assert row.name == f"{awkward} {n}"
        assert row.city == "Pune\\"
        assert row.attributes == {"note": awkward, "n": n}
        assert row.email == f"c{n}@example.com" and row.phone is None


def test_big_batches_still_store_where_load_data_is_refused(app, api, monkeypatch):
    from xeno.db import bulk

    monkeypatch.setattr(bulk, "_load_data_allowed", lambda conn: False)  # MySQL 8's default
    assert api.post_customers([customer(n, city="Pune\t") for n in range(700)]).status_code == 202
    rows = stored_customers(app)
    assert len(rows) == 700 and rows["C699"].city == "Pune"  # whitespace trimmed by validation
