"""Messages without a receipt: handed to the vendor again, at most twice more, then FAILED
with reason `no_receipt`; receipts' own reasons are kept and shown."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.helpers import (
    assert_counters_match_log,
    counters,
    load_customers,
    log_ids,
    real_servers,
    recording_vendor,
    signed_post,
    wait_until,
    worker_process,
)
from xeno.campaigns import delivery

# Handing times are stored to the second, so a 1 s timeout is overdue 1–2 s later.
OVERDUE = 2.1


def _campaign(app, api, size: int) -> tuple[int, list[int]]:
    load_customers(api, size)
    created = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi {{ name }}"}).json
    return created["id"], log_ids(app, created["id"])


def _log(api, cid: int) -> dict[int, tuple[str, str | None]]:
    items = api.get(f"/campaigns/{cid}/log?per_page=500").json["items"]
    return {i["id"]: (i["status"], i["reason"]) for i in items}


def test_unanswered_messages_are_handed_twice_more_then_fail_no_receipt(app, api):
    app.config["CAMPAIGN_AUTOSTART"] = False
    cid, ids = _campaign(app, api, 5)
    with recording_vendor() as (url, handed), app.app_context():
        app.config["VENDOR_URL"] = url
        assert delivery.dispatch(cid) == 5
        assert delivery.sweep_overdue(timeout=1) == {"handed": 0, "failed": 0}  # not yet due
        rounds = []
        for _ in range(3):
            time.sleep(OVERDUE)
            rounds.append(delivery.sweep_overdue(timeout=1))
        time.sleep(OVERDUE)
        assert delivery.sweep_overdue(timeout=1) == {"handed": 0, "failed": 0}  # nothing left
    assert rounds == [{"handed": 5, "failed": 0}, {"handed": 5, "failed": 0},
                      {"handed": 0, "failed": 5}]
    assert Counter(handed) == {i: 3 for i in ids}  # the first hand-over and two more
    stored = assert_counters_match_log(app, cid)
    assert (stored["status"], stored["failed"], stored["pending"]) == ("done", 5, 0)
    assert _log(api, cid) == {i: ("FAILED", "no_receipt") for i in ids}


def test_a_message_whose_receipt_arrived_is_never_handed_again(app, api):
    app.config["CAMPAIGN_AUTOSTART"] = False
    cid, ids = _campaign(app, api, 3)
    with recording_vendor() as (url, handed), app.app_context():
        app.config["VENDOR_URL"] = url
        delivery.dispatch(cid)
        # Accepted but not applied yet on the real-server run (no drain ran): the sweeper
        # applies what was accepted before it chooses what to hand again.
        response = signed_post(api.client, "/receipts", {"log_id": ids[0], "status": "SENT"})
        assert response.status_code == 202
        for _ in range(3):
            time.sleep(OVERDUE)
            delivery.sweep_overdue(timeout=1)
    assert Counter(handed) == {ids[0]: 1, ids[1]: 3, ids[2]: 3}
    assert _log(api, cid) == {ids[0]: ("SENT", None), ids[1]: ("FAILED", "no_receipt"),
                              ids[2]: ("FAILED", "no_receipt")}
    assert assert_counters_match_log(app, cid)["status"] == "done"


def test_receipt_reasons_are_kept_on_failed_rows_and_shown(app, api, signed_in):
    app.config["CAMPAIGN_AUTOSTART"] = False
    cid, ids = _campaign(app, api, 3)
    response = signed_post(api.client, "/receipts", [
        {"log_id": ids[0], "status": "FAILED", "reason": "mailbox full"},
        {"log_id": ids[1], "status": "SENT", "reason": "delivered to handset"},
    ])
    assert response.status_code == 202, response.json
    api.drain()
    # A later receipt changes nothing, its reason included.
    signed_post(api.client, "/receipts", {"log_id": ids[0], "status": "FAILED", "reason": "other"})
    api.drain()
    assert _log(api, cid) == {ids[0]: ("FAILED", "mailbox full"), ids[1]: ("SENT", None),
                              ids[2]: ("PENDING", None)}
    failed = api.get(f"/campaigns/{cid}/log?status=FAILED").json["items"]
    assert [(i["id"], i["reason"]) for i in failed] == [(ids[0], "mailbox full")]
    page = signed_in.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "mailbox full" in page and "delivered to handset" not in page


@pytest.mark.parametrize("reason", ["x" * 201, "", 42, ["no"]])
def test_a_receipt_reason_must_be_a_short_string(app, api, reason):
    app.config["CAMPAIGN_AUTOSTART"] = False
    _cid, ids = _campaign(app, api, 1)
    response = signed_post(api.client, "/receipts",
                           {"log_id": ids[0], "status": "FAILED", "reason": reason})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "reason"


@real_servers
def test_a_worker_finishes_a_campaign_whose_vendor_never_answers(app, api):
    load_customers(api, 40)
    with recording_vendor() as (url, handed), worker_process(
        app, XENO_RECEIPT_TIMEOUT="1", XENO_VENDOR_URL=url
    ) as worker:
        cid = api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi"}).json["id"]
        started = time.monotonic()
        assert wait_until(lambda: counters(app, cid)["status"] == "done", timeout=60), (
            counters(app, cid), worker.poll()
        )
        took = time.monotonic() - started
    ids = log_ids(app, cid)
    assert Counter(handed) == {i: 3 for i in ids}
    assert _log(api, cid) == {i: ("FAILED", "no_receipt") for i in ids}
    assert assert_counters_match_log(app, cid)["failed"] == 40
    # 3 timeouts of 1–2 s each (handing times are stored to the second), sweeps every 0.5 s
    assert took < 15, took
