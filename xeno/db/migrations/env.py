"""Alembic environment: the app's engine and metadata, so migrations match the models."""

from __future__ import annotations

from alembic import context
from flask import current_app

from xeno.extensions import db

config = context.config


def run_migrations() -> None:
    """Run online against the app's database (offline mode is not used)."""
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER much
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if current_app:
    run_migrations()
