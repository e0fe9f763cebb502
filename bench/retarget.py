"""Did it work, at scale: campaign results and retargeting rules next to their raw SQL.

Used by `bench/campaign.py --results` and `bench/segments.py --activity` on a database
that `bench/segments.py` built (customers + orders over the last two years):

1. one campaign to every customer (POST /campaigns, 10% holdout), backdated 30 days so
   the generated orders fall after it, its PENDING rows turned SENT (90%) / FAILED (10%)
   at random times within two days, in one set-based UPDATE, and the campaign done at the
   last of them (as receipts would);
2. GET /campaigns/<id>/results through gunicorn next to the hand-written SQL that
   computes the same numbers (PyMySQL, same run); the answers must agree;
3. `spend IN LAST 90 DAYS > 5000`, `visits IN LAST 30 DAYS = 0` and
   `campaign N IS CONVERTED`: POST /segments/preview
   (count + 10-row sample), the app's compiled COUNT alone, and a hand-written COUNT.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from common import p95, timed

# Hand-written as a DBA would: one pass over the orders of the campaign's window (its
# creation to `attribution_days` after it finished), then who received the campaign or was
# held back, and for recipients whether a later touch claims the order instead.
CLAIMED_SQL = """
FROM campaigns c
JOIN orders o ON o.ordered_at >= c.created_at
 AND o.ordered_at <= COALESCE(c.finished_at + INTERVAL c.attribution_days DAY,
                              '9999-12-31 23:59:59')
JOIN customers b ON b.external_id = o.customer_external_id
JOIN communications_log t ON t.customer_id = b.id AND t.campaign_id = c.id
WHERE c.id = %(id)s AND (
 (t.status = 'SENT' AND o.ordered_at >= t.updated_at
  AND o.ordered_at <= t.updated_at + INTERVAL c.attribution_days DAY
  AND NOT EXISTS (SELECT 1 FROM communications_log l WHERE l.customer_id = t.customer_id
    AND l.status = 'SENT' AND l.updated_at <= o.ordered_at
    AND (l.updated_at > t.updated_at OR (l.updated_at = t.updated_at AND l.id > t.id))))
 OR (t.status = 'HOLDOUT' AND o.ordered_at <= c.created_at + INTERVAL c.attribution_days DAY))
"""
RESULTS_SQL = ("SELECT t.status, COUNT(DISTINCT t.customer_id), COUNT(*),"
               " COALESCE(SUM(o.amount), 0)" + CLAIMED_SQL + "GROUP BY t.status")
# The customers of either group, as a distinct derived table: computed once, then joined
# to the customers by id.
CONVERTED_SQL = ("SELECT COUNT(*) FROM customers WHERE id IN (SELECT customer_id FROM"
                 " (SELECT DISTINCT t.customer_id" + CLAIMED_SQL + ") x)")
# Customers without an order in the last 30 days, as a DBA would ask it.
LAPSED_SQL = """
SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o
 WHERE o.customer_external_id = c.external_id AND o.ordered_at >= %(start30)s)
"""
SPEND_SQL = """
SELECT COUNT(*) FROM customers c JOIN (SELECT customer_external_id FROM orders
 WHERE ordered_at >= %(start)s GROUP BY customer_external_id HAVING SUM(amount) > 5000) s
 ON s.customer_external_id = c.external_id
"""
def _http(conn: http.client.HTTPConnection, headers: dict[str, str], method: str, path: str,
          body: Any = None) -> Any:
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read())
    if response.status >= 300:
        raise SystemExit(f"{method} {path} failed: {response.status} {data}")
    return data


def make_campaign(raw: Any, conn: http.client.HTTPConnection, headers: dict[str, str]) -> int:
    """Create the campaign through the API, backdate it and settle its delivery in SQL."""
    started = time.perf_counter()
    created = _http(conn, headers, "POST", "/api/v1/campaigns",
                    {"rule": "visits >= 0", "message": "Hi", "holdout_percent": 10,
                     "attribution_days": 7, "name": "bench results"})
    print(f"  campaign {created['id']}: {created['audience_size']:,} rows written "
          f"({time.perf_counter() - started:.1f}s)", flush=True)
    cid = created["id"]
    with raw.cursor() as cur:
        cur.execute("UPDATE campaigns SET created_at = UTC_TIMESTAMP() - INTERVAL 30 DAY,"
                    " status = 'done' WHERE id = %s", (cid,))
        cur.execute(
            "UPDATE communications_log SET created_at = UTC_TIMESTAMP() - INTERVAL 30 DAY,"
            " updated_at = UTC_TIMESTAMP() - INTERVAL 30 DAY"
            " + INTERVAL FLOOR(RAND() * 172800) SECOND,"
            " status = IF(RAND() < 0.9, 'SENT', 'FAILED')"
            " WHERE campaign_id = %s AND status = 'PENDING'", (cid,))
        cur.execute("UPDATE communications_log SET created_at = UTC_TIMESTAMP() - INTERVAL 30 DAY,"
                    " updated_at = UTC_TIMESTAMP() - INTERVAL 30 DAY"
                    " WHERE campaign_id = %s AND status = 'HOLDOUT'", (cid,))
        cur.execute(
            "UPDATE campaigns c JOIN (SELECT SUM(status = 'SENT') s, SUM(status = 'FAILED') f,"
            " SUM(status = 'HOLDOUT') h, MAX(updated_at) m FROM communications_log"
            " WHERE campaign_id = %s) x"
            " SET c.sent = x.s, c.failed = x.f, c.holdout = x.h, c.pending = 0,"
            " c.finished_at = x.m WHERE c.id = %s", (cid, cid))
        cur.execute("ANALYZE TABLE communications_log")
        cur.fetchall()
    print(f"  delivery settled in SQL ({time.perf_counter() - started:.1f}s)", flush=True)
    return cid


def _row(label: str, size: Any, same: bool, app: list[float], raw: list[float],
         extra: str = "") -> float:
    ma, mr = statistics.median(app), statistics.median(raw)
    print(f"{label:<44}{size!s:>12}{'yes' if same else 'NO':>6}"
          f"{f'{ma:.0f} ({p95(app):.0f})':>16}{f'{mr:.0f} ({p95(raw):.0f})':>16}"
          f"{ma / mr:>9.2f}x  {extra}")
    return ma / mr


def _head(app: str) -> None:
    head = f"{'what':<44}{'answer':>12}{'same':>6}{app:>16}{'raw SQL':>16}{'app/raw':>10}"
    print(head)
    print("-" * len(head))


def results_bench(raw: Any, conn: http.client.HTTPConnection, headers: dict[str, str],
                  runs: int) -> int:
    """Time GET /campaigns/<id>/results next to the raw SQL of the same numbers."""
    cid = make_campaign(raw, conn, headers)

    def endpoint() -> Any:
        return _http(conn, headers, "GET", f"/api/v1/campaigns/{cid}/results")

    def by_hand() -> Any:
        with raw.cursor() as cur:
            cur.execute("SELECT sent, holdout FROM campaigns WHERE id = %s", (cid,))
            counts = cur.fetchone()
            cur.execute(RESULTS_SQL, {"id": cid})
            groups = {status: row for status, *row in cur.fetchall()}
            return counts, groups.get("SENT", (0, 0, 0)), groups.get("HOLDOUT", (0, 0, 0))

    t_app, body = timed(endpoint, runs)
    t_raw, (counts, rec, hold) = timed(by_hand, runs)
    same = (body["recipients"]["count"], body["holdout"]["count"]) == counts and all(
        (body[g]["converted"], body[g]["orders"]) == (int(r[0]), int(r[1]))
        and abs(body[g]["revenue"] - float(r[2])) < 0.005
        for g, r in (("recipients", rec), ("holdout", hold)))
    print()
    print(f"results of campaign {cid}: {counts[0]:,} SENT recipients, {counts[1]:,} holdout; "
          f"ms, median (p95) of {runs} runs")
    _head("GET /results")
    ratio = _row("GET /campaigns/<id>/results", f"{body['recipients']['converted']:,}", same,
                 t_app, t_raw, f"uplift {body['uplift']['absolute'] * 100:+.2f} pts")
    print(f"results / raw: {ratio:.2f}x (target <= 1.3x); median "
          f"{statistics.median(t_app) / 1000:.2f} s (target < 2 s)")
    return cid


def rules_bench(raw: Any, conn: http.client.HTTPConnection, headers: dict[str, str],
                engine: Any, cid: int, runs: int) -> None:
    """Time the two retargeting rules: HTTP preview, the app's COUNT, the raw COUNT."""
    from sqlalchemy import func, select

    from xeno.db.models import Customer
    from xeno.dsl import compile_rule, parse

    table = Customer.__table__
    print()
    print(f"retargeting rules; ms, median (p95) of {runs} runs; preview = HTTP POST "
          "/segments/preview (count + 10-row sample); app COUNT = the compiled rule's "
          "COUNT(*) through SQLAlchemy")
    _head("app COUNT")
    # the app's COUNT and the raw one resolve `IN LAST 90 DAYS` at the same instant, so
    # their answers compare exactly; the preview resolves it at its own request
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    for rule, sql in ((("spend IN LAST 90 DAYS > 5000"), SPEND_SQL),
                      ("visits IN LAST 30 DAYS = 0", LAPSED_SQL),
                      (f"campaign {cid} IS CONVERTED", CONVERTED_SQL)):
        def app_count(rule: str = rule) -> int:
            query = select(func.count()).select_from(table).where(
                compile_rule(parse(rule), table, now))
            with engine.connect() as c:
                return int(c.execute(query).scalar())

        def raw_count(sql: str = sql) -> int:
            with raw.cursor() as cur:
                cur.execute(sql, {"id": cid, "start": now - dt.timedelta(days=90),
                                  "start30": now - dt.timedelta(days=30)})
                return int(cur.fetchone()[0])

        def preview(rule: str = rule) -> int:
            return _http(conn, headers, "POST", "/api/v1/segments/preview", {"rule": rule})["count"]

        t_app, n_app = timed(app_count, runs)
        t_raw, n_raw = timed(raw_count, runs)
        t_prev, n_prev = timed(preview, runs)
        same = n_app == n_raw
        _row(rule, f"{n_app:,}", same, t_app, t_raw,
             f"preview {n_prev:,} in {statistics.median(t_prev):.0f} ms "
             f"({statistics.median(t_prev) / statistics.median(t_raw):.2f}x raw)")


def run(db_url: str, redis_url: str, port: int, customers: int, orders: int, reuse: bool,
        runs: int, rules: bool, build: Callable[..., Any], buffer_pool: str = "8G") -> None:
    """Build (with `build`, bench/segments.py's) or reuse the database, serve the app, and
    print the results (and rules), in a buffer pool of `buffer_pool` as LIMITS.md measured
    with (put back afterwards; '' keeps the server's)."""
    import os
    import subprocess
    from pathlib import Path

    from common import connect, set_buffer_pool, start_web, wait_http
    from sqlalchemy import create_engine

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "XENO_DATABASE_URL": db_url, "XENO_REDIS_URL": redis_url,
           "XENO_SECRET_KEY": "bench", "XENO_RECEIPT_SECRET": "bench"}
    env.pop("XENO_DEV_LOGIN", None)
    restore_pool = set_buffer_pool(db_url, buffer_pool)
    if not reuse:
        build(db_url, env, customers, orders)
    subprocess.run(["xeno", "db", "init"], env=env, check=True, capture_output=True)
    token = subprocess.run(["xeno", "token", "create", "bench"], env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    raw = connect(db_url)
    with raw.cursor() as cur:
        cur.execute("SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM orders)")
        n_customers, n_orders = cur.fetchone()
    print(f"{n_customers:,} customers / {n_orders:,} orders", flush=True)
    web = start_web(port, env, root)
    try:
        wait_http(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        cid = results_bench(raw, conn, headers, runs)
        if rules:
            engine = create_engine(db_url)
            rules_bench(raw, conn, headers, engine, cid, runs)
            engine.dispose()
    finally:
        web.terminate()
        web.wait()
        raw.close()
        restore_pool()
