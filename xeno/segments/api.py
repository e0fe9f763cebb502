"""Segments API: preview an audience, save and manage segments, explain a rule."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, jsonify

from xeno.auth.guard import api_auth_required, current_actor
from xeno.dsl import registry, render, to_json
from xeno.platform.exports import csv_response
from xeno.platform.http import read_body, read_query
from xeno.platform.openapi import documented
from xeno.segments import service as segments
from xeno.segments.explain import explain
from xeno.segments.export import HEADER, rule_rows
from xeno.segments.schemas import (
    ExplainIn,
    ExplainOut,
    FieldsOut,
    PreviewOut,
    RenderedOut,
    RuleIn,
    SegmentIn,
    SegmentListQuery,
    SegmentOut,
    SegmentPageOut,
    SegmentUpdate,
    TreeIn,
)

bp = Blueprint("api_segments", __name__, url_prefix="/api/v1")
TAGS = ("segments",)
READ_ERRORS = (401, 422, 503)
RULE_ERRORS = (400, 401, 413, 415, 422, 503)
ONE_ERRORS = (401, 404, 503)
doc = partial(documented, tags=TAGS, errors=RULE_ERRORS)


@bp.post("/segments/preview")
@doc("Count a rule's audience and show a sample", body=RuleIn, responses={200: PreviewOut})
@api_auth_required
def preview_segment():
    """Count the audience of a rule and show a sample, without saving anything."""
    body = read_body(RuleIn)
    return jsonify(segments.preview(body.rule).to_dict())


@bp.post("/segments/explain")
@doc(
    "Per-node counts, resolved dates and one customer's trace",
    body=ExplainIn,
    responses={200: ExplainOut},
    errors=RULE_ERRORS + (404,),
)
@api_auth_required
def explain_segment():
    """Per-node counts and resolved dates of a rule; with customer_id, that customer's trace."""
    body = read_body(ExplainIn)
    return jsonify(explain(body.rule, body.customer_id))


@bp.post("/segments/render")
@doc(
    "Turn the visual builder's rule tree into normalised rule text",
    body=TreeIn,
    responses={200: RenderedOut},
)
@api_auth_required
def render_tree():
    """The builder's JSON tree as normalised rule text, checked like text: `{"rule", "tree"}`."""
    node = segments.tree_rule(read_body(TreeIn).tree)
    return jsonify(rule=render(node), tree=to_json(node))


@bp.get("/segments/fields")
@doc("The fields a rule can use", responses={200: FieldsOut}, errors=(401, 503))
@api_auth_required
def list_fields():
    """Every field a rule can use, with its type, operators and help."""
    return jsonify({"fields": [f.describe() for f in registry.all()]})


@bp.get("/segments")
@doc(
    "Saved segments, most recent first, with their sizes and when they were counted",
    query=SegmentListQuery,
    responses={200: SegmentPageOut},
    errors=READ_ERRORS,
)
@api_auth_required
def list_segments():
    """Saved segments, most recent first, paged; `recount=1` counts the page's afresh."""
    args = read_query(SegmentListQuery)
    page = segments.list_segments(args.page, args.per_page, fresh=args.recount)
    return jsonify(page.to_dict(segments.segment_json))


@bp.post("/segments")
@doc("Save a segment with its size", body=SegmentIn, responses={201: SegmentOut})
@api_auth_required
def create_segment():
    """Save a rule under a name with its audience size."""
    body = read_body(SegmentIn)
    segment = segments.create_segment(body.name, body.rule, current_actor())
    return jsonify(segments.segment_json(segment)), 201


@bp.get("/segments/<int:segment_id>")
@doc("One saved segment", responses={200: SegmentOut}, errors=ONE_ERRORS)
@api_auth_required
def get_segment(segment_id: int):
    """One saved segment."""
    return jsonify(segments.segment_json(segments.get_segment(segment_id)))


@bp.put("/segments/<int:segment_id>")
@doc(
    "Rename a segment or change its rule (counted again); 409 if edited from an old version",
    body=SegmentUpdate,
    responses={200: SegmentOut},
    errors=RULE_ERRORS + (404, 409),
)
@api_auth_required
def update_segment(segment_id: int):
    """Rename a segment or change its rule; its size is counted again."""
    body = read_body(SegmentUpdate)
    segment = segments.update_segment(segment_id, body.name, body.rule, body.version)
    return jsonify(segments.segment_json(segment))


@bp.get("/segments/<int:segment_id>/customers.csv")
@doc(
    "A segment's members as CSV (the columns of the customer JSON), streamed",
    responses={200: {"type": "string", "description": "CSV: " + ",".join(HEADER)}},
    errors=ONE_ERRORS,
    media="text/csv",
)
@api_auth_required
def export_segment(segment_id: int):
    """Stream the customers a saved segment holds now as CSV, one row per customer."""
    segment = segments.get_segment(segment_id)
    return csv_response(HEADER, rule_rows(segment.rule), f"segment-{segment.id}-customers.csv")


@bp.delete("/segments/<int:segment_id>")
@doc("Delete a segment", responses={204: None}, errors=ONE_ERRORS)
@api_auth_required
def delete_segment(segment_id: int):
    """Delete a saved segment."""
    segments.delete_segment(segment_id)
    return Response(status=204)
