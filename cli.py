"""The `xeno` command line: one sub-group per noun, each from its domain, sharing the factory."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from xeno import create_app
from xeno.auth.cli import token_cli
from xeno.campaigns.cli import campaign_cli
from xeno.db.cli import db_cli
from xeno.demo.cli import demo, generate
from xeno.ingest.cli import import_cli
from xeno.platform.worker import worker
from xeno.segments.cli import segment_cli


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Xeno Mini CRM: ingest customers and orders, segment them, send campaigns."""


for command in (demo, worker, db_cli, token_cli, import_cli, generate, segment_cli, campaign_cli):
    main.add_command(command)


if __name__ == "__main__":
    main()
