"""Migrations: `xeno db init` creates or upgrades; the first release's schema upgrades cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.helpers import XenoCliRunner, scratch_database, test_config
from xeno import create_app
from xeno.db import migrate
from xeno.extensions import db


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    """A database with nothing in it, on the server the suite runs against."""
    with scratch_database("xeno_mig", tmp_path / "empty.sqlite3") as url:
        yield url


def test_upgrade_from_first_release_keeps_data(empty_database):
    app = create_app(test_config(empty_database))
    with app.app_context():
        migrate.upgrade(migrate.FIRST_REVISION)
        assert migrate.current() == "0001"
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_tokens (name, token_hash, created_at) "
                    "VALUES ('shop', 'abc', '2025-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO customers (external_id, name, signup_at, created_at, updated_at) "
                    "VALUES ('C1', 'Asha', '2025-01-01', '2025-01-01', '2025-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO users (email, first_login_at, last_login_at) "
                    "VALUES ('asha@xeno.test', '2025-01-01', '2025-01-01')"
                )
            )
        migrate.upgrade()
        assert migrate.current() == migrate.head()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name, revoked_at FROM api_tokens")).one() == (
                "shop",
                None,
            )
            assert conn.execute(text("SELECT visits FROM customers")).scalar() == 0
            generation = conn.execute(text("SELECT session_generation FROM users")).scalar()
            assert generation == 0
        db.engine.dispose()


def test_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_db_init_adopts_a_schema_made_before_migrations(empty_database):
    """Tables made by create_all at the first release, no version table: stamped, upgraded."""
    app = create_app(test_config(empty_database))
    with app.app_context():
        migrate.upgrade(migrate.FIRST_REVISION)  # the first release's tables, then forget
        with db.engine.begin() as conn:  # the version: as if made by create_all back then
            conn.execute(text("DROP TABLE alembic_version"))
        result = XenoCliRunner(app).invoke(args=["db", "init"])
        assert result.exit_code == 0, result.output
        assert migrate.current() == migrate.head()
        assert "revoked_at" in {c["name"] for c in inspect(db.engine).get_columns("api_tokens")}
        db.engine.dispose()


def test_db_init_command_reports_the_revision(runner):
    result = runner.invoke(args=["db", "init"])
    assert result.exit_code == 0 and f"revision {migrate.head()}" in result.output


def test_revoked_token_stops_working_within_the_cache_period(app, runner, client, monkeypatch):
    from xeno.auth import tokens

    token = runner.invoke(args=["token", "create", "temp"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/batches/x", headers=headers).status_code == 404
    assert "revoked 1" in runner.invoke(args=["token", "revoke", "temp"]).output
    assert tokens.CACHE_SECONDS <= 5
    # The serving process cached the token a moment ago; once the period has passed it
    # asks the database again and refuses it.
    clock = tokens.time.monotonic() + tokens.CACHE_SECONDS + 0.1
    monkeypatch.setattr(tokens.time, "monotonic", lambda: clock)
    assert client.get("/api/v1/batches/x", headers=headers).status_code == 401
    listing = runner.invoke(args=["token", "list"]).output
    assert "temp" in listing and "revoked" in listing
