"""The broker: Redis (or in-process fakeredis in embedded mode), RQ queues and background jobs.

The stream protocol built on this connection lives in `streams.py`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import fakeredis
import redis
from flask import Flask, current_app
from rq import Callback, Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from werkzeug.utils import import_string

from xeno.extensions import db

GIVE_UP_TIMEOUT = 600  # marking a million messages FAILED takes a while
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Connect lazily: nothing talks to Redis until the first use."""
    url = app.config.get("REDIS_URL")
    if url:
        conn = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    else:
        conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
    app.extensions["xeno_redis"] = conn


def connection() -> redis.Redis:
    """The app's broker connection."""
    return current_app.extensions["xeno_redis"]


def embedded() -> bool:
    """Embedded mode runs jobs in-process and synchronously."""
    return not current_app.config.get("REDIS_URL")


def queue(name: str = "default") -> Queue:
    """An RQ queue on the app's broker; synchronous in embedded mode (RQ's testing recipe)."""
    return Queue(name, connection=connection(), is_async=not embedded())


def enqueue(func: Callable[..., Any], *args: Any, queue_name: str = "default", **options: Any):
    """Enqueue a job; the one place jobs are queued from, so every job sees the same broker."""
    options.setdefault("result_ttl", 0)
    options.setdefault("failure_ttl", 7 * 24 * 3600)
    return queue(queue_name).enqueue(func, *args, **options)


def background(
    func: Callable[..., Any],
    *args: Any,
    at: datetime | None = None,
    give_up: Callable[..., Any] | None = None,
    **options: Any,
) -> Any:
    """Run a job in the background, now or at `at` (naive UTC), without blocking the caller.

    With Redis: RQ on the "default" queue (`enqueue_at` for a later time; the worker runs
    with its scheduler). Embedded mode: a daemon thread with an app context, since RQ's
    synchronous queue would run the job inside the calling request; that matters when a
    job calls this app back over HTTP (campaign dispatch, the dummy vendor).
    `give_up(*args)` runs once the job has failed for good: after RQ's last retry, or
    after the one in-process attempt.
    """
    if not embedded():
        if give_up is not None:
            options["on_failure"] = Callback(after_failure, timeout=GIVE_UP_TIMEOUT)
            options["meta"] = {
                **options.get("meta", {}),
                "give_up": f"{give_up.__module__}:{give_up.__qualname__}",
            }
        if at is None:
            return enqueue(func, *args, **options)
        options.setdefault("result_ttl", 0)
        options.setdefault("failure_ttl", 7 * 24 * 3600)
        return queue("default").enqueue_at(at.replace(tzinfo=UTC), func, *args, **options)
    app = current_app._get_current_object()

    def run() -> None:
        if at is not None:
            time.sleep(max(0.0, (at - datetime.now(UTC).replace(tzinfo=None)).total_seconds()))
        with app.app_context():
            try:
                func(*args)
            except Exception:  # no failed-job registry in-process: say it loudly
                log.exception("background job %s failed", func.__name__)
                if give_up is not None:
                    give_up(*args)
            finally:
                db.session.remove()

    name = options.get("job_id") or f"xeno-{func.__name__}"
    thread = threading.Thread(target=run, name=name, daemon=True)
    app.extensions.setdefault("xeno_background", []).append(thread)
    thread.start()
    return thread


ENDED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def free_job_id(job_id: str) -> bool:
    """Whether no job with this id waits, is scheduled or runs (embedded mode: no thread of
    that name runs). An ended job is deleted, so that the id can be used again."""
    if embedded():
        return not any(t.name == job_id and t.is_alive() for t in threading.enumerate())
    try:
        job = Job.fetch(job_id, connection=connection())
    except NoSuchJobError:
        return True
    status = job.get_status(refresh=False)
    if status is None or status in ENDED:
        job.delete()
        return True
    return False


def after_failure(job: Job, connection: redis.Redis, *exc_info: Any) -> None:
    """RQ's failure callback: once no retry is left, call the job's give-up function."""
    if job.retries_left:  # RQ runs it again later
        return
    name = job.meta.get("give_up")
    if name:
        import_string(name)(*job.args)


def wait_background(timeout: float = 60.0) -> bool:
    """Embedded mode: wait for the background threads started so far; True if all ended."""
    deadline = time.monotonic() + timeout
    threads = current_app.extensions.get("xeno_background", [])
    while threads:
        thread = threads[0]
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            return False
        threads.remove(thread)
    return True
