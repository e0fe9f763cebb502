"""Ingestion: validate, publish to the broker, answer 202; a consumer stores later."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, jsonify

from xeno.auth.guard import token_required
from xeno.ingest.schemas import CustomerIn, OrderIn
from xeno.platform import streams
from xeno.platform.errors import NotFound
from xeno.platform.http import accept
from xeno.platform.openapi import documented
from xeno.platform.records import BatchAccepted, BatchStatus, one_or_many

bp = Blueprint("api_ingest", __name__, url_prefix="/api/v1")
INGEST_ERRORS = (400, 401, 413, 415, 422, 503)
doc = partial(documented, auth="token", tags=("ingestion",))
# Both publishers answer alike: a batch id now, the records stored later.
publish_doc = partial(doc, responses={202: BatchAccepted}, errors=INGEST_ERRORS)


@bp.post("/customers")
@publish_doc("Publish customers (upsert by id)", body=one_or_many(CustomerIn))
@token_required
def post_customers():
    """Accept customers for storage (upsert by id)."""
    return accept(CustomerIn, "customers")


@bp.post("/orders")
@publish_doc("Publish orders (upsert by id)", body=one_or_many(OrderIn))
@token_required
def post_orders():
    """Accept orders for storage (upsert by id); their customers' aggregates follow."""
    return accept(OrderIn, "orders")


@bp.get("/batches/<batch_id>")
@doc("Status of a published batch", responses={200: BatchStatus}, errors=(401, 404, 503))
@token_required
def get_batch(batch_id: str):
    """Where a published batch stands: received, stored, rejected and why."""
    status = streams.batch_status(batch_id)
    if status is None:
        raise NotFound(f"no batch {batch_id!r} (unknown, or older than 7 days)")
    return jsonify(status)
