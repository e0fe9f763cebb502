"""Campaign jobs: dispatch a campaign's messages to the vendor, now or when scheduled."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from rq import Retry

from xeno.campaigns import delivery
from xeno.db.models import Campaign
from xeno.platform import broker


def dispatch_campaign(campaign_id: int) -> int:
    """Hand a campaign's PENDING messages to the vendor, in signed chunks."""
    return delivery.dispatch(campaign_id)


def schedule_dispatch(campaign: Campaign) -> None:
    """Start delivery now, or at the campaign's `scheduled_at` (tests may turn this off)."""
    if not current_app.config.get("CAMPAIGN_AUTOSTART", True):
        return
    at: datetime | None = campaign.scheduled_at if campaign.status == "scheduled" else None
    broker.background(
        dispatch_campaign, campaign.id, at=at, job_timeout=6 * 3600,
        retry=Retry(max=3, interval=[5, 30, 120]), give_up=delivery.abandon_campaign,
    )
