"""What a message template's filters may be given: each argument's kind and range.

Jinja checks filter arguments only while rendering, and then by raising whatever Python
raises (`round(28)` is a decimal.InvalidOperation, `truncate(-1)` an AssertionError), so a
bad argument would fail a preview, a snapshot or a delivery job for every recipient. Here
every argument must be a constant of the right kind and range, known when the template is
checked; `default` alone may take a variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

MAX_NESTING = 20  # SPEC "Faults": deeper `{% if %}` or expressions are refused
ROUND_PRECISION = 10  # spend has 12 integer digits; 12 + 10 stays within Decimal's 28
MAX_TRUNCATE = 5000  # no message is longer
MAX_END = 50
NUMBER_VARIABLES = frozenset({"spend", "visits"})
_NOT_CONSTANT = object()

Check = Callable[[Any], str | None]  # why a value is refused, or None


@dataclass(frozen=True)
class Param:
    """One filter argument: its name, what it must be, and whether a variable may fill it."""

    name: str
    check: Check
    variable_ok: bool = False


def _integer(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"a whole number from {low} to {high}"
        return None
    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _text(longest: int) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or len(value) > longest:
            return f"a quoted text of at most {longest} characters"
        return None
    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else " or ".join(repr(c) for c in choices)
    return check


def _base(value: Any) -> str | None:
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or not (value == 0 or 2 <= value <= 36):
        return "0 or a whole number from 2 to 36"
    return None


def _scalar(value: Any) -> str | None:
    return None if isinstance(value, (str, int, float)) else "a text or a number"


SIGNATURES: dict[str, tuple[Param, ...]] = {
    "default": (Param("default_value", _scalar, variable_ok=True), Param("boolean", _boolean)),
    "upper": (),
    "lower": (),
    "title": (),
    "capitalize": (),
    "trim": (Param("chars", _text(MAX_END)),),
    "truncate": (
        Param("length", _integer(0, MAX_TRUNCATE)),
        Param("killwords", _boolean),
        Param("end", _text(MAX_END)),
        Param("leeway", _integer(0, MAX_TRUNCATE)),
    ),
    "round": (
        Param("precision", _integer(0, ROUND_PRECISION)),
        Param("method", _one_of("common", "ceil", "floor")),
    ),
    "int": (Param("default", _integer(-(10**15), 10**15)), Param("base", _base)),
}


def constant(node: nodes.Node) -> Any:
    """The value of a constant argument (`-1` included), or _NOT_CONSTANT."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, (nodes.Neg, nodes.Pos)) and isinstance(node.node, nodes.Const):
        value = node.node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node, nodes.Neg) else value
    return _NOT_CONSTANT


def filter_problem(node: nodes.Filter) -> str | None:
    """Why this filter's arguments are refused, or None when they fit its signature."""
    name, params = node.name, SIGNATURES[node.name]
    if len(node.args) > len(params):
        most = f"at most {len(params)} argument(s)" if params else "no arguments"
        return f"the filter '{name}' takes {most}"
    bound: dict[str, nodes.Node] = {p.name: arg for p, arg in zip(params, node.args, strict=False)}
    by_name = {p.name: p for p in params}
    for keyword in node.kwargs:
        if keyword.key not in by_name or keyword.key in bound:
            return f"the filter '{name}' has no argument '{keyword.key}' to set here"
        bound[keyword.key] = keyword.value
    values: dict[str, Any] = {}
    for param in params:
        if param.name not in bound:
            continue
        arg = bound[param.name]
        if param.variable_ok and isinstance(arg, nodes.Name):
            continue
        value = constant(arg)
        problem = param.check(value) if value is not _NOT_CONSTANT else None
        if value is _NOT_CONSTANT or problem:
            wanted = problem or param.check(_NOT_CONSTANT)
            return f"the filter '{name}' needs {param.name} to be {wanted}"
        values[param.name] = value
    if name == "truncate":
        end = values.get("end", "...")
        if values.get("length", 255) < len(end):
            return f"the filter 'truncate' needs a length of at least {len(end)} (the end text)"
    if name == "round" and _is_text(node.node):
        return "the filter 'round' needs a number (spend or visits)"
    return None


def _is_text(node: nodes.Node | None) -> bool:
    if isinstance(node, nodes.Name):
        return node.name not in NUMBER_VARIABLES
    if isinstance(node, nodes.Const):
        return isinstance(node.value, str)
    if isinstance(node, nodes.Filter):
        return node.name in {"upper", "lower", "title", "capitalize", "trim", "truncate"}
    return False
