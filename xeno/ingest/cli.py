"""`xeno import`: customers or orders from a file, through the API's validation."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from xeno.ingest import importers
from xeno.platform import broker

import_cli = AppGroup("import", help="Import customers or orders from a file.")


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


@import_cli.command("customers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_customers(file: Path) -> None:
    """Import customers from a CSV, JSON or JSONL file."""
    _import("customers", file)


@import_cli.command("orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_orders(file: Path) -> None:
    """Import orders from a CSV, JSON or JSONL file."""
    _import("orders", file)


def _import(kind: str, file: Path) -> None:
    try:
        importers.reader_for(file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="FILE") from None
    with click.progressbar(length=_count_lines(file), label=f"Importing {kind}") as bar:
        report = importers.import_file(kind, file, progress=bar.update)
    where = "stored" if broker.embedded() else "queued for `xeno worker`"
    click.echo(f"{report.published} {kind} {where} in {len(report.batch_ids)} batch(es).")
    if report.bad:
        click.echo(f"{len(report.bad)} line(s) refused:", err=True)
        for line, message in report.bad:
            click.echo(f"  line {line}: {message}", err=True)
        raise SystemExit(1)  # the good lines are in; the exit status tells scripts some were not
