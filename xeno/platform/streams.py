"""The one stream protocol: publish, drain, batch status, dead letters.

Every write from outside goes the same road: a face validates the records and `publish`es
them as one stream entry (one batch); a drain job reads entries through a Redis consumer
group, hands one read's records to the stream's registered store (one bulk write, which
also records its batches' counts in the database: `batches.transaction()`), then acks.
At-least-once (ack after the write commits, reclaim of a dead consumer's entries) plus
idempotent stores: nothing lost, nothing counted twice.

Each record carries its entry's id as `VERSION` (`_version`): entry ids rise in each
stream, so a store that keeps the highest version per row keeps the record accepted last,
whatever order consumers apply entries in. A record the database refuses is isolated by
halving the write and reported in its batch; an entry that fails on its fifth delivery
for any reason but an outage is set aside to a dead-letter stream.

This module knows no domain: each domain registers its stream's store in its `init_app`
(`streams.register("orders", store_orders)`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Flask, current_app
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from xeno.extensions import db
from xeno.platform import batches
from xeno.platform.broker import connection, embedded, enqueue

log = logging.getLogger(__name__)

# A store takes the decoded records of one read and returns the ones it rejected as
# (position in that list, message).
Store = Callable[[list[dict[str, Any]]], list[tuple[int, str]]]

STREAM_PREFIX = "xeno:stream:"
DEAD_PREFIX = "xeno:dead:"
GROUP = "xeno"
BATCH_TTL = 7 * 24 * 3600
DRAIN_FLAG_TTL = 30
VERSION = "_version"
SEQ_BITS = 20  # version = ms << 20 | seq: a million entries a millisecond before two could tie
MAX_DELIVERIES = 5
# What a record can make MySQL refuse (CHECK failed, bad value, out of range, too long,
# bad JSON); IntegrityError and DataError are refusals too. Anything else is retried.
REFUSED_CODES = frozenset({1264, 1265, 1292, 1366, 1367, 1406, 1690, 3140, 3819, 4025})
# The server went away, refused us or is restarting: never a reason to set an entry aside.
OUTAGE_CODES = frozenset({1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055, 4031})
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


def drain_stream(
    name: str, consumer: str | None = None, max_reads: int | None = None, wait: bool = True
) -> int:
    """Apply a stream's entries until it is empty (or `max_reads` reads); return the count.

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
    for _ in range(max_reads) if max_reads is not None else itertools.count():
        reclaimed = reclaim(conn, key, consumer, idle_ms)
        if reclaimed:
            handled += apply_reclaimed(conn, name, reclaimed, store)
            continue
        entries = read_batch(conn, key, consumer, count, first_wait, gather_ms)
        if not entries:
            return handled
        rows = apply_entries(conn, name, entries, store)
        handled += rows
        # Aim at ~5000 rows a statement whether entries hold one record or a thousand.
        count = max(1, min(MAX_ENTRIES, TARGET_ROWS * len(entries) // max(rows, 1)))
    return handled


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


def reclaim(conn: redis.Redis, key: str, consumer: str, idle_ms: int) -> list[tuple[Any, int]]:
    """Take over entries another consumer read but never acknowledged (it died).

    Each comes with how often it has now been delivered, this time included.
    """
    reply = conn.xautoclaim(key, GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=50)
    claimed = [entry for entry in (reply[1] if reply else []) if entry and entry[1] is not None]
    if not claimed:
        return []
    with conn.pipeline(transaction=False) as pipe:
        for entry_id, _fields in claimed:
            pipe.xpending_range(key, GROUP, min=entry_id, max=entry_id, count=1)
        pending = pipe.execute()
    return [
        (entry, found[0]["times_delivered"] if found else 1)
        for entry, found in zip(claimed, pending, strict=True)
    ]


def apply_reclaimed(
    conn: redis.Redis, name: str, reclaimed: list[tuple[Any, int]], store: Store
) -> int:
    """Apply entries taken over from a dead consumer; set aside one that keeps failing.

    Most were merely orphaned and go as one read. An entry on its fifth delivery or later
    is applied alone, and set aside if it fails again for any reason but an outage: no
    entry is retried forever, and nothing is set aside because a server was down.
    """
    fresh = [entry for entry, deliveries in reclaimed if deliveries < MAX_DELIVERIES]
    handled = apply_entries(conn, name, fresh, store) if fresh else 0
    for entry, deliveries in reclaimed:
        if deliveries < MAX_DELIVERIES:
            continue
        try:
            handled += apply_entries(conn, name, [entry], store)
        except Exception as exc:
            if is_outage(exc):
                raise
            set_aside(conn, name, entry, deliveries, exc)
    return handled


def apply_entries(conn: redis.Redis, name: str, entries: list[Any], store: Store) -> int:
    """Write one read's records (one bulk call if the database takes them all), record
    their batches' outcomes, then ack."""
    progress = decode(name, entries)
    if progress.records:
        _store_isolating(store, name, progress, list(range(len(progress.records))))
    unwritten = progress.unwritten()
    if unwritten:  # outcomes no store transaction recorded: rejections, a plain store
        with db.engine.begin() as sql:
            batches.write(sql, unwritten)
    key = stream_key(name)
    ids = [entry_id for entry_id, _ in entries]
    with conn.pipeline(transaction=True) as pipe:
        pipe.xack(key, GROUP, *ids)
        pipe.xdel(key, *ids)
        pipe.execute()
    return len(progress.records)


def decode(name: str, entries: list[Any]) -> batches.Progress:
    """One read's records; each gets its entry's version, so the entry accepted last wins."""
    progress = batches.Progress()
    for entry_id, fields in entries:
        records = json.loads(fields[b"d"])
        version, created = entry_version(entry_id)
        for record in records:
            record[VERSION] = version
        outcome = batches.Outcome(name, len(records), created)
        progress.add(fields[b"b"].decode(), outcome, records)
    return progress


def entry_version(entry_id: bytes | str) -> tuple[int, datetime]:
    """An entry id (`<ms>-<seq>`, rising in each stream) as one sortable integer, and the
    naive UTC time it was accepted."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, seq = (int(part) for part in text.split("-"))
    return (ms << SEQ_BITS) + seq, datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None)


def _store_isolating(
    store: Store, name: str, progress: batches.Progress, positions: list[int]
) -> None:
    """Store these records; if the database refuses the lot, halve it until each refused
    record stands alone, and report those while every other record is stored."""
    committed = dict(progress.written)
    try:
        with batches.storing(progress, positions):
            rejected = _store_with_retry(store, [progress.records[p] for p in positions])
    except DBAPIError as exc:
        if not refused(exc):
            raise
        if len(positions) == 1:
            log.warning("stream %s: the database refused a record: %s", name, exc.orig)
            progress.reject(positions[0], f"refused by the database: {exc.orig}"[:500])
            return
        middle = len(positions) // 2
        _store_isolating(store, name, progress, positions[:middle])
        _store_isolating(store, name, progress, positions[middle:])
        return
    refused_at = {positions[i]: message for i, message in rejected}
    for position, message in sorted(refused_at.items()):
        progress.reject(position, message)
    if progress.written == committed:  # a store without `batches.transaction()`
        progress.count_stored(p for p in positions if p not in refused_at)


def _store_with_retry(store: Store, records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Concurrent consumers can deadlock in InnoDB; the loser simply tries its batch again."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return store(records)
        except OperationalError as exc:
            if _code(exc) not in (1213, 1205) or attempt == DEADLOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _code(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", None)
    return args[0] if args and isinstance(args[0], int) else None


def refused(exc: DBAPIError) -> bool:
    """The database refused what a record holds (not: it was unreachable or busy)."""
    return isinstance(exc, IntegrityError | DataError) or _code(exc) in REFUSED_CODES


def is_outage(exc: BaseException) -> bool:
    """A server was unreachable or dropped us: deliver again later, never set aside."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or _code(exc) in OUTAGE_CODES
    return False


def set_aside(conn: redis.Redis, name: str, entry: Any, deliveries: int, exc: Exception) -> None:
    """Move an entry that keeps failing to the dead-letter stream; report it in its batch."""
    entry_id, fields = entry
    message = f"set aside after {deliveries} deliveries: {type(exc).__name__}: {exc}"[:500]
    log.error("stream %s: entry %s %s", name, entry_id, message)
    try:
        progress = decode(name, [entry])
        for position in range(len(progress.records)):
            progress.reject(position, message)
        with db.engine.begin() as sql:
            batches.write(sql, progress.unwritten())
    except Exception:  # an entry that cannot even be decoded is still set aside
        log.exception("stream %s: entry %s could not be reported in its batch", name, entry_id)
    key = stream_key(name)
    with conn.pipeline(transaction=True) as pipe:
        pipe.xadd(dead_key(name), {**fields, b"entry": entry_id, b"error": message})
        pipe.xack(key, GROUP, entry_id)
        pipe.xdel(key, entry_id)
        pipe.execute()


def dead_letters(conn: redis.Redis) -> int:
    """Entries set aside, over every stream this app consumes."""
    with conn.pipeline(transaction=False) as pipe:
        for name in registered():
            pipe.xlen(dead_key(name))
        return int(sum(pipe.execute()))


def dead_key(name: str) -> str:
    """The Redis stream holding a stream's set-aside entries."""
    return DEAD_PREFIX + name


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
    # The hash answers "queued" until a consumer writes the batch's row to the database.
    with conn.pipeline(transaction=True) as pipe:
        pipe.hset(
            batch_key(batch_id),
            mapping={"kind": stream, "received": len(records), "created_at": int(time.time())},
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
    """A batch's counts and errors, or None if unknown or expired.

    The database answers for every batch a consumer got to, also after the broker lost its
    data; the broker's hash says "queued" for one still waiting.
    """
    stored = batches.status(batch_id)
    if stored is not None:
        return stored
    raw = connection().hgetall(batch_key(batch_id))
    if not raw:
        return None
    data = {k.decode(): v.decode() for k, v in raw.items()}
    return batches.shape(batch_id, data["kind"], int(data["received"]), 0, 0, [])
