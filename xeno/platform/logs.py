"""Logging: one JSON object per line on stderr in production, plain text in demo mode.

`XENO_LOG_FORMAT=json|text` chooses (default: json, text in demo mode). Only the root
logger gets a handler, and only when nobody configured one first (gunicorn's
`logconfig_dict` in docker/gunicorn.conf.py, pytest's capture), so a second `create_app()`
in the same process adds nothing. Tests (TESTING) never touch logging.

Inside a request a line also carries `request_id`, `method` and `path`; the request id is
the caller's `X-Request-ID` when it looks sane, else a fresh one, and is sent back in the
response's `X-Request-ID` so gunicorn's access line (`request_id`) matches the app's lines.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def request_id() -> str:
    """This request's id: the caller's X-Request-ID if sane, else a new one (kept in g)."""
    rid = g.get("request_id")
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_id = rid
    return rid


class JsonFormatter(logging.Formatter):
    """time, level, logger, message (+ exception, request fields, `extra=` fields) as JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            entry.update(_access_fields(record.args))
        elif has_request_context():
            entry.update(request_id=request_id(), method=request.method, path=request.path)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """Gunicorn's access atoms (its SafeAtoms escape quotes; undo that for JSON)."""

    def atom(key: str) -> Any:
        value = atoms[key]
        if isinstance(value, str):
            value = value.replace('\\"', '"')
        return None if value == "-" else value

    status = atom("s")
    return {
        "remote_addr": atom("h"),
        "method": atom("m"),
        "path": atom("U"),
        "query": atom("q") or None,
        "status": int(status) if str(status).isdigit() else status,
        "bytes": atom("B"),
        "duration_ms": round(atom("D") / 1000, 3) if isinstance(atom("D"), int) else None,
        "user_agent": atom("a"),
        "referer": atom("f"),
        "request_id": atom("{x-request-id}o") or atom("{x-request-id}i"),
    }


def make_handler(fmt: str) -> logging.Handler:
    """A stderr handler with the JSON or the text formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Give the root logger our handler unless someone configured it already."""
    root = logging.getLogger()
    if root.handlers:
        return
    root.addHandler(make_handler(fmt))
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Configure logging for this process (not under tests) and tag responses with an id."""

    @app.after_request
    def _tag_response(response):  # noqa: ANN001, ANN202 - Flask hook
        response.headers.setdefault(REQUEST_ID_HEADER, request_id())
        return response

    if app.testing:
        return
    fmt = app.config.get("LOG_FORMAT") or ("text" if app.config.get("DEMO_MODE") else "json")
    configure(fmt)
    if fmt == "json":
        app.logger.removeHandler(default_handler)  # one line per record, through the root
