"""Two SQL functions the engines spell differently: money sums in cents, date + N days."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Integer, String, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class cents_sum(FunctionElement[Any]):  # noqa: N801 - reads like the SQL function it is
    """SUM(amount) in whole cents: exact DECIMAL on MySQL; rounded per row on SQLite, whose
    NUMERIC is a double (0.1 + 0.2 must still make 0.3)."""

    type = Integer()
    inherit_cache = True


@compiles(cents_sum)
def _cents_sum(element: cents_sum, compiler: Any, **kw: Any) -> str:
    return f"SUM({compiler.process(element.clauses, **kw)}) * 100"


@compiles(cents_sum, "sqlite")
def _cents_sum_sqlite(element: cents_sum, compiler: Any, **kw: Any) -> str:
    return f"SUM(ROUND({compiler.process(element.clauses, **kw)} * 100))"


class add_days(FunctionElement[Any]):  # noqa: N801
    """`moment + days` for a DATETIME column and a whole number of days (a column too)."""

    type = DateTime()
    inherit_cache = True


@compiles(add_days)
def _add_days(element: add_days, compiler: Any, **kw: Any) -> str:
    moment, days = list(element.clauses)
    return (f"DATE_ADD({compiler.process(moment, **kw)}, "
            f"INTERVAL {compiler.process(days, **kw)} DAY)")


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime keeps milliseconds, so the
    # result is padded to the same width and compares as text like the stored values.
    moment, days = list(element.clauses)
    shift = literal("+").concat(cast(days, String)).concat(literal(" days"))
    return compiler.process(func.strftime("%Y-%m-%d %H:%M:%f000", moment, shift), **kw)
