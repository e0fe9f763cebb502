"""`xeno db`: the database schema."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from xeno.db import migrate
from xeno.extensions import db

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("init")
def db_init() -> None:
    """Create or upgrade the schema."""
    migrate.upgrade()
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"schema ready on {url} (revision {migrate.current()})")
