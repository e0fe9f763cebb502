"""The broker: Redis (or in-process fakeredis in embedded mode), streams and RQ queues."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import fakeredis
import redis
from flask import Flask, current_app
from rq import Callback, Queue
from rq.job import Job
from werkzeug.utils import import_string

STREAM_PREFIX = "xeno:stream:"
GROUP = "xeno"
BATCH_TTL = 7 * 24 * 3600
DRAIN_FLAG_TTL = 30
GIVE_UP_TIMEOUT = 600  # marking a million messages FAILED takes a while
MAX_BATCH_ERRORS = 1000
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
            from .extensions import db

            try:
                func(*args)
            except Exception:  # no failed-job registry in-process: say it loudly
                log.exception("background job %s failed", func.__name__)
                if give_up is not None:
                    give_up(*args)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=f"xeno-{func.__name__}", daemon=True)
    app.extensions.setdefault("xeno_background", []).append(thread)
    thread.start()
    return thread


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


def stream_key(name: str) -> str:
    """The Redis key of a named stream."""
    return STREAM_PREFIX + name


def batch_key(batch_id: str) -> str:
    """The Redis hash that tracks one published batch."""
    return f"xeno:batch:{batch_id}"


def publish(stream: str, records: list[dict[str, Any]]) -> str:
    """Publish records as one stream entry and open their batch, atomically; return its id."""
    batch_id = uuid.uuid4().hex
    conn = connection()
    with conn.pipeline(transaction=True) as pipe:
        pipe.hset(
            batch_key(batch_id),
            mapping={
                "kind": stream,
                "received": len(records),
                "stored": 0,
                "rejected": 0,
                "created_at": int(time.time()),
            },
        )
        pipe.expire(batch_key(batch_id), BATCH_TTL)
        pipe.xadd(
            stream_key(stream), {"b": batch_id, "d": json.dumps(records, separators=(",", ":"))}
        )
        pipe.execute()
    request_drain(stream)
    return batch_id


def request_drain(stream: str) -> None:
    """Queue one drain per burst of publishes.

    A short-lived flag rather than RQ's `unique=True`: a job id stays taken after its
    worker is killed, which would block draining for good; the flag expires instead, and
    the drain clears it before reading, so a publish that races a finishing drain queues
    a fresh one.
    """
    if connection().set(f"xeno:drain:{stream}", 1, nx=True, ex=DRAIN_FLAG_TTL):
        from .jobs.streams import drain_stream  # jobs sit above the broker

        enqueue(drain_stream, stream, queue_name="streams", job_timeout=3600)


def batch_status(batch_id: str) -> dict[str, Any] | None:
    """A batch's counts and errors, or None if unknown or expired."""
    conn = connection()
    with conn.pipeline() as pipe:
        pipe.hgetall(batch_key(batch_id))
        pipe.lrange(batch_key(batch_id) + ":errors", 0, MAX_BATCH_ERRORS - 1)
        raw, errors = pipe.execute()
    if not raw:
        return None
    data = {k.decode(): v.decode() for k, v in raw.items()}
    received, stored, rejected = (int(data[k]) for k in ("received", "stored", "rejected"))
    done = stored + rejected
    status = "done" if done >= received else ("processing" if done else "queued")
    return {
        "batch_id": batch_id,
        "kind": data["kind"],
        "status": status,
        "received": received,
        "stored": stored,
        "rejected": rejected,
        "errors": [json.loads(e) for e in errors],
    }
