"""`xeno worker` under faults: it outlives broker outages and takes up a dead worker's jobs."""

from __future__ import annotations

import signal
import time

import redis
from rq import Retry
from sqlalchemy import func, select

from tests.helpers import (
    ApiActions,
    PrivateRedis,
    customer,
    real_servers,
    slow_job,
    test_config,
    wait_until,
    worker_process,
)
from xeno import create_app
from xeno.db.models import Customer
from xeno.extensions import db
from xeno.platform import broker as xbroker


def _stored_customers(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Customer.id)))
        db.session.remove()
    return count


def _on_private_redis(app, server: PrivateRedis):
    return create_app(test_config(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=server.url))


@real_servers
def test_worker_carries_on_after_the_broker_was_killed_mid_job(app, tmp_path):
    server = PrivateRedis(tmp_path).start()
    private = _on_private_redis(app, server)
    api = ApiActions(private, private.test_client())
    probe = redis.Redis.from_url(server.url)
    try:
        with worker_process(private) as worker:
            with private.app_context():
                xbroker.enqueue(slow_job, "xeno:test:runs", 2)
            assert wait_until(lambda: probe.get("xeno:test:runs") == b"1", timeout=30)
            server.kill()
            time.sleep(5)  # the job ends while the broker is away
            assert worker.poll() is None, worker.stderr.read()[-3000:]
            server.start()  # empty: no persistence on this one
            response = api.post("/customers", [customer(1), customer(2)])
            assert response.status_code == 202, response.json
            assert wait_until(lambda: _stored_customers(app) == 2, timeout=60), (
                worker.poll(), worker.poll() is not None and worker.stderr.read()[-3000:]
            )
            assert worker.poll() is None  # the same process, never restarted
    finally:
        server.kill()
        with private.app_context():
            db.engine.dispose()


@real_servers
def test_worker_waits_out_an_outage_and_still_stops_on_sigterm(app, tmp_path):
    server = PrivateRedis(tmp_path).start()
    private = _on_private_redis(app, server)
    try:
        with worker_process(private) as worker:
            probe = redis.Redis.from_url(server.url)
            assert wait_until(lambda: bool(probe.keys("rq:worker:*")), timeout=30)
            server.kill()
            time.sleep(4)
            assert worker.poll() is None
            worker.send_signal(signal.SIGTERM)
            assert wait_until(lambda: worker.poll() is not None, timeout=15)
            assert worker.returncode == 0, worker.stderr.read()[-3000:]
    finally:
        server.kill()
        with private.app_context():
            db.engine.dispose()


@real_servers
def test_a_job_whose_worker_was_killed_runs_again_within_seconds(app, broker):
    key = "xeno:test:runs"
    with app.app_context():
        # One retry left for when its worker dies; a timeout far beyond the test.
        xbroker.enqueue(slow_job, key, 600, retry=Retry(max=1), job_timeout=900)
    beat = {"XENO_JOB_HEARTBEAT_SECONDS": "1"}
    with worker_process(app, **beat) as first:
        assert wait_until(lambda: broker.get(key) == b"1", timeout=30)
        first.kill()  # kill -9 in the middle of the job
        first.wait()
        killed = time.monotonic()
        with worker_process(app, **beat) as second:
            assert wait_until(lambda: broker.get(key) == b"2", timeout=60), second.poll()
            taken_up = time.monotonic() - killed
    # Three missed beats and one sweep, not the job's 900 s timeout (SPEC: within 2 minutes).
    assert taken_up < 20, taken_up

