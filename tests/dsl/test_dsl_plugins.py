"""Fields from third-party packages arrive through the `xeno.segment_fields` entry point."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Table
from sqlalchemy.dialects import sqlite

from xeno.dsl import Field, compile_rule, parse, registry

PLUGIN = '''
from xeno.dsl import Field

def fields():
    """Return the plug-in's fields."""
    return [Field("customer_id", "text", lambda t: t.c.external_id, help="External id."),
            Field("signup_year_visits", "integer", lambda t: t.c.visits, help="Visits.")]

single = Field("shop_city", "text", lambda t: t.c.city, help="City, again.")
not_a_field = 42
'''
ENTRY_POINTS = """
[xeno.segment_fields]
good = xeno_test_plugin:fields
single = xeno_test_plugin:single
broken = xeno_test_plugin_missing:fields
wrong = xeno_test_plugin:not_a_field
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Iterator[Path]:
    """Install a tiny plug-in distribution into a directory on sys.path."""
    (tmp_path / "xeno_test_plugin.py").write_text(PLUGIN)
    info = tmp_path / "xeno_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xeno-test-plugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("xeno_test_plugin", None)
    for name in ("customer_id", "signup_year_visits", "shop_city"):
        registry.unregister(name)


def test_plugin_field_parses_and_compiles(
    plugin_path: Path, table: Table, now: dt.datetime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="xeno.dsl.fields"):
        loaded = registry.load_entry_points()
    assert set(loaded) == {"customer_id", "signup_year_visits", "shop_city"}
    tree = parse('CUSTOMER_ID STARTS WITH "C00" AND signup_year_visits > 2')
    sql = str(compile_rule(tree, table, now).compile(dialect=sqlite.dialect()))
    assert "customers.external_id LIKE" in sql and "customers.visits >" in sql
    assert "customer_id" in [f.name for f in registry.all()]


def test_broken_plugin_is_skipped_with_a_log_line(
    plugin_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="xeno.dsl.fields"):
        registry.load_entry_points()
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert any("'broken'" in line for line in skipped)
    assert any("'wrong'" in line for line in skipped)
    assert registry.get("spend") is not None


def test_field_declares_type_and_gets_operators() -> None:
    field = Field("Loyalty_Points", "integer", lambda t: t.c.visits, help="Points.")
    assert field.name == "loyalty_points"
    assert "between" in field.operators and "contains" not in field.operators
    assert field.nullable is False


@pytest.mark.parametrize("name", ["and", "not", "2fast", "has space", "days"])
def test_field_name_that_cannot_be_parsed_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Field(name, "text", lambda t: t.c.city)


def test_disabled_field_is_unknown() -> None:
    registry.register(Field("beta_city", "text", lambda t: t.c.city, enabled=lambda: False))
    try:
        assert registry.get("beta_city") is None
        assert "beta_city" not in registry.names()
    finally:
        registry.unregister("beta_city")


def test_every_field_describes_itself_for_the_builder() -> None:
    described = {f.name: f.describe() for f in registry.all()}
    assert described["spend"]["type"] == "number"
    assert described["city"]["operators"][:2] == ["=", "!="]
    assert all(d["help"] for d in described.values())
