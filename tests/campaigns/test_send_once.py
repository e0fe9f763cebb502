"""Sending once: Idempotency-Key replays and conflicts, the 24-hour duplicate guard, retry."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from tests.helpers import (
    live_server,
    load_customers,
    log_counts,
    log_ids,
    saved_segment,
    signed_post,
)
from xeno.db.models import Campaign, CommunicationLog, Customer, IdempotencyKey
from xeno.extensions import db

BODY = {"name": "Diwali", "rule": "visits >= 0", "message": "Hi {{ name }}, 10% off"}


@pytest.fixture(autouse=True)
def _no_delivery(app):
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def shop(api):
    load_customers(api, 20)


def _campaigns(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Campaign))
        db.session.remove()
    return n


def _rows(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(CommunicationLog))
        db.session.remove()
    return n


def _age(app, hours: float) -> None:
    """Make every campaign and key `hours` older, as if that much time had passed."""
    with app.app_context():
        for model in (Campaign, IdempotencyKey):
            for row in db.session.scalars(select(model)):
                row.created_at -= timedelta(hours=hours)
        db.session.commit()


def _post(api, body, key=None):
    headers = {**api.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return api.client.post("/api/v1/campaigns", json=body, headers=headers)


def test_same_key_and_body_answers_the_first_answer_and_creates_nothing(app, api, shop):
    first = _post(api, BODY, "k-1")
    assert first.status_code == 201
    again = _post(api, dict(reversed(BODY.items())), "k-1")  # same body, other key order
    assert (again.status_code, again.json) == (201, first.json)
    assert (_campaigns(app), _rows(app)) == (1, 20)


def test_same_key_with_another_body_is_a_conflict(app, api, shop):
    assert _post(api, BODY, "k-1").status_code == 201
    other = _post(api, {**BODY, "message": "Something else"}, "k-1")
    assert (other.status_code, other.json["error"]) == (409, "idempotency_conflict")
    assert (_campaigns(app), _rows(app)) == (1, 20)


def test_a_key_is_per_client_and_forgotten_after_a_day(app, api, shop):
    first = _post(api, BODY, "k-1").json
    _age(app, 25)
    later = _post(api, BODY, "k-1")  # a day on: a new request (and not a duplicate either)
    assert later.status_code == 201 and later.json["id"] != first["id"]
    assert _campaigns(app) == 2


@pytest.mark.parametrize("key", ["", "x" * 201, " padded "])
def test_a_bad_key_is_refused(app, api, shop, key):
    response = _post(api, BODY, key)
    assert (response.status_code, response.json["error"]) == (422, "validation_failed")
    assert _campaigns(app) == 0


def test_a_key_of_200_characters_is_fine(app, api, shop):
    assert _post(api, BODY, "é" * 200).status_code == 201


def test_a_refused_request_does_not_use_up_its_key(app, api, shop):
    empty = _post(api, {**BODY, "rule": "spend > 1"}, "k-1")
    assert (empty.status_code, empty.json["error"]) == (422, "empty_audience")
    assert _post(api, {**BODY, "rule": "spend > 1"}, "k-1").json["error"] == "empty_audience"
    assert _post(api, BODY, "k-2").status_code == 201


def test_concurrent_requests_with_one_key_make_one_campaign(app, api, shop):
    answers: list[requests.Response] = []
    with live_server(app) as url:
        def send() -> None:
            answers.append(requests.post(
                f"{url}/api/v1/campaigns", json=BODY, timeout=60,
                headers={**api.headers, "Idempotency-Key": "double-click"}))
        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert (_campaigns(app), _rows(app)) == (1, 20)


def test_concurrent_duplicates_without_a_key_make_one_campaign(app, api, shop):
    answers: list[requests.Response] = []
    with live_server(app) as url:
        def send() -> None:
            answers.append(requests.post(f"{url}/api/v1/campaigns", json=BODY, timeout=60,
                                         headers=api.headers))
        threads = [threading.Thread(target=send) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    created = next(a.json()["id"] for a in answers if a.status_code == 201)
    assert {a.json()["campaign_id"] for a in answers if a.status_code == 409} == {created}
    assert (_campaigns(app), _rows(app)) == (1, 20)


def test_the_same_message_to_the_same_rule_within_a_day_is_a_duplicate(app, api, shop):
    first = api.post("/campaigns", {**BODY, "rule": "visits>=0 AND spend >= 0"}).json
    # The same rule written differently, under another name: still the same campaign.
    again = api.post("/campaigns", {**BODY, "name": "Other",
                                    "rule": "VISITS >= 0 and  SPEND >= 0"})
    assert again.status_code == 409
    assert again.json == {"error": "duplicate_campaign", "message": again.json["message"],
                          "campaign_id": first["id"]}
    assert _campaigns(app) == 1
    other_message = api.post("/campaigns", {**BODY, "message": "Hi {{ name }}, 20% off"})
    assert other_message.status_code == 201
    allowed = api.post("/campaigns", {**BODY, "rule": "visits >= 0 and spend >= 0",
                                      "allow_duplicate": True})
    assert allowed.status_code == 201
    assert _campaigns(app) == 3 and _rows(app) == 60


def test_a_segment_campaign_is_a_duplicate_of_the_same_segment_only(app, api, shop):
    segment = saved_segment(app, "All", "visits >= 0")
    body = {"segment_id": segment, "message": "Hi"}
    first = api.post("/campaigns", body).json
    assert api.post("/campaigns", body).json["campaign_id"] == first["id"]
    # the same people through a rule, or another segment, is another audience
    assert api.post("/campaigns", {"rule": "visits >= 0", "message": "Hi"}).status_code == 201
    other = saved_segment(app, "All again", "visits >= 0")
    assert api.post("/campaigns", {"segment_id": other, "message": "Hi"}).status_code == 201


def test_the_duplicate_guard_ends_after_24_hours(app, api, shop):
    api.post("/campaigns", BODY)
    _age(app, 23.9)
    assert api.post("/campaigns", BODY).status_code == 409
    _age(app, 0.2)
    assert api.post("/campaigns", BODY).status_code == 201


def _receipts(api, statuses: dict[int, str]) -> None:
    signed_post(api.client, "/receipts", [{"log_id": i, "status": s} for i, s in statuses.items()])
    api.drain()


def _failed_customers(app, campaign_id: int) -> set[int]:
    with app.app_context():
        found = set(db.session.scalars(
            select(CommunicationLog.customer_id).where(
                CommunicationLog.campaign_id == campaign_id, CommunicationLog.status == "FAILED")))
        db.session.remove()
    return found


def _unsubscribed(app) -> set[int]:
    with app.app_context():
        found = set(db.session.scalars(
            select(Customer.id).where(Customer.unsubscribed_at.is_not(None))))
        db.session.remove()
    return found


def _customers_of(app, campaign_id: int) -> dict[int, str]:
    with app.app_context():
        rows = db.session.execute(
            select(CommunicationLog.customer_id, CommunicationLog.message)
            .where(CommunicationLog.campaign_id == campaign_id)).all()
        db.session.remove()
    return dict(rows)


def test_retry_sends_to_the_failed_who_are_still_subscribed(app, api, shop):
    app.config["FREQUENCY_CAP"] = "1/7d"  # a retry is not held back by the cap
    parent = api.post("/campaigns", BODY).json
    ids = log_ids(app, parent["id"])
    _receipts(api, {i: ("FAILED" if n % 3 == 0 else "SENT") for n, i in enumerate(ids[:15])})
    for external in ("C1", "C4", "C2"):  # some failed, some not
        api.post(f"/customers/{external}/unsubscribe", None)
    failed = _failed_customers(app, parent["id"])
    expected = failed - _unsubscribed(app)
    assert failed and expected != failed  # the test means something

    retried = api.post(f"/campaigns/{parent['id']}/retry", None)
    assert retried.status_code == 201, retried.json
    body = retried.json
    assert body["parent_id"] == parent["id"]
    assert (body["matched"], body["excluded"], body["audience_size"]) == (
        len(failed), {"unsubscribed": len(failed - expected), "frequency_cap": 0}, len(expected))
    recipients = _customers_of(app, body["id"])
    assert set(recipients) == expected
    assert recipients == {c: m for c, m in _customers_of(app, parent["id"]).items()
                          if c in expected}  # the same message, personalised the same
    detail = api.get(f"/campaigns/{body['id']}").json
    assert (detail["parent_id"], detail["message"], detail["status"]) == (
        parent["id"], BODY["message"], "sending")
    assert log_counts(app, body["id"]) == {"PENDING": len(expected)}

    twice = api.post(f"/campaigns/{parent['id']}/retry", {})
    assert (twice.status_code, twice.json["campaign_id"]) == (409, body["id"])
    forced = api.post(f"/campaigns/{parent['id']}/retry", {"allow_duplicate": True})
    assert forced.status_code == 201 and forced.json["audience_size"] == len(expected)


def test_retry_without_failures_is_an_empty_audience(app, api, shop):
    parent = api.post("/campaigns", BODY).json
    _receipts(api, {i: "SENT" for i in log_ids(app, parent["id"])})
    response = api.post(f"/campaigns/{parent['id']}/retry", None)
    assert (response.status_code, response.json["error"]) == (422, "empty_audience")
    assert _campaigns(app) == 1


def test_retry_of_only_unsubscribed_failures_is_an_empty_audience(app, api, shop):
    parent = api.post("/campaigns", BODY).json
    _receipts(api, {log_ids(app, parent["id"])[0]: "FAILED"})
    failed = _failed_customers(app, parent["id"])
    with app.app_context():
        external = db.session.get(Customer, failed.pop()).external_id
    api.post(f"/customers/{external}/unsubscribe", None)
    response = api.post(f"/campaigns/{parent['id']}/retry", None)
    assert response.status_code == 422
    assert (response.json["matched"], response.json["excluded"]["unsubscribed"]) == (1, 1)


def test_retry_of_an_unknown_campaign_or_with_a_bad_body(app, api, shop):
    assert api.post("/campaigns/999/retry", None).status_code == 404
    parent = api.post("/campaigns", BODY).json
    bad = api.post(f"/campaigns/{parent['id']}/retry", {"nope": 1})
    assert (bad.status_code, bad.json["error"]) == (422, "validation_failed")


def test_openapi_describes_retry_and_the_key(client):
    spec = client.get("/api/v1/openapi.json").json
    create = spec["paths"]["/api/v1/campaigns"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= create["parameters"][0].items()
    assert {"409", "422", "201"} <= set(create["responses"])
    assert "duplicate_campaign" in create["responses"]["409"]["description"]
    retry = spec["paths"]["/api/v1/campaigns/{campaign_id}/retry"]["post"]
    assert "parent_id" in spec["components"]["schemas"]["CampaignCreated"]["properties"]
    assert set(retry["responses"]) >= {"201", "404", "409", "422"}
    unsubscribe = spec["paths"]["/api/v1/customers/{customer_id}/unsubscribe"]["post"]
    assert "unsubscribed_at" in spec["components"]["schemas"]["CustomerOut"]["properties"]
    assert set(unsubscribe["responses"]) == {"200", "401", "404", "503"}


def test_an_old_key_row_is_purged(app, api, shop):
    _post(api, BODY, "old")
    _age(app, 25)
    _post(api, {**BODY, "message": "new"}, "new")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
