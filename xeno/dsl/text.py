"""Print a rule tree back as normalised text, so that parse(render(t)) == t."""

from __future__ import annotations

from .tree import And, Comparison, Date, DateTime, Node, Not, Number, Or, Relative, String, Value

_OPS = {"in": "IN", "not in": "NOT IN", "between": "BETWEEN", "contains": "CONTAINS",
        "starts with": "STARTS WITH", "ends with": "ENDS WITH",
        "is empty": "IS EMPTY", "is not empty": "IS NOT EMPTY"}


def render(node: Node) -> str:
    """Return the canonical text of a rule: upper-case keywords, minimal parentheses."""
    if isinstance(node, Or):
        return " OR ".join(render(c) for c in node.children)
    if isinstance(node, And):
        return " AND ".join(f"({render(c)})" if isinstance(c, Or) else render(c)
                            for c in node.children)
    if isinstance(node, Not):
        inner = render(node.child)
        return f"NOT {inner}" if isinstance(node.child, (Comparison, Not)) else f"NOT ({inner})"
    return _comparison(node)


def _comparison(node: Comparison) -> str:
    op = _OPS.get(node.op, node.op)
    if node.op in ("is empty", "is not empty"):
        return f"{node.field} {op}"
    if node.op == "between":
        low, high = node.value
        return f"{node.field} BETWEEN {render_value(low)} AND {render_value(high)}"
    if node.op in ("in", "not in"):
        return f"{node.field} {op} ({', '.join(render_value(v) for v in node.value)})"
    return f"{node.field} {op} {render_value(node.value)}"


def render_value(value: Value) -> str:
    """Return the canonical literal for a value."""
    if isinstance(value, Number):
        return format(value.value, "f")
    if isinstance(value, String):
        return '"' + value.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Date):
        return value.value.isoformat()
    if isinstance(value, DateTime):
        return value.value.isoformat(timespec="microseconds" if value.value.microsecond
                                     else "seconds") + "Z"
    if isinstance(value, Relative):
        unit = value.unit[:-1] if value.amount == 1 else value.unit
        return f"{value.amount} {unit} ago"
    return "today"
