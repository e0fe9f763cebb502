"""Customer list API: search and sort the stored customers."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import customers
from ..api_auth import api_auth_required
from ..errors import ValidationFailed

bp = Blueprint("api_customers", __name__, url_prefix="/api/v1")


def _int_arg(name: str, default: int, low: int, high: int | None = None) -> int:
    """A whole-number query argument, clamped into [low, high]; text is a 422."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            [{"field": name, "message": f"{name} must be a whole number"}]
        ) from None
    value = max(low, value)
    return min(value, high) if high is not None else value


def _choice_arg(name: str, default: str, choices: list[str]) -> str:
    value = (request.args.get(name) or default).strip().lower()
    if value not in choices:
        raise ValidationFailed(
            [{"field": name, "message": f"{name} must be one of {', '.join(choices)}"}]
        )
    return value


@bp.get("/customers")
@api_auth_required
def list_customers():
    """Search customers by name, email or city prefix (or exact id), sorted and paged."""
    page = customers.list_customers(
        q=request.args.get("q", ""),
        sort=_choice_arg("sort", customers.DEFAULT_SORT, list(customers.SORTS)),
        order=_choice_arg("order", customers.DEFAULT_ORDER, ["asc", "desc"]),
        page=_int_arg("page", 1, 1),
        per_page=_int_arg("per_page", customers.DEFAULT_PER_PAGE, 1, customers.MAX_PER_PAGE),
    )
    return jsonify(page.to_dict())
