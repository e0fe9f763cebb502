"""`xeno demo` (one process, no servers) and `xeno generate` (synthetic data files)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from werkzeug.serving import run_simple

from xeno.demo import generate as gen


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--customers", "customer_count", default=3000, show_default=True, type=int)
@click.option("--orders", "order_count", default=12000, show_default=True, type=int)
@click.option(
    "--fresh",
    is_flag=True,
    help="Start over: empty the demo database and load new sample data. Without it the "
    "database is kept across restarts, and sample data is loaded only into an empty one.",
)
def demo(host: str, port: int, customer_count: int, order_count: int, fresh: bool) -> None:
    """Embedded mode: SQLite + in-process queue, sample data, demo sign-in, serves on :5000."""
    from xeno import create_app
    from xeno.demo.service import load_sample_data
    from xeno.platform import periodic
    from xeno.platform.config import load_env_file

    load_env_file()
    if os.environ.pop("XENO_DATABASE_URL", None):
        click.echo("xeno demo always uses the embedded database; XENO_DATABASE_URL is ignored here")
    os.environ["XENO_DEV_LOGIN"] = "1"
    os.environ.pop("XENO_REDIS_URL", None)
    os.environ.setdefault("XENO_COOKIE_SECURE", "0")
    os.environ.setdefault("XENO_PUBLIC_URL", f"http://{host}:{port}")
    app = create_app()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    click.echo(f"Using the embedded database {path}")
    with app.app_context():
        load_sample_data(customer_count, order_count, fresh=fresh, echo=click.echo)
    click.echo(f"Xeno Mini CRM demo on {app.config['PUBLIC_URL']} (sign in as the demo user)")
    # No worker in embedded mode: this process runs the chores (the receipt sweeper) itself.
    periodic.start(app)
    # Flask's app.run() refuses to block inside its own CLI; werkzeug's server is the same one.
    run_simple(host, port, app, threaded=True)


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
