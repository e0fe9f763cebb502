"""Campaign figures next to raw MariaDB / HTTP baselines measured in the same run.

    python bench/campaign.py --customers 1000000 --receipts 100000
    python bench/campaign.py --results --customers 1000000 --orders 5000000 [--reuse]

Loads customers with LOAD DATA LOCAL INFILE, then against gunicorn (2 sync workers) and
one `xeno worker` on MariaDB + Redis measures:
- the audience snapshot of POST /campaigns (SQL-built message: INSERT … SELECT; and a
  template that needs Python: chunked multi-row INSERTs) next to a raw INSERT … SELECT
  of the same audience with CONCAT;
- the same snapshot with safe sending at work: the frequency cap on (XENO_FREQUENCY_CAP,
  2/7d) and 10% of the customers unsubscribed, over a log already holding twice as many
  rows as there are customers (the plain campaign's, plus older and recent filler rows
  that put 10% of the customers at the cap), next to the plain one;
- receipts posted one HTTP call each, signed, next to GET /healthz on the same server
  with the same clients; the time until all are applied; and the write statements per
  1000 receipts from MariaDB's Com_* status counters (global: other load adds noise).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import connect, reset_database, wait_http  # noqa: E402

from xeno.demo import generate  # noqa: E402
from xeno.platform.signing import sign  # noqa: E402

SECRET = "bench-receipts"
WRITES = ("Com_insert", "Com_insert_select", "Com_update", "Com_update_multi", "Com_delete",
          "Com_delete_multi", "Com_replace", "Com_replace_select")






def load_customers(url: str, count: int) -> float:
    """Write a CSV and LOAD DATA LOCAL INFILE it; return rows/s of the load itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        out = csv.writer(handle)
        for n, c in enumerate(generate.customers(count), start=1):
            out.writerow([c["id"], c["name"], c["email"] or r"\N", c["phone"] or r"\N",
                          c["city"] or r"\N", c["signup_at"][:19].replace("T", " "),
                          "2026-01-01 00:00:00", "2026-01-01 00:00:00",
                          f"{(n * 7919) % 50000}.00", n % 12])
        path = handle.name
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            started = time.perf_counter()
            cur.execute(
                f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE customers FIELDS TERMINATED BY ','"
                " OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n' (external_id, name,"
                " email, phone, city, signup_at, created_at, updated_at, total_spend, visits)"
            )
            elapsed = time.perf_counter() - started
            cur.execute("ANALYZE TABLE customers")
    finally:
        conn.close()
        os.unlink(path)
    return count / elapsed


def raw_insert_select(url: str) -> float:
    """The baseline: INSERT … SELECT with CONCAT of the whole audience into a copy of the log.

    The copy (CREATE TABLE … LIKE: same columns and indexes) is dropped afterwards, which
    is instant where deleting a million rows is not.
    """
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE log_baseline LIKE communications_log")
        started = time.perf_counter()
        cur.execute(
            "INSERT INTO log_baseline (campaign_id, customer_id, message, status,"
            " created_at, updated_at) SELECT 1, c.id, CONCAT('Hi ', SUBSTRING_INDEX(c.name, ' ',"
            " 1), ', here is 10%% off on your next order!'), 'PENDING', NOW(), NOW()"
            " FROM customers c WHERE c.visits >= 0")
        rows = cur.rowcount
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE log_baseline")
    conn.close()
    return rows / elapsed


def post_campaign(port: int, token: str, message: str, **extra: object) -> tuple[dict, float]:
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({"name": "bench", "rule": "visits >= 0", "message": message,
                       "scheduled_at": later, **extra})  # scheduled: nothing dispatches meanwhile
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("POST", "/api/v1/campaigns", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if response.status != 201:
        raise SystemExit(f"POST /campaigns answered {response.status}: {data}")
    return data, elapsed


def prepare_safe_sending(url: str, customers: int) -> dict[str, int]:
    """Unsubscribe every tenth customer and fill the log up to 2 rows per customer.

    Filler rows of an earlier campaign: for 9 customers in 10 one SENT row 10 days old
    (outside the cap's window: the index range must skip it), for the tenth one a SENT row
    of yesterday, which with the plain campaign's row puts them at the cap of 2. Returns
    what the capped snapshot must leave out, counted here in SQL of its own.
    """
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("UPDATE customers SET unsubscribed_at = UTC_TIMESTAMP() - INTERVAL 1 HOUR"
                    " WHERE id % 10 = 5")
        cur.execute("INSERT INTO campaigns (name, rule, message, status, created_at,"
                    " audience_size, sent, failed, pending) VALUES ('filler', 'visits >= 0',"
                    " 'old', 'done', UTC_TIMESTAMP() - INTERVAL 10 DAY, %s, %s, 0, 0)",
                    (customers, customers))
        filler = cur.lastrowid
        cur.execute("INSERT INTO communications_log (campaign_id, customer_id, message, status,"
                    " created_at, updated_at) SELECT %s, id, 'An older message', 'SENT',"
                    " IF(id %% 10 = 0, UTC_TIMESTAMP() - INTERVAL 1 DAY,"
                    " UTC_TIMESTAMP() - INTERVAL 10 DAY), UTC_TIMESTAMP()"
                    " FROM customers", (filler,))
        cur.execute("ANALYZE TABLE customers, communications_log")
        cur.execute("SELECT COUNT(*) FROM communications_log")
        (log_rows,) = cur.fetchone()
        cur.execute("SELECT COUNT(*) FROM customers WHERE unsubscribed_at IS NOT NULL")
        (unsubscribed,) = cur.fetchone()
        cur.execute(
            "SELECT COUNT(*) FROM customers c WHERE c.unsubscribed_at IS NULL AND"
            " (SELECT COUNT(*) FROM communications_log l WHERE l.customer_id = c.id AND"
            " l.status IN ('SENT', 'PENDING')"
            " AND l.created_at >= UTC_TIMESTAMP() - INTERVAL 7 DAY) >= 2")
        (capped,) = cur.fetchone()
    conn.close()
    return {"log_rows": log_rows, "unsubscribed": unsubscribed, "capped": capped}


def _client(args: tuple[int, str, list[int]]) -> int:
    """One client process: its slice of requests, one at a time, on a reused connection."""
    port, kind, ids = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ok = 0
    for n, log_id in enumerate(ids):
        if kind == "healthz":
            conn.request("GET", "/healthz")
        else:
            body = json.dumps({"log_id": log_id,
                               "status": "FAILED" if n % 10 == 0 else "SENT"}).encode()
            conn.request("POST", "/api/v1/receipts", body=body,
                         headers={"Content-Type": "application/json",
                                  "X-Xeno-Signature": sign(body, SECRET)})
        response = conn.getresponse()
        response.read()
        ok += response.status in (200, 202)
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
    conn.close()
    return ok


def hammer(port: int, kind: str, ids: list[int], clients: int) -> float:
    """Requests per second with `clients` processes; every request must succeed."""
    slices = [(port, kind, ids[i::clients]) for i in range(clients)]
    with multiprocessing.Pool(clients) as pool:
        started = time.perf_counter()
        ok = sum(pool.map(_client, slices))
        elapsed = time.perf_counter() - started
    if ok != len(ids):
        raise SystemExit(f"{kind}: only {ok} of {len(ids)} requests succeeded")
    return len(ids) / elapsed


def write_counters(url: str) -> int:
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN %s", (WRITES,))
        total = sum(int(v) for _k, v in cur.fetchall())
    conn.close()
    return total


def settled(url: str, campaign_id: int) -> int:
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT sent + failed FROM campaigns WHERE id = %s", (campaign_id,))
        (n,) = cur.fetchone()
    conn.close()
    return int(n)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--db-url", default="mysql+pymysql://root@127.0.0.1:3306/xeno_bench_campaign")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=5056)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--python-path", action="store_true",
                        help="also time a template that renders in Python")
    parser.add_argument("--results", action="store_true",
                        help="time GET /campaigns/<id>/results (10%% holdout) over customers "
                             "and orders next to its raw SQL instead (bench/retarget.py)")
    parser.add_argument("--orders", type=int, default=5_000_000, help="with --results")
    parser.add_argument("--reuse", action="store_true", help="with --results: keep the data")
    parser.add_argument("--runs", type=int, default=5, help="with --results: timed runs")
    parser.add_argument("--buffer-pool", default="8G",
                        help="with --results/--activity: InnoDB buffer pool for the run, as "
                             "LIMITS.md measured with ('' keeps the server's)")
    args = parser.parse_args()
    if args.results:
        from retarget import run
        from segments import build

        run(args.db_url, args.redis_url, args.port, args.customers, args.orders, args.reuse,
            args.runs, rules=False, build=build, buffer_pool=args.buffer_pool)
        return

    reset_database(args.db_url)
    r = redis.Redis.from_url(args.redis_url)
    r.flushdb()
    env = {**os.environ, "XENO_DATABASE_URL": args.db_url, "XENO_REDIS_URL": args.redis_url,
           "XENO_SECRET_KEY": "bench", "XENO_RECEIPT_SECRET": SECRET,
           "XENO_FREQUENCY_CAP": "2/7d",
           "XENO_PUBLIC_URL": f"http://127.0.0.1:{args.port}"}
    env.pop("XENO_DEV_LOGIN", None)
    run = lambda *a: subprocess.run(["xeno", *a], env=env, check=True,  # noqa: E731
                                    capture_output=True, text=True).stdout.strip()
    run("db", "init")
    token = run("token", "create", "bench")

    print(f"loading {args.customers:,} customers (LOAD DATA LOCAL INFILE) ...", flush=True)
    load_rate = load_customers(args.db_url, args.customers)
    print(f"  {load_rate:,.0f} rows/s", flush=True)
    print("baseline: raw INSERT … SELECT of the audience ...", flush=True)
    raw = raw_insert_select(args.db_url)

    web = subprocess.Popen(
        ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{args.port}", "--timeout", "600",
         "--log-level", "warning", "xeno:create_app()"], env=env, cwd=ROOT)
    worker = subprocess.Popen(["xeno", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(args.port)
        print("POST /campaigns (SQL-built messages, the cap ignored) ...", flush=True)
        created, snap_s = post_campaign(
            args.port, token, "Hi {{ first_name }}, here's 10% off on your next order!",
            ignore_frequency_cap=True)
        size = created["audience_size"]
        python_rate = None
        if args.python_path:
            print("POST /campaigns (messages rendered in Python) ...", flush=True)
            other, py_s = post_campaign(
                args.port, token,
                "Hi {{ first_name|title }}{% if visits > 5 %}, a loyal friend{% endif %}!")
            python_rate = other["audience_size"] / py_s

        conn = connect(args.db_url)
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM communications_log WHERE campaign_id = %s ORDER BY id"
                        " LIMIT %s", (created["id"], args.receipts))
            ids = [row[0] for row in cur.fetchall()]
        conn.close()

        print(f"GET /healthz x {len(ids):,} (baseline) ...", flush=True)
        health = hammer(args.port, "healthz", ids, args.clients)
        print(f"POST /receipts x {len(ids):,}, one receipt per call ...", flush=True)
        writes_before = write_counters(args.db_url)
        started = time.perf_counter()
        receipts = hammer(args.port, "receipts", ids, args.clients)
        posted_s = time.perf_counter() - started
        while settled(args.db_url, created["id"]) < len(ids):
            time.sleep(0.05)
        applied_s = time.perf_counter() - started
        writes = write_counters(args.db_url) - writes_before - 1  # the last poll isn't a write

        print("safe sending: 10% unsubscribed, the log filled to 2 rows a customer ...",
              flush=True)
        left_out = prepare_safe_sending(args.db_url, args.customers)
        print(f"POST /campaigns with the cap on (2/7d) over {left_out['log_rows']:,} log rows"
              " ...", flush=True)
        capped, capped_s = post_campaign(
            args.port, token, "Hi {{ first_name }}, here's 15% off on your next order!")
    finally:
        web.terminate()
        worker.terminate()
        web.wait()
        worker.wait()

    conn = connect(args.db_url)
    with conn.cursor() as cur:
        cur.execute("SELECT status, COUNT(*) FROM communications_log WHERE campaign_id = %s"
                    " GROUP BY status", (created["id"],))
        counts = dict(cur.fetchall())
        cur.execute("SELECT sent, failed, pending FROM campaigns WHERE id = %s", (created["id"],))
        sent, failed, pending = cur.fetchone()
    conn.close()
    exact = (sent, failed, pending) == (counts.get("SENT", 0), counts.get("FAILED", 0),
                                        counts.get("PENDING", 0))

    snap = size / snap_s
    print()
    print(f"{'path':<62}{'per second':>14}")
    print(f"{'baseline: raw INSERT … SELECT with CONCAT, same audience':<62}{raw:>14,.0f}")
    print(f"{'POST /campaigns snapshot (SQL-built message), rows':<62}{snap:>14,.0f}"
          f"   ({size:,} rows in {snap_s:.1f}s, whole request)")
    if python_rate:
        print(f"{'POST /campaigns snapshot (Python-rendered), rows':<62}{python_rate:>14,.0f}")
    capped_rate = capped["audience_size"] / capped_s
    print(f"{'POST /campaigns snapshot, cap on + unsubscribed left out, rows':<62}"
          f"{capped_rate:>14,.0f}   ({capped['audience_size']:,} rows of {capped['matched']:,}"
          f" matched in {capped_s:.1f}s, whole request)")
    print(f"{'  the same, customers examined':<62}{capped['matched'] / capped_s:>14,.0f}")
    print(f"{'baseline: GET /healthz, same server and clients':<62}{health:>14,.0f}")
    print(f"{'POST /receipts accepted, one receipt per call':<62}{receipts:>14,.0f}"
          f"   (all posted after {posted_s:.1f}s)")
    print(f"{'receipts applied end to end':<62}{len(ids) / applied_s:>14,.0f}"
          f"   (all applied after {applied_s:.1f}s)")
    print()
    print(f"snapshot vs raw INSERT … SELECT:      {snap / raw:.2f}x (target >= 0.5)")
    if python_rate:
        print(f"Python-rendered vs raw INSERT … SELECT: {python_rate / raw:.2f}x")
    print(f"capped snapshot vs plain snapshot:    {capped_rate / snap:.2f}x rows/s, "
          f"{snap_s / capped_s:.2f}x by time (target >= 0.7)")
    breakdown_ok = (capped["excluded"] == {"unsubscribed": left_out["unsubscribed"],
                                           "frequency_cap": left_out["capped"]}
                    and capped["matched"] == args.customers)
    print(f"breakdown equals counts made apart:   {breakdown_ok}   ({capped['excluded']},"
          f" counted {left_out['unsubscribed']:,} unsubscribed, {left_out['capped']:,} capped)")
    print(f"receipts accepted vs /healthz:        {receipts / health:.2f}x (target >= 0.5)")
    print(f"write statements per 1000 receipts:   {writes * 1000 / len(ids):.2f} (target <= 2)"
          f"   ({writes} in all, MariaDB Com_* global counters)")
    print(f"counters equal COUNT(*) over the log: {exact}   (sent {sent}, failed {failed},"
          f" pending {pending})")


if __name__ == "__main__":
    main()
