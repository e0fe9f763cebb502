"""The semantic pass: fields exist, operators fit their type, values fit the field."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from . import tree as t
from .errors import RuleError, caret
from .fields import Field, registry
from .values import MAX_RELATIVE

VALUE_WORDS = {t.Number: "a number", t.String: "text", t.Date: "a date", t.DateTime: "a date-time",
               t.Relative: "a relative time", t.Today: "today", t.Word: "a word"}
ACCEPTS: dict[str, tuple[type, ...]] = {
    "number": (t.Number,), "integer": (t.Number,), "text": (t.String,),
    "datetime": (t.Date, t.DateTime, t.Relative, t.Today), "choice": (t.Word,),
}
PARAM_LIMIT = 2**63 - 1
PERIOD_LIMIT = {"days": 36_600, "weeks": 5_230, "months": 1_200}
# exists(kind, numbers) → the numbers that name a stored row of that kind (the app's hook:
# the rule language cannot look in the database itself)
Exists = Callable[[str, set[int]], set[int]]



def suggest(word: str, choices: list[str]) -> str | None:
    """Return the closest choice to a misspelt word, if any is close."""
    found = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return found[0] if found else None


def check(node: t.Node, text: str = "", exists: Exists | None = None) -> t.Node:
    """Raise RuleError for the first thing wrong with `node`; return it unchanged otherwise.

    With `exists`, numbers that name something (`campaign 12`) must name a stored one:
    one call per kind for the whole rule."""
    _check(node, text, 1)
    if exists is not None:
        _check_references(node, text, exists)
    return node


def comparisons(node: t.Node) -> Iterable[t.Comparison]:
    """Yield every condition of a tree, in reading order."""
    if isinstance(node, (t.And, t.Or)):
        for child in node.children:
            yield from comparisons(child)
    elif isinstance(node, t.Not):
        yield from comparisons(node.child)
    else:
        yield node


def references(node: t.Node) -> list[tuple[str, int, t.Comparison]]:
    """Return (kind, number, condition) for every parameter that names a stored row."""
    found = []
    for item in comparisons(node):
        field = registry.get(item.field)
        parameter = field.parameter if field else None
        if parameter and parameter.refers_to and isinstance(item.param, t.Number):
            found.append((parameter.refers_to, int(item.param.value), item))
    return found


def _check_references(node: t.Node, text: str, exists: Exists) -> None:
    found = references(node)
    known: dict[str, set[int]] = {}
    for kind in dict.fromkeys(kind for kind, _, _ in found):
        known[kind] = exists(kind, {number for k, number, _ in found if k == kind})
    for kind, number, item in found:
        if number not in known[kind]:
            raise _error(f"unknown {kind} {number}", item.param, text,
                         hint=f"no {kind} has the number {number}",
                         expected=[f"the number of an existing {kind}"])


def _check(node: t.Node, text: str, depth: int) -> None:
    if depth > t.MAX_NESTING * 2 + 2:
        raise _error("the rule is nested too deeply", node, text)
    if isinstance(node, (t.And, t.Or)):
        for child in node.children:
            _check(child, text, depth + 1)
    elif isinstance(node, t.Not):
        _check(node.child, text, depth + 1)
    else:
        _comparison(node, text)


def _error(message: str, where: object, text: str, hint: str | None = None,
           expected: list[str] | None = None) -> RuleError:
    line, column = getattr(where, "line", None), getattr(where, "column", None)
    context = caret(text, line, column) if text and line and column else ""
    return RuleError(message, line, column, expected, hint, context)


def _comparison(node: t.Comparison, text: str) -> None:
    field = registry.get(node.field)
    if field is None:
        names = registry.names()
        close = suggest(node.field, names)
        message = f"unknown field '{node.field}'"
        if close:
            message += f" — did you mean '{close}'?"
        raise _error(message, node, text, hint=f"fields: {', '.join(names)}",
                     expected=["a field"])
    field = _bind(field, node, text)
    op_at = _At(node.op_line, node.op_column) if node.op_line else node
    if node.op not in field.operators:
        raise _error(_op_message(node.op, field), op_at, text,
                     hint=f"{field.name} takes {', '.join(o.upper() for o in field.operators)}")
    values: tuple[t.Value, ...]
    if node.op in t.EMPTY_OPS:
        return
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if node.op == "between" and len(values) != 2:
        raise _error("BETWEEN needs two values", op_at, text)
    if node.op in t.LIST_OPS and not values:
        raise _error(f"{node.op.upper()} needs at least one value", op_at, text)
    for value in values:
        _value(field, node, value, text)


def _bind(field: Field, node: t.Comparison, text: str) -> Field:
    """Check the parameter after the field's name and return the field it makes."""
    parameter, param = field.parameter, node.param
    if param is None:
        if parameter is not None and parameter.required:
            example = "12" if parameter.kind == "number" else "IN LAST 90 DAYS"
            raise _error(f"{field.name} needs {_param_words(parameter.kind)} after it",
                         node, text, hint=f"e.g. {field.name} {example} ...",
                         expected=[_param_words(parameter.kind)])
        return field
    where = param if param.line else node
    if parameter is None:
        raise _error(f"{field.name} takes nothing between its name and the operator", where,
                     text, expected=["an operator"])
    wanted = t.Number if parameter.kind == "number" else t.Period
    if not isinstance(param, wanted):
        raise _error(f"{field.name} takes {_param_words(parameter.kind)}, "
                     f"not {_param_words('period' if wanted is t.Number else 'number')}",
                     where, text, expected=[_param_words(parameter.kind)])
    if isinstance(param, t.Number):
        number = param.value
        if number != number.to_integral_value() or not 1 <= number <= PARAM_LIMIT:
            raise _error(f"{field.name} takes a whole number from 1, not {format(number, 'f')}",
                         where, text, expected=["a whole number"])
    else:
        if param.unit not in PERIOD_LIMIT:
            raise _error(f"a period is counted in days, weeks or months, not {param.unit}",
                         where, text, hint=f"e.g. IN LAST {param.amount * 12} MONTHS",
                         expected=["DAYS, WEEKS or MONTHS"])
        if not 1 <= param.amount <= PERIOD_LIMIT[param.unit]:
            raise _error(f"IN LAST {param.amount} {param.unit.upper()} is out of range", where,
                         text, hint=f"use 1 to {PERIOD_LIMIT[param.unit]} {param.unit}")
    return field.bind(param)


def _param_words(kind: str) -> str:
    return "a number" if kind == "number" else "a period (IN LAST N DAYS|WEEKS|MONTHS)"


def _op_message(op: str, field: Field) -> str:
    if field.type == "choice":
        return f"{field.name} takes IS {'|'.join(field.choices)}, not {op.upper()}"
    if op in t.TEXT_OPS:
        return f"{op.upper()} needs a text field; {field.name} is {field.type_words}"
    if op in t.ORDER_OPS or op == "between":
        return (f"{op.upper()} fits numbers and dates, not text; "
                f"{field.name} is {field.type_words}")
    if op == "is":
        return f"{field.name} does not take IS followed by a word"
    return f"{field.name} does not take {op.upper()}"


class _At:
    def __init__(self, line: int | None, column: int | None) -> None:
        self.line, self.column = line, column


def _value(field: Field, node: t.Comparison, value: t.Value, text: str) -> None:
    where = value if getattr(value, "line", None) else node
    if not isinstance(value, ACCEPTS[field.type]):
        raise _error(
            f"{field.name} is {field.type_words}; {_show(value)} is {VALUE_WORDS[type(value)]}",
            where, text, expected=[_expected_word(field)])
    if isinstance(value, t.Word) and value.value not in field.choices:
        close = suggest(value.value, [c.lower() for c in field.choices])
        message = f"{field.name} IS takes {', '.join(field.choices)}, not {value.value}"
        if close:
            message += f" — did you mean '{close.upper()}'?"
        raise _error(message, where, text, expected=list(field.choices))
    if isinstance(value, t.String) and value.value == "":
        raise _error("an empty text never matches", where, text,
                     hint=f"use {field.name} IS EMPTY to find customers without one")
    if isinstance(value, t.String) and "\x00" in value.value:
        raise _error("text values cannot contain the NUL character", where, text)
    if isinstance(value, t.Relative) and not 0 <= value.amount <= MAX_RELATIVE[value.unit]:
        raise _error(f"{value.amount} {value.unit} ago is out of range", where, text,
                     hint=f"use 0 to {MAX_RELATIVE[value.unit]} {value.unit}")
    problem = field.validate(value) if field.validate else None
    if problem:
        raise _error(problem, where, text)


def _expected_word(field: Field) -> str:
    return {"number": "a number", "integer": "a number", "text": "a quoted text",
            "datetime": "a date, date-time, 'N days ago' or today",
            "choice": " or ".join(field.choices)}[field.type]


def _show(value: t.Value) -> str:
    from .text import render_value

    shown = render_value(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."

