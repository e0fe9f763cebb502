"""The `xeno` command line: one sub-group per noun, each from its domain, sharing the factory.

Without XENO_DATABASE_URL every command works on the embedded database `xeno demo` uses
(the instance folder) and says so in one line. A missing or wrong setting is one line
naming it and exit status 2: no command prints a traceback for how it was configured.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import click
import redis
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError

from xeno import create_app
from xeno.auth.cli import token_cli
from xeno.campaigns.cli import campaign_cli
from xeno.db import migrate
from xeno.db.cli import db_cli
from xeno.demo.cli import demo, generate
from xeno.ingest.cli import import_cli
from xeno.platform import config
from xeno.platform.worker import worker
from xeno.segments.cli import segment_cli


def create_cli_app() -> Flask:
    """The app a command runs in; on the embedded database, say which file and make its schema."""
    config.load_env_file()
    embedded = not os.environ.get("XENO_DATABASE_URL")
    app = create_app({"CLI_EMBEDDED": True} if embedded else None)
    if embedded:
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        click.echo(
            f"Using the embedded database {path}, the one `xeno demo` uses "
            "(set XENO_DATABASE_URL for another).",
            err=True,
        )
        with app.app_context():
            if migrate.current() != migrate.head():
                logging.getLogger("alembic").setLevel(logging.WARNING)  # the one line is enough
                migrate.upgrade()
    return app


def _reason(exc: BaseException) -> str:
    """The driver's own sentence, without the exception's repr around it."""
    inner: Any = getattr(exc, "orig", None) or exc
    args = getattr(inner, "args", ())
    text = next((a for a in reversed(args) if isinstance(a, str)), None)
    return text or str(inner)


class XenoGroup(FlaskGroup):
    """Flask's CLI group, but help and command lookup never build the app."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Our commands only: listing them must work before anything is configured."""
        self._load_plugin_commands()
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Look a command up without loading the app."""
        self._load_plugin_commands()
        return click.Group.get_command(self, ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a setting that is missing, wrong or unreachable is one line."""
        try:
            return super().invoke(ctx)
        except config.ConfigError as exc:
            message = str(exc)
        except OperationalError as exc:
            message = f"cannot use the database at XENO_DATABASE_URL: {_reason(exc)}"
        except redis.ConnectionError as exc:
            message = f"cannot reach Redis at XENO_REDIS_URL: {_reason(exc)}"
        click.echo(f"Error: {message}", err=True)
        ctx.exit(2)


@click.group(cls=XenoGroup, create_app=create_cli_app, add_version_option=False)
def main() -> None:
    """Xeno Mini CRM: ingest customers and orders, segment them, send campaigns."""


for command in (demo, worker, db_cli, token_cli, import_cli, generate, segment_cli, campaign_cli):
    main.add_command(command)


if __name__ == "__main__":
    main()
