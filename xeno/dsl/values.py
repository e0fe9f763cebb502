"""Resolve literal values to Python constants: exact numbers and UTC windows."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .errors import RuleError
from .tree import Date, DateTime, Relative, Today, Value

DAY = dt.timedelta(days=1)
MAX_RELATIVE = {"days": 366_000, "weeks": 52_300, "months": 12_000, "years": 1_000}


@dataclass(frozen=True)
class Window:
    """A resolved time value: an instant (end is None, point) or a day [start, end)."""

    start: dt.datetime
    end: dt.datetime | None = None  # exclusive end of a day; None for an instant
    whole_day: bool = False  # True when `end` is None only because the day is 9999-12-31

    @property
    def is_day(self) -> bool:
        """Tell whether the value stands for a whole day."""
        return self.end is not None or self.whole_day


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """Return `moment` as a naive UTC datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def day_window(day: dt.date) -> Window:
    """Return the UTC window of a whole day."""
    start = dt.datetime(day.year, day.month, day.day)
    if day == dt.date.max:
        return Window(start, None, whole_day=True)
    return Window(start, start + DAY)


def months_back(moment: dt.datetime, months: int) -> dt.datetime:
    """Go back whole calendar months at the same clock time; the 31st becomes the last day."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    if year < 1:
        raise OverflowError("before year 1")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def relative_instant(value: Relative, now: dt.datetime) -> dt.datetime:
    """Return the instant `N units ago` resolves to at `now`."""
    try:
        if value.unit == "days":
            return now - value.amount * DAY
        if value.unit == "weeks":
            return now - value.amount * 7 * DAY
        if value.unit == "months":
            return months_back(now, value.amount)
        return months_back(now, value.amount * 12)
    except (OverflowError, ValueError):
        raise RuleError(
            f"{value.amount} {value.unit} ago is too far back",
            value.line, value.column, hint="use a smaller amount",
        ) from None


def resolve(value: Value, now: dt.datetime) -> Window:
    """Return the instant or whole-day window a time value stands for at `now`."""
    now = utc_naive(now)
    if isinstance(value, Date):
        return day_window(value.value)
    if isinstance(value, Today):
        return day_window(now.date())
    if isinstance(value, DateTime):
        return Window(value.value)
    if isinstance(value, Relative):
        return Window(relative_instant(value, now))
    raise RuleError(f"{type(value).__name__.lower()} is not a time value")


def _fmt(moment: dt.datetime | None) -> str:
    if moment is None:
        return "the end of time"
    text = moment.strftime("%Y-%m-%d %H:%M")
    if moment.second or moment.microsecond:
        text = moment.isoformat(sep=" ")
    return f"{text} UTC"


def describe(op: str, value: Value, now: dt.datetime) -> str:
    """Say in words which instants `op value` admits, e.g. 'before 2026-08-25 00:00 UTC'."""
    window = resolve(value, now)
    start, end = window.start, window.end
    if not window.is_day:
        words = {"=": "at", "!=": "not at", ">": "after", ">=": "at or after",
                 "<": "before", "<=": "at or before"}
        return f"{words.get(op, op)} {_fmt(start)}"
    words_day = {
        "=": f"from {_fmt(start)} to before {_fmt(end)}",
        "!=": f"before {_fmt(start)} or from {_fmt(end)}",
        ">": f"from {_fmt(end)}",
        ">=": f"from {_fmt(start)}",
        "<": f"before {_fmt(start)}",
        "<=": f"before {_fmt(end)}",
    }
    return words_day.get(op, f"{op} {_fmt(start)}")


def snap(op: str, number: Decimal, scale: int, limit: Decimal) -> tuple[str, Decimal] | bool:
    """Rewrite `x op number` for an x with `scale` decimals and |x| < limit exactly.

    Returns an equivalent (op, number) whose number has at most `scale` decimals and lies
    within ±limit, or a constant when no such x can (or every x does) match. This keeps
    comparisons exact on SQLite, where NUMERIC columns are stored as doubles.
    """
    if number >= limit:
        return op in ("<", "<=", "!=")
    if number <= -limit:
        return op in (">", ">=", "!=")
    step = Decimal(1).scaleb(-scale)
    if number == number.quantize(step):
        return op, number.quantize(step)
    floor = number.quantize(step, rounding=ROUND_FLOOR)
    ceil = number.quantize(step, rounding=ROUND_CEILING)
    if op in ("=", "!="):
        return op == "!="
    return {">": (">", floor), ">=": (">=", ceil), "<": ("<", ceil), "<=": ("<=", floor)}[op]
