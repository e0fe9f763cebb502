"""The dummy vendor's endpoint and the delivery receipt API, both HMAC-signed, not tokens."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..api_models import VendorAccepted
from ..errors import Unauthorized
from ..jobs.campaigns import accept_vendor_chunk
from ..openapi import documented
from ..schemas import MAX_RECORDS, BatchAccepted, ReceiptIn, one_or_many
from ..signing import HEADER, verify
from .body import accept, read_body

bp = Blueprint("vendor", __name__, url_prefix="/api/v1")


class VendorMessage(BaseModel):
    """One message handed to the vendor."""

    model_config = ConfigDict(extra="forbid")

    log_id: Annotated[StrictInt, Field(gt=0)]
    to: str = ""
    text: str


class VendorSend(BaseModel):
    """The body of POST /vendor/send."""

    model_config = ConfigDict(extra="forbid")

    messages: Annotated[list[VendorMessage], Field(min_length=1, max_length=MAX_RECORDS)]


def _require_signature() -> None:
    """401 unless X-Xeno-Signature is the HMAC of the raw body (checked before parsing)."""
    body = request.get_data(cache=True)
    if not verify(body, request.headers.get(HEADER), current_app.config["RECEIPT_SECRET"]):
        raise Unauthorized(f"missing or invalid {HEADER}: sign the raw body with HMAC-SHA256")


SIGNED_ERRORS = (400, 401, 413, 415, 422, 503)


@bp.post("/vendor/send")
@documented(
    "The dummy vendor: take messages, report each one to /receipts later",
    body=VendorSend,
    responses={202: VendorAccepted},
    errors=SIGNED_ERRORS,
    auth="signature",
    tags=("vendor",),
)
def vendor_send():
    """The dummy vendor takes a chunk of messages and reports on each one later."""
    _require_signature()
    chunk = read_body(VendorSend)
    accept_vendor_chunk([m.log_id for m in chunk.messages])
    return jsonify(accepted=len(chunk.messages)), 202


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
    _require_signature()
    return accept("receipts")
