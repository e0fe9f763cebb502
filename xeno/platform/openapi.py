"""OpenAPI 3.1 for `/api/v1`, generated from the pydantic models the views validate with.

Each API view carries its description (`@documented(...)`) next to its code; `build_spec`
walks the URL map, so an undocumented operation is noticed by a test, not by a client.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.json_schema import models_json_schema

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"

ERROR_TEXT = {
    400: "Invalid JSON or an invalid rule",
    401: "No or invalid credentials",
    404: "Not found",
    409: "Conflict: an edit conflict, a duplicate campaign or a reused Idempotency-Key",
    413: "Body over 1 MiB or more than 1000 records",
    415: "Body is not JSON",
    422: "Validation failed",
    503: "Broker or database unavailable",
}
SECURITY = {
    "token": [{"bearerToken": []}],
    "token_or_session": [{"bearerToken": []}, {"session": []}],
    "signature": [{"receiptSignature": []}],
    "none": [],
}


class ErrorBody(BaseModel):
    """Every error: a machine code, a sentence for people, and details where useful."""

    model_config = ConfigDict(extra="allow", title="Error")
    error: str
    message: str


@dataclass(frozen=True)
class Operation:
    """What a client needs to know about one API operation."""

    summary: str
    responses: dict[int, Any]
    body: Any = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    auth: str = "token_or_session"
    tags: tuple[str, ...] = field(default_factory=tuple)
    notes: dict[int, str] = field(default_factory=dict)
    headers: tuple[dict[str, Any], ...] = ()
    media: str = "application/json"


def documented(
    summary: str,
    *,
    responses: dict[int, Any],
    body: Any = None,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    auth: str = "token_or_session",
    tags: tuple[str, ...] = (),
    notes: dict[int, str] | None = None,
    headers: tuple[dict[str, Any], ...] = (),
    media: str = "application/json",
) -> Callable[[F], F]:
    """Attach an operation's description to its view (apply it outermost).

    `notes` says what an error status means for this operation (its error codes);
    `headers` are OpenAPI header parameters it reads; `media` is the success answer's
    content type (`text/csv` for the exports).
    """

    def decorate(view: F) -> F:
        view.openapi = Operation(  # type: ignore[attr-defined]
            summary, responses, body, query, errors, auth, tags, notes or {}, headers, media
        )
        return view

    return decorate


def _schema_of(kind: Any, defs: dict[str, Any]) -> dict[str, Any] | None:
    """A JSON schema for a model, a TypeAdapter or a plain type; shared parts go to $defs."""
    if kind is None:
        return None
    if isinstance(kind, dict):
        return kind
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        refs, extra = models_json_schema([(kind, "validation")], ref_template=REF)
        defs.update(extra.get("$defs", {}))
        return refs[(kind, "validation")]
    adapter = kind if isinstance(kind, TypeAdapter) else TypeAdapter(kind)
    schema = adapter.json_schema(ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    return schema


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "int":
            schema = {"type": "integer", "minimum": 0}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def _query_params(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(
    op: Operation,
    method: str,
    path_params: list[dict[str, Any]],
    defs: dict[str, Any],
    endpoint: str,
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        schema = _schema_of(model, defs)
        entry: dict[str, Any] = {"description": "OK" if status < 300 else str(status)}
        if schema is not None:
            entry["content"] = {op.media: {"schema": schema}}
        responses[str(status)] = entry
    for status in sorted(set(op.errors)):
        responses[str(status)] = {
            "description": op.notes.get(status) or ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
    result: dict[str, Any] = {
        "operationId": endpoint.replace(".", "_") + ("" if method == "get" else f"_{method}"),
        "summary": op.summary,
        "parameters": path_params + list(op.headers) + _query_params(op.query),
        "responses": responses,
        "security": SECURITY[op.auth],
    }
    if op.tags:
        result["tags"] = list(op.tags)
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_of(op.body, defs)}},
        }
    return result


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every documented `/api/v1` operation."""
    defs: dict[str, Any] = {"Error": ErrorBody.model_json_schema()}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1"):
            continue
        op = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if op is None:
            continue
        path, params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                op, method.lower(), params, defs, rule.endpoint
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Xeno Mini CRM API",
            "version": "1.0.0",
            "description": "Ingest customers and orders, segment them, send campaigns.",
        },
        "servers": [{"url": app.config["PUBLIC_URL"]}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `xeno token create NAME`.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The signed-in page session; state changes "
                    "also need the X-CSRFToken header.",
                },
                "receiptSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Xeno-Signature",
                    "description": "sha256=<hex HMAC-SHA256 of the raw "
                    "body keyed with XENO_RECEIPT_SECRET>",
                },
            },
        },
    }


def undocumented(app: Flask) -> list[str]:
    """`/api/v1` rules without a description: what the spec would silently miss."""
    return sorted(
        f"{sorted((r.methods or set()) - {'HEAD', 'OPTIONS'})} {r.rule}"
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1")
        and getattr(app.view_functions[r.endpoint], "openapi", None) is None
    )
