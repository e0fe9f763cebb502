"""Cells of a shop's export read the way a person wrote them: amounts and dates."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

AMOUNT_EXAMPLE = "1299.00, 1,299.00 or ₹ 1,29,999.50"
# A currency mark only in front, as shops print it: ₹, Rs or Rs. and INR, any case.
_CURRENCY = re.compile(r"(?:₹|rs\.?|inr)\s*", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
# Thousands grouped in threes (1,299,000) or the Indian way (12,34,567), or not at all.
_AMOUNT = re.compile(
    r"(?P<sign>[+-]?)(?P<whole>\d+|\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3})(?:\.(?P<frac>\d*))?"
)


def parse_amount(text: str) -> Decimal:
    """Read an amount such as "₹ 1,29,999.50", "Rs. 1,299" or "INR 250"; a sentence if not one."""
    cleaned = _SPACES.sub("", text.strip())
    cleaned = _CURRENCY.sub("", cleaned, count=1) if _CURRENCY.match(cleaned) else cleaned
    match = _AMOUNT.fullmatch(cleaned)
    if not match:
        raise ValueError(f'"{text.strip()}" is not an amount; write it like {AMOUNT_EXAMPLE}')
    number = match["whole"].replace(",", "") + "." + (match["frac"] or "0")
    return Decimal(match["sign"] + number)


def check_date_format(fmt: str) -> None:
    """Refuse a --date-format that strptime cannot use or that reads no date at all."""
    sample = datetime(2024, 5, 17, 13, 45, 30)
    try:
        datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError:
        raise ValueError(
            f'"{fmt}" is not a date format; use strftime codes such as %d/%m/%Y or %Y%m%d'
        ) from None
    if "%" not in fmt:
        raise ValueError(f'"{fmt}" reads no date; use strftime codes such as %d/%m/%Y or %Y%m%d')


@lru_cache(maxsize=4096)  # a file holds a few hundred distinct days over many lines
def parse_date(text: str, fmt: str) -> str:
    """A date written in `fmt` (strftime codes) as the ISO 8601 text the schemas read."""
    try:
        return datetime.strptime(text.strip(), fmt).isoformat()
    except ValueError:
        raise ValueError(f'"{text.strip()}" does not match the date format {fmt}') from None
