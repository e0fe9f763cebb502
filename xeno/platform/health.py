"""Liveness for load balancers and monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from xeno.extensions import db
from xeno.platform import broker, streams

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report database and broker status and entries set aside; 503 if a server is down."""
    checks: dict = {}
    dead_letters = None
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach it means "down" to a monitor
        db.session.rollback()
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        conn = broker.connection()
        conn.ping()
        checks["broker"] = "ok"
        dead_letters = streams.dead_letters(conn)
    except Exception as exc:
        checks["broker"] = f"down: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ok else "unavailable", **checks, "dead_letters": dead_letters}
    return jsonify(body), 200 if ok else 503
