"""Answers and query strings of the campaigns, vendor and customers APIs, as pydantic models.

The views validate query strings with them and the OpenAPI description is built from them,
so the documentation cannot drift from what the views accept and return.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, field_validator

from .schemas import PageQuery
from .segment_models import CustomerOut

LogStatus = Literal["PENDING", "SENT", "FAILED"]


class CampaignCreated(BaseModel):
    """The answer to a new campaign: its audience is already in the log."""

    id: int
    audience_size: int
    status: Literal["scheduled", "sending", "done"]


class CampaignOut(BaseModel):
    """A campaign with its delivery counters (sent + failed + pending = audience_size)."""

    id: int
    name: str
    segment_id: int | None
    rule: str
    message: str
    status: Literal["scheduled", "sending", "done"]
    audience_size: int
    sent: int
    failed: int
    pending: int
    created_by: str | None
    created_at: str
    scheduled_at: str | None
    finished_at: str | None


class CampaignPage(BaseModel):
    """One page of campaigns, most recent first."""

    items: list[CampaignOut]
    page: int
    per_page: int
    total: int


class RenderedMessage(BaseModel):
    """A message as one real customer of the audience would get it."""

    customer: CustomerOut
    text: str


class CampaignPreviewOut(BaseModel):
    """The audience size and a few rendered messages."""

    audience_size: int
    messages: list[RenderedMessage]


class LogQuery(PageQuery):
    """Paging of a campaign's log, optionally of one status (any case)."""

    status: LogStatus | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class LogItem(BaseModel):
    """One recipient; `customer_id` is the external id."""

    id: int
    customer_id: str
    name: str
    message: str
    status: LogStatus
    updated_at: str


class LogPage(BaseModel):
    """One page of a campaign's log."""

    items: list[LogItem]
    page: int
    per_page: int
    total: int


class VendorAccepted(BaseModel):
    """The dummy vendor took the messages; receipts follow, one call each."""

    accepted: int


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
