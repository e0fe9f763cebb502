"""POST /receipts: HMAC, validation, publish; the consumer moves rows only out of PENDING."""

from __future__ import annotations

import pytest

from tests.helpers import (
    assert_counters_match_log,
    counters,
    load_customers,
    log_counts,
    log_ids,
    signed_post,
)
from xeno.platform import streams as xstreams


@pytest.fixture(autouse=True)
def _no_delivery(app):
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def campaign(app, api):
    """A campaign to 10 customers, not dispatched: its log ids are ours to receipt."""
    load_customers(api, 10)
    cid = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi {{ name }}"}).json["id"]
    return cid, log_ids(app, cid)


def _post(app, api, payload, **kwargs):
    response = signed_post(api.client, "/receipts", payload, **kwargs)
    api.drain()
    return response


def test_receipts_move_rows_and_counters(app, api, campaign):
    cid, ids = campaign
    response = _post(app, api, [{"log_id": i, "status": "SENT"} for i in ids[:6]]
                     + [{"log_id": i, "status": "FAILED"} for i in ids[6:9]])
    assert response.status_code == 202
    assert response.json == {"batch_id": response.json["batch_id"], "accepted": 9}
    assert log_counts(app, cid) == {"SENT": 6, "FAILED": 3, "PENDING": 1}
    assert assert_counters_match_log(app, cid)["status"] == "sending"
    _post(app, api, {"log_id": ids[9], "status": "SENT"})  # one object, not an array
    stored = assert_counters_match_log(app, cid)
    assert (stored["status"], stored["sent"], stored["failed"]) == ("done", 7, 3)
    assert stored["finished_at"] is not None


def test_duplicate_late_and_out_of_order_receipts_change_nothing(app, api, campaign):
    cid, ids = campaign
    _post(app, api, {"log_id": ids[0], "status": "FAILED"})
    _post(app, api, {"log_id": ids[0], "status": "SENT"})  # late, contradicting
    _post(app, api, {"log_id": ids[0], "status": "FAILED"})  # duplicate
    # within one read: the first receipt for a row wins, the rest are no-ops
    _post(app, api, [{"log_id": ids[1], "status": "SENT"}, {"log_id": ids[1], "status": "FAILED"},
                     {"log_id": ids[0], "status": "SENT"}])
    assert log_counts(app, cid) == {"FAILED": 1, "SENT": 1, "PENDING": 8}
    assert assert_counters_match_log(app, cid)["pending"] == 8


def test_an_unknown_log_id_is_reported_and_the_rest_applied(app, api, campaign):
    cid, ids = campaign
    response = _post(app, api, [{"log_id": ids[0], "status": "SENT"},
                                {"log_id": 987654, "status": "SENT"},
                                {"log_id": ids[1], "status": "FAILED"}])
    batch = api.get(f"/batches/{response.json['batch_id']}").json
    assert (batch["status"], batch["stored"], batch["rejected"]) == ("done", 2, 1)
    assert batch["errors"] == [{"index": 1, "id": None, "message": "unknown log_id 987654"}]
    assert log_counts(app, cid) == {"SENT": 1, "FAILED": 1, "PENDING": 8}
    _post(app, api, {"log_id": ids[2], "status": "SENT"})  # the consumer goes on
    assert assert_counters_match_log(app, cid)["sent"] == 2


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Xeno-Signature": "sha256=" + "0" * 64},
        {"X-Xeno-Signature": "sha256=nothex"},
        {"X-Xeno-Signature": "md5=abc"},
        "wrong-secret",
        "uppercase",
    ],
)
def test_a_missing_or_forged_signature_is_401_and_publishes_nothing(app, api, broker, campaign,
                                                                     headers):
    import json

    from xeno.platform.signing import sign

    cid, ids = campaign
    body = json.dumps({"log_id": ids[0], "status": "SENT"}).encode()
    if headers == "wrong-secret":
        headers = {"X-Xeno-Signature": sign(body, "not-the-secret")}
    elif headers == "uppercase":
        headers = {"X-Xeno-Signature": sign(body, "test-receipt-secret").upper()}
    before = broker.xlen(xstreams.stream_key("receipts"))
    response = api.client.post("/api/v1/receipts", data=body, content_type="application/json",
                               headers=headers)
    api.drain()
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert broker.xlen(xstreams.stream_key("receipts")) == before
    assert log_counts(app, cid) == {"PENDING": 10}


def test_a_token_is_not_a_signature(app, api, broker, campaign):
    before = broker.xlen(xstreams.stream_key("receipts"))
    response = api.post("/receipts", {"log_id": campaign[1][0], "status": "SENT"})
    api.drain()
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert broker.xlen(xstreams.stream_key("receipts")) == before
    assert log_counts(app, campaign[0]) == {"PENDING": 10}


def test_a_signature_over_other_bytes_is_refused(app, api, campaign):
    import json

    from xeno.platform.signing import sign

    body = json.dumps({"log_id": campaign[1][0], "status": "SENT"}).encode()
    other = json.dumps({"log_id": campaign[1][1], "status": "SENT"}).encode()
    response = api.client.post("/api/v1/receipts", data=other, content_type="application/json",
                               headers={"X-Xeno-Signature": sign(body, "test-receipt-secret")})
    api.drain()
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert log_counts(app, campaign[0]) == {"PENDING": 10}


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"log_id": 1, "status": "DELIVERED"}, 422),
        ({"log_id": "1", "status": "SENT"}, 422),
        ({"log_id": 1}, 422),
        ({"log_id": 1, "status": "SENT", "extra": True}, 422),
        ([], 422),
        ([{"log_id": n, "status": "SENT"} for n in range(1, 1002)], 413),
    ],
)
def test_bad_receipts_are_refused_whole(app, api, broker, campaign, payload, status):
    response = _post(app, api, payload)
    assert response.status_code == status
    assert broker.xlen(xstreams.stream_key("receipts")) == 0
    assert log_counts(app, campaign[0]) == {"PENDING": 10}


def test_a_dead_consumers_receipts_are_reclaimed_and_counted_once(app, api, broker, campaign):
    """A worker read receipts and died before acking: another consumer applies them once."""
    from xeno.platform.streams import drain_stream, ensure_group

    cid, ids = campaign
    with app.app_context():
        key = xstreams.stream_key("receipts")
        ensure_group(broker, key)
        broker.set("xeno:drain:receipts", 1)  # as if the drain job itself were the one that died
        signed_post(api.client, "/receipts", [{"log_id": i, "status": "SENT"} for i in ids[:4]])
        signed_post(api.client, "/receipts", {"log_id": ids[4], "status": "FAILED"})
        dead = broker.xreadgroup(xstreams.GROUP, "dead-worker", {key: ">"}, count=10)
        assert len(dead[0][1]) == 2
        assert log_counts(app, cid) == {"PENDING": 10}

        app.config["STREAM_RECLAIM_IDLE_MS"] = 0
        drain_stream("receipts", consumer="rescuer")
        drain_stream("receipts", consumer="another")  # nothing left to apply twice
        assert broker.xpending(key, xstreams.GROUP)["pending"] == 0

    assert log_counts(app, cid) == {"SENT": 4, "FAILED": 1, "PENDING": 5}
    stored = assert_counters_match_log(app, cid)
    assert (stored["sent"], stored["failed"]) == (4, 1)


def test_applying_the_same_read_twice_counts_nothing_twice(app, api, campaign):
    """At-least-once: a consumer that wrote but died before its ack re-applies the read."""
    from xeno.campaigns.delivery import store_receipts

    cid, ids = campaign
    records = [{"log_id": i, "status": "SENT"} for i in ids[:5]]
    with app.app_context():
        assert store_receipts(records) == []
        assert store_receipts(records) == []
    assert counters(app, cid)["sent"] == 5
    assert assert_counters_match_log(app, cid)["pending"] == 5


def test_receipts_for_two_campaigns_in_one_read(app, api, campaign):
    from xeno.campaigns.delivery import store_receipts

    cid, ids = campaign
    other = api.post("/campaigns", {"rule": "visits >= 0", "message": "Yo"}).json["id"]
    other_ids = log_ids(app, other)
    records = [{"log_id": i, "status": "SENT"} for i in ids] + [
        {"log_id": i, "status": "FAILED"} for i in other_ids[:3]]
    with app.app_context():
        assert store_receipts(records) == []
    assert assert_counters_match_log(app, cid)["status"] == "done"
    other_stored = assert_counters_match_log(app, other)
    assert (other_stored["failed"], other_stored["pending"], other_stored["status"]) == (
        3, 7, "sending")
