"""What tests share: servers to run against, record factories, API actions, live processes.

Plain functions and classes only; fixtures live in conftest.py files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from cli import main
from xeno.auth.tokens import create_token
from xeno.db.models import Campaign, CommunicationLog, Segment
from xeno.extensions import db
from xeno.platform.signing import HEADER, sign
from xeno.platform.worker import QUEUES, AppWorker

SERVER_DB = os.environ.get("XENO_TEST_DATABASE_URL")
SERVER_REDIS = os.environ.get("XENO_TEST_REDIS_URL")
# Under pytest-xdist each worker (gw0, gw1, ...) flushes a Redis db of its own, the next
# ones after the configured db; each already has a database of its own (uuid-named).
_XDIST = os.environ.get("PYTEST_XDIST_WORKER", "")
if SERVER_REDIS and _XDIST.startswith("gw"):
    _url = SERVER_REDIS.rstrip("/")
    _base, _, _db = _url.rpartition("/")
    SERVER_REDIS = f"{_base}/{(int(_db or 0) + int(_XDIST[2:])) % 16}"
REAL = bool(SERVER_DB and SERVER_REDIS)

real_servers = pytest.mark.skipif(
    not REAL, reason="needs XENO_TEST_DATABASE_URL and XENO_TEST_REDIS_URL"
)


@contextmanager
def scratch_database(prefix: str, sqlite_path: Path) -> Iterator[str]:
    """A database of its own on the server the suite runs against, dropped afterwards."""
    if not REAL:
        yield f"sqlite:///{sqlite_path}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    # The server, not the URL's database (which need not exist): URL.set() leaves a field
    # it is given None for as it was, so the named tuple's _replace clears it.
    server = create_engine(make_url(SERVER_DB)._replace(database=None))
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield make_url(SERVER_DB).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


def test_config(database_url: str, **overrides: object) -> dict[str, object]:
    """The configuration every test app starts from."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": SERVER_REDIS if REAL else None,
        "SECRET_KEY": "test-secret-key",
        "RECEIPT_SECRET": "test-receipt-secret",
        "SESSION_COOKIE_SECURE": False,
        "STREAM_RECLAIM_IDLE_MS": 60_000,
        **overrides,
    }


test_config.__test__ = False  # type: ignore[attr-defined]


class XenoCliRunner(FlaskCliRunner):
    """Invokes the `xeno` command group (not `app.cli`) against the test app."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Any:
        return super().invoke(cli or main, args, **kwargs)




def customer(n: int, **fields: Any) -> dict[str, Any]:
    """A valid customer record C<n>."""
    return {
        "id": f"C{n}",
        "name": f"Customer {n}",
        "email": f"c{n}@example.com",
        "city": "Mumbai",
        **fields,
    }


def order(
    n: int, customer_n: int, amount: str | float = "100.00", days_ago: float = 1, **fields: Any
) -> dict[str, Any]:
    """A valid order O<n> of customer C<customer_n>."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "id": f"O{n}",
        "customer_id": f"C{customer_n}",
        "amount": amount,
        "ordered_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }


class ApiActions:
    """A token-holding API client; `drain()` runs queued jobs when a real broker is used."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        with app.app_context():
            self.token = create_token("tests")
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, body: Any, **kwargs: Any) -> TestResponse:
        """POST JSON with the token."""
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET with the token."""
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post_customers(self, records: Any) -> TestResponse:
        """Publish customers and make sure they are applied."""
        response = self.post("/customers", records)
        self.drain()
        return response

    def post_orders(self, records: Any) -> TestResponse:
        """Publish orders and make sure they are applied."""
        response = self.post("/orders", records)
        self.drain()
        return response

    def drain(self) -> None:
        """Run every queued job to the end, in-process (no-op in embedded mode)."""
        if not self.app.config.get("REDIS_URL"):
            return
        conn = self.app.extensions["xeno_redis"]
        worker = AppWorker(list(QUEUES), connection=conn)
        worker.app = self.app
        worker.work(burst=True, logging_level="WARNING")


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
    # A session of its own: RQ's scheduler is a forked child that outlives a `kill -9` of
    # the worker, and the whole group is ended afterwards.
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "worker"],
        env=variables, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


class PrivateRedis:
    """A redis-server of this test's own on a free port, to kill and start again."""

    def __init__(self, folder: Path, appendonly: bool = False) -> None:
        self.folder, self.appendonly = folder, appendonly
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        """Start (or start again) on the same port and wait until it answers."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--save", "", "--appendonly", "yes" if self.appendonly else "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        probe = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        assert wait_until(lambda: _answers(probe), timeout=20), "redis-server did not start"
        probe.close()
        return self

    def kill(self) -> None:
        """`kill -9` the server."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _answers(conn: Any) -> bool:
    try:
        return bool(conn.ping())
    except Exception:
        return False


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def recording_vendor() -> Iterator[tuple[str, list[int]]]:
    """A vendor that takes every message (202) and never sends a receipt; yields its send
    URL and the log ids it was handed, in order, repeats included."""
    handed: list[int] = []

    class Vendor(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            handed.extend(m["log_id"] for m in body["messages"])
            answer = json.dumps({"accepted": len(body["messages"])}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Vendor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/send", handed
    finally:
        server.shutdown()
        server.server_close()


def slow_job(key: str, seconds: float) -> None:
    """A test job: count its runs in Redis under `key`, and take `seconds` on its first."""
    from xeno.platform.broker import connection

    if connection().incr(key) == 1:
        time.sleep(seconds)


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
               "pending": c.pending, "holdout": c.holdout, "status": c.status,
               "finished_at": c.finished_at}
        db.session.remove()
    return out


def assert_counters_match_log(app: Flask, campaign_id: int) -> dict[str, Any]:
    """Counters equal COUNTs over the log and add up to the audience."""
    counts, stored = log_counts(app, campaign_id), counters(app, campaign_id)
    assert stored["sent"] == counts.get("SENT", 0)
    assert stored["failed"] == counts.get("FAILED", 0)
    assert stored["pending"] == counts.get("PENDING", 0)
    assert stored["holdout"] == counts.get("HOLDOUT", 0)
    assert (stored["sent"] + stored["failed"] + stored["pending"] + stored["holdout"]
            == stored["audience_size"])
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


def csrf(client: FlaskClient) -> str:
    """The CSRF token a page carries in its meta tag."""
    page = client.get("/segments").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def post_form(client: FlaskClient, path: str, **fields: str):
    """Submit a page form the way a browser without JavaScript does."""
    return client.post(path, data={"csrf_token": csrf(client), **fields})


SEGMENT_RULE = "spend > 10000 AND visits <= 3"


def saved_segment(app: Flask, name: str = "Big", rule: str = SEGMENT_RULE) -> int:
    """A stored segment's id."""
    with app.app_context():
        segment = Segment(name=name, rule=rule, size=1, created_by="x@y")
        db.session.add(segment)
        db.session.commit()
        return segment.id
