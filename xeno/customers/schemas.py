"""Answers and query strings of the customers API, as pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, field_validator

from xeno.platform.http import PageQuery


class CustomerOut(BaseModel):
    """A customer in a sample or a list; `id` is the external id."""

    id: str
    name: str
    email: str | None
    phone: str | None
    city: str | None
    spend: float
    visits: int
    avg_order: float
    last_visit: str | None
    signup: str
    unsubscribed_at: str | None


class CustomerQuery(PageQuery):
    """Search (text anywhere in name, email or city, or an exact id), sort and paging."""

    q: str = ""
    sort: Literal["spend", "visits", "last_visit", "name"] = "spend"
    order: Literal["asc", "desc"] = "desc"

    @field_validator("sort", "order", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class CustomerPage(BaseModel):
    """One page of customers."""

    items: list[CustomerOut]
    page: int
    per_page: int
    total: int


class OrderOut(BaseModel):
    """An order on a customer's profile; `id` is the external id."""

    id: str
    amount: float
    ordered_at: str
    received_at: str | None


class MessageOut(BaseModel):
    """A message a customer was sent, with its delivery status."""

    id: int
    campaign_id: int
    campaign_name: str
    status: str
    reason: str | None
    message: str
    created_at: str | None
    updated_at: str | None


class SegmentRef(BaseModel):
    """A saved segment that holds the customer now."""

    id: int
    name: str


class CustomerProfile(CustomerOut):
    """One customer: attributes, consent, latest 50 orders and messages, current segments."""

    attributes: dict[str, Any]
    unsubscribed_at: str | None
    created_at: str | None
    updated_at: str | None
    orders: list[OrderOut]
    orders_total: int
    messages: list[MessageOut]
    messages_total: int
    segments: list[SegmentRef]
