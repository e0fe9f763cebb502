"""Reading requests the same strict way on every endpoint: JSON bodies, query strings, paging."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Generic, TypeVar

from flask import Response, current_app, jsonify, request
from pydantic import BaseModel, Field, ValidationError, field_validator
from werkzeug.exceptions import NotFound

from xeno.platform import streams
from xeno.platform.errors import InvalidJSON, TooLarge, UnsupportedMediaType, ValidationFailed
from xeno.platform.records import MAX_RECORDS, Record, error_entry, strings_in, validate_many

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
BIGINT_MAX = 2**63 - 1
MAX_PAGE = 1_000_000
MAX_JSON_DEPTH = 64  # SPEC "Faults": deeper is a 400 invalid_json, checked before parsing
# A JSON string, escapes included (unrolled, so a long string costs one C-level scan).
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# \uD800-\uDFFF escapes: the only way a lone surrogate reaches a str from valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class PageQuery(BaseModel):
    """Paging of a list: page from 1, 50 per page by default; more than 500 is read as 500."""

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=1_000_000)

    @field_validator("per_page")
    @classmethod
    def _at_most_500(cls, value: int) -> int:
        return min(value, 500)


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill at `per_page` a page (at least one)."""
    return max(1, -(-total // per_page))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: the one shape every list answers (SPEC "Lists")."""

    items: Sequence[T]
    page: int
    per_page: int
    total: int
    total_exact: bool = True  # a capped count (customer search) says so

    @property
    def pages(self) -> int:
        """How many pages the total fills (at least one)."""
        return page_count(self.total, self.per_page)

    def to_dict(self, item: Callable[[T], Any] | None = None) -> dict[str, Any]:
        """SPEC's list shape, each item passed through `item` when given."""
        items = [item(i) for i in self.items] if item else list(self.items)
        return {"items": items, "page": self.page, "per_page": self.per_page, "total": self.total}


def page_number(name: str = "page", default: int = 1) -> int:
    """A page's whole-number query argument, read leniently: junk means the default.

    Pages are followed from links people edit by hand, so `?page=x` shows page 1 rather
    than an error; a number past MAX_PAGE is MAX_PAGE, never an SQL overflow.
    """
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(1, value), MAX_PAGE)


def ids_fit_bigint(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A path id larger than any BIGINT names nothing: 404 before it reaches the database."""
    if any(isinstance(v, int) and v > BIGINT_MAX for v in (values or {}).values()):
        raise NotFound("no such id")


def read_json() -> Any:
    """The parsed body: 415 unless JSON, 413 over 1 MiB, 400 if it does not parse.

    Also 400 when it nests deeper than MAX_JSON_DEPTH (json.loads recurses once per level,
    so a deep body would be a RecursionError, and deep data breaks every later stage) or
    holds a lone surrogate, which no database column, log line or UTF-8 encoder can take.
    """
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the body is over {limit // 1024} KiB")
    raw = request.get_data(cache=True)  # werkzeug stops a chunked body past the limit
    try:
        # strict UTF-8: json.loads(bytes) would let encoded surrogates through
        text = raw.decode("utf-8-sig" if raw[:3] == b"\xef\xbb\xbf" else "utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJSON(f"the body is not valid UTF-8: {exc}") from None
    _check_depth(text)
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise InvalidJSON(f"the body is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(body):
        raise InvalidJSON(
            "the body holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), "
            "which is not a character"
        )
    return body


def json_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest, not counting brackets inside strings."""
    brackets = _NOT_BRACKET.sub("", JSON_STRING.sub("", text))
    # map/accumulate/max all run in C: a 1 MiB body of brackets takes milliseconds
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _check_depth(text: str) -> None:
    # Fewer brackets than the limit cannot nest past it: most bodies skip the scan.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InvalidJSON(f"the body nests more than {MAX_JSON_DEPTH} levels deep")


def _has_lone_surrogate(value: Any) -> bool:
    """True when any string (key or value) holds a code point UTF-8 cannot encode."""
    for item in strings_in(value):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


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


def accept(model: type[Record], stream: str) -> tuple[Response, int]:
    """The one write path's front door: validate every record, publish them, answer 202."""
    records = read_records()
    if not records:
        raise ValidationFailed([], message="the request holds no records")
    messages, errors = validate_many(model, records)
    if errors:
        raise ValidationFailed(errors)
    batch_id = streams.publish(stream, messages)
    return jsonify(batch_id=batch_id, accepted=len(messages)), 202
