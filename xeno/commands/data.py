"""Schema, tokens and data: `xeno db`, `xeno token`, `xeno import`, `xeno generate`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from .. import broker, importers, migrate
from .. import generate as gen
from ..extensions import db
from ..tokens import CACHE_SECONDS, create_token, list_tokens, revoke_tokens

db_cli = AppGroup("db", help="Database schema.")
token_cli = AppGroup("token", help="API tokens.")
import_cli = AppGroup("import", help="Import customers or orders from a file.")


@db_cli.command("init")
def db_init() -> None:
    """Create or upgrade the schema."""
    migrate.upgrade()
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"schema ready on {url} (revision {migrate.current()})")


@token_cli.command("create")
@click.argument("name")
def token_create(name: str) -> None:
    """Create an API token and print it once."""
    click.echo(create_token(name))


@token_cli.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke every token with this name."""
    count = revoke_tokens(name)
    if not count:
        raise click.BadParameter(f"no live token named {name!r}", param_hint="NAME")
    click.echo(
        f"revoked {count} token(s) named {name!r};"
        f" servers stop taking them within {CACHE_SECONDS:.0f} s"
    )


@token_cli.command("list")
def token_list() -> None:
    """List tokens (names and dates; the tokens themselves are not stored)."""
    for token in list_tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d}" if token.last_used_at else "never"
        click.echo(
            f"{token.id:>4}  {token.name:<30} created {token.created_at:%Y-%m-%d}  "
            f"last used {used}  {state}"
        )


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


@click.command()
@click.option(
    "--customers", "customer_count", type=click.IntRange(1), default=10_000, show_default=True
)
@click.option("--orders", "order_count", type=click.IntRange(0), default=40_000, show_default=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
)
@click.option("--seed", type=int, default=7, show_default=True)
def generate(customer_count: int, order_count: int, out: Path, seed: int) -> None:
    """Write synthetic customers.csv and orders.csv for demos and benchmarks."""
    out.mkdir(parents=True, exist_ok=True)
    with click.progressbar(length=customer_count + order_count, label="Generating") as bar:
        gen.write_csv(
            out / "customers.csv",
            gen.CUSTOMER_COLUMNS,
            gen.customers(customer_count, seed),
            bar.update,
        )
        gen.write_csv(
            out / "orders.csv",
            gen.ORDER_COLUMNS,
            gen.orders(order_count, customer_count, seed + 1),
            bar.update,
        )
    click.echo(f"wrote {out / 'customers.csv'} and {out / 'orders.csv'}")
