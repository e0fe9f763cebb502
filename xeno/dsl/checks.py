"""The semantic pass: fields exist, operators fit their type, values fit the field."""

from __future__ import annotations

import difflib

from .errors import RuleError, caret
from .fields import Field, registry
from .tree import (
    EMPTY_OPS,
    LIST_OPS,
    MAX_NESTING,
    ORDER_OPS,
    TEXT_OPS,
    And,
    Comparison,
    Date,
    DateTime,
    Node,
    Not,
    Number,
    Or,
    Relative,
    String,
    Today,
    Value,
)
from .values import MAX_RELATIVE

VALUE_WORDS = {Number: "a number", String: "text", Date: "a date", DateTime: "a date-time",
               Relative: "a relative time", Today: "today"}
ACCEPTS: dict[str, tuple[type, ...]] = {
    "number": (Number,), "integer": (Number,), "text": (String,),
    "datetime": (Date, DateTime, Relative, Today),
}



def suggest(word: str, choices: list[str]) -> str | None:
    """Return the closest choice to a misspelt word, if any is close."""
    found = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return found[0] if found else None


def check(node: Node, text: str = "") -> Node:
    """Raise RuleError for the first thing wrong with `node`; return it unchanged otherwise."""
    _check(node, text, 1)
    return node


def _check(node: Node, text: str, depth: int) -> None:
    if depth > MAX_NESTING * 2 + 2:
        raise _error("the rule is nested too deeply", node, text)
    if isinstance(node, (And, Or)):
        for child in node.children:
            _check(child, text, depth + 1)
    elif isinstance(node, Not):
        _check(node.child, text, depth + 1)
    else:
        _comparison(node, text)


def _error(message: str, where: object, text: str, hint: str | None = None,
           expected: list[str] | None = None) -> RuleError:
    line, column = getattr(where, "line", None), getattr(where, "column", None)
    context = caret(text, line, column) if text and line and column else ""
    return RuleError(message, line, column, expected, hint, context)


def _comparison(node: Comparison, text: str) -> None:
    field = registry.get(node.field)
    if field is None:
        names = registry.names()
        close = suggest(node.field, names)
        message = f"unknown field '{node.field}'"
        if close:
            message += f" — did you mean '{close}'?"
        raise _error(message, node, text, hint=f"fields: {', '.join(names)}",
                     expected=["a field"])
    op_at = _At(node.op_line, node.op_column) if node.op_line else node
    if node.op not in field.operators:
        raise _error(_op_message(node.op, field), op_at, text,
                     hint=f"{field.name} takes {', '.join(o.upper() for o in field.operators)}")
    values: tuple[Value, ...]
    if node.op in EMPTY_OPS:
        return
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if node.op == "between" and len(values) != 2:
        raise _error("BETWEEN needs two values", op_at, text)
    if node.op in LIST_OPS and not values:
        raise _error(f"{node.op.upper()} needs at least one value", op_at, text)
    for value in values:
        _value(field, node, value, text)


def _op_message(op: str, field: Field) -> str:
    if op in TEXT_OPS:
        return f"{op.upper()} needs a text field; {field.name} is {field.type_words}"
    if op in ORDER_OPS or op == "between":
        return (f"{op.upper()} fits numbers and dates, not text; "
                f"{field.name} is {field.type_words}")
    return f"{field.name} does not take {op.upper()}"


class _At:
    def __init__(self, line: int | None, column: int | None) -> None:
        self.line, self.column = line, column


def _value(field: Field, node: Comparison, value: Value, text: str) -> None:
    where = value if getattr(value, "line", None) else node
    if not isinstance(value, ACCEPTS[field.type]):
        raise _error(
            f"{field.name} is {field.type_words}; {_show(value)} is {VALUE_WORDS[type(value)]}",
            where, text, expected=[_expected_word(field)])
    if isinstance(value, String) and value.value == "":
        raise _error("an empty text never matches", where, text,
                     hint=f"use {field.name} IS EMPTY to find customers without one")
    if isinstance(value, String) and "\x00" in value.value:
        raise _error("text values cannot contain the NUL character", where, text)
    if isinstance(value, Relative) and not 0 <= value.amount <= MAX_RELATIVE[value.unit]:
        raise _error(f"{value.amount} {value.unit} ago is out of range", where, text,
                     hint=f"use 0 to {MAX_RELATIVE[value.unit]} {value.unit}")
    problem = field.validate(value) if field.validate else None
    if problem:
        raise _error(problem, where, text)


def _expected_word(field: Field) -> str:
    return {"number": "a number", "integer": "a number", "text": "a quoted text",
            "datetime": "a date, date-time, 'N days ago' or today"}[field.type]


def _show(value: Value) -> str:
    from .text import render_value

    shown = render_value(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."

