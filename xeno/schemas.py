"""Pydantic input models shared by the ingestion API and `xeno import`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

MAX_RECORDS = 1000

ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=255, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^$|^\+?[0-9 ()\-]{4,31}$"),
]


def _naive_utc(value: datetime) -> datetime:
    """Store instants as naive UTC; a time without an offset is taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


class Record(BaseModel):
    """Strict about unknown keys: free-form data belongs under `attributes`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(Record):
    """A customer as a shop system sends it."""

    id: ExternalId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Email | None = None
    phone: Phone | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    signup_at: datetime | None = None
    attributes: dict[str, Any] | None = None

    @field_validator("email", "phone", "city")
    @classmethod
    def _empty_is_missing(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("signup_at")
    @classmethod
    def _signup_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _naive_utc(value)


class OrderIn(Record):
    """An order; its customer may not have arrived yet."""

    id: ExternalId
    customer_id: ExternalId
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    ordered_at: datetime

    @field_validator("amount", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("amount must be a number")
        return value

    @field_validator("ordered_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        value = _naive_utc(value)
        limit = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
        if value > limit:
            raise ValueError("ordered_at is more than a day in the future")
        return value


class ReceiptIn(Record):
    """A delivery receipt from the vendor: it only ever moves a PENDING row."""

    log_id: Annotated[StrictInt, Field(gt=0, le=2**63 - 1)]
    status: Literal["SENT", "FAILED"]


SCHEMAS: dict[str, type[Record]] = {
    "customers": CustomerIn,
    "orders": OrderIn,
    "receipts": ReceiptIn,
}


def to_message(record: Record) -> dict[str, Any]:
    """The JSON-safe form a consumer receives (ISO times, decimals as strings)."""
    data = record.model_dump(mode="json")
    if isinstance(record, CustomerIn):
        data["signup_sent"] = record.signup_at is not None
    return data


def validate_one(kind: str, raw: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate one raw record; return its message form or its errors (field, message)."""
    try:
        record = SCHEMAS[kind].model_validate(raw)
    except ValidationError as exc:
        return None, [error_entry(e) for e in exc.errors(include_url=False)]
    return to_message(record), []


def validate_many(kind: str, raw: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate a request body's records; every bad one is listed with its index."""
    adapter = _ADAPTERS[kind]
    try:
        records = adapter.validate_python(raw)
    except ValidationError as exc:
        return [], indexed_errors(exc)
    return [to_message(r) for r in records], []


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


class PageQuery(BaseModel):
    """Paging of a list: page from 1, 50 per page by default; more than 500 is read as 500."""

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(50, ge=1, le=1_000_000)

    @field_validator("per_page")
    @classmethod
    def _at_most_500(cls, value: int) -> int:
        return min(value, 500)


_ADAPTERS = {kind: TypeAdapter(list[model]) for kind, model in SCHEMAS.items()}


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
