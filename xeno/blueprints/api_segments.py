"""Segments API: preview an audience, save and manage segments, explain a rule."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from .. import segments
from ..api_auth import api_auth_required, current_actor
from ..dsl import registry
from ..errors import ValidationFailed
from ..openapi import documented
from ..segment_explain import explain
from ..segment_models import (
    ExplainIn,
    ExplainOut,
    FieldsOut,
    PageQuery,
    PreviewOut,
    RuleIn,
    SegmentIn,
    SegmentOut,
    SegmentPageOut,
    SegmentUpdate,
)
from .body import read_json

bp = Blueprint("api_segments", __name__, url_prefix="/api/v1")
TAGS = ("segments",)
READ_ERRORS = (401, 422, 503)
RULE_ERRORS = (400, 401, 413, 415, 422, 503)


def _body(model: type[BaseModel]) -> Any:
    """Validate the JSON body against `model`; every problem is listed in the 422."""
    data = read_json()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or None,
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors(include_url=False)
        ]
        raise ValidationFailed(errors) from None


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(
            [{"field": name, "message": f"{name} must be a whole number"}]
        ) from None


@bp.post("/segments/preview")
@documented(
    "Count a rule's audience and show a sample",
    body=RuleIn,
    responses={200: PreviewOut},
    errors=RULE_ERRORS,
    tags=TAGS,
)
@api_auth_required
def preview_segment():
    """Count the audience of a rule and show a sample, without saving anything."""
    body = _body(RuleIn)
    return jsonify(segments.preview(body.rule).to_dict())


@bp.post("/segments/explain")
@documented(
    "Per-node counts, resolved dates and one customer's trace",
    body=ExplainIn,
    responses={200: ExplainOut},
    errors=RULE_ERRORS + (404,),
    tags=TAGS,
)
@api_auth_required
def explain_segment():
    """Per-node counts and resolved dates of a rule; with customer_id, that customer's trace."""
    body = _body(ExplainIn)
    return jsonify(explain(body.rule, body.customer_id))


@bp.get("/segments/fields")
@documented("The fields a rule can use", responses={200: FieldsOut}, errors=(401, 503), tags=TAGS)
@api_auth_required
def list_fields():
    """Every field a rule can use, with its type, operators and help."""
    return jsonify({"fields": [f.describe() for f in registry.all()]})


@bp.get("/segments")
@documented(
    "Saved segments, most recent first",
    query=PageQuery,
    responses={200: SegmentPageOut},
    errors=READ_ERRORS,
    tags=TAGS,
)
@api_auth_required
def list_segments():
    """Saved segments, most recent first, paged."""
    page = segments.list_segments(
        _int_arg("page", 1), _int_arg("per_page", segments.DEFAULT_PER_PAGE)
    )
    return jsonify(page.to_dict())


@bp.post("/segments")
@documented(
    "Save a segment with its size",
    body=SegmentIn,
    responses={201: SegmentOut},
    errors=RULE_ERRORS,
    tags=TAGS,
)
@api_auth_required
def create_segment():
    """Save a rule under a name with its audience size."""
    body = _body(SegmentIn)
    segment = segments.create_segment(body.name, body.rule, current_actor())
    return jsonify(segments.segment_json(segment)), 201


@bp.get("/segments/<int:segment_id>")
@documented("One saved segment", responses={200: SegmentOut}, errors=(401, 404, 503), tags=TAGS)
@api_auth_required
def get_segment(segment_id: int):
    """One saved segment."""
    return jsonify(segments.segment_json(segments.get_segment(segment_id)))


@bp.put("/segments/<int:segment_id>")
@documented(
    "Rename a segment or change its rule (counted again)",
    body=SegmentUpdate,
    responses={200: SegmentOut},
    errors=RULE_ERRORS + (404,),
    tags=TAGS,
)
@api_auth_required
def update_segment(segment_id: int):
    """Rename a segment or change its rule; its size is counted again."""
    body = _body(SegmentUpdate)
    segment = segments.update_segment(segment_id, body.name, body.rule)
    return jsonify(segments.segment_json(segment))


@bp.delete("/segments/<int:segment_id>")
@documented("Delete a segment", responses={204: None}, errors=(401, 404, 503), tags=TAGS)
@api_auth_required
def delete_segment(segment_id: int):
    """Delete a saved segment."""
    segments.delete_segment(segment_id)
    return Response(status=204)
