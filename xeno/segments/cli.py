"""`xeno segment`: preview an audience, explain a rule, list the fields."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import click
from flask.cli import AppGroup

from xeno.db.clock import utcnow
from xeno.dsl import RuleError, registry
from xeno.extensions import db
from xeno.platform.errors import NotFound
from xeno.platform.exports import write_csv
from xeno.segments import service as segments
from xeno.segments.explain import explain
from xeno.segments.export import HEADER, rule_rows

segment_cli = AppGroup("segment", help="Segments: preview, explain and export rules.")


def _rule_failed(error: RuleError) -> NoReturn:
    """Print the message with a caret under the offending spot and exit 2 (bad usage)."""
    click.echo(f"Error: {error}", err=True)
    if error.context:
        click.echo("  " + error.context.rstrip("\n").replace("\n", "\n  "), err=True)
    if error.hint:
        click.echo(f"Hint: {error.hint}", err=True)
    raise SystemExit(2)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _sql(title: str, statement: Any) -> None:
    """Print a statement as the database receives it: placeholders, then the bound values."""
    compiled = statement.compile(dialect=db.engine.dialect)
    click.echo(f"-- {title} ({db.engine.dialect.name})")
    click.echo(str(compiled))
    for name, value in compiled.params.items():
        click.echo(f"--   {name} = {value!r}")


@segment_cli.command("preview")
@click.argument("rule")
@click.option(
    "--sample",
    "sample_size",
    type=click.IntRange(0, segments.MAX_SAMPLE),
    default=segments.SAMPLE_SIZE,
    show_default=True,
    help="customers to show",
)
@click.option("--sql", "show_sql", is_flag=True, help="print the compiled SQL and its parameters")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON instead of a table")
def preview(rule: str, sample_size: int, show_sql: bool, as_json: bool) -> None:
    """Count the customers a RULE matches and show a sample."""
    try:
        result = segments.preview(rule, sample_size)
    except RuleError as exc:
        _rule_failed(exc)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    if show_sql:
        node, now = segments.parse_rule(rule), utcnow()
        _sql("count", segments.count_query(node, now))
        _sql("sample", segments.sample_query(node, now, sample_size))
        click.echo()
    click.echo(f"{result.count:,} customer(s) match: {result.rule}")
    if result.sample:
        headers = ["id", "name", "city", "spend", "visits", "avg_order", "last_visit"]
        rows = [[_cell(c[h]) for h in headers] for c in result.sample]
        click.echo(_table(headers, rows))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


@segment_cli.command("explain")
@click.argument("rule")
@click.option("--customer", "customer_id", help="external id of a customer to trace")
def explain_rule(rule: str, customer_id: str | None) -> None:
    """Show per-clause counts of a RULE, resolved dates and, with --customer, why in or out."""
    try:
        body = explain(rule, customer_id)
    except RuleError as exc:
        _rule_failed(exc)
    except NotFound as exc:
        raise click.BadParameter(exc.message, param_hint="--customer") from None
    click.echo(f"{body['count']:,} customer(s) match: {body['rule']}   (now {body['now']})")
    if "customer" in body:
        who = body["customer"]
        verdict = "IN" if body["tree"]["matches"] else "OUT"
        click.echo(f"customer {who['id']} ({who['name']}) is {verdict}")
    click.echo(f"{'':<4}{'own':>10}{'left':>10}  clause")
    _print_node(body["tree"], 0)


def _print_node(node: dict[str, Any], depth: int) -> None:
    mark = {True: "✓", False: "✗"}.get(node.get("matches"), " ")
    label = node["type"].upper() if node["type"] != "condition" else node["rule"]
    if node["type"] == "not" and node["child"]["type"] == "condition":
        label = "NOT"
    extra = f"   [{node['resolved']}]" if node.get("resolved") else ""
    click.echo(
        f"{mark:<4}{node['own_count']:>10,}{node['left_count']:>10,}  {'  ' * depth}{label}{extra}"
    )
    for child in node.get("children", [node["child"]] if "child" in node else []):
        _print_node(child, depth + 1)


@segment_cli.command("fields")
def fields() -> None:
    """List the fields a rule can use, their types and operators."""
    rows = [
        [f.name, f.type, ", ".join(o.upper() for o in f.operators), f.help] for f in registry.all()
    ]
    click.echo(_table(["field", "type", "operators", "help"], rows))


@segment_cli.command("export")
@click.argument("segment_id", type=int, required=False)
@click.option("--rule", help="A rule to export instead of a saved segment.")
@click.option("--out", "out", required=True, type=click.File("w", encoding="utf-8", lazy=True),
              help="The CSV file to write ('-' for standard output).")
def export(segment_id: int | None, rule: str | None, out) -> None:  # noqa: ANN001
    """Write the customers of saved segment SEGMENT_ID (or of --rule) to a CSV file."""
    if (segment_id is None) == (rule is None):
        raise click.UsageError("give a segment id or --rule, not both")
    if segment_id is not None:
        try:
            rule = segments.get_segment(segment_id).rule
        except NotFound as exc:
            raise click.BadParameter(exc.message, param_hint="SEGMENT_ID") from None
    assert rule is not None
    try:
        batches = rule_rows(rule)
    except RuleError as exc:
        _rule_failed(exc)
    rows = write_csv(out, HEADER, batches)
    click.echo(f"wrote {rows:,} customer(s) to {out.name}", err=True)
