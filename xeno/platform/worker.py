"""`xeno worker`: RQ workers that run every job inside the app, plus the periodic chores.

It outlives outages (SPEC "Faults"): when the broker or the database goes away RQ's work
loop ends; `run_worker` waits (1 s, doubling to 30 s), builds a fresh worker on the same
connection pool and carries on. Only SIGTERM/SIGINT end it, after the current job.

A job whose worker died is taken up again within two minutes, not at its timeout: while
a job runs, a heartbeat thread renews its claim in RQ's started registry every
`JOB_HEARTBEAT_SECONDS`; the chores thread sweeps that registry just as often, and RQ
retries a job whose claim lapsed (three missed beats) or fails it into the
FailedJobRegistry when no retry is left (its give-up function then runs).
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import SimpleWorker
from rq.registry import StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.worker import WorkerStatus

from xeno.extensions import db
from xeno.platform import batches, broker, periodic, streams

log = logging.getLogger(__name__)
QUEUES = ("streams", "default")
MAX_BACKOFF = 30.0


class AppWorker(SimpleWorker):
    """Runs jobs in-process (no fork per job) with the app context they need."""

    app: Flask
    stop_requested = False

    @property
    def beat_every(self) -> float:
        """Seconds between two heartbeats of a running job."""
        return float(self.app.config.get("JOB_HEARTBEAT_SECONDS", 10.0))

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:  # noqa: ANN001
        """A claim lasts three beats, whatever the job's timeout: the beat thread renews it."""
        return max(2, round(3 * self.beat_every))

    def execute_job(self, job, queue):  # noqa: ANN001 - RQ's signature
        """Run one job inside the app context, its claim renewed while it runs."""
        with self.app.app_context():
            execution = self.prepare_execution(job)
            done = threading.Event()
            beat = threading.Thread(target=self._beat, args=(job, execution, done), daemon=True)
            beat.start()
            try:
                self.perform_job(job, queue, execution)
            finally:
                done.set()
                beat.join(5)
                db.session.remove()
            self.set_state(WorkerStatus.IDLE)

    def _beat(self, job, execution, done: threading.Event) -> None:  # noqa: ANN001
        while not done.wait(self.beat_every):
            try:
                self.maintain_heartbeats(job, execution)
            except redis.RedisError:  # the broker is away; the next beat tries again
                log.warning("job %s: heartbeat failed", job.id, exc_info=True)

    def request_stop(self, signum, frame):  # noqa: ANN001 - RQ's signature
        """Remember that the stop was asked for, so `run_worker` does not start again."""
        self.stop_requested = True
        super().request_stop(signum, frame)


def requeue_abandoned(queues: tuple[str, ...]) -> None:
    """Retry (or fail for good) jobs whose worker stopped renewing their claim."""
    conn = broker.connection()
    for name in queues:
        registry = StartedJobRegistry(
            name, connection=conn, death_penalty_class=TimerDeathPenalty  # not the main thread
        )
        # RQ's own maintenance takes this key too: one cleaner per queue at a time.
        lock = registry.get_queue().registry_cleaning_key
        if conn.set(lock, 1, nx=True, ex=30):
            try:
                registry.cleanup()
            finally:
                conn.delete(lock)


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


def worker_chores(app: Flask, queues: tuple[str, ...], sweep_every: float) -> list:
    """The worker's own chores, run beside the ones the domains registered."""
    return [
        periodic.Chore("stream-drains", lambda: sweep(app), sweep_every),
        periodic.Chore(
            "abandoned-jobs:" + ",".join(queues),
            lambda: requeue_abandoned(queues),
            lambda config: float(config.get("JOB_HEARTBEAT_SECONDS", 10.0)),
        ),
    ]


def _new_worker(app: Flask, queues: tuple[str, ...]) -> AppWorker:
    with app.app_context():
        # worker_ttl 60: RQ's blocking dequeue wakes every 45 s, so its maintenance (which
        # restarts a lost scheduler) runs every 30 s even on an idle worker.
        worker = AppWorker(
            list(queues), connection=broker.connection(), worker_ttl=60, maintenance_interval=30
        )
    worker.app = app
    return worker


def run_worker(
    app: Flask, queues: tuple[str, ...] = QUEUES, burst: bool = False, sweep_every: float = 5.0
) -> None:
    """Work the queues until stopped (or until empty with `burst`), through outages."""
    stop_chores = None
    if sweep_every > 0:  # the first round runs at once: a backlog left from before is drained
        stop_chores = periodic.start(app, extra=worker_chores(app, queues, sweep_every))
    stopping = threading.Event()
    delay = 1.0
    try:
        while not stopping.is_set():
            worker = None
            started = time.monotonic()
            try:
                worker = _new_worker(app, queues)  # RQ names its connection: needs the broker
                with app.app_context():  # RQ's failure callbacks (give-up) may use the database
                    worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("worker lost the broker: %s", exc)
            if burst or (worker is not None and worker.stop_requested):
                return
            if time.monotonic() - started > 60:
                delay = 1.0
            log.warning("worker loop ended (broker or database away?); again in %.0f s", delay)
            if _wait(stopping, delay):
                return
            delay = min(MAX_BACKOFF, delay * 2)
    finally:
        if stop_chores is not None:
            stop_chores.set()


def _wait(stopping: threading.Event, seconds: float) -> bool:
    """Sleep between two tries; True if SIGTERM/SIGINT came meanwhile."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
    return stopping.wait(seconds)


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
