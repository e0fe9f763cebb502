"""Segment pages: the list and the builder (visual and text).

The builder works without JavaScript as a plain form: the Rule box posts here and the
page comes back with the audience size, a sample and per-condition counts (or the error
at its line and column). With JavaScript the same form talks to the segments API, and
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from xeno.customers.service import headline_figures
from xeno.dsl import RuleError, parse, to_json
from xeno.platform.errors import EditConflict, NameTaken, NotFound
from xeno.platform.http import page_number
from xeno.segments import service as segments
from xeno.segments.explain import explain

bp = Blueprint("segment_pages", __name__)

PER_PAGE = 50


def _tree_of(rule: str) -> dict[str, Any] | None:
    """The builder's starting tree for a stored rule (None when it is empty or broken)."""
    if not rule.strip():
        return None
    try:
        return to_json(parse(rule))
    except RuleError:
        return None


@bp.get("/segments")
def segment_list():
    """Saved segments, most recent first; `?recount=1` counts the page's sizes afresh."""
    page = segments.list_segments(page_number(), PER_PAGE, fresh=request.args.get("recount") == "1")
    return render_template("segments/list.html", result=page)


@bp.route("/segments/new", methods=["GET", "POST"])
def segment_new():
    """The builder for a new segment; without JavaScript the form posts here."""
    return _builder(None)


@bp.route("/segments/<int:segment_id>/edit", methods=["GET", "POST"])
def segment_edit(segment_id: int):
    """The builder for a saved segment."""
    return _builder(segments.get_segment(segment_id))


def _builder(segment: Any):
    name = segment.name if segment else ""
    rule = segment.rule if segment else request.args.get("rule", "")
    version = segment.version if segment else None
    customer_id = ""
    result: dict[str, Any] = {}
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        rule = request.form.get("rule", "")
        customer_id = request.form.get("customer_id", "").strip()
        action = request.form.get("action", "count")
        sent = request.form.get("version", "")
        version = int(sent) if sent.isdigit() else version  # the version this form was drawn at
        result = _evaluate(rule, customer_id if action == "why" else "")
        if action == "save" and "error" not in result and rule.strip():
            if not name:
                result["name_error"] = "Give the segment a name."
            else:
                try:
                    saved = _save(segment, name, rule, version)
                    return redirect(url_for("campaign_pages.campaign_list", saved=saved.id))
                except NameTaken as error:
                    result["name_error"] = error.message
                except EditConflict as error:
                    result["conflict"] = error.extra["segment"]
    return render_template(
        "segments/builder.html",
        segment=segment,
        version=version,
        name=name,
        rule=rule,
        tree=_tree_of(rule),
        total=headline_figures()["customers"],
        customer_id=customer_id,
        **result,
    )


def _evaluate(rule: str, customer_id: str) -> dict[str, Any]:
    """Count, sample and explain a rule for the no-JavaScript form."""
    if not rule.strip():
        return {"empty": True}
    try:
        preview = segments.preview(rule)
        explained = explain(rule, customer_id or None)
    except RuleError as error:
        return {"error": error.to_dict()}
    except NotFound as error:
        preview = segments.preview(rule)
        explained = explain(rule)
        explained["customer_error"] = error.message
    return {"preview": preview, "explained": explained}


def _save(segment: Any, name: str, rule: str, version: int | None) -> Any:
    if segment is None:
        return segments.create_segment(name, rule, current_user.email)
    return segments.update_segment(segment.id, name, rule, version)


@bp.post("/segments/<int:segment_id>/delete")
def segment_delete(segment_id: int):
    """Delete a saved segment (campaigns keep their own copy of its rule)."""
    name = segments.get_segment(segment_id).name
    segments.delete_segment(segment_id)
    flash(f"Segment “{name}” deleted.", "success")
    return redirect(url_for("segment_pages.segment_list"))
