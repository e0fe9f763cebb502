"""Domain errors and the one place that turns any error into SPEC's JSON (or a page)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class XenoError(Exception):
    """An error a client can act on; `code` and `status` become the JSON error.

    A subclass names its own in the class statement,
    `class NotFound(XenoError, status=404, code="not_found")`, so each error is two lines.
    """

    status = 400
    code = "bad_request"

    def __init_subclass__(
        cls, *, status: int | None = None, code: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """SPEC's error body."""
        return {"error": self.code, "message": self.message, **self.extra}


class InvalidJSON(XenoError, code="invalid_json"):
    """The body could not be read as JSON."""


class Unauthorized(XenoError, status=401, code="unauthorized"):
    """No credentials, or ones this server does not accept."""


class NotFound(XenoError, status=404, code="not_found"):
    """What the request names does not exist (or no longer does)."""


class TooLarge(XenoError, status=413, code="too_large"):
    """A body over 1 MiB or more records than one call may carry."""


class UnsupportedMediaType(XenoError, status=415, code="unsupported_media_type"):
    """A body that is not `application/json`."""


class ValidationFailed(XenoError, status=422, code="validation_failed"):
    """The body or query was read but breaks its schema; `errors` says where."""

    def __init__(self, errors: list[dict[str, Any]], message: str | None = None) -> None:
        super().__init__(message or f"{len(errors)} problem(s) in the request", errors=errors)
        self.errors = errors


class InvalidTemplate(XenoError, status=422, code="invalid_template"):
    """A campaign message whose placeholders cannot be filled."""


class EmptyAudience(XenoError, status=422, code="empty_audience"):
    """Nobody would receive the campaign; nothing was created."""


class IdempotencyConflict(XenoError, status=409, code="idempotency_conflict"):
    """An Idempotency-Key already answered another request body."""


class DuplicateCampaign(XenoError, status=409, code="duplicate_campaign"):
    """The same message went to the same audience less than 24 hours ago."""

    def __init__(self, message: str, campaign_id: int) -> None:
        super().__init__(message, campaign_id=campaign_id)
        self.campaign_id = campaign_id


class NameTaken(XenoError, status=422, code="name_taken"):
    """Another saved segment already has this name (ignoring case)."""


class EditConflict(XenoError, status=409, code="edit_conflict"):
    """An edit made from an older version than the stored one; `segment` is the current one."""


class BrokerUnavailable(XenoError, status=503, code="broker_unavailable"):
    """Redis cannot be reached: nothing was published, the client may try again."""


class DatabaseUnavailable(XenoError, status=503, code="database_unavailable"):
    """The database cannot be reached: nothing was stored, the client may try again."""


def wants_json() -> bool:
    """API calls and machine endpoints always get JSON, pages get HTML."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, body: dict[str, Any]) -> Response:
    """Render an error as JSON on the API and as a small page elsewhere."""
    if wants_json():
        response = jsonify(body)
    else:
        html = render_template("error.html", status=status, error=body)
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, HTTP errors and outages to SPEC's error shape."""
    from xeno.dsl import RuleError
    from xeno.extensions import db

    @app.errorhandler(XenoError)
    def handle_xeno_error(error: XenoError) -> Response:
        return error_response(error.status, error.to_dict())

    @app.errorhandler(RuleError)
    def handle_rule_error(error: RuleError) -> Response:
        return error_response(400, error.to_dict())

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = HTTP_CODES.get(status, "error")
        if status == 400 and "CSRF" in (error.description or ""):
            code = "csrf_failed"
        return error_response(status, {"error": code, "message": error.description})

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def handle_broker_down(error: Exception) -> Response:
        log.warning("broker unavailable: %s", error)
        return error_response(503, BrokerUnavailable("the message broker is unavailable").to_dict())

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> Response:
        db.session.rollback()
        if error.connection_invalidated or _is_outage(error):
            log.warning("database unavailable: %s", error)
            return error_response(503, DatabaseUnavailable("the database is unavailable").to_dict())
        log.exception("database error")
        return error_response(
            500, {"error": "internal_error", "message": "unexpected database error"}
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        db.session.rollback()
        log.exception("unhandled error")
        return error_response(500, {"error": "internal_error", "message": "unexpected error"})


def _is_outage(error: DBAPIError) -> bool:
    """Connection-level failures (refused, gone away, lost) are outages, not bugs."""
    text = str(error.orig).lower()
    return any(s in text for s in ("can't connect", "gone away", "lost connection", "refused"))
