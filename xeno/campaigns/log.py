"""The delivery log read out: one customer's messages, and a campaign's log as CSV.

`reason` (why a message FAILED) arrives with the fault-handling work; until its column
exists it reads as empty, so the shapes stay the same before and after.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, func, literal, select

from xeno.db.clock import iso
from xeno.db.models import Campaign, CommunicationLog, Customer
from xeno.extensions import db
from xeno.platform.exports import streamed_rows

LATEST = 50
customers_t = Customer.__table__
log_t = CommunicationLog.__table__
campaigns_t = Campaign.__table__
# The columns of a log item's JSON, in that order: the CSV header.
LOG_CSV_HEADER = ("id", "customer_id", "name", "message", "status", "reason", "updated_at")


def _reason() -> Any:
    return log_t.c.reason if "reason" in log_t.c else literal(None)


def customer_messages(customer: Customer, detail: bool = False) -> dict[str, Any]:
    """The profile's messages section: the latest 50 messages to a customer, newest first.

    The log's index on customer_id carries the primary key, so newest-first is a walk
    down that index, whatever the size of the campaigns.
    """
    rows = db.session.execute(
        select(log_t.c.id, log_t.c.campaign_id, campaigns_t.c.name, log_t.c.status,
               _reason().label("reason"), log_t.c.message, log_t.c.created_at,
               log_t.c.updated_at)
        .join(campaigns_t, campaigns_t.c.id == log_t.c.campaign_id)
        .where(log_t.c.customer_id == customer.id)
        .order_by(log_t.c.id.desc()).limit(LATEST)
    ).all()
    total = db.session.scalar(
        select(func.count()).select_from(log_t).where(log_t.c.customer_id == customer.id)
    )
    messages = [
        {"id": r.id, "campaign_id": r.campaign_id, "campaign_name": r.name, "status": r.status,
         "reason": r.reason, "message": r.message, "created_at": iso(r.created_at),
         "updated_at": iso(r.updated_at)}
        for r in rows
    ]
    return {"messages": messages, "messages_total": int(total or 0)}


def log_query(campaign_id: int, status: str | None = None) -> Select[Any]:
    """A campaign's log rows (optionally of one status) with their customers, by log id."""
    where = [log_t.c.campaign_id == campaign_id]
    if status:
        where.append(log_t.c.status == status)
    return (
        select(log_t.c.id, customers_t.c.external_id, customers_t.c.name, log_t.c.message,
               log_t.c.status, _reason().label("reason"), log_t.c.updated_at)
        .join(customers_t, customers_t.c.id == log_t.c.customer_id, isouter=True)
        .where(*where).order_by(log_t.c.id)
    )


def _csv_row(row: Any) -> Sequence[Any]:
    return (row.id, row.external_id, row.name, row.message, row.status, row.reason,
            iso(row.updated_at))


def log_rows(campaign_id: int, status: str | None = None) -> Iterator[list[Sequence[Any]]]:
    """Batches of a campaign's log as CSV rows of LOG_CSV_HEADER, streamed from the server."""
    return streamed_rows(log_query(campaign_id, status), _csv_row)
