"""Campaign pages: the dashboard, history, a new campaign (with message preview) and one
campaign's delivery.

Every page works as plain HTML forms; campaigns.js adds the live preview, sending through
the API and the figures that update while a campaign sends.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import ValidationError

from xeno.campaigns import results
from xeno.campaigns import service as campaigns
from xeno.campaigns.messages import VARIABLES
from xeno.campaigns.schemas import CampaignIn
from xeno.customers.service import headline_figures
from xeno.dsl import RuleError
from xeno.platform.errors import InvalidTemplate, NotFound
from xeno.segments import service as segments

bp = Blueprint("campaign_pages", __name__)

PER_PAGE = 50
LOG_STATUSES = ("PENDING", "SENT", "FAILED", "HOLDOUT")


def _int_arg(name: str, default: int = 1) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


@bp.get("/")
def dashboard():
    """Headline figures and the latest campaigns."""
    recent = campaigns.with_revenue(campaigns.recent_campaigns(5))
    return render_template(
        "campaigns/dashboard.html",
        figures=headline_figures(),
        campaigns=recent,
        revenue=sum(c["revenue"] for c in recent),
    )


@bp.get("/campaigns")
def campaign_list():
    """Campaign history, most recent first, with audience, sent, failed and pending."""
    result = campaigns.list_campaigns(_int_arg("page"), PER_PAGE)
    saved = None
    if request.args.get("saved", "").isdigit():
        try:
            saved = segments.get_segment(int(request.args["saved"]))
        except NotFound:
            saved = None
    return render_template(
        "campaigns/list.html", result=result, pages=_pages(result["total"], PER_PAGE), saved=saved
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():
    """Choose an audience, write the message, preview it for real customers, send."""
    saved = segments.list_segments(1, 500).items
    form = {
        "name": "",
        "audience": "segment" if saved else "rule",
        "segment_id": request.args.get("segment_id", ""),
        "rule": request.args.get("rule", ""),
        "message": 'Hi {{ first_name | default("there") }}, here\'s 10% off on your next order!',
        "holdout_percent": "0",
        "attribution_days": "7",
    }
    if form["rule"] and not request.args.get("segment_id"):
        form["audience"] = "rule"
    preview: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    if request.method == "POST":
        form.update({k: request.form.get(k, "").strip() for k in form if k != "message"})
        form["message"] = request.form.get("message", "")
        try:
            body = _body(form)
            if request.form.get("action") == "send":
                campaign = campaigns.launch(body, current_user.email)
                return redirect(url_for("campaign_pages.campaign_detail", campaign_id=campaign.id))
            preview = campaigns.preview(body)
        except RuleError as exc:
            error = {"field": "rule", **exc.to_dict()}
        except (InvalidTemplate, NotFound) as exc:
            error = {
                "field": "message" if isinstance(exc, InvalidTemplate) else "segment_id",
                "message": exc.message,
            }
        except ValidationError as exc:
            error = {"field": None, "message": _problems(exc)}
    return render_template(
        "campaigns/new.html",
        form=form,
        segments=saved,
        preview=preview,
        error=error,
        variables=VARIABLES,
    )


def _problems(exc: ValidationError) -> str:
    """Pydantic's complaints as one sentence, each naming its field."""
    parts = []
    for e in exc.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"])
        parts.append((f"{where}: " if where else "") + e["msg"].removeprefix("Value error, "))
    return "; ".join(parts)


def _body(form: dict[str, str]) -> CampaignIn:
    data: dict[str, Any] = {"message": form["message"]}
    if form["name"]:
        data["name"] = form["name"]
    if form["audience"] == "segment":
        data["segment_id"] = int(form["segment_id"]) if form["segment_id"].isdigit() else -1
    else:
        data["rule"] = form["rule"]
    for key in ("holdout_percent", "attribution_days"):
        value = form.get(key, "")
        if value:  # a number the form could not read stays text: the 422 names the field
            data[key] = int(value) if value.isdigit() else value
    return CampaignIn.model_validate(data)


@bp.get("/campaigns/<int:campaign_id>")
def campaign_detail(campaign_id: int):
    """One campaign: delivery figures, results against the holdout, and the log with a
    status filter and paging."""
    campaign = campaigns.campaign_dict(campaigns.get(campaign_id))
    outcome = results.results(campaign_id)
    status = request.args.get("status", "").strip().upper()
    status = status if status in LOG_STATUSES else ""
    log = campaigns.log_page(campaign_id, status or None, _int_arg("page"), PER_PAGE)
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        results=outcome,
        uplift_words=results.uplift_words(outcome),
        log=log,
        status=status,
        statuses=LOG_STATUSES,
        pages=_pages(log["total"], PER_PAGE),
    )
