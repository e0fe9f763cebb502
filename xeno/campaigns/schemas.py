"""Bodies, answers and query strings of the campaigns API, as pydantic models.

The views validate query strings with them and the OpenAPI description is built from them,
so the documentation cannot drift from what the views accept and return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from xeno.customers.schemas import CustomerOut
from xeno.db.clock import naive_utc
from xeno.platform.http import BIGINT_MAX, PageQuery
from xeno.platform.records import Record

LogStatus = Literal["PENDING", "SENT", "FAILED"]


class CampaignIn(BaseModel):
    """The body of POST /campaigns and /campaigns/preview."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    segment_id: Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX)] | None = None
    rule: StrictStr | None = None
    message: Annotated[StrictStr, Field(min_length=1, max_length=5000)]
    scheduled_at: datetime | None = None
    ignore_frequency_cap: StrictBool = Field(
        False, description="Send also to customers the frequency cap would leave out.")
    allow_duplicate: StrictBool = Field(
        False, description="Send even if the same message went to the same audience in the "
                           "last 24 hours.")

    @model_validator(mode="after")
    def _one_audience(self) -> CampaignIn:
        if (self.segment_id is None) == (self.rule is None):
            raise ValueError("give either segment_id or rule (exactly one)")
        if self.scheduled_at is not None:
            self.scheduled_at = naive_utc(self.scheduled_at)
        return self


class RetryIn(BaseModel):
    """The (optional) body of POST /campaigns/<id>/retry."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    allow_duplicate: StrictBool = Field(
        False, description="Retry even if this campaign was retried in the last 24 hours.")


class ReceiptIn(Record):
    """A delivery receipt from the vendor: it only ever moves a PENDING row."""

    log_id: Annotated[StrictInt, Field(gt=0, le=BIGINT_MAX)]
    status: Literal["SENT", "FAILED"]
    # Why it FAILED, in the vendor's words (kept only on FAILED rows).
    reason: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None


class Excluded(BaseModel):
    """Customers the rule matched who are left out (each counted once, unsubscribed first)."""

    unsubscribed: int
    frequency_cap: int


class CampaignCreated(BaseModel):
    """The answer to a new campaign: its audience is already in the log."""

    id: int
    status: Literal["scheduled", "sending", "done"]
    matched: int
    excluded: Excluded
    audience_size: int = Field(description="matched minus excluded: the rows in the log")
    parent_id: int | None = Field(description="the campaign this one retries, if any")


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
    matched: int
    excluded: Excluded
    ignore_frequency_cap: bool
    parent_id: int | None


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
    """Who the campaign would reach and a few rendered messages."""

    matched: int
    excluded: Excluded
    audience_size: int
    messages: list[RenderedMessage]


class LogQuery(PageQuery):
    """Paging of a campaign's log, optionally of one status (any case)."""

    status: LogStatus | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class LogCsvQuery(BaseModel):
    """Which rows of a campaign's log to export: all, or one status (any case)."""

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
    reason: str | None = Field(
        description="why it FAILED: the vendor's reason, or no_receipt; null otherwise"
    )
    updated_at: str


class LogPage(BaseModel):
    """One page of a campaign's log."""

    items: list[LogItem]
    page: int
    per_page: int
    total: int
