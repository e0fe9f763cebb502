"""`xeno worker`: an RQ worker that runs every job inside the app, plus a stream sweeper."""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import SimpleWorker

from xeno.extensions import db
from xeno.platform import batches, broker, streams

log = logging.getLogger(__name__)
QUEUES = ("streams", "default")


class AppWorker(SimpleWorker):
    """Runs jobs in-process (no fork per job) with the app context they need."""

    app: Flask

    def execute_job(self, job, queue):  # noqa: ANN001 - RQ's signature
        """Run one job inside the app context and release its session afterwards."""
        with self.app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()


PURGE_EVERY = 3600.0
_purged_at = 0.0


def sweep(app: Flask) -> None:
    """Queue a drain for any stream with entries left: a missed or dead drain heals here.

    Now and then it also forgets batch outcomes older than the seven days SPEC keeps them.
    """
    global _purged_at
    with app.app_context():
        conn = broker.connection()
        for stream in streams.registered():
            if streams.backlog(conn, stream):
                streams.request_drain(stream)
        if time.monotonic() - _purged_at > PURGE_EVERY:
            _purged_at = time.monotonic()
            batches.purge()


def _sweep_forever(app: Flask, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            sweep(app)
        except Exception:  # the broker may be restarting; the next round tries again
            log.warning("stream sweep failed", exc_info=True)


def run_worker(
    app: Flask, queues: tuple[str, ...] = QUEUES, burst: bool = False, sweep_every: float = 5.0
) -> None:
    """Work the queues until stopped (or until empty with `burst`)."""
    with app.app_context():
        conn = broker.connection()
        worker = AppWorker(list(queues), connection=conn)
    worker.app = app
    stop = threading.Event()
    if sweep_every > 0:
        sweep(app)
        threading.Thread(target=_sweep_forever, args=(app, stop, sweep_every), daemon=True).start()
    try:
        worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
    finally:
        stop.set()


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
