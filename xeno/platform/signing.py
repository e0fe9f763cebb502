"""HMAC signatures between the app and the vendor: `X-Xeno-Signature: sha256=<hex>`.

Both sides use them: the app signs what it hands the vendor, the vendor signs its receipts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import requests
from flask import current_app, request

from xeno.platform.errors import Unauthorized

HEADER = "X-Xeno-Signature"
_FORMAT = re.compile(r"sha256=[0-9a-f]{64}")


def sign(body: bytes, secret: str) -> str:
    """The header value for `body`: lowercase hex HMAC-SHA256 keyed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """True only for a well-formed header that matches `body` (constant-time compare)."""
    if not header or not _FORMAT.fullmatch(header.strip()):
        return False
    return hmac.compare_digest(header.strip(), sign(body, secret))


class DeliveryError(RuntimeError):
    """The vendor or the receipt API kept refusing; RQ records the failed job."""


def post_signed(
    session: requests.Session, path: str, payload: Any, attempts: int = 5, url: str | None = None
) -> None:
    """POST JSON to this app at PUBLIC_URL (or to `url`), signed; retry refusals and 5xx."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    url = url or current_app.config["PUBLIC_URL"] + path
    headers = {"Content-Type": "application/json",
               HEADER: sign(body, current_app.config["RECEIPT_SECRET"])}
    for attempt in range(attempts):
        try:
            response = session.post(url, data=body, headers=headers, timeout=30)
        except requests.ConnectionError:
            if attempt == attempts - 1:
                raise
        else:
            if response.status_code < 500:
                if response.status_code != 202:
                    raise DeliveryError(f"{path} answered {response.status_code}: "
                                        f"{response.text[:200]}")
                return
            if attempt == attempts - 1:
                raise DeliveryError(f"{path} answered {response.status_code}")
        time.sleep(0.2 * 2**attempt)


def require_signature() -> None:
    """401 unless X-Xeno-Signature is the HMAC of the raw body (checked before parsing)."""
    body = request.get_data(cache=True)
    if not verify(body, request.headers.get(HEADER), current_app.config["RECEIPT_SECRET"]):
        raise Unauthorized(f"missing or invalid {HEADER}: sign the raw body with HMAC-SHA256")


# what a signed endpoint can answer
SIGNED_ERRORS = (400, 401, 413, 415, 422, 503)
