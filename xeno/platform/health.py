"""Liveness for load balancers and monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from xeno.extensions import db
from xeno.platform import broker

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report database and broker status; 503 if either is down."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach it means "down" to a monitor
        db.session.rollback()
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        broker.connection().ping()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"down: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", **checks), 200 if ok else 503
