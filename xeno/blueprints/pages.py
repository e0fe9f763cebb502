"""The marketer's pages (minimal landing page for now)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import Customer, Order

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def dashboard():
    """Headline figures."""
    customers = db.session.scalar(select(func.count()).select_from(Customer))
    orders, revenue = db.session.execute(select(func.count(), func.sum(Order.amount))).one()
    return render_template(
        "dashboard.html", customers=customers, orders=orders, revenue=revenue or 0
    )
