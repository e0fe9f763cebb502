"""Customers API: search and sort the stored customers; one customer's profile."""

from __future__ import annotations

from flask import Blueprint, jsonify

from xeno.auth.guard import api_auth_required
from xeno.customers import service as customers
from xeno.customers.profile import profile
from xeno.customers.schemas import CustomerPage, CustomerProfile, CustomerQuery
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


# `path`: an external id may hold a slash (SPEC allows any character but controls)
@bp.get("/customers/<path:customer_id>")
@documented(
    "One customer with their latest orders and messages and the saved segments holding them",
    responses={200: CustomerProfile},
    errors=(401, 404, 503),
    tags=("customers",),
)
@api_auth_required
def get_customer(customer_id: str):
    """One customer (by external id) with orders, messages and current segments."""
    return jsonify(profile(customer_id))
