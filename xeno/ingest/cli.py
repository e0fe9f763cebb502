"""`xeno import customers|orders FILE`: store the good lines, write the rejected ones to fix.

Exit status: 0 every line stored; 1 some lines rejected, the others stored; 2 nothing
stored (the file cannot be read, is empty or header only, lacks a required column, every
line was rejected, or an option is wrong).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from xeno.db import migrate
from xeno.ingest.cells import check_date_format
from xeno.ingest.importers import LISTED, Importer, Report, StoreFailed
from xeno.ingest.sources import Unreadable, open_source
from xeno.platform import broker

import_cli = AppGroup("import", help="Import customers or orders from a CSV, JSON or JSONL file.")


def _options(command):  # noqa: ANN001, ANN202 - a click decorator stack
    command = click.option(
        "--rejected",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to write the rejected lines (default: FILE.rejected.csv beside FILE).",
    )(command)
    command = click.option(
        "--dry-run", is_flag=True, help="Check every line and report; store nothing."
    )(command)
    command = click.option(
        "--date-format",
        metavar="FMT",
        help="How the file writes dates, in strftime codes, e.g. %d/%m/%Y or %Y%m%d "
        "(default: ISO 8601, 2024-05-01T10:00:00Z or 2024-05-01).",
    )(command)
    return click.argument("file", type=click.Path(dir_okay=False, path_type=Path))(command)


# Both commands take `_options`' arguments and hand them to `_import`, which names them.
@import_cli.command("customers")
@_options
def import_customers(**options: Any) -> None:
    """Import customers (columns id, name; optional email, phone, city, signup_at)."""
    _import("customers", **options)


@import_cli.command("orders")
@_options
def import_orders(**options: Any) -> None:
    """Import orders (columns id, customer_id, amount, ordered_at)."""
    _import("orders", **options)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


def _import(
    kind: str, file: Path, date_format: str | None, dry_run: bool, rejected: Path | None
) -> None:
    if date_format is not None:
        try:
            check_date_format(date_format)
        except ValueError as exc:
            _fail(f"--date-format {exc}")
    rejected_path = rejected or file.with_name(file.name + ".rejected.csv")
    if not file.is_file():
        _fail(f"{file} does not exist or is not a file")
    if rejected_path.resolve() == file.resolve():
        _fail("--rejected names the file being imported; give the rejected lines their own file")
    if not rejected_path.parent.is_dir():
        _fail(f"--rejected {rejected_path}: the folder {rejected_path.parent} does not exist")
    if not dry_run:
        _check_storage()
    try:
        source = open_source(file, kind)
    except Unreadable as exc:
        _fail(str(exc))
    label = f"{'Checking' if dry_run else 'Importing'} {kind}"
    try:
        with click.progressbar(length=max(source.size, 1), label=label, file=sys.stderr) as bar:
            importer = Importer(
                source, rejected_path, date_format, dry_run,
                progress=bar.update, notify=lambda text: click.echo(f"\n{text}", err=True),
            )
            report = importer.run()
    except StoreFailed as exc:
        click.echo(f"\nError: {exc}", err=True)
        raise SystemExit(1 if exc.stored else 2) from None
    finally:
        source.close()
    if report.read == 0:
        _fail(f"{file.name} has a header but no lines to import")
    click.echo(summary(report, kind, dry_run))
    kept = report.would_store
    raise SystemExit(2 if kept == 0 else 1 if report.rejected else 0)


def _check_storage() -> None:
    """Fail before reading a line if the database or broker cannot take what is read."""
    if migrate.current() != migrate.head():
        _fail("the database has no schema yet, or an older one: run `xeno db init` first")
    if not broker.embedded():
        broker.connection().ping()


def summary(report: Report, kind: str, dry_run: bool) -> str:
    """What happened, in sentences, ending with the figures line."""
    out: list[str] = []
    if report.attribute_columns:
        names = ", ".join(report.attribute_columns)
        out.append(f"Columns kept in each record's attributes: {names}.")
    if report.rejected:
        out.append(f"Rejected {_lines(report.rejected)}:")
        out.extend(f"  line {number}: {error}" for number, error in report.rejected_lines)
        if report.rejected > LISTED:
            out.append(f"  and {report.rejected - LISTED} more.")
        out.append(
            f"The rejected lines are in {report.rejected_path}, each with its line number and "
            "error: fix them there and import that file again."
        )
    if report.repeated:
        ids = "1 id was" if report.repeated_ids == 1 else f"{report.repeated_ids} ids were"
        listed = ", ".join(str(n) for n in report.repeated_lines)
        where = f"line {listed}" if report.repeated == 1 else f"lines {listed}"
        more = ", the first 20" if report.repeated > LISTED else ""
        repeats = "repeats" if report.repeated == 1 else "repeat"
        out.append(
            f"{ids} repeated: {_lines(report.repeated)} {repeats} the id of an earlier line "
            f"({where}{more}); the last line of each id is the one kept."
        )
    if dry_run:
        out.append(f"Dry run: nothing was stored; {_lines(report.would_store)} would be stored.")
    rate = report.read / report.seconds if report.seconds > 0 else 0.0
    out.append(
        f"read {report.read}, stored {report.stored}, rejected {report.rejected}, "
        f"repeated {report.repeated} in {report.seconds:.2f} s ({rate:.0f} rows/s)"
    )
    return "\n".join(out)


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"
