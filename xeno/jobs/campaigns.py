"""Campaign jobs: dispatch a campaign to the dummy vendor, and the vendor's own work."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from rq import Retry

from .. import broker, delivery
from ..models import Campaign


def dispatch_campaign(campaign_id: int) -> int:
    """Hand a campaign's PENDING messages to the vendor, in signed chunks."""
    return delivery.dispatch(campaign_id)


def vendor_deliver(log_ids: list[int]) -> None:
    """The dummy vendor delivers one chunk: one receipt call per message."""
    delivery.simulate_vendor(log_ids)


def schedule_dispatch(campaign: Campaign) -> None:
    """Start delivery now, or at the campaign's `scheduled_at` (tests may turn this off)."""
    if not current_app.config.get("CAMPAIGN_AUTOSTART", True):
        return
    at: datetime | None = campaign.scheduled_at if campaign.status == "scheduled" else None
    broker.background(
        dispatch_campaign, campaign.id, at=at, job_timeout=6 * 3600,
        retry=Retry(max=3, interval=[5, 30, 120]), give_up=delivery.abandon_campaign,
    )


def accept_vendor_chunk(log_ids: list[int]) -> None:
    """Queue one vendor job for a chunk of messages (never one per message)."""
    broker.background(
        vendor_deliver, log_ids, job_timeout=3600, retry=Retry(max=3, interval=[5, 30, 120]),
        give_up=delivery.abandon_messages,
    )
