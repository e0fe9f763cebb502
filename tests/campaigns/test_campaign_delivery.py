"""End to end over real HTTP: create → dispatch → vendor → one receipt call per message."""

from __future__ import annotations

from datetime import timedelta

import requests

from tests.helpers import (
    REAL,
    assert_counters_match_log,
    counters,
    live_server,
    load_customers,
    log_counts,
    real_servers,
    test_config,
    wait_until,
    worker_process,
)
from xeno import create_app
from xeno.extensions import db
from xeno.platform import broker as xbroker


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
        assert (created["audience_size"], created["status"]) == (2000, "sending")
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


def _closed_port_url() -> str:
    """An address where nothing listens: every call is refused at once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_embedded_campaign_whose_vendor_is_unreachable_ends_failed(app, api):
    """A dispatch that fails for good leaves no message PENDING and no campaign `sending`."""
    load_customers(api, 30)
    demo = create_app(
        test_config(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=None,
                    PUBLIC_URL=_closed_port_url())
    )
    response = demo.test_client().post(
        "/api/v1/campaigns", json={"rule": "visits >= 0", "message": "Hi"}, headers=api.headers
    )
    assert response.status_code == 201, response.json
    with demo.app_context():
        assert xbroker.wait_background(60)
    stored = assert_counters_match_log(app, response.json["id"])
    assert (stored["status"], stored["failed"], stored["pending"]) == ("done", 30, 0)
    assert log_counts(app, response.json["id"]) == {"FAILED": 30}
    with demo.app_context():
        db.engine.dispose()


@real_servers
def test_rq_gives_a_dispatch_up_after_its_retries(app, api):
    from rq import Retry

    from xeno.campaigns import delivery
    from xeno.campaigns.jobs import dispatch_campaign
    from xeno.platform.worker import run_worker

    app.config["CAMPAIGN_AUTOSTART"] = False
    load_customers(api, 30)
    created = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi"}).json
    app.config["PUBLIC_URL"] = _closed_port_url()
    with app.app_context():
        job = xbroker.background(
            dispatch_campaign, created["id"], retry=Retry(max=1),
            give_up=delivery.abandon_campaign,
        )
    run_worker(app, queues=("default",), burst=True, sweep_every=0)
    job.refresh()
    assert job.get_status() == "failed" and job.retries_left == 0  # tried twice, then gave up
    stored = assert_counters_match_log(app, created["id"])
    assert (stored["status"], stored["failed"], stored["pending"]) == ("done", 30, 0)


@real_servers
def test_a_campaign_whose_dispatch_was_lost_is_delivered_again(app, api):
    """No dispatch job (the broker lost it, or the database was down through its retries
    and its give-up): once the campaign is older than the receipt timeout the chore starts
    one, never a second beside one that waits, and every message is handed over once."""
    from rq.job import Job
    from sqlalchemy import select, update

    from xeno.campaigns.jobs import job_id, resume_stranded
    from xeno.db.clock import utcnow
    from xeno.db.models import Campaign, CommunicationLog

    app.config["CAMPAIGN_AUTOSTART"] = False  # created without a job, as if it were lost
    load_customers(api, 30)
    created = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi"}).json
    cid = created["id"]
    app.config["CAMPAIGN_AUTOSTART"] = True
    with app.app_context():
        assert resume_stranded() == []  # younger than the receipt timeout: left alone
        db.session.execute(update(Campaign).where(Campaign.id == cid).values(
            created_at=utcnow() - timedelta(seconds=2 * app.config["RECEIPT_TIMEOUT"])))
        db.session.commit()
        assert resume_stranded() == [cid]
        assert resume_stranded() == []  # its job waits: not a second one
        job = Job.fetch(job_id(cid), connection=xbroker.connection())
        assert job.get_status() == "queued"
    with live_server(app), worker_process(app):
        assert wait_until(lambda: _finished(app, cid), timeout=120)
    stored = assert_counters_match_log(app, cid)
    assert (stored["sent"] + stored["failed"], stored["pending"]) == (30, 0)
    with app.app_context():
        hands = db.session.scalars(select(CommunicationLog.attempts)
                                   .where(CommunicationLog.campaign_id == cid)).all()
        assert hands == [1] * 30
        assert resume_stranded() == []  # delivered: nothing left to resume
