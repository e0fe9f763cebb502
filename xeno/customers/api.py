"""Customer list API: search and sort the stored customers."""

from __future__ import annotations

from flask import Blueprint, jsonify

from xeno.auth.guard import api_auth_required
from xeno.customers import service as customers
from xeno.customers.schemas import CustomerPage, CustomerQuery
from xeno.platform.http import read_query
from xeno.platform.openapi import documented

bp = Blueprint("api_customers", __name__, url_prefix="/api/v1")


@bp.get("/customers")
@documented(
    "Search customers by text in their name, email or city (or exact id)",
    query=CustomerQuery,
    responses={200: CustomerPage},
    errors=(401, 422, 503),
    tags=("customers",),
)
@api_auth_required
def list_customers():
    """Search customers by text in their name, email or city (or exact id), sorted and paged."""
    args = read_query(CustomerQuery)
    page = customers.list_customers(
        q=args.q, sort=args.sort, order=args.order, page=args.page, per_page=args.per_page
    )
    return jsonify(page.to_dict())
