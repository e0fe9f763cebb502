"""The dummy vendor endpoint and the signing helpers."""

from __future__ import annotations

import json

import pytest

from tests.helpers import signed_post
from xeno.platform.signing import sign, verify


def test_sign_and_verify():
    body = b'{"log_id":1,"status":"SENT"}'
    header = sign(body, "k")
    assert header.startswith("sha256=") and len(header) == 71 and header == header.lower()
    assert verify(body, header, "k")
    assert not verify(body + b" ", header, "k")
    assert not verify(body, header, "other")
    assert not verify(body, None, "k")
    assert not verify(body, header.replace("sha256=", "sha1="), "k")


@pytest.mark.parametrize("headers", [{}, {"X-Xeno-Signature": "sha256=" + "a" * 64}])
def test_vendor_send_needs_a_valid_signature(api, headers, monkeypatch):
    from xeno.platform import broker as xbroker

    queued = []
    monkeypatch.setattr(xbroker, "background", lambda func, *a, **kw: queued.append(func))
    body = json.dumps({"messages": [{"log_id": 1, "to": "x", "text": "Hi"}]})
    response = api.client.post("/api/v1/vendor/send", data=body, headers=headers,
                               content_type="application/json")
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert queued == []  # nothing reaches the vendor's queue without a signature


@pytest.mark.parametrize(
    "payload",
    [{"messages": []}, {"messages": [{"log_id": "1", "text": "x"}]}, {"nope": 1}],
)
def test_vendor_send_validates(api, payload):
    response = signed_post(api.client, "/vendor/send", payload)
    assert response.status_code == 422 and response.json["error"] == "validation_failed"
    assert response.json["errors"]


def test_vendor_send_over_1000_messages_is_413(api, monkeypatch):
    from xeno.platform import broker as xbroker

    queued = []
    monkeypatch.setattr(xbroker, "background", lambda func, *a, **kw: queued.append(func))
    messages = [{"log_id": n, "to": "x", "text": "Hi"} for n in range(1, 1002)]
    response = signed_post(api.client, "/vendor/send", {"messages": messages})
    assert response.status_code == 413 and response.json["error"] == "too_large"
    assert "1001" in response.json["message"] and queued == []


def test_vendor_send_queues_one_job_per_chunk(app, api, broker, monkeypatch):
    from xeno.platform import broker as xbroker
    from xeno.vendor import simulate

    seen = []
    monkeypatch.setattr(xbroker, "background", lambda func, *args, **kw: seen.append((func, args)))
    messages = [{"log_id": n, "to": f"c{n}@example.com", "text": "Hi"} for n in range(1, 801)]
    response = signed_post(api.client, "/vendor/send", {"messages": messages})
    assert response.status_code == 202 and response.json == {"accepted": 800}
    assert seen == [(simulate.deliver, (list(range(1, 801)),))]
