"""Reading JSON request bodies the same strict way on every endpoint."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from ..errors import InvalidJSON, TooLarge, UnsupportedMediaType
from ..schemas import MAX_RECORDS


def read_json() -> Any:
    """The parsed body: 415 unless JSON, 413 over 1 MiB, 400 if it does not parse."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the body is over {limit // 1024} KiB")
    raw = request.get_data(cache=True)  # werkzeug stops a chunked body past the limit
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"the body is not valid JSON: {exc}") from None


def read_records() -> list[Any]:
    """One object or an array of up to 1000, always returned as a list."""
    body = read_json()
    records = body if isinstance(body, list) else [body]
    if len(records) > MAX_RECORDS:
        raise TooLarge(f"at most {MAX_RECORDS} records per request; this one has {len(records)}")
    return records
