"""Ingestion under faults: nothing reverted, a refused record stops nothing else, batch
status outlives the broker, ids compared exactly, no entry retried forever."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from tests.helpers import customer, order, real_servers, scratch_database, test_config
from xeno import create_app
from xeno.db import migrate
from xeno.db.models import Customer, Order
from xeno.extensions import db
from xeno.ingest.schemas import CustomerIn, OrderIn
from xeno.ingest.store import store_customers, store_orders
from xeno.platform import streams as xstreams


def message(model, raw: dict, version: int) -> dict:
    """A record as a consumer receives it, with its entry's version."""
    return {**model.model_validate(raw).message(), xstreams.VERSION: version}


def amounts(app) -> dict[str, Decimal]:
    with app.app_context():
        return dict(db.session.execute(select(Order.external_id, Order.amount)).all())


def customers_by_id(app) -> dict[str, Customer]:
    with app.app_context():
        rows = db.session.scalars(select(Customer)).all()
        db.session.expunge_all()
        return {c.external_id: c for c in rows}


def hold_drains(broker, stream: str) -> None:
    """Publish without queueing a drain, as if no worker were free yet."""
    broker.set(f"xeno:drain:{stream}", 1)


def read_and_die(broker, stream: str) -> int:
    """A consumer reads every waiting entry and dies before acking."""
    key = xstreams.stream_key(stream)
    xstreams.ensure_group(broker, key)
    reply = broker.xreadgroup(xstreams.GROUP, "dead-worker", {key: ">"}, count=1000)
    return len(reply[0][1]) if reply else 0


@pytest.mark.parametrize("size", [2, 600])  # multi-row and LOAD DATA writes
def test_an_older_resend_delivered_late_never_reverts_the_newer(app, api, broker, size):
    """The first send's entry is reclaimed from a dead consumer after the re-send applied."""
    api.post_customers([customer(n) for n in range(size)])
    with app.app_context():
        hold_drains(broker, "orders")
        hold_drains(broker, "customers")
        old = [order(n, n, "10.00") for n in range(size)]
        assert api.post("/orders", old).status_code == 202
        assert api.post("/customers", [customer(n, city="Old") for n in range(size)]).json
        assert read_and_die(broker, "orders") == 1 and read_and_die(broker, "customers") == 1
        new = [order(n, n, "99.50") for n in range(size)]
        assert api.post("/orders", new).status_code == 202
        assert api.post("/customers", [customer(n, city="New") for n in range(size)]).json
        xstreams.drain_stream("orders", consumer="live")
        xstreams.drain_stream("customers", consumer="live")
        app.config["STREAM_RECLAIM_IDLE_MS"] = 0  # the dead consumer's old entries, now
        xstreams.drain_stream("orders", consumer="rescuer")
        xstreams.drain_stream("customers", consumer="rescuer")
        assert broker.xpending(xstreams.stream_key("orders"), xstreams.GROUP)["pending"] == 0
    assert set(amounts(app).values()) == {Decimal("99.50")}
    stored = customers_by_id(app)
    assert {c.city for c in stored.values()} == {"New"}
    assert {(c.total_spend, c.visits) for c in stored.values()} == {(Decimal("99.50"), 1)}


def test_the_store_keeps_the_highest_version_whatever_the_order(app):
    """Called directly: a newer version, then an older one; within one call, the newest."""
    c, o = (lambda v, *a, **k: message(CustomerIn, customer(*a, **k), v),
            lambda v, *a, **k: message(OrderIn, order(*a, **k), v))
    with app.app_context():
        store_customers([c(5, 1), c(9, 2, name="B new")])
        store_orders([o(5, 1, 1, "30.00"), o(9, 2, 2, "5.00")])
        store_customers([c(4, 1, name="A old")])
        store_orders([o(4, 1, 1, "1.00"), o(3, 1, 2, "2.00")])
        store_orders([o(12, 2, 2, "7.00"), o(11, 2, 2, "6.00")])
        store_customers([c(8, 2, name="B older"), c(10, 2, name="B")])
    assert amounts(app) == {"O1": Decimal("30.00"), "O2": Decimal("7.00")}
    stored = customers_by_id(app)
    assert (stored["C1"].name, stored["C1"].total_spend) == ("Customer 1", Decimal("30.00"))
    assert (stored["C2"].name, stored["C2"].total_spend) == ("B", Decimal("7.00"))


def test_a_record_the_database_refuses_is_reported_and_the_rest_of_its_read_stored(
    app, api, broker
):
    """32 nested objects pass our validation here (published directly) but fail MariaDB's
    json_valid CHECK; the three batches are read and written together."""
    deep: dict = {"leaf": 1}
    for _ in range(31):
        deep = {"a": deep}
    with app.app_context():
        hold_drains(broker, "customers")
        first = xstreams.publish("customers", [customer(n) for n in range(300)])
        bad_batch = [customer(n) for n in range(300, 600)]
        bad_batch[123] = customer(423, attributes=deep)
        middle = xstreams.publish("customers", bad_batch)
        last = xstreams.publish("customers", [customer(n) for n in range(600, 900)])
        xstreams.drain_stream("customers", consumer="one-read")
        statuses = {b: xstreams.batch_status(b) for b in (first, middle, last)}
        assert broker.xlen(xstreams.stream_key("customers")) == 0
    stored = customers_by_id(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        assert set(stored) == {f"C{n}" for n in range(900)} - {"C423"}
        refused = statuses[middle]
        assert (refused["status"], refused["stored"], refused["rejected"]) == ("done", 299, 1)
        [error] = refused["errors"]
        assert (error["index"], error["id"]) == (123, "C423")
        assert "refused by the database" in error["message"]
    else:  # SQLite keeps any JSON: nothing to refuse
        assert len(stored) == 900
    for batch in (first, last):
        assert statuses[batch]["stored"] == 300 and statuses[batch]["status"] == "done"


@pytest.mark.parametrize("pair", [("CaseA", "casea"), ("José", "Jose"), ("Ａ1", "A1")])
def test_ids_that_differ_in_case_or_accents_are_different_records(app, api, pair):
    first, second = pair
    api.post_customers([customer(1, id=first, name="First"), customer(2, id=second, name="Second")])
    api.post_orders([
        order(1, 1, "10.00", id=first, customer_id=first),
        order(2, 2, "20.00", id=second, customer_id=second),
    ])
    stored = customers_by_id(app)
    assert set(stored) == {first, second}
    assert (stored[first].name, stored[first].total_spend) == ("First", Decimal("10.00"))
    assert (stored[second].name, stored[second].total_spend) == ("Second", Decimal("20.00"))
    assert amounts(app) == {first: Decimal("10.00"), second: Decimal("20.00")}


def test_batch_status_answers_from_the_database_after_the_broker_lost_everything(
    app, api, broker
):
    response = api.post_customers([customer(n) for n in range(5)])
    batch_id = response.json["batch_id"]
    broker.flushdb()  # a Redis restarted without persistence
    answer = api.get(f"/batches/{batch_id}")
    assert answer.status_code == 200
    assert answer.json == {
        "batch_id": batch_id,
        "kind": "customers",
        "status": "done",
        "received": 5,
        "stored": 5,
        "rejected": 0,
        "errors": [],
    }


def test_a_batch_no_consumer_reached_yet_is_queued(app, api, broker):
    hold_drains(broker, "orders")
    batch_id = api.post("/orders", [order(1, 1), order(2, 1)]).json["batch_id"]
    answer = api.get(f"/batches/{batch_id}").json
    assert (answer["status"], answer["received"], answer["stored"]) == ("queued", 2, 0)
    with app.app_context():
        xstreams.drain_stream("orders")
    assert api.get(f"/batches/{batch_id}").json["status"] == "done"


def test_an_entry_failing_five_deliveries_is_set_aside_and_counted(app, api, broker, client):
    """A record the store cannot handle (no name: only a broken publisher sends that) fails
    every delivery; on the fifth it is set aside, and the entry read with it is stored."""
    with app.app_context():
        hold_drains(broker, "customers")
        app.config["STREAM_RECLAIM_IDLE_MS"] = 0
        broken = xstreams.publish("customers", [{"id": "X1", "city": "Pune"}])
        good = xstreams.publish("customers", [customer(1)])
        key = xstreams.stream_key("customers")
        for delivery in range(1, 5):
            with pytest.raises(KeyError):
                xstreams.drain_stream("customers", consumer="w")
            assert broker.xpending(key, xstreams.GROUP)["pending"] == 2, delivery
            assert client.get("/healthz").json["dead_letters"] == 0
        xstreams.drain_stream("customers", consumer="w")  # the fifth delivery
        assert broker.xlen(key) == 0
        assert broker.xlen(xstreams.dead_key("customers")) == 1
        statuses = xstreams.batch_status(broken), xstreams.batch_status(good)
    assert client.get("/healthz").json["dead_letters"] == 1
    assert set(customers_by_id(app)) == {"C1"}
    assert (statuses[1]["status"], statuses[1]["stored"]) == ("done", 1)
    assert (statuses[0]["status"], statuses[0]["rejected"]) == ("done", 1)
    [error] = statuses[0]["errors"]
    assert (error["index"], error["id"]) == (0, "X1")
    assert error["message"].startswith("set aside after 5 deliveries")


@real_servers
def test_connections_send_no_local_file_but_the_bulk_loaders_own(app, tmp_path):
    """A LOAD DATA LOCAL of any other file is refused by our side of the connection."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not send\n")
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE probe (line TEXT)")
        with pytest.raises(RuntimeError, match="local_infile option is false"):
            conn.exec_driver_sql(f"LOAD DATA LOCAL INFILE '{secret}' INTO TABLE probe")
        conn.invalidate()  # the server still waits for a file: this connection is done
    with app.app_context():  # ...while the bulk loader still loads its own file
        store_customers([message(CustomerIn, customer(n), 1) for n in range(600)])
    assert len(customers_by_id(app)) == 600


@real_servers
def test_the_exact_ids_migration_reports_orders_matched_only_by_case(tmp_path, caplog):
    with scratch_database("xeno_ids", tmp_path / "ids.sqlite3") as url:
        app = create_app(test_config(url))
        with app.app_context():
            migrate.upgrade("0003")
            with db.engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO customers (external_id, name, signup_at, created_at, updated_at,"
                    " total_spend, visits) VALUES ('CaseA', 'A', '2025-01-01', '2025-01-01',"
                    " '2025-01-01', 15, 2)"
                ))
                conn.execute(text(
                    "INSERT INTO orders (external_id, customer_external_id, amount, ordered_at,"
                    " created_at, updated_at) VALUES ('O1', 'casea', 10, '2025-01-02',"
                    " '2025-01-02', '2025-01-02'), ('O2', 'CaseA', 5, '2025-01-03',"
                    " '2025-01-03', '2025-01-03')"
                ))
            with caplog.at_level(logging.INFO):
                migrate.upgrade()
            with db.engine.connect() as conn:
                row = conn.execute(text("SELECT total_spend, visits FROM customers")).one()
            db.engine.dispose()
    assert "1 stored orders named their customer only up to case or accents" in caplog.text
    assert "'O1' -> 'casea' (was 'CaseA')" in caplog.text
    assert (row.total_spend, row.visits) == (Decimal("5.00"), 1)
