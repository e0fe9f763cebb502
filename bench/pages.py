"""Server time of the marketer's pages with a million customers and 100 campaigns in MariaDB.

    python bench/pages.py                       # reuse bench/segments.py's database if built
    python bench/pages.py --db-url mysql+pymysql://root@127.0.0.1:3306/xeno_pagebench

Reuses the database bench/segments.py builds (`xeno_segbench`, 1M customers / 5M orders)
when it holds at least --customers customers; otherwise builds `--db-url` from scratch
(schema from the models, customers and their aggregates in one INSERT … SELECT over
MariaDB's sequence engine, then ANALYZE TABLE). It adds 100 campaigns (the newest with a
100,000-row delivery log) and removes them again at the end, so a reused database is left
as found.

Requests go through the whole Flask app in-process (routing, sign-in, CSRF, SQL, JSON or
Jinja) with a signed-in session, so the figures are server time without the network.
Targets: the campaign history page under 100 ms, the builder's live count
(`POST /api/v1/segments/preview`) under 300 ms, both at the median and p95. The customer
desk (bench/desk.py): a busy customer's profile under 100 ms at p95, and a 1M-row segment
export with its rows/s and the server's RSS growth (under 50 MB); `--desk-only` runs just
those.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pymysql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import desk  # noqa: E402
from common import connect  # noqa: E402

from xeno import create_app  # noqa: E402
from xeno.auth import sessions  # noqa: E402
from xeno.auth.tokens import create_token  # noqa: E402
from xeno.db.models import User  # noqa: E402
from xeno.extensions import db  # noqa: E402

SEED_RULES = ("spend > 10000 AND visits <= 3", "inactive_days > 90", "last_visit < 3 months ago")
TAG = "bench-pages"
LOG_ROWS = 100_000
CITIES = ("Mumbai", "Pune", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Nagpur", "Jaipur")




# Customer searches: a city and a digit run (broad, spread out), "customer 99" by name
# (its matches sit together in the name index), and a text nobody has (a whole scan).
SEARCHES = [("pune", "spend"), ("777", "last_visit"), ("customer%2099", "name"),
            ("pune", "name"), ("zzqx", "spend")]  # fmt: skip


def customer_count(url: str) -> int:
    """Customers in a database, 0 if it or its table is missing."""
    try:
        with connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers")
            return int(cur.fetchone()[0])
    except pymysql.MySQLError:
        return 0


def build(url: str, customers: int) -> None:
    """A fresh database: the models' schema and `customers` customers with aggregates."""
    name = make_url(url).database
    with connect(url, database=False) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    app = create_app(app_config(url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    cities = ",".join(f"'{c}'" for c in CITIES)
    started = time.perf_counter()
    with connect(url) as conn, conn.cursor() as cur:
        # visits 0-9; spend grows with visits; last visit within ~2 years; one in ten never
        # ordered; signup before the first visit.
        cur.execute(f"""
            INSERT INTO customers (external_id, name, email, phone, city, signup_at, created_at,
                                   updated_at, total_spend, visits, last_visit_at)
            SELECT CONCAT('C', seq), CONCAT('Customer ', seq), CONCAT('c', seq, '@example.com'),
                   CONCAT('+9198', LPAD(seq, 8, '0')), ELT(1 + seq % 8, {cities}),
                   NOW() - INTERVAL (800 + seq % 400) DAY, NOW(), NOW(),
                   IF(seq % 10 = 0, 0, (seq % 10) * (500 + (seq * 7919) % 4000)),
                   IF(seq % 10 = 0, 0, seq % 10),
                   IF(seq % 10 = 0, NULL, NOW() - INTERVAL ((seq * 104729) % 730) DAY)
            FROM seq_1_to_{customers}
        """)  # fmt: skip
        cur.execute("ANALYZE TABLE customers")
    print(f"built {customers:,} customers in {time.perf_counter() - started:.1f} s")


def add_campaigns(url: str) -> int:
    """100 finished campaigns (newest has a 100,000-row log); return the newest's id."""
    with connect(url) as conn, conn.cursor() as cur:
        remove_campaigns(cur)
        cur.execute(f"""
            INSERT INTO campaigns (name, rule, message, status, created_by, created_at,
                                   finished_at, audience_size, sent, failed, pending)
            SELECT CONCAT('{TAG} ', seq), 'spend > 10000 AND visits <= 3', 'Hi {{{{ name }}}}',
                   'done', '{TAG}', NOW() - INTERVAL (101 - seq) HOUR, NOW(),
                   {LOG_ROWS}, {LOG_ROWS} - seq * 90, seq * 90, 0
            FROM seq_1_to_100
        """)  # fmt: skip
        cur.execute(f"SELECT MAX(id) FROM campaigns WHERE created_by = '{TAG}'")
        newest = int(cur.fetchone()[0])
        cur.execute(f"""
            INSERT INTO communications_log (campaign_id, customer_id, message, status,
                                            created_at, updated_at)
            SELECT {newest}, id, CONCAT('Hi ', name), IF(id % 10 = 0, 'FAILED', 'SENT'),
                   NOW(), NOW()
            FROM customers ORDER BY id LIMIT {LOG_ROWS}
        """)  # fmt: skip
        cur.execute(
            "UPDATE campaigns c SET failed = (SELECT COUNT(*) FROM communications_log l"
            " WHERE l.campaign_id = c.id AND l.status = 'FAILED') WHERE c.id = %s",
            (newest,),
        )
        cur.execute("UPDATE campaigns SET sent = audience_size - failed WHERE id = %s", (newest,))
        cur.execute("ANALYZE TABLE campaigns, communications_log")
    return newest


def remove_campaigns(cur: pymysql.cursors.Cursor) -> None:
    """Delete this bench's campaigns (their log goes with them) and its user."""
    cur.execute(
        "DELETE l FROM communications_log l JOIN campaigns c ON c.id = l.campaign_id"
        f" WHERE c.created_by = '{TAG}'"
    )
    cur.execute(f"DELETE FROM campaigns WHERE created_by = '{TAG}'")
    cur.execute(f"DELETE FROM users WHERE email = '{TAG}@xeno.local'")


def app_config(url: str) -> dict[str, object]:
    """Production-like settings (no TESTING), an in-process broker nothing here uses."""
    return {
        "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "SECRET_KEY": "bench-pages",
        "RECEIPT_SECRET": "bench-pages", "SESSION_COOKIE_SECURE": False,
    }  # fmt: skip


def timed(call: Callable[[], object], runs: int, warmup: int = 3) -> tuple[float, float]:
    """Median and p95 of `runs` calls, in ms, after a few untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure(
    url: str, newest: int | None, runs: int, customer: str | None = None
) -> list[tuple[str, float, float, float | None]]:
    """Time every page and call the builder and campaign pages make; (name, median, p95, target).

    Without `newest` only the profile of `customer` is timed (`--desk-only`).
    """
    app = create_app(app_config(url))
    client = app.test_client()
    with app.app_context():
        user = User(email=f"{TAG}@xeno.local", name="Bench")
        db.session.add(user)
        db.session.commit()
        user_id, signed = user.id, sessions.values_for(user)
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session.update(signed)
    token = re.search(r'csrf-token" content="([^"]+)"', client.get("/segments").text).group(1)
    headers = {"X-CSRFToken": token}

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return call

    def post(path: str, body: dict) -> Callable[[], object]:
        def call() -> object:
            response = client.post(path, json=body, headers=headers)
            assert response.status_code == 200, (path, response.get_data(as_text=True)[:200])
            return response

        return call

    rows: list[tuple[str, float, float, float | None]] = []
    if customer is not None:
        rows += desk.profile_rows(get, timed, customer, runs)
    if newest is None:
        with app.app_context():
            db.engine.dispose()
        return rows
    history = client.get("/campaigns").text
    assert history.count('data-campaign-id="') == 50, "history page should list 50 campaigns"
    rows.append(("GET /campaigns (history, 50 of 100)", *timed(get("/campaigns"), runs), 100))
    for rule in SEED_RULES:
        count = client.post("/api/v1/segments/preview", json={"rule": rule}, headers=headers)
        label = f"live count  {rule}  (= {count.json['count']:,})"
        rows.append((label, *timed(post("/api/v1/segments/preview", {"rule": rule}), runs), 300))
    for rule in SEED_RULES:
        rows.append(
            (
                f"explain     {rule}",
                *timed(post("/api/v1/segments/explain", {"rule": rule}), runs),
                None,
            )
        )
    tree = {"type": "condition", "field": "spend", "op": ">",
            "value": {"kind": "number", "value": "10000"}}  # fmt: skip
    rows.append(("POST /segments/render", *timed(post("/segments/render", {"tree": tree}), runs),
                 None))  # fmt: skip
    rows.append(("GET /segments/new (builder)", *timed(get("/segments/new"), runs), None))
    rows.append(("GET /segments", *timed(get("/segments"), runs), None))
    rows.append(("GET /campaigns/new", *timed(get("/campaigns/new"), runs), None))
    detail = f"/campaigns/{newest}"
    rows.append((f"GET {detail} (100k log)", *timed(get(detail), runs), None))
    rows.append((f"GET {detail}?status=FAILED&page=100",
                 *timed(get(f"{detail}?status=FAILED&page=100"), runs), None))  # fmt: skip
    rows.append((f"GET /api/v1{detail} (poll)", *timed(get(f"/api/v1{detail}"), runs), None))
    rows.append(("GET /customers", *timed(get("/customers"), runs), None))
    for q, sort in SEARCHES:
        path = f"/customers?q={q}&sort={sort}"
        rows.append((f"GET {path}", *timed(get(path), max(3, runs // 5), warmup=1), None))
    with app.app_context():
        db.engine.dispose()
    return rows


def main() -> int:
    """Build or reuse the database, add the campaigns, time the pages, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-url", default="mysql+pymysql://root@127.0.0.1:3306/xeno_pagebench")
    parser.add_argument(
        "--reuse-url",
        default="mysql+pymysql://root@127.0.0.1:3306/xeno_segbench",
        help="a database bench/segments.py built, used when big enough",
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--desk-only", action="store_true",
                        help="time only the customer profile and the 1M-row export")
    args = parser.parse_args()

    found = customer_count(args.reuse_url)
    if found >= args.customers * 0.95:
        url = args.reuse_url
        print(f"reusing {make_url(url).database}: {found:,} customers (from bench/segments.py)")
    else:
        url = args.db_url
        found = customer_count(url)
        if found < args.customers * 0.95:
            build(url, args.customers)
            found = customer_count(url)
        print(f"using {make_url(url).database}: {found:,} customers")
    busy, export_id = desk.add_desk(url, customer_pk=found // 2)
    try:
        newest = None if args.desk_only else add_campaigns(url)
        rows = measure(url, newest, args.runs, busy)
        app = create_app(app_config(url))
        with app.app_context():
            token = create_token(desk.TAG)
            db.engine.dispose()
        exported = desk.export(url, export_id, token)
    finally:
        with connect(url) as conn, conn.cursor() as cur:
            remove_campaigns(cur)
            desk.remove_desk(cur)
            cur.execute(f"DELETE FROM api_tokens WHERE name = '{desk.TAG}'")
    print(
        f"\nexport of segment 'visits >= 0' as CSV from gunicorn (1 sync worker):"
        f" {exported['rows']:,} rows in {exported['seconds']:.1f} s ="
        f" {exported['rows_per_s']:,.0f} rows/s; worker RSS {exported['rss_before_mb']:.0f} MB"
        f" before, grew {exported['rss_growth_mb']:.1f} MB during it (target < 50 MB)"
    )
    baseline = None if args.desk_only else raw_substring_scan(url, "zzqx")
    print(f"\nserver time per request, in-process, {args.runs} runs each (ms)")
    print(f"{'page / call':<62} {'median':>8} {'p95':>8}  target")
    ok = True
    for name, median, p95, target in rows:
        verdict = ""
        if target is not None:
            met = p95 < target
            ok = ok and met
            verdict = f"< {target} ms {'ok' if met else 'MISSED'}"
        print(f"{name:<62} {median:8.1f} {p95:8.1f}  {verdict}")
    ok = ok and exported["rss_growth_mb"] < 50
    if baseline is None:
        return 0 if ok else 1
    search = next(r for r in rows if r[0] == "GET /customers?q=zzqx&sort=spend")
    print(
        f"\nbaseline: raw COUNT(*) of a substring over name, email and city (no index can"
        f" serve it), {baseline:.1f} ms; the customers page searching a text nobody has:"
        f" {search[1]:.1f} ms = {search[1] / baseline:.2f}x"
    )
    return 0 if ok else 1


def raw_substring_scan(url: str, text: str) -> float:
    """The floor for a substring search: one PyMySQL COUNT over the table, median of 3."""
    pattern = f"%{text}%"
    sql = "SELECT COUNT(*) FROM customers WHERE name LIKE %s OR email LIKE %s OR city LIKE %s"
    times = []
    with connect(url) as conn, conn.cursor() as cur:
        for _ in range(3):
            started = time.perf_counter()
            cur.execute(sql, (pattern, pattern, pattern))
            cur.fetchone()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
