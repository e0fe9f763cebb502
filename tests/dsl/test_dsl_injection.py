"""Values from a rule reach SQL only as bound parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Table
from sqlalchemy.dialects import mysql, sqlite

from xeno.dsl import compile_rule, parse

NASTY = [
    "x'; DROP TABLE customers; --",
    'Robert"); DELETE FROM customers WHERE ("1"="1',
    "1 OR 1=1 UNION SELECT password FROM users",
    "\\'; SELECT SLEEP(10); #",
]


@pytest.mark.parametrize("dialect", [mysql.dialect(), sqlite.dialect()], ids=["mysql", "sqlite"])
@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("op", ["=", "!=", "CONTAINS", "STARTS WITH", "ENDS WITH", "IN"])
def test_text_value_is_bound_not_inlined(
    value: str, op: str, dialect: object, table: Table, now: dt.datetime
) -> None:
    literal = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    rule = f"city {op} ({literal})" if op == "IN" else f"city {op} {literal}"
    compiled = compile_rule(parse(rule), table, now).compile(dialect=dialect)
    assert value not in str(compiled)
    assert "DROP" not in str(compiled) and "SELECT" not in str(compiled)
    assert any(value in str(param) for param in compiled.params.values())


def test_numbers_and_times_are_bound_too(table: Table, now: dt.datetime) -> None:
    rule = "spend > 12345.67 AND last_visit < 2024-03-04T05:06:07Z AND inactive_days > 77"
    sql = str(compile_rule(parse(rule), table, now).compile(dialect=mysql.dialect()))
    assert "12345" not in sql and "2024" not in sql and "77" not in sql
