"""The JSON form of a rule tree, for the visual builder; from_json checks like parse does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from . import tree as t
from .checks import Exists, check
from .errors import RuleError

_ALIASES = {"<>": "!=", "==": "="}


def to_json(node: t.Node) -> dict[str, Any]:
    """Return the builder's JSON for a tree."""
    if isinstance(node, (t.And, t.Or)):
        return {"type": "and" if isinstance(node, t.And) else "or",
                "children": [to_json(c) for c in node.children]}
    if isinstance(node, t.Not):
        return {"type": "not", "child": to_json(node.child)}
    out: dict[str, Any] = {"type": "condition", "field": node.field, "op": node.op}
    if node.param is not None:
        out["param"] = param_to_json(node.param)
    if isinstance(node.value, tuple):
        out["value"] = [value_to_json(v) for v in node.value]
    elif node.value is not None:
        out["value"] = value_to_json(node.value)
    return out


def param_to_json(param: t.Param) -> dict[str, Any]:
    """Return the JSON object of a field's parameter."""
    if isinstance(param, t.Period):
        return {"kind": "period", "amount": param.amount, "unit": param.unit}
    return value_to_json(param)


def value_to_json(value: t.Value) -> dict[str, Any]:
    """Return the JSON object of one value; numbers as strings to stay exact."""
    if isinstance(value, t.Number):
        return {"kind": "number", "value": format(value.value, "f")}
    if isinstance(value, t.String):
        return {"kind": "string", "value": value.value}
    if isinstance(value, t.Date):
        return {"kind": "date", "value": value.value.isoformat()}
    if isinstance(value, t.DateTime):
        spec = "microseconds" if value.value.microsecond else "seconds"
        return {"kind": "datetime", "value": value.value.isoformat(timespec=spec) + "Z"}
    if isinstance(value, t.Relative):
        return {"kind": "relative", "amount": value.amount, "unit": value.unit}
    if isinstance(value, t.Word):
        return {"kind": "word", "value": value.value}
    return {"kind": "today"}


def from_json(data: Any, exists: Exists | None = None) -> t.Node:
    """Build and check a tree from the builder's JSON; raise RuleError when it is wrong."""
    return check(_node(data, "rule", 0), exists=exists)


def _fail(message: str, path: str) -> RuleError:
    return RuleError(f"{message} (at {path})", hint=f"see {path} in the rule tree")


def _node(data: Any, path: str, depth: int) -> t.Node:
    if depth > t.MAX_NESTING * 2:
        raise _fail("the rule is nested too deeply", path)
    if not isinstance(data, dict):
        raise _fail("a rule node must be an object", path)
    kind = data.get("type")
    if kind in ("and", "or"):
        children = data.get("children")
        if not isinstance(children, list) or not children:
            raise _fail(f"'{kind}' needs a non-empty list of children", path)
        built = [_node(c, f"{path}.children[{i}]", depth + 1) for i, c in enumerate(children)]
        return t.make_and(built) if kind == "and" else t.make_or(built)
    if kind == "not":
        return t.Not(_node(data.get("child"), f"{path}.child", depth + 1))
    if kind == "condition":
        return _condition(data, path)
    raise _fail("'type' must be and, or, not or condition", path)


def _condition(data: dict[str, Any], path: str) -> t.Comparison:
    field, op = data.get("field"), data.get("op")
    if not isinstance(field, str) or not field:
        raise _fail("a condition needs a 'field'", path)
    if not isinstance(op, str):
        raise _fail("a condition needs an 'op'", path)
    op = " ".join(op.lower().split())
    op = _ALIASES.get(op, op)
    if op not in t.OPERATORS:
        raise _fail(f"unknown operator '{op}'", path)
    raw = data.get("value")
    value: Any
    if op in t.EMPTY_OPS:
        value = None
    elif op in ("in", "not in", "between"):
        if not isinstance(raw, list) or not raw:
            raise _fail(f"{op.upper()} needs a list of values", f"{path}.value")
        if op == "between" and len(raw) != 2:
            raise _fail("BETWEEN needs a list of two values", f"{path}.value")
        value = tuple(_value(v, f"{path}.value[{i}]") for i, v in enumerate(raw))
    else:
        value = _value(raw, f"{path}.value")
    param = _param(data["param"], f"{path}.param") if data.get("param") is not None else None
    return t.Comparison(field.lower(), op, value, param=param)


def _param(data: Any, path: str) -> t.Param:
    if isinstance(data, dict) and data.get("kind") == "period":
        return t.Period(*_amount_unit(data, path, "a period", "days, weeks or months"))
    value = _value(data, path)
    if not isinstance(value, t.Number):
        raise _fail("a parameter is a number or a period", path)
    return value


def _value(data: Any, path: str) -> t.Value:
    if not isinstance(data, dict):
        raise _fail("a value must be an object with a 'kind'", path)
    kind, raw = data.get("kind"), data.get("value")
    try:
        if kind == "number" and isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            number = Decimal(str(raw))
            if not number.is_finite():
                raise ValueError(raw)
            return t.Number(number)
        if kind == "string" and isinstance(raw, str):
            return t.String(raw)
        if kind == "date" and isinstance(raw, str):
            return t.Date(dt.date.fromisoformat(raw))
        if kind == "datetime" and isinstance(raw, str):
            moment = dt.datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
            return t.DateTime(moment)
        if kind == "relative":
            return _relative(data, path)
        if kind == "today":
            return t.Today()
        if kind == "word" and isinstance(raw, str) and raw.strip():
            return t.Word(raw.strip().upper())
    except (ValueError, InvalidOperation, OverflowError):
        raise _fail(f"{raw!r} is not a valid {kind}", path) from None
    raise _fail("a value's kind must be number, string, date, datetime, relative, today or "
                "word with a matching 'value'", path)


def _relative(data: dict[str, Any], path: str) -> t.Relative:
    units = "days, weeks, months or years"
    return t.Relative(*_amount_unit(data, path, "a relative value", units))


def _amount_unit(data: dict[str, Any], path: str, what: str, units: str) -> tuple[int, str]:
    """A whole amount and a plural unit: periods and relative values are written alike."""
    amount, unit = data.get("amount"), data.get("unit")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise _fail(f"{what} needs a whole 'amount'", path)
    unit = unit.lower() if isinstance(unit, str) else unit
    unit = unit + "s" if isinstance(unit, str) and not unit.endswith("s") else unit
    if unit not in t.UNITS:
        raise _fail(f"{what}'s unit is {units}", path)
    return amount, unit
