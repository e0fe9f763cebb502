"""Print a rule tree back as normalised text, so that parse(render(t)) == t."""

from __future__ import annotations

from . import tree as t

_OPS = {"in": "IN", "not in": "NOT IN", "between": "BETWEEN", "contains": "CONTAINS",
        "starts with": "STARTS WITH", "ends with": "ENDS WITH",
        "is empty": "IS EMPTY", "is not empty": "IS NOT EMPTY", "is": "IS"}


def render(node: t.Node) -> str:
    """Return the canonical text of a rule: upper-case keywords, minimal parentheses."""
    if isinstance(node, t.Or):
        return " OR ".join(render(c) for c in node.children)
    if isinstance(node, t.And):
        return " AND ".join(f"({render(c)})" if isinstance(c, t.Or) else render(c)
                            for c in node.children)
    if isinstance(node, t.Not):
        inner = render(node.child)
        return f"NOT {inner}" if isinstance(node.child, (t.Comparison, t.Not)) else f"NOT ({inner})"
    return _comparison(node)


def _comparison(node: t.Comparison) -> str:
    op = _OPS.get(node.op, node.op)
    subject = node.field if node.param is None else f"{node.field} {render_param(node.param)}"
    if node.op in ("is empty", "is not empty"):
        return f"{subject} {op}"
    if node.op == "between":
        low, high = node.value
        return f"{subject} BETWEEN {render_value(low)} AND {render_value(high)}"
    if node.op in ("in", "not in"):
        return f"{subject} {op} ({', '.join(render_value(v) for v in node.value)})"
    return f"{subject} {op} {render_value(node.value)}"


def render_param(param: t.Param) -> str:
    """Return the canonical text of a field's parameter: `12`, `IN LAST 90 DAYS`."""
    if isinstance(param, t.Period):
        unit = param.unit[:-1] if param.amount == 1 else param.unit
        return f"IN LAST {param.amount} {unit.upper()}"
    return render_value(param)


def render_value(value: t.Value) -> str:
    """Return the canonical literal for a value."""
    if isinstance(value, t.Number):
        return format(value.value, "f")
    if isinstance(value, t.String):
        return '"' + value.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, t.Date):
        return value.value.isoformat()
    if isinstance(value, t.DateTime):
        return value.value.isoformat(timespec="microseconds" if value.value.microsecond
                                     else "seconds") + "Z"
    if isinstance(value, t.Relative):
        unit = value.unit[:-1] if value.amount == 1 else value.unit
        return f"{value.amount} {unit} ago"
    if isinstance(value, t.Word):
        return value.value
    return "today"
