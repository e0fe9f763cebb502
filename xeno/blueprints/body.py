"""Reading JSON request bodies the same strict way on every endpoint."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from .. import broker
from ..errors import InvalidJSON, TooLarge, UnsupportedMediaType, ValidationFailed
from ..schemas import MAX_RECORDS, error_entry, validate_many

M = TypeVar("M", bound=BaseModel)


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


def validated(model: type[M], data: Any) -> M:
    """`data` as `model`, or a 422 listing every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([error_entry(e) for e in exc.errors(include_url=False)]) from None


def read_body(model: type[M]) -> M:
    """The JSON body validated against `model`."""
    return validated(model, read_json())


def read_query(model: type[M]) -> M:
    """The query string validated against `model` (text where a number belongs is a 422)."""
    return validated(model, {k: v for k, v in request.args.items() if v.strip() != ""})


def accept(kind: str) -> tuple[Response, int]:
    """The one write path's front door: validate every record, publish them, answer 202."""
    records = read_records()
    if not records:
        raise ValidationFailed([], message="the request holds no records")
    messages, errors = validate_many(kind, records)
    if errors:
        raise ValidationFailed(errors)
    batch_id = broker.publish(kind, messages)
    return jsonify(batch_id=batch_id, accepted=len(messages)), 202
