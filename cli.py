"""The `xeno` command line: one sub-group per noun, all sharing the app factory."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from xeno import create_app
from xeno.commands import campaign, data, segment, serve


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Xeno Mini CRM: ingest customers and orders, segment them, send campaigns."""


for command in (
    serve.demo,
    serve.worker,
    data.db_cli,
    data.token_cli,
    data.import_cli,
    data.generate,
    segment.segment_cli,
    campaign.campaign_cli,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
