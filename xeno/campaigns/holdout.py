"""The holdout: the share of a campaign's audience kept back, to see what sending changed.

It is drawn inside the snapshot statement, never a row at a time: each audience member
is kept back independently with probability `holdout_percent / 100` (MySQL `RAND()`,
SQLite `random()`, Python's `random` on the rendered-message path). So the holdout is a
uniformly random subset whose size is Binomial(n, p): at a million recipients and 10%
it lands within ±0.1 point of the share asked (4 standard deviations is ±1,200 rows).
An `ORDER BY RAND() LIMIT k` would give the exact count but sorts the whole audience.
Kept-back rows are written with status HOLDOUT: the dispatcher only reads PENDING rows,
so they are never handed to the vendor.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Float, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_rng = random.SystemRandom()


class uniform(FunctionElement[float]):  # noqa: N801 - reads like the SQL function it is
    """A fresh uniform random number in [0, 1) for every row."""

    type = Float()
    inherit_cache = True


@compiles(uniform)
def _uniform(element: uniform, compiler: Any, **kw: Any) -> str:
    return "RAND()"


@compiles(uniform, "sqlite")
def _uniform_sqlite(element: uniform, compiler: Any, **kw: Any) -> str:
    return "((random() / 18446744073709551616.0) + 0.5)"


def status_column(percent: int) -> Any:
    """Return the snapshot's status expression: HOLDOUT for the drawn share, else PENDING."""
    if percent <= 0:
        return literal("PENDING")
    return case((uniform() < percent / 100, "HOLDOUT"), else_="PENDING")


def draw(percent: int) -> str:
    """Return one row's status on the Python path, with the same odds as `status_column`."""
    return "HOLDOUT" if percent > 0 and _rng.random() < percent / 100 else "PENDING"
