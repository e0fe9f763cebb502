"""Delivery: hand PENDING messages to the vendor and apply its receipts.

- `dispatch` posts a campaign's PENDING rows to `/vendor/send` in signed chunks (keyset
  by id), so a re-run after a crash only re-sends what is still PENDING.
- `store_receipts` is the "receipts" stream's bulk write: per read one SELECT … FOR
  UPDATE, one UPDATE of the log (only rows still PENDING move) and one UPDATE of the
  campaigns' counters from the rows that actually moved — all in one transaction, so
  duplicates, late and out-of-order receipts change nothing and counters equal the log.
- `abandon_campaign` / `abandon_messages` run once a dispatch or vendor job has failed
  for good (after its retries): what is still PENDING becomes FAILED through the same
  receipt path, so the campaign ends `done` with its failures shown instead of staying
  `sending` for ever.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import requests
from sqlalchemy import case, literal, select, update

from xeno.db.models import Campaign, CommunicationLog, Customer
from xeno.extensions import db
from xeno.platform.clock import utcnow
from xeno.platform.signing import post_signed

SEND_CHUNK = 1000
ID_CHUNK = 5000
log_t = CommunicationLog.__table__
campaigns_t = Campaign.__table__
customers_t = Customer.__table__
log = logging.getLogger(__name__)


def dispatch(campaign_id: int, chunk: int = SEND_CHUNK) -> int:
    """Send a campaign's PENDING messages to the vendor; return how many were handed over."""
    db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "scheduled")
        .values(status="sending")
    )
    db.session.commit()
    query = (
        select(log_t.c.id, log_t.c.message, customers_t.c.email, customers_t.c.phone)
        .join(customers_t, customers_t.c.id == log_t.c.customer_id, isouter=True)
        .where(log_t.c.campaign_id == campaign_id, log_t.c.status == "PENDING")
        .order_by(log_t.c.id).limit(chunk)
    )
    sent, last = 0, 0
    with requests.Session() as session:
        while True:
            rows = db.session.execute(query.where(log_t.c.id > last)).all()
            db.session.commit()  # hold no snapshot or lock while the vendor works
            if not rows:
                return sent
            messages = [{"log_id": r.id, "to": r.email or r.phone or "", "text": r.message}
                        for r in rows]
            post_signed(session, "/api/v1/vendor/send", {"messages": messages})
            sent += len(rows)
            last = rows[-1].id


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
        abandon_messages(ids)
        moved, last = moved + len(ids), ids[-1]
    log.error("campaign %s: delivery failed for good; %s messages now FAILED", campaign_id, moved)
    return moved


def abandon_messages(log_ids: list[int]) -> None:
    """Mark these messages FAILED where still PENDING: their vendor job failed for good."""
    for start in range(0, len(log_ids), ID_CHUNK):
        chunk = log_ids[start : start + ID_CHUNK]
        store_receipts([{"log_id": log_id, "status": "FAILED"} for log_id in chunk])


def store_receipts(records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Apply receipts in one transaction; return (position, message) for unknown log ids."""
    first: dict[int, str] = {}
    positions: dict[int, list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        log_id = record["log_id"]
        first.setdefault(log_id, record["status"])  # within a read, the earliest receipt wins
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


def _move(conn, moving: dict[int, str], now) -> None:  # noqa: ANN001
    """One UPDATE per chunk: each row to its status, and only if it is still PENDING."""
    ids = sorted(moving)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        failed = [i for i in chunk if moving[i] == "FAILED"]
        status = case((log_t.c.id.in_(failed), "FAILED"), else_="SENT") if failed else "SENT"
        if failed and len(failed) == len(chunk):
            status = "FAILED"
        conn.execute(
            update(log_t)
            .where(log_t.c.id.in_(chunk), log_t.c.status == "PENDING")
            .values(status=status, updated_at=now)
        )


def _count(conn, moving: dict[int, str], known: dict, now) -> None:  # noqa: ANN001
    """One UPDATE of every touched campaign's counters; a campaign at 0 pending is done."""
    sent: dict[int, int] = defaultdict(int)
    failed: dict[int, int] = defaultdict(int)
    for log_id, status in moving.items():
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

