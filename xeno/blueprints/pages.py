"""The marketer's pages: dashboard and customers (segments and campaigns live elsewhere)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, render_template, request
from flask_login import login_required

from .. import customers

bp = Blueprint("pages", __name__)

SORT_LABELS = {"spend": "Spend", "visits": "Visits", "last_visit": "Last visit", "name": "Name"}
PER_PAGE_CHOICES = (25, 50, 100)


def group_indian(digits: str) -> str:
    """Group an unsigned digit string the Indian way: 12,34,567."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


@bp.app_template_filter("indian")
def indian_number(value: int | float | Decimal | None) -> str:
    """A whole number with Indian digit grouping."""
    number = int(value or 0)
    return ("-" if number < 0 else "") + group_indian(str(abs(number)))


@bp.app_template_filter("inr")
def inr(value: int | float | Decimal | str | None, decimals: int = 2) -> str:
    """Rupees with Indian grouping: ₹12,34,567.50 (decimals=0 rounds to whole rupees)."""
    amount = Decimal(str(value or 0))
    quantum = Decimal(1).scaleb(-decimals)
    text = f"{abs(amount.quantize(quantum, rounding=ROUND_HALF_UP)):f}"
    whole, _, fraction = text.partition(".")
    sign = "-" if amount < 0 else ""
    return f"{sign}₹{group_indian(whole)}" + (f".{fraction}" if fraction else "")


@bp.app_template_filter("shortdate")
def short_date(value: str | datetime | None, with_time: bool = False) -> str:
    """A date as '5 Mar 2025' (optionally with the UTC time); '—' when empty."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    text = f"{value.day} {value:%b %Y}"
    return text + (f", {value:%H:%M} UTC" if with_time else "")


@bp.app_template_filter("initials")
def initials(name: str | None) -> str:
    """Up to two initials for an avatar."""
    words = [w for w in (name or "").replace("@", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _int(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


@bp.get("/")
@login_required
def dashboard():
    """Headline figures and the latest campaigns."""
    return render_template(
        "dashboard.html",
        figures=customers.headline_figures(),
        campaigns=customers.recent_campaigns(5),
    )


@bp.get("/customers")
@login_required
def customer_list():
    """Search, sort and page through customers."""
    q = request.args.get("q", "").strip()
    sort = request.args.get("sort", customers.DEFAULT_SORT)
    sort = sort if sort in customers.SORTS else customers.DEFAULT_SORT
    order = "asc" if request.args.get("order") == "asc" else "desc"
    per_page = _int("per_page", customers.DEFAULT_PER_PAGE)
    per_page = per_page if per_page in PER_PAGE_CHOICES else customers.DEFAULT_PER_PAGE
    result = customers.list_customers(q, sort, order, _int("page", 1), per_page)
    return render_template(
        "customers.html",
        result=result,
        q=q,
        sort=sort,
        order=order,
        sort_labels=SORT_LABELS,
        per_page_choices=PER_PAGE_CHOICES,
    )
