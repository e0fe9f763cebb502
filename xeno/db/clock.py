"""Time as the app stores it: naive UTC to the second, the form every DATETIME column holds."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now, to the second."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def naive_utc(value: datetime) -> datetime:
    """An instant as naive UTC to the second; a time without an offset is taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    """A naive-UTC datetime as ISO 8601 with a Z, or None."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
