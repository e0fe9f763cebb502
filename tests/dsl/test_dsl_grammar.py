"""The grammar builds without collisions and the parser keeps positions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lark import Lark

from xeno.dsl import parse, render
from xeno.dsl.parser import get_parser, next_words
from xeno.dsl.tree import And, Comparison, Date, DateTime, Not, Number, Or, Relative, String, Today


def test_grammar_builds_in_strict_mode() -> None:
    Lark.open_from_package("xeno.dsl", "grammar.lark", parser="lalr", strict=True)


def test_interactive_parser_lists_next_tokens_for_autocomplete() -> None:
    interactive = get_parser().parse_interactive("spend ")
    interactive.exhaust_lexer()
    assert {"CMP_OP", "BETWEEN", "IN"} <= interactive.accepts()
    assert "a number" in next_words("spend > ")
    assert next_words("spend >>") == []


def test_keywords_and_fields_ignore_case() -> None:
    assert parse("SPEND > 1 and Visits In (1) oR city is NOT empty") == parse(
        "spend > 1 AND visits IN (1) OR city IS NOT EMPTY")


def test_and_binds_tighter_than_or_and_flattens() -> None:
    a, b, c, d = (Comparison("visits", "=", Number(Decimal(i))) for i in range(4))
    assert parse("visits = 0 OR visits = 1 AND visits = 2 OR visits = 3") == Or((a, And((b, c)), d))
    assert parse("(visits = 0 AND visits = 1) AND (visits = 2 AND visits = 3)") == And((a, b, c, d))


def test_not_applies_to_the_next_condition_only() -> None:
    a, b = (Comparison("visits", "=", Number(Decimal(i))) for i in range(2))
    assert parse("NOT visits = 0 AND visits = 1") == And((Not(a), b))
    assert parse("NOT (visits = 0 AND visits = 1)") == Not(And((a, b)))


def test_positions_are_kept_but_ignored_by_equality() -> None:
    tree = parse("spend > 1 AND\n   city = 'x'")
    assert (tree.children[1].line, tree.children[1].column) == (2, 4)
    assert tree == parse("spend > 1 AND city = 'x'")


@pytest.mark.parametrize(("text", "value"), [
    ("'O\\'Brien'", String("O'Brien")), ('"O\'Brien"', String("O'Brien")),
    ('"say \\"hi\\""', String('say "hi"')), ('"back\\\\slash"', String("back\\slash")),
    ("2599.50", Number(Decimal("2599.50"))), ("2024-01-01", Date(dt.date(2024, 1, 1))),
    ("2024-01-01T10:00:00Z", DateTime(dt.datetime(2024, 1, 1, 10))),
    ("2024-01-01T15:30:00+05:30", DateTime(dt.datetime(2024, 1, 1, 10))),
    ("3 MONTHS ago", Relative(3, "months")), ("1 day ago", Relative(1, "days")),
    ("today", Today()),
])
def test_literals_parse_to_values(text: str, value: object) -> None:
    field = {String: "city", Number: "spend"}.get(type(value), "signup")
    assert parse(f"{field} = {text}") == Comparison(field, "=", value)


def test_render_normalises_text() -> None:
    tree = parse("name contains 'O\\'Brien' or (spend<>5 and visits between 1 and 2)")
    assert render(tree) == (
        'name CONTAINS "O\'Brien" OR spend != 5 AND visits BETWEEN 1 AND 2')
