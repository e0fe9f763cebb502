"""CSV exports: a segment's members and a campaign's log, over HTTP and from the CLI, streamed."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import Connection, select

from tests.helpers import customer, order, signed_post
from xeno.db.models import CommunicationLog, Customer
from xeno.extensions import db
from xeno.platform import exports

CUSTOMER_HEADER = ["id", "name", "email", "phone", "city", "spend", "visits", "avg_order",
                   "last_visit", "signup", "unsubscribed_at"]
LOG_HEADER = ["id", "customer_id", "name", "message", "status", "reason", "updated_at"]
AWKWARD = 'O\'Brien, "Bob"\nsecond line, ₹ José'


@pytest.fixture(autouse=True)
def _no_delivery(app):
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def shop(api):
    """C1..C12: customer n has n orders of 1,000.00 (C12 none); C5 has an awkward name."""
    records = [customer(n, name=AWKWARD if n == 5 else f"Customer {n}") for n in range(1, 13)]
    api.post_customers(records)
    orders = [order(n * 100 + k, n, "1000.00") for n in range(1, 12) for k in range(n)]
    api.post_orders(orders)


def _rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_segment_csv_equals_its_members_with_the_customer_json_columns(api, shop):
    segment = api.post("/segments", {"name": "Regulars", "rule": "visits >= 4"}).json
    response = api.get(f"/segments/{segment['id']}/customers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.splitlines()[0].split(",") == CUSTOMER_HEADER
    rows = _rows(body)
    assert sorted(r["id"] for r in rows) == sorted(f"C{n}" for n in range(4, 12))  # by hand
    by_id = {r["id"]: r for r in rows}
    assert by_id["C5"]["name"] == AWKWARD  # commas, quotes, a newline and accents survive
    assert by_id["C7"]["spend"] == "7000.00" and by_id["C7"]["visits"] == "7"
    assert by_id["C7"]["avg_order"] == "1000.00" and by_id["C7"]["unsubscribed_at"] == ""
    listed = api.get("/customers?q=C7").json["items"][0]
    assert by_id["C7"]["email"] == listed["email"] and by_id["C7"]["signup"] == listed["signup"]


def test_segment_csv_follows_new_data(api, shop):
    segment_id = api.post("/segments", {"name": "Big", "rule": "spend > 10000"}).json["id"]
    assert [r["id"] for r in _rows(api.get(f"/segments/{segment_id}/customers.csv").text)] == [
        "C11"]
    api.post_orders([order(9000, 12, "20000.00")])
    assert sorted(r["id"] for r in _rows(api.get(f"/segments/{segment_id}/customers.csv").text)) \
        == ["C11", "C12"]


def test_segment_csv_streams_in_partitions_over_a_server_side_cursor(app, api, shop, monkeypatch):
    monkeypatch.setattr(exports, "PARTITION", 3)
    options = []
    original = Connection.execution_options

    def execution_options(conn, **kw):  # noqa: ANN001, ANN003
        options.append(kw)
        return original(conn, **kw)

    monkeypatch.setattr(Connection, "execution_options", execution_options)
    segment_id = api.post("/segments", {"name": "All", "rule": "visits >= 0"}).json["id"]
    response = api.get(f"/segments/{segment_id}/customers.csv", buffered=False)
    chunks = list(response.response)
    response.close()
    assert len(chunks) == 1 + 4  # the header, then 12 customers in partitions of 3
    assert {"stream_results": True, "yield_per": 3} in options


def test_exports_answer_errors_as_json(api, shop):
    assert api.get("/segments/999/customers.csv").json["error"] == "not_found"
    assert api.get("/campaigns/999/log.csv").status_code == 404
    assert api.client.get("/api/v1/segments/1/customers.csv").status_code == 401
    campaign = api.post("/campaigns", {"rule": "visits >= 1", "message": "Hi"}).json["id"]
    bad = api.get(f"/campaigns/{campaign}/log.csv?status=LOST")
    assert bad.status_code == 422 and bad.json["error"] == "validation_failed"


def _log(app, campaign_id, status=None):
    with app.app_context():
        query = (
            select(CommunicationLog.id, Customer.external_id, CommunicationLog.status)
            .join(Customer, Customer.id == CommunicationLog.customer_id)
            .where(CommunicationLog.campaign_id == campaign_id).order_by(CommunicationLog.id)
        )
        if status:
            query = query.where(CommunicationLog.status == status)
        rows = [(str(i), e, s) for i, e, s in db.session.execute(query)]
        db.session.remove()
    return rows


def test_campaign_log_csv_with_a_status_filter_equals_the_filtered_log(app, api, client, shop):
    campaign = api.post("/campaigns", {"name": "Hi", "rule": "visits >= 1",
                                       "message": "Hi {{ name }}"}).json["id"]
    ids = [int(i) for i, _, _ in _log(app, campaign)]
    receipts = [{"log_id": i, "status": "FAILED" if i % 3 == 0 else "SENT"} for i in ids[:8]]
    assert signed_post(client, "/receipts", receipts).status_code == 202
    api.drain()
    for status in (None, "FAILED", "SENT", "PENDING"):
        query = f"?status={status.lower()}" if status else ""
        response = api.get(f"/campaigns/{campaign}/log.csv{query}")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert body.splitlines()[0].split(",") == LOG_HEADER
        rows = _rows(body)
        assert [(r["id"], r["customer_id"], r["status"]) for r in rows] == _log(
            app, campaign, status)
    item = api.get(f"/campaigns/{campaign}/log").json["items"][0]
    first = _rows(api.get(f"/campaigns/{campaign}/log.csv").text)[0]
    assert {k: first[k] for k in ("name", "message", "updated_at")} == {
        k: item[k] for k in ("name", "message", "updated_at")}


def test_session_may_download_without_csrf(api, signed_in, shop):
    segment_id = api.post("/segments", {"name": "All", "rule": "visits >= 0"}).json["id"]
    response = signed_in.get(f"/api/v1/segments/{segment_id}/customers.csv")
    assert response.status_code == 200 and len(_rows(response.text)) == 12


def test_cli_writes_the_same_files(app, api, runner, shop, tmp_path):
    segment_id = api.post("/segments", {"name": "Regulars", "rule": "visits >= 4"}).json["id"]
    out = tmp_path / "members.csv"
    result = runner.invoke(args=["segment", "export", str(segment_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == api.get(f"/segments/{segment_id}/customers.csv").data
    assert "wrote 8 customer(s)" in result.output
    by_rule = tmp_path / "rule.csv"
    result = runner.invoke(args=["segment", "export", "--rule", "visits >= 4",
                                 "--out", str(by_rule)])
    assert result.exit_code == 0 and by_rule.read_bytes() == out.read_bytes()
    campaign = api.post("/campaigns", {"rule": "visits >= 1", "message": "Hi"}).json["id"]
    log_file = tmp_path / "log.csv"
    result = runner.invoke(args=["campaign", "log", str(campaign), "--status", "pending",
                                 "--out", str(log_file)])
    assert result.exit_code == 0, result.output
    assert log_file.read_bytes() == api.get(f"/campaigns/{campaign}/log.csv?status=PENDING").data
    assert len(_rows(log_file.read_text())) == 11


@pytest.mark.parametrize("args, complaint", [
    (["segment", "export", "--out", "x.csv"], "give a segment id or --rule"),
    (["segment", "export", "7", "--rule", "visits > 1", "--out", "x.csv"], "not both"),
    (["segment", "export", "999", "--out", "x.csv"], "no segment 999"),
    (["segment", "export", "--rule", "spnd > 1", "--out", "x.csv"], "did you mean 'spend'"),
    (["campaign", "log", "999", "--out", "x.csv"], "no campaign 999"),
])
def test_cli_refuses_bad_arguments_without_a_traceback(runner, shop, tmp_path, args, complaint,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=args)
    assert result.exit_code == 2 and complaint in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.csv").exists()
