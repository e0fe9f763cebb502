"""The rule tree: frozen dataclasses whose equality ignores source positions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

UNITS = ("days", "weeks", "months", "years")
PERIOD_UNITS = ("days", "weeks", "months")
MAX_LENGTH = 10_000
MAX_NESTING = 32

OPERATORS = (
    "=", "!=", ">", ">=", "<", "<=", "between", "in", "not in",
    "contains", "starts with", "ends with", "is empty", "is not empty", "is",
)
ORDER_OPS = frozenset({">", ">=", "<", "<="})
TEXT_OPS = frozenset({"contains", "starts with", "ends with"})
EMPTY_OPS = frozenset({"is empty", "is not empty"})
LIST_OPS = frozenset({"in", "not in"})


@dataclass(frozen=True)
class Number:
    """A decimal literal, kept exact."""

    value: Decimal
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class String:
    """A quoted text literal, unescaped."""

    value: str
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Date:
    """A calendar day, standing for the whole UTC day."""

    value: dt.date
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DateTime:
    """An instant, naive UTC."""

    value: dt.datetime
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Relative:
    """`N units ago`: an instant relative to the evaluation time."""

    amount: int
    unit: str  # one of UNITS
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Today:
    """The current UTC day, as a whole day."""

    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Word:
    """A bare word after IS, one of the field's choices (`campaign 12 IS SENT`); upper case."""

    value: str
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Period:
    """A field's parameter `IN LAST N DAYS|WEEKS|MONTHS`: the window ending now."""

    amount: int
    unit: str  # one of PERIOD_UNITS (UNITS when parsed; the check refuses years)
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


Value = Number | String | Date | DateTime | Relative | Today | Word
Operand = Value | tuple | None  # tuple of values for IN, pair for BETWEEN
Param = Number | Period  # what may follow a field's name: `campaign 12`, `spend IN LAST 9 DAYS`


@dataclass(frozen=True)
class Comparison:
    """`field [param] op value`; value is a tuple for IN/BETWEEN and None for IS EMPTY."""

    field: str
    op: str
    value: Operand = None
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)
    op_line: int | None = field(default=None, compare=False, repr=False)
    op_column: int | None = field(default=None, compare=False, repr=False)
    param: Param | None = None


@dataclass(frozen=True)
class And:
    """All children hold (n-ary, never directly nested in another And)."""

    children: tuple[Node, ...]
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Or:
    """Any child holds (n-ary, never directly nested in another Or)."""

    children: tuple[Node, ...]
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    """The child does not hold."""

    child: Node
    line: int | None = field(default=None, compare=False, repr=False)
    column: int | None = field(default=None, compare=False, repr=False)


Node = Comparison | And | Or | Not


def make_and(children: list[Node] | tuple[Node, ...], **pos: int | None) -> Node:
    """Build a flattened And; one child stands for itself."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    return flat[0] if len(flat) == 1 else And(tuple(flat), **pos)


def make_or(children: list[Node] | tuple[Node, ...], **pos: int | None) -> Node:
    """Build a flattened Or; one child stands for itself."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, Or) else (child,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat), **pos)
