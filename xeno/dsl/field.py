"""A field: a name a rule can use, its type, where its value lives; plug-ins make these."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table

from .tree import EMPTY_OPS, LIST_OPS, OPERATORS, ORDER_OPS, PERIOD_UNITS, TEXT_OPS, Param

TYPES = ("number", "integer", "datetime", "text", "choice")
PARAMETER_KINDS = ("number", "period")
# Every type's operators, in the order the builder's menus show them, from tree.OPERATORS.
_BASE_OPS = ("=", "!=") + tuple(op for op in OPERATORS if op in LIST_OPS | EMPTY_OPS)
_ORDERED_OPS = tuple(op for op in OPERATORS if op in ORDER_OPS) + ("between",)
TYPE_OPERATORS: dict[str, tuple[str, ...]] = {
    "number": _BASE_OPS + _ORDERED_OPS,
    "integer": _BASE_OPS + _ORDERED_OPS,
    "datetime": _BASE_OPS + _ORDERED_OPS,
    "text": _BASE_OPS + tuple(op for op in OPERATORS if op in TEXT_OPS),
    "choice": ("is",),
}
TYPE_WORDS = {"number": "a number", "integer": "a whole number",
              "datetime": "a date-time", "text": "text", "choice": "a status"}
KEYWORDS = frozenset({
    "and", "or", "not", "between", "in", "contains", "starts", "ends", "with", "is",
    "empty", "today", "ago", "day", "days", "week", "weeks", "month", "months", "year", "years",
    "last",
})
_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")

# compile(table, op, value, now) for op in = > >= < <= contains/starts with/ends with
CompileHook = Callable[[Table, str, Any, dt.datetime], ColumnElement[bool]]


@dataclass(frozen=True)
class Parameter:
    """What a field takes after its name: a number (`campaign 12`) or a period
    (`spend IN LAST 90 DAYS`). `bind` makes the field that parameter stands for, so a
    parameterised rule form is one registration, never a case in the compiler."""

    kind: str  # one of PARAMETER_KINDS
    bind: Callable[[Param], Field] = field(compare=False)
    required: bool = False
    label: str = ""  # the builder's words before the input: "campaign", "in the last"
    refers_to: str | None = None  # numbers name a row of this kind; the app checks it exists

    def __post_init__(self) -> None:
        if self.kind not in PARAMETER_KINDS:
            raise ValueError(f"parameter kind must be one of {', '.join(PARAMETER_KINDS)}")

    def describe(self) -> dict[str, Any]:
        """Return what the builder needs to draw the parameter's input."""
        out: dict[str, Any] = {"kind": self.kind, "required": self.required,
                               "label": self.label, "refers_to": self.refers_to}
        if self.kind == "period":
            out["units"] = list(PERIOD_UNITS)
        return out


@dataclass(frozen=True)
class Field:
    """A name a rule can use: its type, where its value lives and what it means."""

    name: str
    type: str
    column: Callable[[Table], ColumnElement[Any]] | None = None
    help: str = ""
    nullable: bool | None = None  # None: numbers are never empty, other types may be
    operators: tuple[str, ...] = ()
    scale: int = 2  # decimals a number column stores; integers have 0
    compile: CompileHook | None = field(default=None, compare=False)
    empty: Callable[[Table], ColumnElement[bool]] | None = field(default=None, compare=False)
    validate: Callable[[Any], str | None] | None = field(default=None, compare=False)
    enabled: Callable[[], bool] | None = field(default=None, compare=False)
    parameter: Parameter | None = None
    choices: tuple[str, ...] = ()  # the words a "choice" field takes after IS, upper case

    def __post_init__(self) -> None:
        name = self.name.lower()
        if not _NAME.match(name) or name in KEYWORDS:
            raise ValueError(f"{self.name!r} cannot be a field name")
        if self.type not in TYPES:
            raise ValueError(f"field {name}: type must be one of {', '.join(TYPES)}")
        needs_sql = self.parameter is None or not self.parameter.required
        if needs_sql and self.column is None and self.compile is None:
            raise ValueError(f"field {name}: needs a column or a compile hook")
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"field {name}: choices go with the type choice, and only there")
        object.__setattr__(self, "choices", tuple(c.upper() for c in self.choices))
        object.__setattr__(self, "name", name)
        if self.nullable is None:
            object.__setattr__(self, "nullable", self.type in ("datetime", "text"))
        if self.type == "integer":
            object.__setattr__(self, "scale", 0)
        if not self.operators:
            object.__setattr__(self, "operators", TYPE_OPERATORS[self.type])

    @property
    def type_words(self) -> str:
        """Name the type in words for messages ('a number', 'text')."""
        return TYPE_WORDS[self.type]

    def describe(self) -> dict[str, Any]:
        """Return what the builder page needs to draw this field's menus."""
        out = {"name": self.name, "type": self.type, "operators": list(self.operators),
               "help": self.help, "nullable": self.nullable}
        if self.parameter is not None:  # the builder draws an input for it
            out["parameter"] = self.parameter.describe()
        if self.choices:
            out["choices"] = list(self.choices)
        return out

    def bind(self, param: Param | None) -> Field:
        """Return the field a rule means by this name with `param` (itself without one)."""
        if param is None or self.parameter is None:
            return self
        return self.parameter.bind(param)
