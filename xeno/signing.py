"""HMAC signatures between the app and the dummy vendor: `X-Xeno-Signature: sha256=<hex>`."""

from __future__ import annotations

import hashlib
import hmac
import re

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
