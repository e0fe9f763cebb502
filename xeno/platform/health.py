"""Liveness for load balancers and monitors."""

from __future__ import annotations

from typing import Any

import fakeredis
from flask import Blueprint, jsonify
from sqlalchemy import text

from xeno.extensions import db
from xeno.platform import broker, streams

bp = Blueprint("health", __name__)


def database_status() -> str:
    """"ok", or "down: <why>"."""
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure to reach it means "down" to a monitor
        db.session.rollback()
        return f"down: {type(exc).__name__}"


def broker_status() -> dict[str, Any]:
    """{"status": "ok" | "down: <why>", "durable": whether Redis keeps its data on disk}."""
    conn = broker.connection()
    try:
        conn.ping()
    except Exception as exc:
        return {"status": f"down: {type(exc).__name__}", "durable": False}
    return {"status": "ok", "durable": durable(conn)}


def durable(conn: Any) -> bool:
    """True if Redis persists (AOF on, or RDB snapshots configured); in-process never does."""
    if isinstance(conn, fakeredis.FakeRedis | fakeredis.FakeStrictRedis):
        return False
    try:
        settings = {**conn.config_get("appendonly"), **conn.config_get("save")}
    except Exception:  # CONFIG disabled (some hosted Redis): persistence cannot be shown
        return False
    return settings.get("appendonly") == "yes" or bool(settings.get("save", "").strip())


@bp.get("/healthz")
def healthz():
    """Report database and broker status and entries set aside; 503 if a server is down."""
    report: dict[str, Any] = {"database": database_status(), "broker": broker_status()}
    report["dead_letters"] = dead_letters()
    ok = report["database"] == "ok" and report["broker"]["status"] == "ok"
    return jsonify(status="ok" if ok else "unavailable", **report), 200 if ok else 503


def dead_letters() -> int | None:
    """Entries set aside after 5 deliveries, or None while the broker is away."""
    try:
        return streams.dead_letters(broker.connection())
    except Exception:  # the broker is down: broker_status already says so
        return None
