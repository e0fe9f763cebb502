"""End to end over real HTTP: create → dispatch → vendor → one receipt call per message."""

from __future__ import annotations

import requests

from xeno import broker as xbroker
from xeno import create_app
from xeno.extensions import db

from .conftest import REAL, real_servers, test_config
from .live import (
    assert_counters_match_log,
    counters,
    live_server,
    load_customers,
    log_counts,
    wait_until,
    worker_process,
)


def _create(url: str, api, body: dict) -> dict:
    response = requests.post(f"{url}/api/v1/campaigns", json=body, headers=api.headers,
                             timeout=60)
    assert response.status_code == 201, response.text
    return response.json()


def _finished(app, campaign_id: int) -> bool:
    return counters(app, campaign_id)["status"] == "done"


def test_embedded_campaign_is_delivered_over_http_without_a_worker(app, api):
    """Demo mode: no Redis, no worker; jobs run on background threads of the one process."""
    load_customers(api, 2000)
    demo = create_app(test_config(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=None))
    with live_server(demo) as url:
        created = _create(url, api, {"name": "Diwali", "rule": "visits >= 0",
                                     "message": "Hi [First Name], 10% off!"})
        assert created == {"id": created["id"], "audience_size": 2000, "status": "sending"}
        assert wait_until(lambda: _finished(app, created["id"]), timeout=180)
        with demo.app_context():
            assert xbroker.wait_background(30)
    stored = assert_counters_match_log(app, created["id"])
    assert stored["pending"] == 0 and stored["finished_at"] is not None
    assert 120 <= stored["failed"] <= 280  # 10% of 2000, more than 5 sigma either side
    with demo.app_context():
        demo.extensions["xeno_redis"].close()
        db.engine.dispose()


@real_servers
def test_campaign_is_delivered_by_a_worker_process(app, api):
    load_customers(api, 2000)
    with live_server(app) as url, worker_process(app) as worker:
        created = _create(url, api, {"name": "Diwali", "rule": "visits >= 0",
                                     "message": "Hi {{ first_name|default('there') }}!"})
        assert created["audience_size"] == 2000
        assert wait_until(lambda: _finished(app, created["id"]), timeout=180), (
            counters(app, created["id"]), worker.poll()
        )
    stored = assert_counters_match_log(app, created["id"])
    assert stored["pending"] == 0
    assert 120 <= stored["failed"] <= 280
    assert sum(log_counts(app, created["id"]).values()) == 2000


def test_a_scheduled_campaign_waits_then_is_delivered(app, api):
    from datetime import UTC, datetime, timedelta

    load_customers(api, 20)
    at = (datetime.now(UTC) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with live_server(app) as url:
        worker = worker_process(app) if REAL else None
        if worker:
            worker.__enter__()
        try:
            created = _create(url, api, {"rule": "visits >= 0", "message": "Hi {{ name }}",
                                         "scheduled_at": at})
            assert created["status"] == "scheduled"
            assert counters(app, created["id"])["status"] == "scheduled"
            assert log_counts(app, created["id"]) == {"PENDING": 20}
            assert wait_until(lambda: _finished(app, created["id"]), timeout=60)
        finally:
            if worker:
                worker.__exit__(None, None, None)
    assert assert_counters_match_log(app, created["id"])["pending"] == 0
