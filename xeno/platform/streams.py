"""The one stream protocol: publish, drain, batch status.

Every write from outside goes the same road: a face validates the records and `publish`es
them as one stream entry; a drain job reads entries through a Redis consumer group, hands
one read's records to the stream's registered store (one bulk write), then counts them in
their batches and acks, in one Redis transaction. At-least-once (ack after the write
commits, reclaim of a dead consumer's entries) plus idempotent stores: nothing lost,
nothing counted twice.

This module knows no domain: each domain registers its stream's store in its `init_app`
(`streams.register("orders", store_orders)`).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from xeno.platform.broker import connection, embedded, enqueue

# A store takes the decoded records of one read and returns the ones it rejected as
# (position in that list, message).
Store = Callable[[list[dict[str, Any]]], list[tuple[int, str]]]

STREAM_PREFIX = "xeno:stream:"
GROUP = "xeno"
BATCH_TTL = 7 * 24 * 3600
DRAIN_FLAG_TTL = 30
MAX_BATCH_ERRORS = 1000
TARGET_ROWS = 5000
MAX_ENTRIES = 5000
FIRST_WAIT_MS = 20
# Receipts come one HTTP call per message: gather up to ~2 s of them per statement, so
# delivery figures lag by at most that and a million receipts cost a few hundred writes.
GATHER_MS = {"customers": 50, "orders": 50, "receipts": 2000}
DEADLOCK_RETRIES = 4


def register(app: Flask, name: str, store: Store) -> None:
    """Give the stream `name` its bulk write; a domain calls this from its `init_app`."""
    app.extensions.setdefault("xeno_streams", {})[name] = store


def registered() -> dict[str, Store]:
    """Every stream this app consumes, by name."""
    return current_app.extensions.get("xeno_streams", {})


def consumer_name() -> str:
    """Unique per process, so a dead process's pending entries can be told apart."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ensure_group(conn: redis.Redis, key: str) -> None:
    """Create the consumer group (and the stream) once; later calls are no-ops."""
    try:
        conn.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def drain_stream(name: str, consumer: str | None = None, wait: bool = True) -> int:
    """Apply a stream's entries until it is empty; return how many records were handled.

    `wait=False` is for a publisher that drains its own entries as it goes (`xeno import`):
    no blocking reads, and the drain flag is left to the job its publishes queued.
    """
    conn = connection()
    key = stream_key(name)
    if wait:
        # Clear the flag first: a publish from now on queues a new drain, so none is stranded.
        conn.delete(f"xeno:drain:{name}")
    ensure_group(conn, key)
    consumer = consumer or consumer_name()
    store = registered()[name]
    idle_ms = int(current_app.config.get("STREAM_RECLAIM_IDLE_MS", 60_000))
    # In-process (fakeredis, synchronous jobs) nothing else can publish while we read.
    quick = embedded() or not wait
    first_wait, gather_ms = (None, 0) if quick else (FIRST_WAIT_MS, gather_window_ms(name))
    count, handled = 8, 0
    while True:
        entries = reclaim(conn, key, consumer, idle_ms) or read_batch(
            conn, key, consumer, count, first_wait, gather_ms
        )
        if not entries:
            return handled
        rows = apply_entries(conn, key, entries, store)
        handled += rows
        # Aim at ~5000 rows a statement whether entries hold one record or a thousand.
        count = max(1, min(MAX_ENTRIES, TARGET_ROWS * len(entries) // max(rows, 1)))


def gather_window_ms(name: str) -> int:
    """How long a read may wait for more entries to fill its batch (config overrides)."""
    configured = current_app.config.get("STREAM_GATHER_MS", {})
    return int(configured.get(name, GATHER_MS.get(name, 50)))


def read_batch(
    conn: redis.Redis, key: str, consumer: str, count: int, first_wait: int | None, gather_ms: int
) -> list:
    """Read up to `count` new entries, waiting up to `gather_ms` to fill the batch.

    One-record entries (a webhook per order, a receipt per message) arrive a few at a
    time; gathering them turns a thousand calls into one statement. An empty stream ends
    the read at once, so an idle drain finishes quickly.
    """
    reply = conn.xreadgroup(GROUP, consumer, {key: ">"}, count=count, block=first_wait)
    entries = list(reply[0][1]) if reply else []
    deadline = time.monotonic() + gather_ms / 1000
    while entries and len(entries) < count:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            break
        more = conn.xreadgroup(
            GROUP, consumer, {key: ">"}, count=count - len(entries), block=left_ms
        )
        if not more:
            break
        entries.extend(more[0][1])
    return entries


def reclaim(conn: redis.Redis, key: str, consumer: str, idle_ms: int) -> list[Any]:
    """Take over entries another consumer read but never acknowledged (it died)."""
    reply = conn.xautoclaim(key, GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=50)
    claimed = reply[1] if reply else []
    return [entry for entry in claimed if entry and entry[1] is not None]


def apply_entries(conn: redis.Redis, key: str, entries: list[Any], store: Store) -> int:
    """Write one read's records in one bulk call, then count and ack them in one transaction."""
    records: list[dict[str, Any]] = []
    owners: list[tuple[str, int]] = []
    for _entry_id, fields in entries:
        batch_id = fields[b"b"].decode()
        for index, record in enumerate(json.loads(fields[b"d"])):
            records.append(record)
            owners.append((batch_id, index))
    rejected = _store_with_retry(store, records) if records else []
    stored = Counter(batch for batch, _ in owners)
    errors: dict[str, list[str]] = {}
    for position, message in rejected:
        batch_id, index = owners[position]
        stored[batch_id] -= 1
        errors.setdefault(batch_id, []).append(
            json.dumps({"index": index, "id": records[position].get("id"), "message": message})
        )
    with conn.pipeline(transaction=True) as pipe:
        for batch_id, count in stored.items():
            bkey = batch_key(batch_id)
            pipe.hincrby(bkey, "stored", count)
            if batch_id in errors:
                pipe.hincrby(bkey, "rejected", len(errors[batch_id]))
                pipe.rpush(bkey + ":errors", *errors[batch_id])
                pipe.ltrim(bkey + ":errors", 0, MAX_BATCH_ERRORS - 1)
                pipe.expire(bkey + ":errors", BATCH_TTL)
        pipe.xack(key, GROUP, *[entry_id for entry_id, _ in entries])
        pipe.xdel(key, *[entry_id for entry_id, _ in entries])
        pipe.execute()
    return len(records)


def _store_with_retry(store: Store, records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Concurrent consumers can deadlock in InnoDB; the loser simply tries its batch again."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return store(records)
        except OperationalError as exc:
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if code not in (1213, 1205) or attempt == DEADLOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def backlog(conn: redis.Redis, name: str) -> int:
    """Records' entries not yet applied: acked entries are deleted, so the length is the rest."""
    return int(conn.xlen(stream_key(name)))


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
