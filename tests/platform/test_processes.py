"""The real processes: `xeno demo` serves sample data; `xeno worker` consumes, and when
killed between read and ack, its entries are taken over and applied exactly once."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time

import requests
from sqlalchemy import func, select

from tests.helpers import SERVER_REDIS, customer, real_servers
from xeno.db.models import Customer
from xeno.extensions import db
from xeno.platform import streams as xstreams
from xeno.platform.streams import drain_stream, ensure_group


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the app's settings, but with the suite's own instance folder:
    a process started without it would make the real one (conftest checks it is untouched)."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("XENO_", "GOOGLE_")) or k == "XENO_INSTANCE_PATH"
    }
    return {**env, **extra}


def wait_until(predicate, timeout: float = 30.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def run_demo(instance, *args: str) -> tuple[int, str]:
    """Start `xeno demo` on its own instance folder, sign in, count customers, stop it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "demo", "--port", str(port), *args],
        cwd=instance.parent,
        env=clean_env(PYTHONPATH=os.getcwd(), XENO_INSTANCE_PATH=str(instance)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            try:
                return requests.get(f"{base}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return proc.poll() is not None  # stop waiting if it died

        wait_until(healthy, timeout=60)
        assert proc.poll() is None
        session = requests.Session()
        login = session.get(f"{base}/login", timeout=5)
        assert login.status_code == 200
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login.text)
        token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', login.text)
        assert token, "the sign-in page has a demo form with a CSRF token"
        home = session.post(f"{base}/login/demo", data={"csrf_token": token.group(1)}, timeout=5)
        assert home.status_code == 200
        api = session.get(f"{base}/api/v1/customers?per_page=5", timeout=5).json()
        assert len(api["items"]) == 5
        total = api["total"]
        assert str(total) in home.text  # the dashboard counts the customers
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    return total, output


def test_demo_keeps_its_database_across_restarts_and_fresh_starts_over(tmp_path):
    instance = tmp_path / "instance"
    total, output = run_demo(instance, "--customers", "150", "--orders", "400")
    assert total == 150 and "loading 150 customers" in output
    assert f"Using the embedded database {instance / 'xeno.sqlite3'}" in output

    total, output = run_demo(instance, "--customers", "60", "--orders", "100")
    assert total == 150  # kept: a restart never wipes the demo's data
    assert "keeping the 150 customers already there" in output and "loading" not in output

    total, output = run_demo(instance, "--fresh", "--customers", "60", "--orders", "100")
    assert total == 60 and "loading 60 customers" in output


def start_worker(database_url: str) -> subprocess.Popen:
    """`xeno worker` in its own process, on the suite's database and Redis."""
    env = clean_env(
        XENO_DATABASE_URL=database_url,
        XENO_REDIS_URL=SERVER_REDIS,
        XENO_SECRET_KEY="k",
        XENO_RECEIPT_SECRET="r",
        PYTHONPATH=os.getcwd(),
    )
    # A session of its own: RQ's scheduler is a forked child that outlives a kill of the
    # worker, so the whole group is ended afterwards (`end_worker`).
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def end_worker(worker: subprocess.Popen) -> None:
    """Stop the worker and anything it forked; no process outlives its test."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)


@real_servers
def test_worker_process_stores_what_the_api_publishes(app, api, database_url):
    worker = start_worker(database_url)
    try:
        response = api.post("/customers", [customer(n) for n in range(50)])
        batch = response.json["batch_id"]
        done = wait_until(lambda: api.get(f"/batches/{batch}").json["status"] == "done")
        assert done
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Customer)) == 50
    finally:
        end_worker(worker)


@real_servers
def test_worker_killed_between_read_and_ack_loses_nothing(app, api, broker, database_url):
    key = xstreams.stream_key("customers")
    broker.set("xeno:drain:customers", 1)  # publish without queueing drains: the worker sweeps
    batches = [
        api.post("/customers", [customer(b * 1000 + n) for n in range(1000)]).json
        for b in range(40)
    ]
    ensure_group(broker, key)
    broker.delete("xeno:drain:customers")  # the worker's start-up sweep finds the backlog
    worker = start_worker(database_url)
    try:
        wait_until(lambda: broker.xpending(key, xstreams.GROUP)["pending"] > 0, every=0.002)
        worker.send_signal(signal.SIGKILL)  # mid-batch: read, maybe written, not acked
        worker.wait(timeout=10)
    finally:
        end_worker(worker)
    pending = broker.xpending(key, xstreams.GROUP)["pending"]
    assert pending > 0, "the killed worker left entries pending"

    app.config["STREAM_RECLAIM_IDLE_MS"] = 0
    with app.app_context():
        drain_stream("customers", consumer="rescuer")
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 40_000
        statuses = [xstreams.batch_status(b["batch_id"]) for b in batches]
    assert broker.xpending(key, xstreams.GROUP)["pending"] == 0
    assert all(s["stored"] == 1000 and s["status"] == "done" for s in statuses)
