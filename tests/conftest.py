"""Fixtures: an app on a fresh schema per session, clean tables and broker per test.

Embedded mode (SQLite + fakeredis, synchronous jobs) unless XENO_TEST_DATABASE_URL and
XENO_TEST_REDIS_URL point at a real MariaDB and Redis; then a uuid-named database is
created for the session and the Redis db is flushed around each test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.helpers import REAL, ApiActions, XenoCliRunner, scratch_database, test_config
from xeno import create_app
from xeno.auth import sessions
from xeno.db import migrate
from xeno.db.models import User
from xeno.extensions import db as _db

# The instance folder holds the embedded database a developer's `xeno demo` runs on. The
# suite works in a folder of its own (every create_app() and every `xeno` it starts reads
# XENO_INSTANCE_PATH), and fails if the real one changed while it ran.
INSTANCE = Path(__file__).resolve().parents[1] / "instance"
os.environ["XENO_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="xeno-test-instance-")
for _variable in ("XENO_DATABASE_URL", "XENO_REDIS_URL", "XENO_DEV_LOGIN"):
    os.environ.pop(_variable, None)


def instance_state() -> dict[str, tuple[int, int]]:
    """Every file in the real instance folder with its size and modification time."""
    if not INSTANCE.is_dir():
        return {}
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in INSTANCE.rglob("*") if p.is_file()
    }


INSTANCE_BEFORE = (INSTANCE.is_dir(), instance_state())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Nothing touched the instance folder; on the real-server run nothing was skipped."""
    if (INSTANCE.is_dir(), instance_state()) != INSTANCE_BEFORE:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"the test suite changed {INSTANCE}", red=True)
        session.exitstatus = 1
    shutil.rmtree(os.environ["XENO_INSTANCE_PATH"], ignore_errors=True)
    if REAL and os.environ.get("XENO_TEST_NO_SKIPS") == "1":
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = reporter.stats.get("skipped", []) if reporter else []
        if skipped:
            reporter.write_line(f"{len(skipped)} test(s) skipped on the real-server run", red=True)
            session.exitstatus = 1


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this test session."""
    with scratch_database("xeno_test", tmp_path_factory.mktemp("db") / "test.sqlite3") as url:
        yield url


@pytest.fixture(scope="session")
def _schema(database_url: str) -> str:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        migrate.upgrade()  # the migrations, not create_all: tests run on what production runs
        _db.engine.dispose()
    return database_url


@pytest.fixture
def app(_schema: str) -> Iterator[Flask]:
    """An app on clean tables and an empty broker."""
    app = create_app(test_config(_schema))
    with app.app_context():
        _clean_tables()
        broker_conn = app.extensions["xeno_redis"]
        broker_conn.flushdb()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
        if REAL:
            app.extensions["xeno_redis"].flushdb()


def _clean_tables() -> None:
    with _db.engine.begin() as conn:
        if conn.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in _db.metadata.sorted_tables:
                conn.execute(text(f"TRUNCATE TABLE `{table.name}`"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        else:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for HTTP calls."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> XenoCliRunner:
    """A CLI runner bound to the test app."""
    return XenoCliRunner(app)


@pytest.fixture
def broker(app: Flask) -> redis.Redis:
    """The app's broker connection (real Redis or in-process fakeredis)."""
    return app.extensions["xeno_redis"]


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient) -> FlaskClient:
    """A browser signed in as a marketer."""
    with app.app_context():
        user = User(email="mona@xeno.test", name="Mona Marketer")
        _db.session.add(user)
        _db.session.commit()
        signed = sessions.values_for(user)
        user_id = user.id
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session.update(signed)
    return client


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> ApiActions:
    """API calls with a fresh token, plus `drain()` to run pending jobs."""
    return ApiActions(app, client)
