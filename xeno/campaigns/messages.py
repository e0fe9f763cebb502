"""Message templates: Jinja syntax checked against a small allow-list, rendered in a sandbox.

A template is parsed and its syntax tree walked before anything renders it: only the
variables, filters and `{% if %}` that SPEC lists get through, everything else is an
`InvalidTemplate` naming what was refused. Customer data only ever fills variables; it is
never parsed as a template. Templates of plain variables (with `default("...")`) also
compile to one SQL string expression, so the audience snapshot can be one INSERT … SELECT.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, reduce
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, meta, nodes, pass_environment
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import ColumnElement, Table, case, cast, func, literal
from sqlalchemy import String as SqlString

from xeno.campaigns.template_rules import MAX_NESTING, filter_problem
from xeno.platform.errors import InvalidTemplate

VARIABLES = ("name", "first_name", "city", "email", "spend", "visits")
SOURCE_COLUMNS = {
    "name": "name",
    "first_name": "name",
    "city": "city",
    "email": "email",
    "spend": "total_spend",
    "visits": "visits",
}
FILTERS = ("default", "upper", "lower", "title", "capitalize", "trim", "truncate", "round", "int")
COMPARISONS = {"eq", "ne", "gt", "gteq", "lt", "lteq"}
MAX_LENGTH = 5000
_BRACKETS = re.compile(r"\[\s*(first\s+name|name)\s*\]", re.IGNORECASE)


def _default(value: Any, default_value: Any = "", boolean: bool = True) -> Any:
    """`default` for plain text: a missing or empty value is replaced (0 is a value)."""
    if value is None or isinstance(value, Undefined) or value == "":
        return default_value
    return value


def _round(value: Any, precision: int = 0, method: str = "common") -> Any:
    """`round` as people expect money to round: half up (Python's own is half to even).

    Text (`default("n/a")|round`) is left as it is rather than failing the whole message.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        return value
    if method == "common":
        step = Decimal(1).scaleb(-int(precision))
        return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
    return JINJA_FILTERS["round"](value, precision, method)


@pass_environment
def _truncate(env: Any, value: Any, *args: Any, **kwargs: Any) -> str:
    """`truncate` on anything: a number is truncated as the text it renders as."""
    return JINJA_FILTERS["truncate"](env, str(value), *args, **kwargs)


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
    env.filters = {name: JINJA_FILTERS[name] for name in FILTERS}
    env.filters["default"] = _default
    env.filters["round"] = _round
    env.filters["truncate"] = _truncate
    env.globals = {}
    env.tests = {}
    return env


ENV = _environment()


def normalise(text: str) -> str:
    """The seed's `[Name]` / `[First Name]` placeholders as Jinja variables."""
    return _BRACKETS.sub(
        lambda m: "{{ first_name }}" if m.group(1).lower() != "name" else "{{ name }}", text
    )


@dataclass(frozen=True)
class MessageTemplate:
    """A checked template, ready to render customers or to become SQL."""

    source: str
    tree: nodes.Template
    template: Any

    def render(self, customer: dict[str, Any]) -> str:
        """The personalised text for one customer's variables (see `variables`)."""
        return self.template.render(customer)

    @cached_property
    def variables_used(self) -> tuple[str, ...]:
        """The variables the template names, so a snapshot reads only their columns."""
        return tuple(sorted(meta.find_undeclared_variables(self.tree)))

    @property
    def columns_used(self) -> tuple[str, ...]:
        """The `customers` columns behind `variables_used`."""
        return tuple(sorted({SOURCE_COLUMNS[name] for name in self.variables_used}))

    def render_many(self, customers: Iterable[dict[str, Any]]) -> list[str]:
        """The texts for many customers' variables, each distinct combination rendered once.

        A checked template is a pure function of the variables it names (no globals, no
        calls, pure filters), and an audience repeats first names, cities and visit counts
        endlessly; Jinja's render is most of the cost of a snapshot SQL can't build.
        """
        used = self.variables_used
        texts: dict[tuple[Any, ...], str] = {}
        out = []
        for customer in customers:
            key = tuple(customer[name] for name in used)
            text = texts.get(key)
            if text is None:
                if len(texts) >= 100_000:  # all distinct (full names, say): stay bounded
                    texts.clear()
                text = texts[key] = self.template.render(customer)
            out.append(text)
        return out

    def sql(self, table: Table, dialect: str) -> ColumnElement[str] | None:
        """One SQL expression building the text from a customers row, or None if SQL can't."""
        parts = _sql_parts(self.tree)
        if parts is None:
            return None
        pieces: list[Any] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(literal(part, SqlString))
            else:
                name, fallback = part
                value = func.coalesce(_sql_variable(table, name, dialect), "", type_=SqlString)
                if fallback is not None:
                    value = func.coalesce(
                        func.nullif(value, "", type_=SqlString), literal(fallback, SqlString),
                        type_=SqlString,
                    )
                pieces.append(value)
        if not pieces:
            return literal("", SqlString)
        # `+` on strings is CONCAT(...) on MySQL and `||` on SQLite
        return reduce(operator.add, pieces)


def compile_template(text: str) -> MessageTemplate:
    """Check a template against the allow-list; raise InvalidTemplate naming what was refused."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidTemplate("the message is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidTemplate(f"the message is over {MAX_LENGTH} characters")
    source = normalise(text)
    try:
        tree = ENV.parse(source)
        _check(tree)
        template = ENV.from_string(tree)
    except TemplateSyntaxError as exc:
        message = f"template syntax error on line {exc.lineno}: {exc.message}"
        raise InvalidTemplate(message, line=exc.lineno) from None
    except RecursionError:  # Jinja's parser recurses per parenthesis, `not` and block
        raise InvalidTemplate(
            f"the message is nested more than {MAX_NESTING} levels deep"
        ) from None
    checked = MessageTemplate(source, tree, template)
    _try_rendering(checked)
    return checked


# Customers at the edges of every variable's range: a template that renders these renders
# anyone, and one that fails is refused now, not for every recipient of a campaign.
_PROBES = (
    {"name": "", "first_name": "", "city": "", "email": "", "spend": Decimal("0.00"),
     "visits": 0},
    {"name": "Asha Rao", "first_name": "Asha", "city": "Mumbai", "email": "asha@example.com",
     "spend": Decimal("999999999999.99"), "visits": 2**31 - 1},
)


def _try_rendering(checked: MessageTemplate) -> None:
    for probe in _PROBES:
        try:
            checked.render(probe)
        except Exception as exc:  # noqa: BLE001 - any failure here means the template is bad
            raise InvalidTemplate(f"the message cannot be rendered: {exc}") from None


def variables(customer: Any) -> dict[str, Any]:
    """A customer row (ORM object or mapping) as the template's variables; empty is ""."""
    get = customer.get if isinstance(customer, Mapping) else lambda k: getattr(customer, k, None)
    name = get("name") or ""
    spend = get("total_spend")
    return {
        "name": name,
        "first_name": name.split(" ", 1)[0],
        "city": get("city") or "",
        "email": get("email") or "",
        "spend": Decimal(spend if spend is not None else 0).quantize(Decimal("0.01")),
        "visits": int(get("visits") or 0),
    }


_REFUSED = {
    nodes.Getattr: "attribute access (`x.y`) is not allowed",
    nodes.Getitem: "item access (`x[...]`) is not allowed",
    nodes.Call: "function calls are not allowed",
    nodes.For: "loops (`for`) are not allowed",
    nodes.Macro: "macros are not allowed",
    nodes.CallBlock: "macros (`call`) are not allowed",
    nodes.Include: "includes are not allowed",
    nodes.Import: "imports are not allowed",
    nodes.FromImport: "imports are not allowed",
    nodes.Extends: "template inheritance (`extends`) is not allowed",
    nodes.Block: "blocks are not allowed",
    nodes.Assign: "`set` is not allowed",
    nodes.AssignBlock: "`set` is not allowed",
    nodes.Test: "tests (`is ...`) are not allowed",
    nodes.FilterBlock: "filter blocks are not allowed",
    nodes.With: "`with` is not allowed",
    nodes.Scope: "scopes are not allowed",
    nodes.CondExpr: "inline if-expressions are not allowed; use {% if %}",
}


def _refuse(message: str, node: nodes.Node) -> InvalidTemplate:
    line = getattr(node, "lineno", None)
    where = f" (line {line})" if line else ""
    return InvalidTemplate(f"{message} in a message template{where}", line=line)


def _check(node: nodes.Node, blocks: int = 0, depth: int = 0) -> None:
    """Walk the tree top-down: anything not explicitly allowed is refused.

    `blocks` counts the `{% if %}` around a node and `depth` the expression nodes above it
    within one expression: both are bounded so that neither Jinja's code generator nor
    Python's compiler (100 levels of indentation at most) is ever asked for more.
    """
    for kind, message in _REFUSED.items():
        if isinstance(node, kind):
            raise _refuse(message, node)
    if isinstance(node, nodes.TemplateData):
        return
    if isinstance(node, nodes.If):
        _check_if(node, blocks + 1)
        return
    if not isinstance(node, (nodes.Template, nodes.Output)):
        depth += 1
        if depth > MAX_NESTING:
            raise _refuse(f"an expression nested more than {MAX_NESTING} levels deep", node)
    if isinstance(node, nodes.Const):
        if not isinstance(node.value, (str, int, float, bool, type(None))):
            raise _refuse("this constant is not allowed", node)
        return
    if isinstance(node, nodes.Name):
        if node.ctx != "load" or node.name not in VARIABLES:
            raise _refuse(
                f"unknown variable '{node.name}' (use {', '.join(VARIABLES)})", node
            )
        return
    if isinstance(node, nodes.Filter):
        if node.name not in FILTERS:
            raise _refuse(
                f"the filter '{node.name}' is not allowed (use {', '.join(FILTERS)})", node
            )
        if node.node is None or node.dyn_args is not None or node.dyn_kwargs is not None:
            raise _refuse("dynamic filter arguments are not allowed", node)
        problem = filter_problem(node)
        if problem:
            raise _refuse(problem, node)
    elif isinstance(node, nodes.Compare):
        if any(op.op not in COMPARISONS for op in node.ops):
            raise _refuse("this comparison is not allowed (use ==, !=, <, <=, >, >=)", node)
    elif not isinstance(node, _CONTAINERS):
        raise _refuse(f"the expression '{type(node).__name__}' is not allowed", node)
    for child in node.iter_child_nodes():
        _check(child, blocks, depth)


def _check_if(node: nodes.If, blocks: int) -> None:
    """An `{% if %}` with its `elif`s (same level) and `else`, one level deeper than outside."""
    if blocks > MAX_NESTING:
        raise _refuse(f"{{% if %}} nested more than {MAX_NESTING} levels deep", node)
    for branch in (node, *node.elif_):
        _check(branch.test, blocks, 0)
        for child in branch.body:
            _check(child, blocks, 0)
    for child in node.else_:
        _check(child, blocks, 0)


_CONTAINERS = (
    nodes.Template, nodes.Output, nodes.If, nodes.And, nodes.Or, nodes.Not, nodes.Keyword,
    nodes.Operand,
)


def _sql_parts(tree: nodes.Template) -> list[str | tuple[str, str | None]] | None:
    """Literal text and (variable, default) pairs, or None when rendering needs Python."""
    parts: list[str | tuple[str, str | None]] = []
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            return None
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                parts.append(node.data)
            elif isinstance(node, nodes.Const) and isinstance(node.value, str):
                parts.append(node.value)
            elif isinstance(node, nodes.Name):
                parts.append((node.name, None))
            elif (
                isinstance(node, nodes.Filter)
                and node.name == "default"
                and isinstance(node.node, nodes.Name)
                and len(node.args) == 1
                and not node.kwargs
                and isinstance(node.args[0], nodes.Const)
                and isinstance(node.args[0].value, str)
            ):
                parts.append((node.node.name, node.args[0].value))
            else:
                return None
    return parts


def _sql_variable(table: Table, name: str, dialect: str) -> ColumnElement[Any]:
    """A variable as SQL text, formatted exactly as Python renders it."""
    c = table.c
    if name == "first_name":
        if dialect == "mysql":
            return func.substring_index(c.name, " ", 1)
        space = func.instr(c.name, " ")
        return case((space > 0, func.substr(c.name, 1, space - 1)), else_=c.name)
    if name == "spend":
        if dialect == "mysql":
            return cast(c.total_spend, SqlString)
        return func.printf("%.2f", c.total_spend)
    if name == "visits":
        return cast(c.visits, SqlString)
    return getattr(c, name)
