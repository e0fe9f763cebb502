"""Customers and orders as shop systems send them: the API and `xeno import` validate with these.

Messages are sentences a shop's developer can act on: no regular expressions, no Python
reprs. Dates are ISO 8601 strings only (SPEC): pydantic's lax parsing would read a
digit-only string such as "19970101" as a Unix time, so it never sees them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
)

from xeno.db.clock import naive_utc, utcnow
from xeno.platform.records import ExternalId, Record, strings_in

ISO_EXAMPLE = "2024-05-01T10:00:00Z (or with an offset such as +05:30, or a date alone: 2024-05-01)"
YEARS = (1900, 2100)
MAX_ATTRIBUTES_BYTES = 16 * 1024
MAX_ATTRIBUTES_DEPTH = 10

# The ISO 8601 forms SPEC accepts; Python's fromisoformat alone also takes "20240501".
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()\-]{4,31}")


def iso_datetime(value: Any) -> datetime:
    """An ISO 8601 date or date-time string (or a datetime) in 1900–2100, else a sentence."""
    if isinstance(value, datetime):
        parsed = value
    elif not isinstance(value, str) or not _ISO.fullmatch(value.strip()):
        raise ValueError(f"not an ISO 8601 date or time; write it like {ISO_EXAMPLE}")
    else:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()} is not a date that exists") from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise ValueError(f"the year {parsed.year} is outside {YEARS[0]}–{YEARS[1]}")
    return parsed


# Checked before pydantic's own datetime parsing, which then only sees a datetime.
IsoDateTime = Annotated[datetime, BeforeValidator(iso_datetime)]


def check_attributes(value: dict[str, Any]) -> dict[str, Any]:
    """At most 16 KiB of JSON and 10 levels of nesting (the object itself is level 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    bound = 0  # bytes the JSON can take at most: 6 a character (an escape), 32 a scalar
    while stack:
        item, depth = stack.pop()
        if depth > MAX_ATTRIBUTES_DEPTH:
            raise ValueError(f"nests deeper than {MAX_ATTRIBUTES_DEPTH} levels")
        children = list(item.values()) if isinstance(item, dict) else item
        keys = item.keys() if isinstance(item, dict) else ()
        bound += 2 + sum(6 * len(k) + 4 for k in keys) + len(children)
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            else:
                bound += 6 * len(child) + 2 if isinstance(child, str) else 32
    if bound <= MAX_ATTRIBUTES_BYTES:
        return value  # surely small enough: most records, and no need to encode them
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"is {size} bytes of JSON; at most {MAX_ATTRIBUTES_BYTES} are allowed")
    return value


Attributes = Annotated[dict[str, Any], AfterValidator(check_attributes)]


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):
        raise ValueError("not an email address")
    return value


def _phone(value: str) -> str:
    if value and not _PHONE.fullmatch(value):
        raise ValueError("not a phone number (4 to 31 digits, spaces, brackets or dashes)")
    return value


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_email)
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_phone)
]


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):  # nearly every field: no walk needed
        return "\x00" in value
    return isinstance(value, dict | list) and any("\x00" in s for s in strings_in(value))


class ShopRecord(Record):
    """A record from a shop system: no text in it, however deep, holds a NUL character."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("holds a NUL character, which no text may contain")
        return value


class CustomerIn(ShopRecord):
    """A customer as a shop system sends it."""

    id: ExternalId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Email | None = None
    phone: Phone | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    signup_at: IsoDateTime | None = None
    attributes: Attributes | None = None
    # Consent: true leaves the customer out of every campaign; omitted leaves it unchanged.
    unsubscribed: bool | None = None

    @field_validator("email", "phone", "city")
    @classmethod
    def _empty_is_missing(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("signup_at")
    @classmethod
    def _signup_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else naive_utc(value)

    def message(self) -> dict[str, Any]:
        """The consumer must know whether signup_at was sent, to keep a stored one."""
        return {**super().message(), "signup_sent": self.signup_at is not None}


class OrderIn(ShopRecord):
    """An order; its customer may not have arrived yet. A free order (0.00) is still a visit."""

    id: ExternalId
    customer_id: ExternalId
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    ordered_at: IsoDateTime
    attributes: Attributes | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("amount must be a number")
        return value

    @field_validator("ordered_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        value = naive_utc(value)
        limit = utcnow() + timedelta(days=1)
        if value > limit:
            raise ValueError("ordered_at is more than a day in the future")
        return value
