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

LogStatus = Literal["PENDING", "SENT", "FAILED", "HOLDOUT"]


class CampaignIn(BaseModel):
    """The body of POST /campaigns and /campaigns/preview."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    segment_id: Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX)] | None = None
    rule: StrictStr | None = None
    message: Annotated[StrictStr, Field(min_length=1, max_length=5000)]
    scheduled_at: datetime | None = None
    holdout_percent: Annotated[StrictInt, Field(ge=0, le=50)] = 0
    attribution_days: Annotated[StrictInt, Field(ge=1, le=90)] = 7
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
    holdout_percent: Annotated[StrictInt, Field(ge=0, le=50)] = Field(
        0, description="A retry keeps nobody back unless it asks to.")
    attribution_days: Annotated[StrictInt, Field(ge=1, le=90)] | None = Field(
        None, description="Days an order counts for the retry; default: the parent's.")


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
    holdout: int = Field(description="of those rows, the ones kept back (HOLDOUT, never sent)")
    parent_id: int | None = Field(description="the campaign this one retries, if any")


class CampaignOut(BaseModel):
    """A campaign with its delivery counters (sent + failed + pending + holdout =
    audience_size); list items also carry the recipients' attributed `revenue`."""

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
    holdout: int
    holdout_percent: int
    attribution_days: int
    revenue: float | None = None
    created_by: str | None
    created_at: str
    scheduled_at: str | None
    finished_at: str | None
    matched: int
    excluded: Excluded
    ignore_frequency_cap: bool
    parent_id: int | None


class GroupResults(BaseModel):
    """One group's outcome: its size, who converted, their orders and revenue (INR)."""

    count: int
    converted: int
    orders: int
    revenue: float


class ConversionRates(BaseModel):
    """converted / count per group (null while a group is empty)."""

    recipients: float | None
    holdout: float | None


class Uplift(BaseModel):
    """Recipients' rate minus the holdout's, relative to the holdout's, Wald 95% interval."""

    absolute: float
    relative: float | None
    ci95: list[float]


class ResultsOut(BaseModel):
    """Did it work: recipients against the holdout, last-touch attributed (SPEC)."""

    attribution_days: int
    as_of: str
    recipients: GroupResults
    holdout: GroupResults
    conversion_rate: ConversionRates
    uplift: Uplift | None
    incremental_revenue: float | None


class DailyOut(BaseModel):
    """Customers converted per day since the campaign was created, per group."""

    days: list[str]
    recipients: list[int]
    holdout: list[int]


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


class LogCsvQuery(BaseModel):
    """Which rows of a campaign's log to export: all, or one status (any case)."""

    status: LogStatus | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class LogQuery(PageQuery, LogCsvQuery):
    """Paging of a campaign's log, optionally of one status (any case)."""


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
