"""The customers pages: search, sort and page through the customers; one customer's profile."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from xeno.customers import service as customers
from xeno.customers.profile import profile

bp = Blueprint("customer_pages", __name__)

SORT_LABELS = {"spend": "Spend", "visits": "Visits", "last_visit": "Last visit", "name": "Name"}
PER_PAGE_CHOICES = (25, 50, 100)


def _int(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


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
        "customers/list.html",
        result=result,
        q=q,
        sort=sort,
        order=order,
        sort_labels=SORT_LABELS,
        per_page_choices=PER_PAGE_CHOICES,
    )


@bp.get("/customers/<path:customer_id>")
@login_required
def customer_profile(customer_id: str):
    """One customer: summary, attributes, consent, orders, messages, segments and why."""
    return render_template("customers/profile.html", c=profile(customer_id, detail=True))
