"""The API's own description, public like any API reference."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from xeno.platform.openapi import build_spec, documented

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@documented("This description", responses={200: {"type": "object"}}, auth="none", tags=("meta",))
def openapi_json():
    """OpenAPI 3.1 description of every /api/v1 operation."""
    spec = current_app.extensions.get("xeno_openapi")
    if spec is None:
        spec = current_app.extensions["xeno_openapi"] = build_spec(current_app)
    return jsonify(spec)
