"""Ingestion: validate, publish to the broker, answer 202; a consumer stores later."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import broker
from ..api_auth import token_required
from ..errors import NotFound, ValidationFailed
from ..schemas import validate_many
from .body import read_records

bp = Blueprint("api_ingest", __name__, url_prefix="/api/v1")


def _accept(kind: str) -> tuple[Response, int]:
    records = read_records()
    if not records:
        raise ValidationFailed([], message="the request holds no records")
    messages, errors = validate_many(kind, records)
    if errors:
        raise ValidationFailed(errors)
    batch_id = broker.publish(kind, messages)
    return jsonify(batch_id=batch_id, accepted=len(messages)), 202


@bp.post("/customers")
@token_required
def post_customers():
    """Accept customers for storage (upsert by id)."""
    return _accept("customers")


@bp.post("/orders")
@token_required
def post_orders():
    """Accept orders for storage (upsert by id); their customers' aggregates follow."""
    return _accept("orders")


@bp.get("/batches/<batch_id>")
@token_required
def get_batch(batch_id: str):
    """Where a published batch stands: received, stored, rejected and why."""
    status = broker.batch_status(batch_id)
    if status is None:
        raise NotFound(f"no batch {batch_id!r} (unknown, or older than 7 days)")
    return jsonify(status)
