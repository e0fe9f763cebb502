"""Schema migrations (Alembic): `xeno db init` creates an empty database or upgrades it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from xeno.extensions import db

MIGRATIONS = Path(__file__).with_name("migrations")
FIRST_REVISION = "0001"


def alembic_config() -> Config:
    """Alembic settings pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(revision: str = "head") -> None:
    """Create or upgrade the schema to `revision`.

    A database made before migrations existed (tables, no version) is the first release's
    schema: it is stamped as such, then upgraded like any other.
    """
    tables = set(inspect(db.engine).get_table_names())
    if "customers" in tables and "alembic_version" not in tables:
        command.stamp(alembic_config(), FIRST_REVISION)
    command.upgrade(alembic_config(), revision)


def reset() -> None:
    """Drop everything, version table included, and build the schema afresh (demo data)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade()


def current() -> str | None:
    """The revision the database is at."""
    with db.engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def head() -> str:
    """The newest revision shipped with this release."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    command.revision(alembic_config(), message=message, autogenerate=True)
