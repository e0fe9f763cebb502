"""Campaigns: create one with its audience snapshot, preview it, list it and its log.

The snapshot is written once, in the transaction that creates the campaign, by one
`INSERT … SELECT` when SQL can build the message, otherwise by multi-row INSERTs of 5000
rendered messages. UNIQUE(campaign_id, customer_id) makes a second launch impossible.
Counters (sent/failed/pending) are kept by the receipt consumer in the same transaction
as the log rows they count, so reading them never scans the log. The holdout (holdout.py)
is drawn by the same statement and counted once, right after it: sent + failed + pending +
holdout = audience_size from the first answer on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, literal, select, update

from xeno.campaigns import holdout as holdouts
from xeno.campaigns.jobs import schedule_dispatch
from xeno.campaigns.messages import MessageTemplate, compile_template, variables
from xeno.campaigns.results import revenue_by_campaign
from xeno.campaigns.schemas import CampaignIn
from xeno.customers.service import customer_json
from xeno.db import bulk
from xeno.db.models import Campaign, CommunicationLog, Customer, Segment
from xeno.dsl import compile_rule
from xeno.extensions import db
from xeno.platform.clock import iso, utcnow
from xeno.platform.errors import NotFound
from xeno.segments.service import parse_rule

CHUNK = 5000
PREVIEW_MESSAGES = 5
customers_t = Customer.__table__
log_t = CommunicationLog.__table__


@dataclass(frozen=True)
class Audience:
    """Who a campaign goes to: the rule text, its segment if any, and its WHERE clause."""

    rule: str
    segment_id: int | None
    where: ColumnElement[bool]


def audience(body: CampaignIn, now: datetime) -> Audience:
    """Resolve a segment id or a rule to a compiled WHERE clause (RuleError, NotFound)."""
    rule, segment_id = body.rule, body.segment_id
    if segment_id is not None:
        segment = db.session.get(Segment, segment_id)
        if segment is None:
            raise NotFound(f"no segment {segment_id}")
        rule = segment.rule
    assert rule is not None
    return Audience(rule, segment_id, compile_rule(parse_rule(rule), customers_t, now))


def preview(body: CampaignIn) -> dict[str, Any]:
    """The audience size and a few rendered messages; nothing is stored."""
    template = compile_template(body.message)
    target = audience(body, utcnow())
    size = db.session.scalar(select(func.count()).select_from(customers_t).where(target.where))
    sample = db.session.scalars(
        select(Customer).where(target.where).order_by(Customer.id).limit(PREVIEW_MESSAGES)
    )
    messages = [{"customer": customer_json(c), "text": template.render(variables(c))}
                for c in sample]
    return {"audience_size": size or 0, "messages": messages}


def create(body: CampaignIn, actor: str | None = None) -> Campaign:
    """Store a campaign and its audience snapshot (all PENDING) in one transaction."""
    now = utcnow()
    template = compile_template(body.message)
    target = audience(body, now)
    later = body.scheduled_at is not None and body.scheduled_at > now
    campaign = Campaign(
        name=body.name or f"Campaign {now:%Y-%m-%d %H:%M}",
        segment_id=target.segment_id,
        rule=target.rule,
        message=body.message,
        status="scheduled" if later else "sending",
        created_by=actor,
        created_at=now,
        scheduled_at=body.scheduled_at if later else None,
        holdout_percent=body.holdout_percent,
        attribution_days=body.attribution_days,
    )
    db.session.add(campaign)
    db.session.flush()
    conn = db.session.connection()
    size = snapshot(conn, campaign.id, template, target.where, now, body.holdout_percent)
    kept = held_back(conn, campaign.id) if body.holdout_percent else 0
    campaign.audience_size, campaign.holdout, campaign.pending = size, kept, size - kept
    if size == kept:
        campaign.status, campaign.finished_at = "done", now
    db.session.commit()
    return campaign


def launch(body: CampaignIn, actor: str | None = None) -> Campaign:
    """Create a campaign and start its delivery: the one way the API, pages and CLI send."""
    campaign = create(body, actor)
    if campaign.status != "done":
        schedule_dispatch(campaign)
    return campaign


def recent_campaigns(limit: int = 5) -> list[Campaign]:
    """The most recent campaigns with their delivery counters, newest first."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def snapshot(
    conn: Connection,
    campaign_id: int,
    template: MessageTemplate,
    where: ColumnElement[bool],
    now: datetime,
    holdout_percent: int = 0,
) -> int:
    """Write the audience to communications_log, never a row at a time; return its size.

    Each row is PENDING, or HOLDOUT for the share drawn at random by the same statement."""
    columns = ["campaign_id", "customer_id", "message", "status", "created_at", "updated_at"]
    message = template.sql(customers_t, conn.dialect.name)
    if message is not None:
        rows = select(
            literal(campaign_id), customers_t.c.id, message,
            holdouts.status_column(holdout_percent), literal(now), literal(now),
        ).where(where)
        return conn.execute(insert(log_t).from_select(columns, rows)).rowcount
    # Only the columns the template reads: decoding rows is most of this path's cost.
    keys = ("id", *template.columns_used)
    wanted = [customers_t.c[k] for k in keys]
    total, last = 0, 0
    while True:  # keyset pages on the same connection: a streaming cursor would block it
        page = conn.execute(
            select(*wanted).where(where, customers_t.c.id > last)
            .order_by(customers_t.c.id).limit(CHUNK)
        ).all()
        if not page:
            return total
        texts = template.render_many(variables(dict(zip(keys, r, strict=True))) for r in page)
        rows = [
            (campaign_id, r[0], text, holdouts.draw(holdout_percent), now, now)
            for r, text in zip(page, texts, strict=True)
        ]
        bulk.insert_rows(conn, log_t, columns, rows)
        total += len(rows)
        last = page[-1][0]


def held_back(conn: Connection, campaign_id: int) -> int:
    """Count a campaign's HOLDOUT rows (an index range: campaign_id, status)."""
    return int(conn.scalar(
        select(func.count()).select_from(log_t)
        .where(log_t.c.campaign_id == campaign_id, log_t.c.status == "HOLDOUT")) or 0)


def start(campaign: Campaign) -> None:
    """Mark a due campaign as sending (the dispatch job calls this first)."""
    db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "scheduled")
        .values(status="sending")
    )
    db.session.commit()


def get(campaign_id: int) -> Campaign:
    """A campaign by id, or NotFound."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def campaign_dict(c: Campaign, revenue: float | None = None) -> dict[str, Any]:
    """A campaign with its delivery counters (sent + failed + pending + holdout add up to
    audience_size) and, when given, the recipients' attributed revenue."""
    out = {
        "id": c.id, "name": c.name, "segment_id": c.segment_id, "rule": c.rule,
        "message": c.message, "status": c.status, "audience_size": c.audience_size,
        "sent": c.sent, "failed": c.failed, "pending": c.pending, "holdout": c.holdout,
        "holdout_percent": c.holdout_percent, "attribution_days": c.attribution_days,
        "created_by": c.created_by, "created_at": iso(c.created_at),
        "scheduled_at": iso(c.scheduled_at), "finished_at": iso(c.finished_at),
    }
    if revenue is not None:
        out["revenue"] = revenue
    return out


def with_revenue(items: list[Campaign]) -> list[dict[str, Any]]:
    """Campaign dicts carrying their attributed revenue, for all of them in one query."""
    revenue = revenue_by_campaign([c.id for c in items])
    return [campaign_dict(c, revenue.get(c.id, 0.0)) for c in items]


def list_campaigns(page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """Most recent first (ties: higher id first), paged; each with its attributed revenue."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    total = db.session.scalar(select(func.count(Campaign.id))) or 0
    return {"items": with_revenue(items), "page": page, "per_page": per_page,
            "total": total}


def log_page(
    campaign_id: int, status: str | None = None, page: int = 1, per_page: int = 50
) -> dict[str, Any]:
    """One page of a campaign's log, by id, optionally of one status."""
    campaign = get(campaign_id)
    where = [log_t.c.campaign_id == campaign.id]
    if status:
        where.append(log_t.c.status == status)
    ids = list(db.session.scalars(
        select(log_t.c.id).where(*where).order_by(log_t.c.id)
        .limit(per_page).offset((page - 1) * per_page)
    ))
    rows = db.session.execute(
        select(log_t.c.id, customers_t.c.external_id, customers_t.c.name, log_t.c.message,
               log_t.c.status, log_t.c.updated_at)
        .join(customers_t, customers_t.c.id == log_t.c.customer_id, isouter=True)
        .where(log_t.c.id.in_(ids)).order_by(log_t.c.id)
    ).all() if ids else []
    if status is None:
        total = campaign.audience_size
    else:
        total = {"PENDING": campaign.pending, "SENT": campaign.sent,
                 "FAILED": campaign.failed, "HOLDOUT": campaign.holdout}.get(status, 0)
    items = [{"id": r.id, "customer_id": r.external_id, "name": r.name, "message": r.message,
              "status": r.status, "updated_at": iso(r.updated_at)} for r in rows]
    return {"items": items, "page": page, "per_page": per_page, "total": total}
