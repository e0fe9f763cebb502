"""Customers API: search and sort the stored customers, one customer's profile, consent."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, jsonify

from xeno.auth.guard import api_auth_required
from xeno.customers import service as customers
from xeno.customers.profile import profile
from xeno.customers.schemas import CustomerOut, CustomerPage, CustomerProfile, CustomerQuery
from xeno.platform.http import read_query
from xeno.platform.openapi import documented

bp = Blueprint("api_customers", __name__, url_prefix="/api/v1")
TAGS = ("customers",)
doc = partial(documented, tags=TAGS, errors=(401, 404, 503))


@bp.get("/customers")
@doc(
    "Search customers by text in their name, email or city (or exact id)",
    query=CustomerQuery,
    responses={200: CustomerPage},
    errors=(401, 422, 503),
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
@doc(
    "One customer with their latest orders and messages and the saved segments holding them",
    responses={200: CustomerProfile},
)
@api_auth_required
def get_customer(customer_id: str):
    """One customer (by external id) with orders, messages and current segments."""
    return jsonify(profile(customer_id))


# `path:` because an external id may hold a slash; the suffix still anchors the route.
@bp.post("/customers/<path:customer_id>/unsubscribe")
@doc(
    "Leave a customer out of every campaign from now on (the id is the external id)",
    responses={200: CustomerOut},
)
@api_auth_required
def unsubscribe(customer_id: str):
    """Record that a customer asked not to be contacted; answer the customer."""
    return jsonify(customers.set_unsubscribed(customer_id, True))


@bp.post("/customers/<path:customer_id>/resubscribe")
@doc(
    "Let campaigns reach a customer again (the id is the external id)",
    responses={200: CustomerOut},
)
@api_auth_required
def resubscribe(customer_id: str):
    """Record that a customer may be contacted again; answer the customer."""
    return jsonify(customers.set_unsubscribed(customer_id, False))
