"""Delivery: hand PENDING messages to the vendor, apply its receipts, chase the missing ones.

- `dispatch` hands a campaign's never-handed PENDING rows to the vendor in signed chunks
  (keyset by id); each chunk's hand-over is recorded (`handed_at`, `attempts`) in one
  UPDATE after the vendor took it, so a re-run after a crash carries on where it stopped.
- `store_receipts` is the "receipts" stream's bulk write: per read one SELECT … FOR
  UPDATE, one UPDATE of the log per status and reason (only rows still PENDING move) and
  one UPDATE of the campaigns' counters from the rows that actually moved — all in one
  transaction, so duplicates, late and out-of-order receipts change nothing and counters
  equal the log.
- `sweep_overdue` runs periodically (the worker's chores; the demo server's thread): a
  message without a receipt `RECEIPT_TIMEOUT` seconds after its hand-over is handed again,
  at most twice more; then it becomes FAILED with reason `no_receipt` through the same
  receipt path. Set-based: one SELECT and one UPDATE per chunk, never a row at a time.
- `abandon_campaign` / `abandon_messages` run once a dispatch or vendor job has failed
  for good (after its retries): what is still PENDING becomes FAILED the same way.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import case, literal, select, update
from sqlalchemy.exc import OperationalError

from xeno.db.clock import utcnow
from xeno.db.models import Campaign, CommunicationLog, Customer
from xeno.extensions import db
from xeno.platform import streams
from xeno.platform.signing import post_signed

SEND_CHUNK = 1000
ID_CHUNK = 5000
MAX_HANDS = 3  # the first hand-over and at most two more (SPEC "Faults")
NO_RECEIPT = "no_receipt"
VENDOR_SEND = "/api/v1/vendor/send"
log_t = CommunicationLog.__table__
campaigns_t = Campaign.__table__
customers_t = Customer.__table__
log = logging.getLogger(__name__)


def _handable() -> Any:
    """What the vendor needs of a message: its id, text and address."""
    return select(log_t.c.id, log_t.c.message, customers_t.c.email, customers_t.c.phone).join(
        customers_t, customers_t.c.id == log_t.c.customer_id, isouter=True
    )


def hand_over(session: requests.Session, rows: list[Any]) -> None:
    """Give one chunk to the vendor, then record the hand-over in one UPDATE."""
    messages = [{"log_id": r.id, "to": r.email or r.phone or "", "text": r.message} for r in rows]
    post_signed(session, VENDOR_SEND, {"messages": messages},
                url=current_app.config.get("VENDOR_URL"))
    mark = (
        update(log_t)
        .where(log_t.c.id.in_([r.id for r in rows]), log_t.c.status == "PENDING")
        .values(handed_at=utcnow(), attempts=log_t.c.attempts + 1)
    )
    for attempt in range(3):  # receipts lock the same rows; the loser of a deadlock retries
        try:
            db.session.execute(mark)
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == 2:
                raise
            time.sleep(0.05 * (attempt + 1))


def dispatch(campaign_id: int, chunk: int = SEND_CHUNK) -> int:
    """Hand a campaign's never-handed PENDING messages to the vendor; return how many."""
    db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "scheduled")
        .values(status="sending")
    )
    db.session.commit()
    query = (
        _handable()
        .where(log_t.c.campaign_id == campaign_id, log_t.c.status == "PENDING",
               log_t.c.handed_at.is_(None))
        .order_by(log_t.c.id).limit(chunk)
    )
    sent, last = 0, 0
    with requests.Session() as session:
        while True:
            rows = db.session.execute(query.where(log_t.c.id > last)).all()
            db.session.commit()  # hold no snapshot or lock while the vendor works
            if not rows:
                return sent
            hand_over(session, rows)
            sent += len(rows)
            last = rows[-1].id


def sweep_every(config: Any) -> float:
    """How often the receipt sweeper runs: 3 × (timeout + one period) stays under 4 × timeout."""
    return max(0.5, min(30.0, float(config["RECEIPT_TIMEOUT"]) / 8))


def sweep_overdue(timeout: float | None = None) -> dict[str, int]:
    """Hand overdue messages to the vendor again, or fail them `no_receipt` after 3 hands."""
    timeout = float(timeout or current_app.config["RECEIPT_TIMEOUT"])
    # Apply the receipts already accepted first, so a message whose receipt arrived is not
    # handed again while the receipts stream has a backlog (bounded: receipts keep coming).
    streams.drain_stream("receipts", max_reads=2)
    cutoff = utcnow() - timedelta(seconds=timeout)
    overdue = (log_t.c.status == "PENDING", log_t.c.handed_at < cutoff)
    failed = 0
    for ids in _overdue_ids(*overdue, log_t.c.attempts >= MAX_HANDS):
        abandon_messages(ids, NO_RECEIPT)
        failed += len(ids)
    handed = 0
    with requests.Session() as session:
        for ids in _overdue_ids(*overdue, log_t.c.attempts < MAX_HANDS, size=SEND_CHUNK):
            rows = db.session.execute(
                _handable().where(log_t.c.id.in_(ids), *overdue).order_by(log_t.c.id)
            ).all()
            db.session.commit()
            if rows:
                hand_over(session, rows)
                handed += len(rows)
    if failed or handed:
        log.warning("receipts overdue: %s messages handed again, %s failed no_receipt",
                    handed, failed)
    return {"handed": handed, "failed": failed}


def _overdue_ids(*where: Any, size: int = ID_CHUNK) -> Any:
    """Chunks of ids matching `where`; each chunk leaves the set once handled.

    No ORDER BY, so the (status, handed_at) index serves the range and a sweep that finds
    nothing costs one index probe; `seen` stops a chunk that did not move from looping.
    """
    seen: set[int] = set()
    while True:
        ids = sorted(db.session.scalars(select(log_t.c.id).where(*where).limit(size)))
        db.session.commit()
        fresh = [i for i in ids if i not in seen]
        if not fresh:
            return
        seen.update(fresh)
        yield fresh


def abandon_campaign(campaign_id: int) -> int:
    """Mark a campaign's still-PENDING messages FAILED: its dispatch failed for good."""
    moved, last = 0, 0
    while True:
        ids = list(
            db.session.scalars(
                select(log_t.c.id)
                .where(
                    log_t.c.campaign_id == campaign_id,
                    log_t.c.status == "PENDING",
                    log_t.c.id > last,
                )
                .order_by(log_t.c.id)
                .limit(ID_CHUNK)
            )
        )
        db.session.commit()
        if not ids:
            break
        abandon_messages(ids, "vendor_unreachable")
        moved, last = moved + len(ids), ids[-1]
    log.error("campaign %s: delivery failed for good; %s messages now FAILED", campaign_id, moved)
    return moved


def abandon_messages(log_ids: list[int], reason: str = "vendor_unreachable") -> None:
    """Mark these messages FAILED with `reason` where still PENDING, as receipts would."""
    for start in range(0, len(log_ids), ID_CHUNK):
        chunk = log_ids[start : start + ID_CHUNK]
        store_receipts([{"log_id": i, "status": "FAILED", "reason": reason} for i in chunk])


def store_receipts(records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Apply receipts in one transaction; return (position, message) for unknown log ids."""
    first: dict[int, tuple[str, str | None]] = {}
    positions: dict[int, list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        log_id = record["log_id"]
        status = record["status"]
        # Within a read, the earliest receipt wins; a reason is kept on FAILED rows only.
        first.setdefault(log_id, (status, record.get("reason") if status == "FAILED" else None))
        positions[log_id].append(position)
    now = utcnow()
    known: dict[int, tuple[int, str]] = {}
    with db.engine.begin() as conn:
        ids = sorted(first)
        for start in range(0, len(ids), ID_CHUNK):
            lock = select(log_t.c.id, log_t.c.campaign_id, log_t.c.status).where(
                log_t.c.id.in_(ids[start : start + ID_CHUNK])
            )
            if conn.dialect.name == "mysql":
                lock = lock.order_by(log_t.c.id).with_for_update()
            known.update((r.id, (r.campaign_id, r.status)) for r in conn.execute(lock))
        moving = {i: first[i] for i, (_c, status) in known.items() if status == "PENDING"}
        if moving:
            _move(conn, moving, now)
            _count(conn, moving, known, now)
    return [
        (position, f"unknown log_id {log_id}")
        for log_id in first if log_id not in known
        for position in positions[log_id]
    ]


def _move(conn, moving: dict[int, tuple[str, str | None]], now) -> None:  # noqa: ANN001
    """One UPDATE per chunk and reason: each row to its status, only if it is still PENDING.

    Vendors report a handful of distinct reasons, so grouping by reason stays a few
    statements per read (ids in order, so concurrent writers lock rows in the same order).
    """
    groups: dict[str | None, list[int]] = defaultdict(list)
    for log_id in sorted(moving):
        groups[moving[log_id][1]].append(log_id)
    for reason, ids in groups.items():
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            failed = [i for i in chunk if moving[i][0] == "FAILED"]
            status = case((log_t.c.id.in_(failed), "FAILED"), else_="SENT") if failed else "SENT"
            if failed and len(failed) == len(chunk):
                status = "FAILED"
            conn.execute(
                update(log_t)
                .where(log_t.c.id.in_(chunk), log_t.c.status == "PENDING")
                .values(status=status, reason=reason, updated_at=now)
            )


def _count(conn, moving: dict[int, tuple[str, str | None]], known: dict, now) -> None:  # noqa: ANN001
    """One UPDATE of every touched campaign's counters; a campaign at 0 pending is done."""
    sent: dict[int, int] = defaultdict(int)
    failed: dict[int, int] = defaultdict(int)
    for log_id, (status, _reason) in moving.items():
        campaign_id = known[log_id][0]
        (failed if status == "FAILED" else sent)[campaign_id] += 1
    touched = sorted(set(sent) | set(failed))
    c = campaigns_t.c

    def by_campaign(delta: dict[int, int]) -> Any:
        whens = [(c.id == cid, delta[cid]) for cid in touched if delta.get(cid)]
        return case(*whens, else_=0) if whens else literal(0)

    d_sent, d_failed = by_campaign(sent), by_campaign(failed)
    left = c.pending - d_sent - d_failed
    # MySQL assigns left to right with the new values, SQLite with the old ones: status and
    # finished_at go first so both read the old `pending`.
    conn.execute(
        update(campaigns_t).where(c.id.in_(touched)).ordered_values(
            (c.status, case((left <= 0, "done"), else_=c.status)),
            (c.finished_at, case((left <= 0, now), else_=c.finished_at)),
            (c.sent, c.sent + d_sent),
            (c.failed, c.failed + d_failed),
            (c.pending, left),
        )
    )

