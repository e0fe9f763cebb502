"""Fixtures for the rule language: the customers table on SQLite and, when set, MariaDB."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

from .data import NOW, generate_activity, generate_customers
from .oracle import Activity

MARIADB_URL = os.environ.get("XENO_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["mariadb"] if MARIADB_URL.startswith("mysql") else [])


def customers_table() -> Table:
    """Return the app's customers table (the DSL is tested against the real schema)."""
    from xeno.db.models import Customer

    return Customer.__table__


@pytest.fixture(scope="session")
def table() -> Table:
    """The customers table."""
    return customers_table()


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    """A few thousand customers with NULLs, empties, mixed case and LIKE metacharacters."""
    return generate_customers(3000, seed=20241125)


@pytest.fixture(scope="session")
def activity_rows(
    rows: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Orders, campaigns and log rows for the generated customers."""
    return generate_activity(rows, seed=20261130)


@pytest.fixture(scope="session")
def activity(rows: list[dict[str, Any]], activity_rows: Any) -> Activity:
    """The oracle's reading of the orders, campaigns and log."""
    orders, campaigns, log = activity_rows
    return Activity(orders, campaigns, log, rows)


@pytest.fixture(scope="session")
def now() -> dt.datetime:
    """The fixed evaluation time every test compiles against."""
    return NOW


SIBLINGS = ("orders", "segments", "campaigns", "communications_log")


def _load(engine: Engine, table: Table, rows: list[dict[str, Any]], activity: Any) -> Engine:
    """Create the customers table and the tables the activity fields read, and fill them."""
    tables = table.metadata.tables
    table.metadata.create_all(engine, tables=[table, *(tables[n] for n in SIBLINGS)])
    orders, campaigns, log = activity
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
        conn.execute(tables["orders"].insert(), orders)
        conn.execute(tables["campaigns"].insert(), campaigns)
        conn.execute(tables["communications_log"].insert(), log)
        assert conn.execute(select(func.count()).select_from(table)).scalar() == len(rows)
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(table: Table, rows: list[dict[str, Any]], activity_rows: Any,
                  tmp_path_factory: Any) -> Engine:
    """A SQLite database holding the generated customers."""
    path = tmp_path_factory.mktemp("dsl") / "dsl.sqlite3"
    engine = _load(create_engine(f"sqlite:///{path}"), table, rows, activity_rows)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def mariadb_engine(table: Table, rows: list[dict[str, Any]],
                   activity_rows: Any) -> Iterator[Engine]:
    """A uniquely named MariaDB database holding the same customers, dropped afterwards."""
    name = f"xeno_test_dsl_{uuid.uuid4().hex[:10]}"
    server = create_engine(make_url(MARIADB_URL)._replace(database=None))
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_unicode_ci"))
    engine = create_engine(make_url(MARIADB_URL).set(database=name))
    try:
        yield _load(engine, table, rows, activity_rows)
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each configured backend in turn."""
    return request.getfixturevalue(f"{request.param}_engine")


@dataclass(frozen=True)
class World:
    """One backend with its data, short to print when hypothesis reports an example."""

    engine: Engine
    table: Table
    rows: list[dict[str, Any]]
    now: dt.datetime

    def __repr__(self) -> str:
        return f"World({self.engine.dialect.name}, {len(self.rows)} customers)"


@pytest.fixture(scope="session")
def world(engine: Engine, table: Table, rows: list[dict[str, Any]], now: dt.datetime) -> World:
    """The backend, table, rows and time a property test evaluates against."""
    return World(engine, table, rows, now)


def count(engine: Engine, table: Table, where: Any) -> int:
    """Count the customers matching a compiled rule."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
