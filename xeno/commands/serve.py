"""Running the product: `xeno demo` (one process, no servers) and `xeno worker`."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from ..jobs.worker import QUEUES, run_worker


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--customers", "customer_count", default=3000, show_default=True, type=int)
@click.option("--orders", "order_count", default=12000, show_default=True, type=int)
@click.option(
    "--fresh/--keep", default=True, show_default=True, help="Start from an empty demo database."
)
def demo(host: str, port: int, customer_count: int, order_count: int, fresh: bool) -> None:
    """Embedded mode: SQLite + in-process queue, sample data, demo sign-in, serves on :5000."""
    from .. import create_app
    from ..demo import load_sample_data

    os.environ["XENO_DEV_LOGIN"] = "1"
    os.environ.pop("XENO_REDIS_URL", None)
    os.environ.pop("XENO_DATABASE_URL", None)  # demo data lives in its own SQLite file
    os.environ.setdefault("XENO_COOKIE_SECURE", "0")
    os.environ.setdefault("XENO_PUBLIC_URL", f"http://{host}:{port}")
    app = create_app()
    with app.app_context():
        load_sample_data(customer_count, order_count, fresh=fresh, echo=click.echo)
    click.echo(f"Xeno Mini CRM demo on {app.config['PUBLIC_URL']} (sign in as the demo user)")
    # Flask's app.run() refuses to block inside its own CLI; werkzeug's server is the same one.
    run_simple(host, port, app, threaded=True)


@click.command()
@click.option("--queue", "queues", multiple=True, default=QUEUES, show_default=True)
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run the queue and stream consumers (production mode)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError(
            "set XENO_REDIS_URL: in embedded mode jobs run inside the web process"
        )
    run_worker(current_app._get_current_object(), tuple(queues), burst=burst)
