"""Campaign jobs: dispatch a campaign's messages to the vendor, now or when scheduled."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from rq import Retry
from sqlalchemy import exists, select

from xeno.campaigns import delivery
from xeno.db.clock import utcnow
from xeno.db.models import Campaign, CommunicationLog
from xeno.extensions import db
from xeno.platform import broker

log = logging.getLogger(__name__)


def dispatch_campaign(campaign_id: int) -> int:
    """Hand a campaign's PENDING messages to the vendor, in signed chunks."""
    return delivery.dispatch(campaign_id)


def schedule_dispatch(campaign: Campaign) -> None:
    """Start delivery now, or at the campaign's `scheduled_at` (tests may turn this off)."""
    if not current_app.config.get("CAMPAIGN_AUTOSTART", True):
        return
    at: datetime | None = campaign.scheduled_at if campaign.status == "scheduled" else None
    broker.background(
        dispatch_campaign, campaign.id, at=at, job_timeout=6 * 3600, job_id=job_id(campaign.id),
        retry=Retry(max=3, interval=[5, 30, 120]), give_up=delivery.abandon_campaign,
    )


def job_id(campaign_id: int) -> str:
    """A campaign's dispatch job has one id, so that a second one is never started beside it."""
    return f"dispatch-{campaign_id}"


def resume_stranded(timeout: float | None = None) -> list[int]:
    """Start delivery again for campaigns whose never-handed messages nobody is handing over.

    A dispatch can end without handing everything and without its give-up marking the rest
    FAILED: the broker lost the job (restarted without persistence, or down when the
    campaign was created), or the database was down through every retry and the give-up
    too. A campaign older than the receipt timeout, still scheduled or sending, with
    never-handed PENDING messages and no dispatch job waiting or running, gets one again;
    the dispatch carries on where the last stopped (it hands only never-handed rows), at
    the campaign's `scheduled_at` if that is still to come. A periodic chore, like the
    receipt sweeper.
    """
    timeout = float(timeout or current_app.config["RECEIPT_TIMEOUT"])
    cutoff = utcnow() - timedelta(seconds=timeout)
    never_handed = exists().where(CommunicationLog.campaign_id == Campaign.id,
                                  CommunicationLog.status == "PENDING",
                                  CommunicationLog.handed_at.is_(None))
    candidates = db.session.scalars(
        select(Campaign).where(Campaign.status.in_(("scheduled", "sending")),
                               Campaign.created_at < cutoff, never_handed))
    resumed = [c for c in candidates if broker.free_job_id(job_id(c.id))]
    db.session.commit()
    for campaign in resumed:
        schedule_dispatch(campaign)
    if resumed:
        log.warning("delivery resumed for campaigns %s: nobody was handing their messages over",
                    [c.id for c in resumed])
    return [c.id for c in resumed]
