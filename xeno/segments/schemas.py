"""Pydantic models of the segments API: the bodies it validates and the answers it documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from xeno.customers.schemas import CustomerOut
from xeno.platform.http import PageQuery
from xeno.platform.records import ExternalId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RuleIn(_Body):
    """`{"rule": "..."}`: the rule must be a string (the language itself checks the rest)."""

    rule: str


class TreeIn(_Body):
    """`{"tree": {...}}`: the visual builder's JSON rule tree (checked like rule text)."""

    tree: dict[str, Any]


class RenderedOut(BaseModel):
    """A rule tree as normalised text, and the tree as the text parses back."""

    rule: str
    tree: dict[str, Any]


class ExplainIn(RuleIn):
    """A rule and, optionally, the external id of a customer to trace through it."""

    customer_id: ExternalId | None = None


class SegmentIn(_Body):
    """A new segment: a name and its rule."""

    name: Name
    rule: str


class SegmentUpdate(_Body):
    """A change to a segment: a new name, a new rule or both.

    `version` is the version the change was made from; an older one than stored is a 409
    `edit_conflict` (without it, the change applies to whatever is stored).
    """

    name: Name | None = None
    rule: str | None = None
    version: int | None = Field(None, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _something(self) -> SegmentUpdate:
        if self.name is None and self.rule is None:
            raise ValueError("send a new name, a new rule or both")
        return self


class PreviewOut(BaseModel):
    """An audience before saving."""

    count: int
    sample: list[CustomerOut]
    rule: str = Field(description="the rule as normalised text")
    tree: dict[str, Any] = Field(description="the rule tree as the builder's JSON")


class SegmentOut(BaseModel):
    """A saved segment with its size as counted at `counted_at`, and its edit version."""

    id: int
    name: str
    rule: str
    size: int
    counted_at: str | None
    version: int
    created_at: str
    created_by: str | None
    updated_at: str


class SegmentListQuery(PageQuery):
    """Paging of the saved segments; `recount=1` counts each segment on the page afresh."""

    recount: bool = False


class SegmentPageOut(BaseModel):
    """One page of saved segments, most recent first."""

    items: list[SegmentOut]
    page: int
    per_page: int
    total: int


class ParameterOut(BaseModel):
    """What a field takes after its name: a number (`campaign 12`) or a period
    (`spend IN LAST 90 DAYS`, units listed)."""

    kind: Literal["number", "period"]
    required: bool
    label: str
    refers_to: str | None
    units: list[str] | None = None


class FieldOut(BaseModel):
    """A field a rule can use; `choices` are the words a choice field takes after IS."""

    name: str
    type: str
    operators: list[str]
    help: str
    nullable: bool
    parameter: ParameterOut | None = None
    choices: list[str] | None = None


class FieldsOut(BaseModel):
    """Every registered field, plug-ins included."""

    fields: list[FieldOut]


class ExplainOut(BaseModel):
    """The rule's root node, plus the resolved `now` and the audience `count`.

    Every node has type, rule, own_count and left_count; a group has children, a NOT its
    child, a condition field, op and value (and `resolved` for a relative date); with a
    customer, every node says whether it `matches`.
    """

    model_config = ConfigDict(extra="allow")

    type: Literal["and", "or", "not", "condition"]
    rule: str
    own_count: int
    left_count: int
    children: list[dict[str, Any]] | None = None
    child: dict[str, Any] | None = None
    field: str | None = None
    op: str | None = None
    value: Any = None
    resolved: str | None = None
    matches: bool | None = None
    now: str
    count: int
    tree: dict[str, Any]
    customer: CustomerOut | None = None
