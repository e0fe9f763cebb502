"""Records that come in through the one write path: their base model, validation, errors.

A face validates a request's records against a domain's `Record` model and publishes their
message form (`Record.message()`, JSON-safe) to a stream; errors take SPEC's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

MAX_RECORDS = 1000


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included; a loop, not recursion, however deep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)

# An external id: the shop's own id of a customer or an order.
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Record(BaseModel):
    """Strict about unknown keys: free-form data belongs under `attributes`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def message(self) -> dict[str, Any]:
        """The JSON-safe form a consumer receives (ISO times, decimals as strings)."""
        return self.model_dump(mode="json")


@cache
def _list_adapter(model: type[Record]) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def validate_one(
    model: type[Record], raw: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate one raw record; return its message form or its errors (field, message)."""
    try:
        record = model.model_validate(raw)
    except ValidationError as exc:
        return None, [error_entry(e) for e in exc.errors(include_url=False)]
    return record.message(), []


def validate_many(
    model: type[Record], raw: list[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate a request body's records; every bad one is listed with its index."""
    try:
        records = _list_adapter(model).validate_python(raw)
    except ValidationError as exc:
        return [], indexed_errors(exc)
    return [r.message() for r in records], []


def error_entry(e: Any) -> dict[str, Any]:
    """One pydantic error as SPEC's `{"field", "message"}`."""
    field = ".".join(str(p) for p in e["loc"]) or None
    message = e["msg"].removeprefix("Value error, ")
    return {"field": field, "message": message}


def indexed_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Errors of a list body, each with the index of its record."""
    errors = []
    for e in exc.errors(include_url=False):
        index, *rest = e["loc"]
        errors.append({"index": index, **error_entry({**e, "loc": tuple(rest)})})
    return errors


def one_or_many(model: type[Record]) -> Any:
    """The body shape of ingestion: one record, or an array of up to 1000."""
    return model | Annotated[list[model], Field(min_length=1, max_length=MAX_RECORDS)]  # type: ignore[valid-type]


class BatchAccepted(BaseModel):
    """What a publish answers: the batch to poll and how many records it holds."""

    batch_id: str
    accepted: int


class BatchError(BaseModel):
    """A record the consumer refused."""

    model_config = ConfigDict(extra="allow")
    index: int
    message: str
    id: Any = None


class BatchStatus(BaseModel):
    """Where a published batch stands."""

    batch_id: str
    kind: str
    status: Literal["queued", "processing", "done"]
    received: int
    stored: int
    rejected: int
    errors: list[BatchError]
