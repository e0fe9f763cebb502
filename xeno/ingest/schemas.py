"""Customers and orders as shop systems send them: the API and `xeno import` validate with these."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from xeno.platform.clock import naive_utc, utcnow
from xeno.platform.records import ExternalId, Record

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


class CustomerIn(Record):
    """A customer as a shop system sends it."""

    id: ExternalId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Email | None = None
    phone: Phone | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    signup_at: datetime | None = None
    attributes: dict[str, Any] | None = None
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
        value = naive_utc(value)
        limit = utcnow() + timedelta(days=1)
        if value > limit:
            raise ValueError("ordered_at is more than a day in the future")
        return value
