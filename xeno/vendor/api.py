"""The dummy vendor's endpoint: `POST /vendor/send`, HMAC-signed like receipts, not tokens."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, jsonify
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from xeno.platform.errors import TooLarge
from xeno.platform.http import read_json, validated
from xeno.platform.openapi import documented
from xeno.platform.records import MAX_RECORDS
from xeno.platform.signing import SIGNED_ERRORS, require_signature
from xeno.vendor.simulate import accept_chunk

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


class VendorAccepted(BaseModel):
    """The dummy vendor took the messages; receipts follow, one call each."""

    accepted: int

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
    require_signature()
    body = read_json()
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, list) and len(messages) > MAX_RECORDS:
        raise TooLarge(f"at most {MAX_RECORDS} messages per call; this one has {len(messages)}")
    chunk = validated(VendorSend, body)
    accept_chunk([m.log_id for m in chunk.messages])
    return jsonify(accepted=len(chunk.messages)), 202
