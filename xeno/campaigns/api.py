"""Campaigns API: create (audience written before the 201), preview, list, detail, log, receipts."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, jsonify, request

from xeno.auth.guard import api_auth_required, current_actor
from xeno.campaigns import results
from xeno.campaigns import service as campaigns
from xeno.campaigns.guards import MAX_KEY, check_key
from xeno.campaigns.log import LOG_CSV_HEADER, log_rows
from xeno.campaigns.schemas import (
    CampaignCreated,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPreviewOut,
    DailyOut,
    LogCsvQuery,
    LogPage,
    LogQuery,
    ReceiptIn,
    ResultsOut,
    RetryIn,
)
from xeno.platform.exports import csv_response
from xeno.platform.http import PageQuery, accept, read_body, read_json, read_query, validated
from xeno.platform.openapi import documented
from xeno.platform.records import BatchAccepted, one_or_many
from xeno.platform.signing import SIGNED_ERRORS, require_signature

bp = Blueprint("api_campaigns", __name__, url_prefix="/api/v1")
TAGS = ("campaigns",)
WRITE_ERRORS = (400, 401, 404, 413, 415, 422, 503)
READ_ERRORS = (401, 404, 422, 503)
SEND_ERRORS = (400, 401, 404, 409, 413, 415, 422, 503)
SEND_NOTES = {
    409: "`duplicate_campaign` (the same message to the same audience in the last 24 hours; "
         "`campaign_id` names it; send with `allow_duplicate`) or `idempotency_conflict` "
         "(the Idempotency-Key was used with another body)",
    422: "`validation_failed`, `invalid_template`, or `empty_audience` (nobody would receive "
         "it; nothing was created; the body carries `matched`, `excluded` and `audience_size`)",
}
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
    "description": "The same key with the same body within 24 hours answers the first answer "
                   "again (201, same id) and creates nothing; with another body it is a 409.",
}
# Most operations here read one campaign; the two that send share their errors and header.
doc = partial(documented, tags=TAGS, errors=READ_ERRORS)
send_doc = partial(doc, errors=SEND_ERRORS, notes=SEND_NOTES, headers=(IDEMPOTENCY_HEADER,))


def _idempotency_key() -> str | None:
    return check_key(request.headers.get("Idempotency-Key"))


@bp.post("/campaigns")
@send_doc(
    "Create a campaign; its audience, less the unsubscribed and the capped, is written to "
    "the log before the answer",
    body=CampaignIn,
    responses={201: CampaignCreated},
)
@api_auth_required
def create_campaign():
    """Create a campaign: its audience is written to the log before this answers."""
    key = _idempotency_key()
    return jsonify(campaigns.launch(read_body(CampaignIn), current_actor(), key)), 201


@bp.post("/campaigns/<int:campaign_id>/retry")
@send_doc(
    "A new campaign with the same message to this one's FAILED recipients still subscribed",
    body=RetryIn,
    responses={201: CampaignCreated},
)
@api_auth_required
def retry_campaign(campaign_id: int):
    """Send a campaign again to those it FAILED for; the body is optional."""
    key = _idempotency_key()
    raw = read_json() if request.get_data(cache=True).strip() else {}
    body = validated(RetryIn, raw)
    return jsonify(campaigns.retry(campaign_id, body, current_actor(), key)), 201


@bp.post("/campaigns/preview")
@doc(
    "Who would receive it (matched, excluded, audience_size) and up to five rendered messages",
    body=CampaignIn,
    responses={200: CampaignPreviewOut},
    errors=WRITE_ERRORS,
)
@api_auth_required
def preview_campaign():
    """The audience size and up to five rendered messages; nothing is stored."""
    return jsonify(campaigns.preview(read_body(CampaignIn)))


@bp.get("/campaigns")
@doc(
    "Campaigns, most recent first, with delivery counters",
    query=PageQuery,
    responses={200: CampaignPage},
    errors=(401, 422, 503),
)
@api_auth_required
def list_campaigns():
    """Campaigns, most recent first, with their delivery counters."""
    args = read_query(PageQuery)
    return jsonify(campaigns.list_campaigns(page=args.page, per_page=args.per_page).to_dict())


@bp.get("/campaigns/<int:campaign_id>")
@doc("One campaign with its delivery counters", responses={200: CampaignOut})
@api_auth_required
def get_campaign(campaign_id: int):
    """One campaign with its delivery counters and attributed revenue."""
    return jsonify(campaigns.with_revenue([campaigns.get(campaign_id)])[0])


@bp.get("/campaigns/<int:campaign_id>/results")
@doc(
    "Did it work: conversions, revenue and uplift of recipients against the holdout",
    responses={200: ResultsOut},
)
@api_auth_required
def campaign_results(campaign_id: int):
    """Recipients against the holdout: conversions, revenue, uplift with its 95% interval."""
    return jsonify(results.results(campaign_id))


@bp.get("/campaigns/<int:campaign_id>/results/daily")
@doc(
    "Customers converted per day since the campaign was created, recipients and holdout",
    responses={200: DailyOut},
)
@api_auth_required
def campaign_results_daily(campaign_id: int):
    """Customers converted per day since the campaign was created, per group (the chart)."""
    return jsonify(results.daily(campaign_id))


@bp.get("/campaigns/<int:campaign_id>/log")
@doc(
    "A campaign's recipients and their delivery status", query=LogQuery, responses={200: LogPage}
)
@api_auth_required
def campaign_log(campaign_id: int):
    """A campaign's recipients and their delivery status, optionally of one status."""
    args = read_query(LogQuery)
    log = campaigns.log_page(campaign_id, args.status, page=args.page, per_page=args.per_page)
    return jsonify(log.to_dict())


@bp.get("/campaigns/<int:campaign_id>/log.csv")
@doc(
    "A campaign's log as CSV (optionally of one status), streamed",
    query=LogCsvQuery,
    responses={200: {"type": "string", "description": "CSV: " + ",".join(LOG_CSV_HEADER)}},
    media="text/csv",
)
@api_auth_required
def campaign_log_csv(campaign_id: int):
    """Stream a campaign's log as CSV, the columns of a log item, optionally of one status."""
    args = read_query(LogCsvQuery)
    campaign = campaigns.get(campaign_id)
    suffix = f"-{args.status.lower()}" if args.status else ""
    return csv_response(LOG_CSV_HEADER, log_rows(campaign.id, args.status),
                        f"campaign-{campaign.id}-log{suffix}.csv")


@bp.post("/receipts")
@documented(
    "Delivery receipts (one or up to 1000), applied in batches",
    body=one_or_many(ReceiptIn),
    responses={202: BatchAccepted},
    errors=SIGNED_ERRORS,
    auth="signature",
    tags=("vendor",),
)
def post_receipts():
    """Accept delivery receipts (one or up to 1000) and publish them; a consumer applies them."""
    require_signature()
    return accept(ReceiptIn, "receipts")
