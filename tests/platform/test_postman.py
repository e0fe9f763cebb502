"""Static checks on the Postman collection: valid v2.1, every API route covered, tests everywhere.

`scripts/postman.sh` runs it with newman against a real stack; these checks keep it from
silently falling behind the app's routes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

POSTMAN = Path(__file__).resolve().parents[2] / "postman"
COLLECTION = POSTMAN / "xeno.postman_collection.json"
ENVIRONMENT = POSTMAN / "xeno.postman_environment.json"
SCHEMA_V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
VARIABLE = r"\{\{[^{}]+\}\}"


@pytest.fixture(scope="module")
def collection() -> dict[str, Any]:
    return json.loads(COLLECTION.read_text(encoding="utf-8"))


def requests_of(node: dict[str, Any], trail: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    """Every request item under `node`, with its folder path for messages."""
    found = []
    for item in node.get("item", []):
        where = (*trail, item.get("name", "?"))
        if "request" in item:
            found.append((" / ".join(where), item))
        else:
            found.extend(requests_of(item, where))
    return found


def request_path(item: dict[str, Any]) -> str:
    """The path of a request's URL, without {{baseUrl}} and the query."""
    url = item["request"]["url"]
    raw = url if isinstance(url, str) else url["raw"]
    assert raw.startswith("{{baseUrl}}/"), f"{raw!r} does not start with {{{{baseUrl}}}}/"
    return raw.removeprefix("{{baseUrl}}").split("?", 1)[0]


def rule_pattern(rule: str) -> re.Pattern[str]:
    """A Flask rule as a regex over request paths; a {{variable}} fits any parameter."""
    pattern, pos = "", 0
    for match in re.finditer(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule):
        pattern += re.escape(rule[pos : match.start()])
        converter = match.group(1) or "default"
        value = r"\d+" if converter == "int" else "[^/]+" if converter != "path" else ".+"
        pattern += f"(?:{VARIABLE}|{value})"
        pos = match.end()
    pattern += re.escape(rule[pos:])
    return re.compile(pattern + r"\Z")


def scripts(item: dict[str, Any], listen: str) -> str:
    return "\n".join(
        "\n".join(event["script"].get("exec", []))
        for event in item.get("event", [])
        if event.get("listen") == listen
    )


def test_collection_is_postman_v2_1(collection):
    assert collection["info"]["schema"] == SCHEMA_V21
    assert collection["info"]["name"]
    assert collection["auth"]["type"] == "bearer"
    items = requests_of(collection)
    assert items
    names = [item["name"] for _, item in items]
    assert len(names) == len(set(names)), "request names must be unique (polls repeat by name)"
    for where, item in items:
        request = item["request"]
        assert request["method"] in METHODS, where
        if "body" in request:
            assert request["body"]["mode"] == "raw", where


def test_every_api_route_has_a_request(app: Flask, collection):
    sent = [(item["request"]["method"], request_path(item)) for _, item in requests_of(collection)]
    missing = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.rule == "/healthz"):
            continue
        pattern = rule_pattern(rule.rule)
        for method in sorted((rule.methods or set()) & METHODS):
            if not any(m == method and pattern.match(path) for m, path in sent):
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes without a request in the Postman collection: {missing}"


def test_every_request_tests_its_response(collection):
    untested = [
        where for where, item in requests_of(collection) if "pm.test(" not in scripts(item, "test")
    ]
    assert not untested, f"requests without a pm.test: {untested}"


def test_signed_requests_sign_in_a_pre_request_script(collection):
    for where, item in requests_of(collection):
        if request_path(item) not in ("/api/v1/receipts", "/api/v1/vendor/send"):
            continue
        assert item["request"].get("auth", {}).get("type") in ("noauth", None), where
        pre = scripts(item, "prerequest")
        if pre:
            assert "HmacSHA256" in pre and "X-Xeno-Signature" in pre, where


def test_environment_has_exactly_the_documented_variables():
    environment = json.loads(ENVIRONMENT.read_text(encoding="utf-8"))
    keys = [v["key"] for v in environment["values"]]
    assert sorted(keys) == ["baseUrl", "receiptSecret", "token"]
    base = next(v["value"] for v in environment["values"] if v["key"] == "baseUrl")
    assert re.fullmatch(r"https?://[^/]+", base), "baseUrl is scheme, host and port only"
