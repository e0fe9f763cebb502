"""Hypothesis strategies for valid rule trees over the built-in fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from xeno.dsl.fields import registry
from xeno.dsl.tree import (
    Comparison,
    Date,
    DateTime,
    Not,
    Number,
    Relative,
    String,
    Today,
    make_and,
    make_or,
)

from .data import CITIES, DAY_EDGES, FIRST, LAST, SPECIAL_SPENDS

_words = [c for c in CITIES + FIRST + LAST if c] + ["PUNE", "gmail.com", "@GMAIL", "9198", "a"]
texts = st.one_of(
    st.sampled_from(_words),
    st.sampled_from(_words).map(lambda w: w[: max(1, len(w) // 2)]),
    st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=12),
)
money = st.one_of(
    st.sampled_from([Decimal(s) for s in SPECIAL_SPENDS]),
    st.decimals(min_value=-10, max_value=50_000, places=2),
    st.decimals(min_value=0, max_value=50_000, places=6),
)
whole = st.one_of(st.integers(-3, 1200).map(Decimal), st.sampled_from([Decimal("2.5")]))
days = st.one_of(
    st.sampled_from([d.date() for d in DAY_EDGES]),
    st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2027, 1, 1)),
)
instants = st.one_of(
    st.sampled_from(DAY_EDGES),
    st.datetimes(min_value=dt.datetime(2022, 1, 1), max_value=dt.datetime(2027, 1, 1))
    .map(lambda d: d.replace(microsecond=0)),
)
time_values = st.one_of(
    days.map(Date), instants.map(DateTime), st.builds(Today),
    st.builds(Relative, st.integers(0, 40), st.sampled_from(["days", "weeks", "months", "years"])),
)
VALUES = {
    "spend": money.map(Number), "avg_order": money.map(Number),
    "visits": whole.map(Number), "inactive_days": whole.map(Number),
    "last_visit": time_values, "signup": time_values,
}


def values_for(name: str) -> st.SearchStrategy:
    """Values that type-check for a field."""
    return VALUES.get(name, texts.map(String))


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    """A valid condition on a built-in field."""
    field = registry.get(draw(st.sampled_from(["spend", "visits", "avg_order", "last_visit",
                                                "inactive_days", "signup", "city", "name",
                                                "email", "phone"])))
    op = draw(st.sampled_from(field.operators))
    values = values_for(field.name)
    if op in ("is empty", "is not empty"):
        value = None
    elif op == "between":
        value = (draw(values), draw(values))
    elif op in ("in", "not in"):
        value = tuple(draw(st.lists(values, min_size=1, max_size=4)))
    else:
        value = draw(values)
    return Comparison(field.name, op, value)


def _combine(children: st.SearchStrategy) -> st.SearchStrategy:
    many = st.lists(children, min_size=2, max_size=4)
    return st.one_of(many.map(make_and), many.map(make_or), children.map(Not))


trees = st.recursive(comparisons(), _combine, max_leaves=8)

