"""Campaigns API: create (audience snapshot before the 201), preview, list, detail, log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from pydantic import ValidationError

from .. import campaigns
from ..api_auth import api_auth_required, current_actor
from ..errors import ValidationFailed
from ..jobs.campaigns import schedule_dispatch
from ..schemas import _error
from .body import read_json

bp = Blueprint("api_campaigns", __name__, url_prefix="/api/v1")
STATUSES = ("PENDING", "SENT", "FAILED")


def _body() -> campaigns.CampaignIn:
    try:
        return campaigns.CampaignIn.model_validate(read_json())
    except ValidationError as exc:
        raise ValidationFailed([_error(e) for e in exc.errors(include_url=False)]) from None


def _int_arg(name: str, default: int, high: int | None = None) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = max(1, int(raw))
    except ValueError:
        problem = {"field": name, "message": f"{name} must be a whole number"}
        raise ValidationFailed([problem]) from None
    return min(value, high) if high else value


def _paging() -> dict[str, Any]:
    return {"page": _int_arg("page", 1), "per_page": _int_arg("per_page", 50, 500)}


@bp.post("/campaigns")
@api_auth_required
def create_campaign():
    """Create a campaign: its audience is written to the log before this answers."""
    campaign = campaigns.create(_body(), current_actor())
    if campaign.status != "done":
        schedule_dispatch(campaign)
    return jsonify(id=campaign.id, audience_size=campaign.audience_size,
                   status=campaign.status), 201


@bp.post("/campaigns/preview")
@api_auth_required
def preview_campaign():
    """The audience size and up to five rendered messages; nothing is stored."""
    return jsonify(campaigns.preview(_body()))


@bp.get("/campaigns")
@api_auth_required
def list_campaigns():
    """Campaigns, most recent first, with their delivery counters."""
    return jsonify(campaigns.list_campaigns(**_paging()))


@bp.get("/campaigns/<int:campaign_id>")
@api_auth_required
def get_campaign(campaign_id: int):
    """One campaign with its delivery counters."""
    return jsonify(campaigns.campaign_dict(campaigns.get(campaign_id)))


@bp.get("/campaigns/<int:campaign_id>/log")
@api_auth_required
def campaign_log(campaign_id: int):
    """A campaign's recipients and their delivery status, optionally of one status."""
    status = (request.args.get("status") or "").strip().upper() or None
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            [{"field": "status", "message": f"status must be one of {', '.join(STATUSES)}"}]
        )
    return jsonify(campaigns.log_page(campaign_id, status, **_paging()))
