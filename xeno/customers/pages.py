"""The customers pages: search, sort and page through the customers; one customer's profile."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from xeno.customers import service as customers
from xeno.customers.profile import profile
from xeno.platform.errors import NotFound
from xeno.platform.http import page_number

bp = Blueprint("customer_pages", __name__)

SORT_LABELS = {"spend": "Spend", "visits": "Visits", "last_visit": "Last visit", "name": "Name"}
PER_PAGE_CHOICES = (25, 50, 100)


@bp.get("/customers")
@login_required
def customer_list():
    """Search, sort and page through customers."""
    q = request.args.get("q", "").strip()
    sort = request.args.get("sort", customers.DEFAULT_SORT)
    sort = sort if sort in customers.SORTS else customers.DEFAULT_SORT
    order = "asc" if request.args.get("order") == "asc" else "desc"
    per_page = page_number("per_page", customers.DEFAULT_PER_PAGE)
    per_page = per_page if per_page in PER_PAGE_CHOICES else customers.DEFAULT_PER_PAGE
    result = customers.list_customers(q, sort, order, page_number(), per_page)
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


@bp.post("/customers/<path:customer_id>/consent")
@login_required
def customer_consent(customer_id: str):
    """Unsubscribe or resubscribe one customer from the list, then go back to it."""
    unsubscribe = request.form.get("action") == "unsubscribe"
    back = request.form.get("next", "")
    # Only back into the customers list: never an open redirect.
    if not back.startswith("/customers") or "//" in back or "\\" in back:
        back = url_for("customer_pages.customer_list")
    try:
        customer = customers.set_unsubscribed(customer_id, unsubscribe)
    except NotFound as exc:
        flash(exc.message, "error")
        return redirect(back, 303)
    word = "unsubscribed: no campaign will reach them" if unsubscribe else "subscribed again"
    flash(f"{customer['name']} ({customer['id']}) {word}", "success")
    return redirect(back, 303)
