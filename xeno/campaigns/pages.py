"""Campaign pages: the dashboard, history, a new campaign in two steps, and one campaign.

Sending is two steps, and nothing is created before the second: the form (GET, with a live
preview from campaigns/new.js) leads to a confirmation page that recounts the audience and
shows who is left out; only its Send button (POST) creates the campaign, under the one-time
key drawn with the form. Every page works as plain HTML forms without JavaScript.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import ValidationError

from xeno.campaigns import results
from xeno.campaigns import service as campaigns
from xeno.campaigns.messages import VARIABLES, compile_template
from xeno.campaigns.schemas import CampaignIn, RetryIn
from xeno.customers.service import headline_figures
from xeno.dsl import RuleError
from xeno.platform.errors import (
    DuplicateCampaign,
    EmptyAudience,
    IdempotencyConflict,
    InvalidTemplate,
    NotFound,
)
from xeno.platform.http import page_number
from xeno.platform.records import error_entry
from xeno.segments import service as segments

bp = Blueprint("campaign_pages", __name__)

PER_PAGE = 50
DEFAULT_MESSAGE = 'Hi {{ first_name | default("there") }}, here\'s 10% off on your next order!'
LOG_STATUSES = ("PENDING", "SENT", "FAILED", "HOLDOUT")


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
    result = campaigns.list_campaigns(page_number(), PER_PAGE)
    saved = None
    if request.args.get("saved", "").isdigit():
        try:
            saved = segments.get_segment(int(request.args["saved"]))
        except NotFound:
            saved = None
    return render_template(
        "campaigns/list.html",
        result=result,
        saved=saved,
    )


def _form(source: Mapping[str, str], saved: list[Any]) -> dict[str, Any]:
    """The new-campaign form's fields from a query string or a posted form."""
    form = {
        "name": source.get("name", "").strip(),
        "audience": source.get("audience", "segment" if saved else "rule"),
        "segment_id": source.get("segment_id", "").strip(),
        "rule": source.get("rule", "").strip(),
        "message": source.get("message", DEFAULT_MESSAGE),
        "ignore_frequency_cap": source.get("ignore_frequency_cap") == "1",
        "holdout_percent": source.get("holdout_percent", "0").strip(),
        "attribution_days": source.get("attribution_days", "7").strip(),
        # The one-time key drawn with the form travels with it to the send: sending the
        # same form twice (double click, reload, Back then Send) replays the first answer.
        "key": source.get("key", "").strip()[:200] or uuid.uuid4().hex,
    }
    if form["rule"] and not source.get("segment_id") and "audience" not in source:
        form["audience"] = "rule"
    return form


def _again(campaign_id: str, form: dict[str, Any]) -> None:
    """Fill the form with a campaign's audience, message and name ("Send again")."""
    try:
        earlier = campaigns.get(int(campaign_id))
    except (ValueError, NotFound):
        return
    form.update(name=earlier.name, message=earlier.message,
                holdout_percent=str(earlier.holdout_percent),
                attribution_days=str(earlier.attribution_days))
    if earlier.segment_id is not None:
        form.update(audience="segment", segment_id=str(earlier.segment_id))
    else:
        form.update(audience="rule", rule=earlier.rule)


@bp.get("/campaigns/new")
def campaign_new():
    """Step 1: choose the audience and write the message, with a live preview."""
    saved = segments.list_segments(1, 500).items
    form = _form(request.args, saved)
    if request.args.get("again"):
        _again(request.args["again"], form)
    return _form_page(form, saved)


def _form_page(form: dict[str, Any], saved: list[Any], error: dict[str, Any] | None = None,
               status: int = 200) -> tuple[str, int]:
    counted_at = {s.id: s.counted_at.isoformat() + "Z" if s.counted_at else "" for s in saved}
    return render_template("campaigns/new.html", form=form, segments=saved, error=error,
                           counted_at=counted_at, variables=VARIABLES), status


@bp.get("/campaigns/confirm")
def campaign_confirm():
    """Step 2: recount the audience and show who is left out and who will receive it."""
    saved = segments.list_segments(1, 500).items
    form = _form(request.args, saved)
    try:
        body = _body(form)
        return _confirm_page(form, body)
    except FormError as exc:
        return _form_page(form, saved, exc.error, 422)


def _confirm_page(form: dict[str, Any], body: CampaignIn, error: str | None = None,
                  status: int = 200) -> tuple[str, int]:
    segment = segments.get_segment(body.segment_id) if body.segment_id else None
    return render_template(
        "campaigns/confirm.html", form=form, preview=campaigns.preview(body),
        duplicate=campaigns.duplicate_of(body), segment=segment, error=error,
    ), status


@bp.post("/campaigns/send")
def campaign_send():
    """Send the confirmed campaign, once per form, and open its page."""
    saved = segments.list_segments(1, 500).items
    form = _form(request.form, saved)
    try:
        body = _body(form, allow_duplicate=request.form.get("allow_duplicate") == "1")
        answer = campaigns.launch(body, current_user.email, form["key"])
    except FormError as exc:
        return _form_page(form, saved, exc.error, 422)
    except (DuplicateCampaign, EmptyAudience, IdempotencyConflict) as exc:
        return _confirm_page(form, _body(form), exc.message, exc.status)
    return redirect(url_for("campaign_pages.campaign_detail", campaign_id=answer["id"]), 303)


@bp.post("/campaigns/<int:campaign_id>/retry")
def campaign_retry(campaign_id: int):
    """Send the campaign again to those it failed for ("Retry failed")."""
    key = request.form.get("key", "").strip()[:200] or None
    try:
        answer = campaigns.retry(campaign_id, RetryIn(), current_user.email, key)
    except (DuplicateCampaign, EmptyAudience) as exc:
        flash(exc.message, "error")
        return redirect(url_for("campaign_pages.campaign_detail", campaign_id=campaign_id), 303)
    flash(f"Retrying {answer['audience_size']} failed message(s)", "success")
    return redirect(url_for("campaign_pages.campaign_detail", campaign_id=answer["id"]), 303)


class FormError(Exception):
    """What is wrong with the form, as the page shows it."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error


def _problems(exc: ValidationError) -> str:
    """Pydantic's complaints as one sentence, each naming its field."""
    entries = [error_entry(e) for e in exc.errors(include_url=False)]
    return "; ".join((f"{e['field']}: " if e["field"] else "") + e["message"] for e in entries)


def _body(form: dict[str, Any], allow_duplicate: bool = False) -> CampaignIn:
    """The form as an API body, checked as the API checks it (FormError otherwise)."""
    data: dict[str, Any] = {"message": form["message"], "allow_duplicate": allow_duplicate,
                            "ignore_frequency_cap": form["ignore_frequency_cap"]}
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
    try:
        body = CampaignIn.model_validate(data)
        compile_template(body.message)
        campaigns.duplicate_of(body)  # resolves the rule or segment: RuleError, NotFound
        return body
    except RuleError as exc:
        raise FormError({"field": "rule", **exc.to_dict()}) from None
    except InvalidTemplate as exc:
        raise FormError({"field": "message", "message": exc.message}) from None
    except NotFound as exc:
        raise FormError({"field": "segment_id", "message": exc.message}) from None
    except ValidationError as exc:
        raise FormError({"field": None, "message": _problems(exc)}) from None


@bp.get("/campaigns/<int:campaign_id>")
def campaign_detail(campaign_id: int):
    """One campaign: delivery figures, results against the holdout, and the log with a
    status filter and paging."""
    campaign = campaigns.campaign_dict(campaigns.get(campaign_id))
    outcome = results.results(campaign_id)
    status = request.args.get("status", "").strip().upper()
    status = status if status in LOG_STATUSES else ""
    log = campaigns.log_page(campaign_id, status or None, page_number(), PER_PAGE)
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        results=outcome,
        uplift_words=results.uplift_words(outcome),
        retry_key=uuid.uuid4().hex,
        log=log,
        status=status,
        statuses=LOG_STATUSES,
    )
