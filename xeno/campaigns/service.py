"""Campaigns: create one with its audience snapshot, preview it, retry it, list it and its log.

The snapshot is written once, in the transaction that creates the campaign, by one
`INSERT … SELECT` when SQL can build the message, otherwise by multi-row INSERTs of 5000
rendered messages. Its WHERE leaves out the unsubscribed and the capped (`audience.py`).
UNIQUE(campaign_id, customer_id) makes a second launch impossible; an Idempotency-Key and
the 24-hour duplicate guard (`guards.py`) keep one click from becoming two campaigns; an
empty audience creates nothing. The holdout (`holdout.py`) is drawn among the rows written
by the same statement and counted once, right after it. Counters (sent/failed/pending) are
kept by the receipt consumer in the same transaction as the log rows they count, so reading
them never scans the log: sent + failed + pending + holdout = audience_size from the first
answer on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, literal, select, update

from xeno.campaigns import audience, guards
from xeno.campaigns import holdout as holdouts
from xeno.campaigns.audience import Breakdown, Target
from xeno.campaigns.jobs import schedule_dispatch
from xeno.campaigns.messages import MessageTemplate, compile_template, variables
from xeno.campaigns.results import revenue_by_campaign
from xeno.campaigns.schemas import CampaignIn, RetryIn
from xeno.customers.service import customer_json
from xeno.db import bulk
from xeno.db.clock import iso, utcnow
from xeno.db.models import Campaign, CommunicationLog, Customer
from xeno.extensions import db
from xeno.platform.errors import DuplicateCampaign, EmptyAudience, NotFound
from xeno.platform.http import Page

CHUNK = 5000
PREVIEW_MESSAGES = 5
customers_t = Customer.__table__
log_t = CommunicationLog.__table__


def preview(body: CampaignIn) -> dict[str, Any]:
    """The breakdown (matched, left out, audience) and a few rendered messages; stores nothing."""
    template = compile_template(body.message)
    now = utcnow()
    target = audience.of_rule(body.rule, body.segment_id, now)
    counted = audience.count(target, now, body.ignore_frequency_cap)
    sample = db.session.scalars(
        select(Customer).where(audience.receivers(target, now, body.ignore_frequency_cap))
        .order_by(Customer.id).limit(PREVIEW_MESSAGES)
    )
    messages = [{"customer": customer_json(c), "text": template.render(variables(c))}
                for c in sample]
    return {**counted.to_dict(), "messages": messages}


def duplicate_of(body: CampaignIn) -> int | None:
    """The campaign of the last 24 hours this one would repeat, if any (for the pages)."""
    now = utcnow()
    target = audience.of_rule(body.rule, body.segment_id, now)
    return guards.earlier(audience.fingerprint(target, body.message), now)


def launch(
    body: CampaignIn, actor: str | None = None, idempotency_key: str | None = None
) -> dict[str, Any]:
    """Create a campaign and start its delivery: the one way the API, pages and CLI send.

    Returns the 201 answer; with an Idempotency-Key seen in the last 24 hours, the answer
    given then (nothing is created).
    """
    now = utcnow()
    template = compile_template(body.message)
    target = audience.of_rule(body.rule, body.segment_id, now)
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
        ignore_frequency_cap=body.ignore_frequency_cap,
        holdout_percent=body.holdout_percent,
        attribution_days=body.attribution_days,
    )
    request = guards.digest("create", body.model_dump(mode="json"))
    return _send(campaign, target, template, body.allow_duplicate, actor,
                 idempotency_key, request, now)


def retry(
    campaign_id: int, body: RetryIn, actor: str | None = None, idempotency_key: str | None = None
) -> dict[str, Any]:
    """A new campaign with the same message to this one's FAILED recipients still subscribed.

    The frequency cap does not apply: these customers were meant to get this message
    already, and a FAILED row reached nobody.
    """
    parent = get(campaign_id)
    now = utcnow()
    template = compile_template(parent.message)
    target = audience.of_failures(parent)
    campaign = Campaign(
        name=body.name or f"{parent.name} (retry)"[:200],
        segment_id=parent.segment_id,
        rule=parent.rule,
        message=parent.message,
        status="sending",
        created_by=actor,
        created_at=now,
        ignore_frequency_cap=True,
        parent_id=parent.id,
        # A retry has no holdout unless it asks for one.
        holdout_percent=body.holdout_percent,
        attribution_days=body.attribution_days or parent.attribution_days,
    )
    request = guards.digest("retry", parent.id, body.model_dump(mode="json"))
    return _send(campaign, target, template, body.allow_duplicate, actor,
                 idempotency_key, request, now)


def _send(
    campaign: Campaign,
    target: Target,
    template: MessageTemplate,
    allow_duplicate: bool,
    actor: str | None,
    key: str | None,
    request: str,
    now: datetime,
) -> dict[str, Any]:
    """Store a campaign and its snapshot in one transaction, guarded; then start delivery."""
    try:
        if key is not None:
            replay = guards.claim(actor, key, request, now)
            if replay is not None:
                return replay
        campaign.fingerprint = audience.fingerprint(target, campaign.message)
        guards.lock(campaign.fingerprint, now)
        earlier = guards.earlier(campaign.fingerprint, now)
        if earlier is not None and not allow_duplicate:
            raise DuplicateCampaign(
                f"campaign {earlier} sent this message to the same audience in the last 24 "
                "hours; send with allow_duplicate to send it again", campaign_id=earlier,
            )
        db.session.add(campaign)
        db.session.flush()
        matched, unsubscribed = audience.matched_and_unsubscribed(target)
        where = audience.receivers(target, now, campaign.ignore_frequency_cap)
        conn = db.session.connection()
        size = snapshot(conn, campaign.id, template, where, now, campaign.holdout_percent)
        # Counted in two statements: a customer changing in between must not make it negative.
        matched = max(matched, unsubscribed + size)
        counted = Breakdown(matched, unsubscribed, matched - unsubscribed - size)
        if size == 0:
            raise EmptyAudience("nobody would receive this campaign; nothing was created",
                                **counted.to_dict())
        kept = held_back(conn, campaign.id) if campaign.holdout_percent else 0
        campaign.audience_size, campaign.holdout, campaign.pending = size, kept, size - kept
        if size == kept:  # all kept back: nothing to dispatch, nothing will finish it later
            campaign.status, campaign.finished_at = "done", now
        campaign.matched = matched
        campaign.excluded_unsubscribed = counted.unsubscribed
        campaign.excluded_frequency_cap = counted.frequency_cap
        answer = created_answer(campaign)
        if key is not None:
            guards.remember(actor, key, campaign.id, answer)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if key is not None:
        guards.purge(now)
    if campaign.status != "done":
        schedule_dispatch(campaign)
    return answer


def created_answer(c: Campaign) -> dict[str, Any]:
    """The 201 of a new campaign: its id, status and breakdown."""
    return {
        "id": c.id, "status": c.status, "matched": c.matched,
        "excluded": {"unsubscribed": c.excluded_unsubscribed,
                     "frequency_cap": c.excluded_frequency_cap},
        "audience_size": c.audience_size, "holdout": c.holdout, "parent_id": c.parent_id,
    }


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
        "matched": c.matched,
        "excluded": {"unsubscribed": c.excluded_unsubscribed,
                     "frequency_cap": c.excluded_frequency_cap},
        "ignore_frequency_cap": c.ignore_frequency_cap, "parent_id": c.parent_id,
    }
    if revenue is not None:
        out["revenue"] = revenue
    return out


def with_revenue(items: list[Campaign]) -> list[dict[str, Any]]:
    """Campaign dicts carrying their attributed revenue, for all of them in one query."""
    revenue = revenue_by_campaign([c.id for c in items])
    return [campaign_dict(c, revenue.get(c.id, 0.0)) for c in items]


def list_campaigns(page: int = 1, per_page: int = 50) -> Page[dict[str, Any]]:
    """Most recent first (ties: higher id first), paged; each with its attributed revenue."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    total = db.session.scalar(select(func.count(Campaign.id))) or 0
    return Page(with_revenue(items), page, per_page, total)


def log_page(
    campaign_id: int, status: str | None = None, page: int = 1, per_page: int = 50
) -> Page[dict[str, Any]]:
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
               log_t.c.status, log_t.c.reason, log_t.c.updated_at)
        .join(customers_t, customers_t.c.id == log_t.c.customer_id, isouter=True)
        .where(log_t.c.id.in_(ids)).order_by(log_t.c.id)
    ).all() if ids else []
    if status is None:
        total = campaign.audience_size
    else:
        total = {"PENDING": campaign.pending, "SENT": campaign.sent,
                 "FAILED": campaign.failed, "HOLDOUT": campaign.holdout}.get(status, 0)
    items = [{"id": r.id, "customer_id": r.external_id, "name": r.name, "message": r.message,
              "status": r.status, "reason": r.reason, "updated_at": iso(r.updated_at)}
             for r in rows]
    return Page(items, page, per_page, total)
