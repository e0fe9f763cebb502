"""Batch outcomes in the database: what each published batch stored and rejected, and why.

A batch's row is written by the consumer in the transaction that stores its records, so
its counts never disagree with the rows, and it outlives the broker (a Redis restarted
without persistence forgets its hashes; `GET /batches/<id>` still answers from here).
Publishing never touches the database: until a consumer wrote the row, the broker's hash
says the batch is queued.

Writes are idempotent: a batch is one stream entry, and an entry delivered again (its
consumer died before acking) recounts from zero, so counts only ever move up
(`GREATEST`), and the errors go with the higher rejected count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select
from sqlalchemy.dialects import mysql, sqlite

from xeno.db.clock import utcnow
from xeno.db.models import Batch
from xeno.extensions import db

KEEP = timedelta(days=7)
MAX_ERRORS = 1000
batches: Table = Batch.__table__


@dataclass
class Outcome:
    """One batch's counts as far as the current delivery of its entry got."""

    kind: str
    received: int
    created_at: datetime
    stored: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def row(self, batch_id: str, stored: int | None = None) -> dict[str, Any]:
        """The batches row, optionally with a count of stored records not yet committed."""
        return {
            "id": batch_id,
            "kind": self.kind,
            "received": self.received,
            "stored": self.stored if stored is None else stored,
            "rejected": len(self.errors),
            "errors": self.errors[:MAX_ERRORS],
            "created_at": self.created_at,
        }


@dataclass
class Progress:
    """One delivery of some entries: their records, where each came from, and how far each
    batch got. Stores write through `transaction()`, which counts their records here."""

    records: list[dict[str, Any]] = field(default_factory=list)
    owners: list[tuple[str, int]] = field(default_factory=list)  # (batch id, index in it)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows committed so far

    def add(self, batch_id: str, outcome: Outcome, records: list[dict[str, Any]]) -> None:
        """One entry: a batch and its records."""
        self.outcomes[batch_id] = outcome
        self.records.extend(records)
        self.owners.extend((batch_id, index) for index in range(len(records)))

    def reject(self, position: int, message: str) -> None:
        """Report one record under its batch's errors (SPEC: index, id, message)."""
        batch_id, index = self.owners[position]
        record = self.records[position]
        self.outcomes[batch_id].errors.append(
            {"index": index, "id": record.get("id"), "message": message}
        )

    def count_stored(self, positions: Iterable[int]) -> None:
        """A store that writes outside `transaction()` stored these; its batches follow."""
        for position in positions:
            self.outcomes[self.owners[position][0]].stored += 1

    def rows_if_stored(self, positions: list[int]) -> dict[str, dict[str, Any]]:
        """The batch rows as they stand once these records are stored too."""
        adding = Counter(self.owners[p][0] for p in positions)
        return {b: self.outcomes[b].row(b, self.outcomes[b].stored + n) for b, n in adding.items()}

    def committed(self, rows: dict[str, dict[str, Any]]) -> None:
        """A store transaction committed these rows."""
        for batch_id, row in rows.items():
            self.outcomes[batch_id].stored = row["stored"]
            self.written[batch_id] = row

    def unwritten(self) -> list[dict[str, Any]]:
        """Rows whose final state no store transaction committed (rejections, other stores)."""
        rows = (o.row(b) for b, o in self.outcomes.items())
        return [row for row in rows if self.written.get(row["id"]) != row]


_storing: ContextVar[tuple[Progress, list[int]] | None] = ContextVar("xeno_storing", default=None)


@contextmanager
def storing(progress: Progress, positions: list[int]) -> Iterator[None]:
    """While a store writes these records, its `transaction()` counts them in their batches."""
    token = _storing.set((progress, positions))
    try:
        yield
    finally:
        _storing.reset(token)


@contextmanager
def transaction() -> Iterator[Connection]:
    """A store's database transaction; it also writes its batches' counts, atomically.

    A store writes in one of these so a batch never says "stored" for a record that is not,
    nor the other way round. Outside a drain it is a plain transaction.
    """
    current = _storing.get()
    rows = current[0].rows_if_stored(current[1]) if current else {}
    with db.engine.begin() as conn:
        yield conn
        write(conn, rows.values())
    if current:
        current[0].committed(rows)


def write(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Create or advance batch rows in one statement, inside the caller's transaction."""
    rows = sorted(rows, key=lambda r: r["id"])  # one lock order for concurrent consumers
    if not rows:
        return
    if conn.dialect.name == "mysql":
        stmt = mysql.insert(batches).values(rows)
        new, old = stmt.inserted, batches.c
        # Assigned left to right, each seeing the ones before: errors first, while
        # `rejected` still holds the stored count it is compared with.
        stmt = stmt.on_duplicate_key_update(
            [
                ("errors", func.if_(new.rejected >= old.rejected, new.errors, old.errors)),
                ("stored", func.greatest(batches.c.stored, new.stored)),
                ("rejected", func.greatest(batches.c.rejected, new.rejected)),
            ]
        )
    else:
        stmt = sqlite.insert(batches).values(rows)
        new, old = stmt.excluded, batches.c
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "errors": func.iif(new.rejected >= old.rejected, new.errors, old.errors),
                "stored": func.max(batches.c.stored, new.stored),
                "rejected": func.max(batches.c.rejected, new.rejected),
            },
        )
    conn.execute(stmt)


def status(batch_id: str) -> dict[str, Any] | None:
    """A consumed batch's status in SPEC's shape, or None if no consumer wrote it yet."""
    query = select(batches).where(batches.c.id == batch_id, batches.c.created_at >= utcnow() - KEEP)
    with db.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    counts = (row["received"], row["stored"], row["rejected"])
    return shape(batch_id, row["kind"], *counts, row["errors"] or [])


def shape(
    batch_id: str, kind: str, received: int, stored: int, rejected: int, errors: list[Any]
) -> dict[str, Any]:
    """SPEC's batch status body."""
    done = stored + rejected
    return {
        "batch_id": batch_id,
        "kind": kind,
        "status": "done" if done >= received else ("processing" if done else "queued"),
        "received": received,
        "stored": stored,
        "rejected": rejected,
        "errors": errors,
    }


def purge(limit: int = 10_000) -> int:
    """Forget batches older than SPEC's seven days; return how many rows went."""
    old = select(batches.c.id).where(batches.c.created_at < utcnow() - KEEP).limit(limit)
    with db.engine.begin() as conn:
        ids = list(conn.execute(old).scalars())
        if ids:
            conn.execute(delete(batches).where(batches.c.id.in_(ids)))
    return len(ids)
