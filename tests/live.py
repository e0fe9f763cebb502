"""Live-server helpers: the app on a real port, a `xeno worker` beside it, log checks.

Delivery goes over real HTTP (dispatch → /vendor/send → vendor job → /receipts), so the
campaign tests serve the test app with werkzeug's threaded server on a free port and
point PUBLIC_URL at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from xeno.db.models import Campaign, CommunicationLog
from xeno.extensions import db
from xeno.platform.signing import HEADER, sign

from .factories import customer

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> in a thread; PUBLIC_URL points at it meanwhile."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    previous = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        app.config["PUBLIC_URL"] = previous


@contextmanager
def worker_process(app: Flask, **env: str) -> Iterator[subprocess.Popen]:
    """A `xeno worker` on the test database and Redis, configured like the app."""
    variables = {
        **os.environ,
        "XENO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "XENO_REDIS_URL": app.config["REDIS_URL"],
        "XENO_SECRET_KEY": app.config["SECRET_KEY"],
        "XENO_RECEIPT_SECRET": app.config["RECEIPT_SECRET"],
        "XENO_PUBLIC_URL": app.config["PUBLIC_URL"],
        "XENO_VENDOR_FAILURE_RATE": str(app.config["VENDOR_FAILURE_RATE"]),
        **env,
    }
    variables.pop("XENO_DEV_LOGIN", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "worker"],
        env=variables, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(predicate, timeout: float = 60.0, every: float = 0.1) -> bool:  # noqa: ANN001
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return bool(value)
        time.sleep(every)


def load_customers(api: Any, count: int, **fields: Any) -> None:
    """Store `count` customers C1..Ccount through the ingestion API."""
    for start in range(1, count + 1, 1000):
        batch = [customer(n, **fields) for n in range(start, min(start + 1000, count + 1))]
        assert api.post_customers(batch).status_code == 202


def signed_post(client: Any, path: str, payload: Any, secret: str = "test-receipt-secret"):
    """POST a body signed the way the vendor signs it."""
    body = json.dumps(payload).encode()
    return client.post(
        f"/api/v1{path}", data=body, content_type="application/json",
        headers={HEADER: sign(body, secret)},
    )


def log_counts(app: Flask, campaign_id: int) -> dict[str, int]:
    """COUNT(*) of a campaign's log rows per status."""
    with app.app_context():
        rows = db.session.execute(
            select(CommunicationLog.status, func.count())
            .where(CommunicationLog.campaign_id == campaign_id)
            .group_by(CommunicationLog.status)
        ).all()
        db.session.remove()
    return {status: n for status, n in rows}


def counters(app: Flask, campaign_id: int) -> dict[str, Any]:
    """A campaign's stored counters and status."""
    with app.app_context():
        c = db.session.get(Campaign, campaign_id)
        out = {"audience_size": c.audience_size, "sent": c.sent, "failed": c.failed,
               "pending": c.pending, "status": c.status, "finished_at": c.finished_at}
        db.session.remove()
    return out


def assert_counters_match_log(app: Flask, campaign_id: int) -> dict[str, Any]:
    """Counters equal COUNTs over the log and add up to the audience."""
    counts, stored = log_counts(app, campaign_id), counters(app, campaign_id)
    assert stored["sent"] == counts.get("SENT", 0)
    assert stored["failed"] == counts.get("FAILED", 0)
    assert stored["pending"] == counts.get("PENDING", 0)
    assert stored["sent"] + stored["failed"] + stored["pending"] == stored["audience_size"]
    return stored


def log_ids(app: Flask, campaign_id: int) -> list[int]:
    """A campaign's log ids in order."""
    with app.app_context():
        ids = list(db.session.scalars(
            select(CommunicationLog.id).where(CommunicationLog.campaign_id == campaign_id)
            .order_by(CommunicationLog.id)
        ))
        db.session.remove()
    return ids
