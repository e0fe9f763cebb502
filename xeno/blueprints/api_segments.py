"""Segments API: preview an audience, save and manage segments, explain a rule."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from .. import segments
from ..api_auth import api_auth_required, current_actor
from ..dsl import registry
from ..errors import ValidationFailed
from ..schemas import ExternalId
from ..segment_explain import explain
from .body import read_json

bp = Blueprint("api_segments", __name__, url_prefix="/api/v1")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RuleIn(_Body):
    """`{"rule": "..."}`: the rule must be a string (the language itself checks the rest)."""

    rule: str


class ExplainIn(RuleIn):
    """A rule and, optionally, the external id of a customer to trace through it."""

    customer_id: ExternalId | None = None


class SegmentIn(_Body):
    """A new segment: a name and its rule."""

    name: Name
    rule: str


class SegmentUpdate(_Body):
    """A change to a segment: a new name, a new rule or both."""

    name: Name | None = None
    rule: str | None = None

    @model_validator(mode="after")
    def _something(self) -> SegmentUpdate:
        if self.name is None and self.rule is None:
            raise ValueError("send a new name, a new rule or both")
        return self


def _body(model: type[_Body]) -> Any:
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
@api_auth_required
def preview_segment():
    """Count the audience of a rule and show a sample, without saving anything."""
    body = _body(RuleIn)
    return jsonify(segments.preview(body.rule).to_dict())


@bp.post("/segments/explain")
@api_auth_required
def explain_segment():
    """Per-node counts and resolved dates of a rule; with customer_id, that customer's trace."""
    body = _body(ExplainIn)
    return jsonify(explain(body.rule, body.customer_id))


@bp.get("/segments/fields")
@api_auth_required
def list_fields():
    """Every field a rule can use, with its type, operators and help."""
    return jsonify({"fields": [f.describe() for f in registry.all()]})


@bp.get("/segments")
@api_auth_required
def list_segments():
    """Saved segments, most recent first, paged."""
    page = segments.list_segments(
        _int_arg("page", 1), _int_arg("per_page", segments.DEFAULT_PER_PAGE)
    )
    return jsonify(page.to_dict())


@bp.post("/segments")
@api_auth_required
def create_segment():
    """Save a rule under a name with its audience size."""
    body = _body(SegmentIn)
    segment = segments.create_segment(body.name, body.rule, current_actor())
    return jsonify(segments.segment_json(segment)), 201


@bp.get("/segments/<int:segment_id>")
@api_auth_required
def get_segment(segment_id: int):
    """One saved segment."""
    return jsonify(segments.segment_json(segments.get_segment(segment_id)))


@bp.put("/segments/<int:segment_id>")
@api_auth_required
def update_segment(segment_id: int):
    """Rename a segment or change its rule; its size is counted again."""
    body = _body(SegmentUpdate)
    segment = segments.update_segment(segment_id, body.name, body.rule)
    return jsonify(segments.segment_json(segment))


@bp.delete("/segments/<int:segment_id>")
@api_auth_required
def delete_segment(segment_id: int):
    """Delete a saved segment."""
    segments.delete_segment(segment_id)
    return Response(status=204)
