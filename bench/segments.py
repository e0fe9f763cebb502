"""Segment preview latency at scale, next to raw MariaDB baselines measured in the same run.

    python bench/segments.py --customers 1000000 --orders 5000000     # build, then measure
    python bench/segments.py --reuse                                  # measure an existing build
    python bench/segments.py --reuse --activity   # retargeting rules (periods, CONVERTED)

Builds a MariaDB database from `xeno generate`-style data (CSV → `LOAD DATA LOCAL INFILE`,
aggregates in one set-based UPDATE … JOIN (GROUP BY), then ANALYZE TABLE), starts the app
under gunicorn (2 sync workers, HTTP over loopback), and times `POST /api/v1/segments/preview`
(count + 10-row sample + JSON) for the seed's three audiences and five harder rules, beside:
  raw    the hand-written `SELECT COUNT(*) FROM customers WHERE …` of the same audience
         (PyMySQL, same tables, same run);
  naive  the same audience computed from `orders` at query time (GROUP BY over every order).
Every row also checks that all three agree on the audience size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import connect, p95, start_web, timed, wait_http  # noqa: E402

from xeno.demo import generate  # noqa: E402
from xeno.dsl.values import months_back  # noqa: E402

NAIVE_FROM = (
    "customers c LEFT JOIN (SELECT customer_external_id, SUM(amount) s, COUNT(*) n,"
    " MAX(ordered_at) m FROM orders GROUP BY customer_external_id) a"
    " ON a.customer_external_id = c.external_id"
)




def step(message: str, started: float) -> None:
    print(f"  {message} ({time.perf_counter() - started:.1f}s)", flush=True)


def build(url: str, env: dict[str, str], customers: int, orders: int) -> None:
    """Create the schema with the app, load generated CSVs, compute aggregates, analyse."""
    name = make_url(url).database
    conn = connect(url, database=False)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()
    subprocess.run(["xeno", "db", "init"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    print(f"building {customers:,} customers / {orders:,} orders in {name} ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        cpath, opath = Path(tmp) / "customers.csv", Path(tmp) / "orders.csv"
        generate.write_csv(cpath, generate.CUSTOMER_COLUMNS, generate.customers(customers))
        step("customers.csv written", started)
        generate.write_csv(opath, generate.ORDER_COLUMNS, generate.orders(orders, customers))
        step("orders.csv written", started)
        conn = connect(url)
        with conn.cursor() as cur:
            cur.execute("SET unique_checks = 0")
            cur.execute(
                f"LOAD DATA LOCAL INFILE '{cpath}' INTO TABLE customers CHARACTER SET utf8mb4"
                " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'"
                " LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES"
                " (external_id, name, @email, @phone, @city, @signup)"
                " SET email = NULLIF(@email, ''), phone = NULLIF(@phone, ''),"
                " city = NULLIF(@city, ''), signup_at = STR_TO_DATE(@signup, '%Y-%m-%dT%H:%i:%sZ'),"
                " created_at = UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP(),"
                " total_spend = 0, visits = 0"
            )
            step("customers loaded (LOAD DATA LOCAL INFILE)", started)
            cur.execute(
                f"LOAD DATA LOCAL INFILE '{opath}' INTO TABLE orders CHARACTER SET utf8mb4"
                " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'"
                " LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES"
                " (external_id, customer_external_id, amount, @at)"
                " SET ordered_at = STR_TO_DATE(@at, '%Y-%m-%dT%H:%i:%sZ'),"
                " created_at = UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP()"
            )
            step("orders loaded (LOAD DATA LOCAL INFILE)", started)
            cur.execute(
                "UPDATE customers c JOIN (SELECT customer_external_id, ROUND(SUM(amount), 2) s,"
                " COUNT(*) n, MAX(ordered_at) m FROM orders GROUP BY customer_external_id) a"
                " ON a.customer_external_id = c.external_id"
                " SET c.total_spend = a.s, c.visits = a.n, c.last_visit_at = a.m"
            )
            step("aggregates computed (one UPDATE … JOIN GROUP BY)", started)
            cur.execute("ANALYZE TABLE customers, orders")
            cur.fetchall()
            step("ANALYZE TABLE done", started)
        conn.close()


def audiences(now: dt.datetime) -> list[tuple[str, str, str, list]]:
    """(rule, raw WHERE over customers, naive WHERE over NAIVE_FROM, params) for each case."""
    inactive = now - dt.timedelta(days=91)
    three_months = months_back(now, 3)
    d1, d2 = (now - dt.timedelta(days=450)).date(), (now - dt.timedelta(days=360)).date()
    d1_start = dt.datetime.combine(d1, dt.time())
    d2_end = dt.datetime.combine(d2, dt.time()) + dt.timedelta(days=1)
    recent = (now - dt.timedelta(days=30)).date()
    spend, visits, last = "COALESCE(a.s, 0)", "COALESCE(a.n, 0)", "a.m"
    return [
        (
            "spend > 10000 AND visits <= 3",
            "total_spend > 10000 AND visits <= 3",
            f"{spend} > 10000 AND {visits} <= 3",
            [],
        ),
        (
            "inactive_days > 90",
            "(last_visit_at <= %s OR (last_visit_at IS NULL AND signup_at <= %s))",
            f"({last} <= %s OR ({last} IS NULL AND c.signup_at <= %s))",
            [inactive, inactive],
        ),
        ("last_visit < 3 months ago", "last_visit_at < %s", f"{last} < %s", [three_months]),
        (
            '(spend >= 5000 OR visits > 10) AND NOT city IN ("Pune", "Nagpur")',
            "(total_spend >= 5000 OR visits > 10)"
            " AND (city IS NULL OR city NOT IN ('Pune','Nagpur'))",
            f"({spend} >= 5000 OR {visits} > 10) AND (c.city IS NULL OR c.city NOT IN"
            " ('Pune','Nagpur'))",
            [],
        ),
        (
            'city IN ("Mumbai", "Delhi", "Bengaluru") AND email ENDS WITH "@gmail.com" '
            "AND visits BETWEEN 2 AND 5",
            "city IN ('Mumbai','Delhi','Bengaluru') AND email LIKE '%%@gmail.com' "
            "AND visits BETWEEN 2 AND 5",
            f"c.city IN ('Mumbai','Delhi','Bengaluru') AND c.email LIKE '%%@gmail.com' "
            f"AND {visits} BETWEEN 2 AND 5",
            [],
        ),
        (
            'name CONTAINS "kumar" OR visits IN (4, 6, 8)',
            "name LIKE '%%kumar%%' OR visits IN (4, 6, 8)",
            f"c.name LIKE '%%kumar%%' OR {visits} IN (4, 6, 8)",
            [],
        ),
        (
            f"last_visit BETWEEN {d1} AND {d2} AND NOT spend < 2000",
            "last_visit_at >= %s AND last_visit_at < %s AND total_spend >= 2000",
            f"{last} >= %s AND {last} < %s AND {spend} >= 2000",
            [d1_start, d2_end],
        ),
        (
            f"avg_order > 3000 AND visits >= 2 OR signup >= {recent}",
            "(visits >= 2 AND total_spend > 3000 * visits) OR signup_at >= %s",
            f"({visits} >= 2 AND {spend} > 3000 * {visits}) OR c.signup_at >= %s",
            [dt.datetime.combine(recent, dt.time())],
        ),
    ]






def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--db-url", default="mysql+pymysql://root@127.0.0.1:3306/xeno_segbench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    parser.add_argument("--port", type=int, default=5071)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per preview / raw count")
    parser.add_argument(
        "--naive-runs",
        type=int,
        default=1,
        help="timed runs of the naive GROUP BY (each takes seconds at 1M/5M)",
    )
    parser.add_argument("--activity", action="store_true",
                        help="time `spend IN LAST 90 DAYS > 5000` and `campaign N IS CONVERTED` "
                             "(and a campaign's results) next to their raw SQL instead")
    parser.add_argument("--buffer-pool", default="8G",
                        help="with --results/--activity: InnoDB buffer pool for the run, as "
                             "LIMITS.md measured with ('' keeps the server's)")
    args = parser.parse_args()
    if args.activity:
        from retarget import run

        run(args.db_url, args.redis_url, args.port, args.customers, args.orders, args.reuse,
            min(args.runs, 5), rules=True, build=build, buffer_pool=args.buffer_pool)
        return

    env = {
        **os.environ,
        "XENO_DATABASE_URL": args.db_url,
        "XENO_REDIS_URL": args.redis_url,
        "XENO_SECRET_KEY": "bench",
        "XENO_RECEIPT_SECRET": "bench",
    }
    env.pop("XENO_DEV_LOGIN", None)
    if not args.reuse:
        build(args.db_url, env, args.customers, args.orders)
    subprocess.run(["xeno", "db", "init"], env=env, check=True, capture_output=True)  # upgrade
    raw = connect(args.db_url)
    with raw.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM customers")
        n_customers = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM orders")
        n_orders = cur.fetchone()[0]
    token = subprocess.run(
        ["xeno", "token", "create", "bench"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    web = start_web(args.port, env, ROOT)
    rows = []
    try:
        wait_http(args.port)
        http_conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        for i, (rule, raw_where, naive_where, _) in enumerate(audiences(now)):
            body = json.dumps({"rule": rule})

            def preview(body: str = body) -> int:
                http_conn.request("POST", "/api/v1/segments/preview", body=body, headers=headers)
                response = http_conn.getresponse()
                data = json.loads(response.read())
                if response.status != 200:
                    raise SystemExit(f"preview failed: {response.status} {data}")
                return data["count"]

            def count(sql: str, i: int = i) -> int:
                # relative dates resolve at each call, as the app resolves them per request
                params = audiences(dt.datetime.now(dt.UTC).replace(tzinfo=None))[i][3]
                with raw.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchone()[0]

            print(f"timing: {rule}", flush=True)
            t_prev, n_prev = timed(preview, args.runs, warmups=2)
            raw_sql = f"SELECT COUNT(*) FROM customers WHERE {raw_where}"
            t_raw, n_raw = timed(lambda sql=raw_sql: count(sql), args.runs, warmups=2)
            naive_sql = f"SELECT COUNT(*) FROM {NAIVE_FROM} WHERE {naive_where}"
            same = preview() == count(raw_sql)  # back to back: the same `now` to the second
            t_naive = []
            for _ in range(args.naive_runs):
                started = time.perf_counter()
                n_naive = count(naive_sql)
                t_naive.append((time.perf_counter() - started) * 1000)
            same = same and n_naive in (n_prev, n_raw)
            rows.append((rule, n_prev, same, t_prev, t_raw, t_naive))
    finally:
        web.terminate()
        web.wait()

    print()
    print(
        f"{n_customers:,} customers / {n_orders:,} orders; preview = HTTP POST through "
        f"gunicorn (count + 10-row sample + JSON); raw = PyMySQL COUNT(*) on the aggregates; "
        f"naive = GROUP BY over orders; ms, median (p95) of {args.runs} runs "
        f"(naive: {args.naive_runs})"
    )
    head = (
        f"{'rule':<66}{'size':>9}{'same':>6}{'preview':>17}{'raw COUNT':>17}"
        f"{'naive':>17}{'prev/raw':>10}{'naive/prev':>11}"
    )
    print(head)
    print("-" * len(head))
    for i, (rule, size, same, t_prev, t_raw, t_naive) in enumerate(rows):
        mp, mr, mn = (statistics.median(t) for t in (t_prev, t_raw, t_naive))
        cell = lambda m, t: f"{m:.1f} ({p95(t):.1f})"  # noqa: E731
        label = ("seed: " if i < 3 else "") + rule
        label = label if len(label) <= 64 else label[:61] + "..."
        print(
            f"{label:<66}{size:>9,}{'yes' if same else 'NO':>6}{cell(mp, t_prev):>17}"
            f"{cell(mr, t_raw):>17}{cell(mn, t_naive):>17}{mp / mr:>9.2f}x{mn / mp:>10.0f}x"
        )
    seed = [statistics.median(r[3]) / statistics.median(r[4]) for r in rows[:3]]
    print()
    print(
        f"seed examples, preview / raw COUNT: {', '.join(f'{s:.2f}x' for s in seed)} "
        f"(target <= 1.3x)"
    )
    print(f"all audiences agree (preview = raw = naive): {all(r[2] for r in rows)}")


if __name__ == "__main__":
    main()
