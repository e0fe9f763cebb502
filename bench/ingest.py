"""End-to-end ingestion throughput next to raw MariaDB baselines measured in the same run.

    python bench/ingest.py --customers 1000000 --orders 2000000 --file-orders 1000000

Starts gunicorn (2 sync workers) and `xeno worker` against MariaDB + Redis, posts the
records through the HTTP API in arrays of 1000, waits until every batch is stored, and
prints rows/s beside: per-row INSERT with autocommit, and a multi-row upsert of 5000 rows
per statement, both on the same `customers` table. Then the CLI-file path: an orders CSV
of `--file-orders` lines (new ids, the same customers) through `xeno import orders`, with
its progress bar, until every line is stored; its rows/s and the importer's peak RSS
(VmHWM) are printed next to the HTTP path's. InnoDB's buffer pool is set to
`--buffer-pool` (8G) for the run and put back afterwards; `--buffer-pool ''` keeps the
server's own.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import connect, reset_database, set_buffer_pool, start_web, wait_http  # noqa: E402

from xeno.demo import generate  # noqa: E402

CUSTOMER_SQL = (
    "INSERT INTO customers (external_id, name, email, phone, city, signup_at, created_at,"
    " updated_at, total_spend, visits) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
)
UPSERT_SQL = CUSTOMER_SQL + (
    " ON DUPLICATE KEY UPDATE name=VALUES(name), email=VALUES(email), phone=VALUES(phone),"
    " city=VALUES(city), signup_at=VALUES(signup_at), updated_at=VALUES(updated_at)"
)


def customer_rows(count: int, start: int = 0) -> list[tuple]:
    rows = []
    for c in generate.customers(count):
        n = int(c["id"][1:]) + start
        rows.append(
            (
                f"B{n:08d}",
                c["name"],
                c["email"] or None,
                c["phone"] or None,
                c["city"] or None,
                c["signup_at"][:19].replace("T", " "),
                "2026-01-01 00:00:00",
                "2026-01-01 00:00:00",
                0,
                0,
            )
        )
    return rows


def baseline_per_row(url: str, rows: list[tuple]) -> float:
    conn = connect(url)
    with conn.cursor() as cur:
        started = time.perf_counter()
        for row in rows:
            cur.execute(CUSTOMER_SQL, row)
        elapsed = time.perf_counter() - started
        cur.execute("TRUNCATE TABLE customers")
    conn.close()
    return len(rows) / elapsed


def baseline_multirow(url: str, rows: list[tuple]) -> float:
    conn = connect(url)
    with conn.cursor() as cur:
        started = time.perf_counter()
        for i in range(0, len(rows), 5000):
            cur.executemany(UPSERT_SQL, rows[i : i + 5000])  # PyMySQL sends one multi-row statement
        elapsed = time.perf_counter() - started
        cur.execute("TRUNCATE TABLE customers")
    conn.close()
    return len(rows) / elapsed


def bodies(kind: str, count: int, customers: int) -> list[bytes]:
    rows = generate.customers(count) if kind == "customers" else generate.orders(count, customers)
    out, chunk = [], []
    for row in rows:
        chunk.append({k: v for k, v in row.items() if v != ""})
        if len(chunk) == 1000:
            out.append(json.dumps(chunk).encode())
            chunk = []
    if chunk:
        out.append(json.dumps(chunk).encode())
    return out


def post_all(port: int, token: str, path: str, payloads: list[bytes], clients: int) -> list[str]:
    work: queue.Queue[bytes] = queue.Queue()
    for p in payloads:
        work.put(p)
    batch_ids: list[str] = []
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            for _attempt in range(5):
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if response.status != 202:
                errors.append(f"{response.status} {data[:200]!r}")
                continue
            batch_ids.append(json.loads(data)["batch_id"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return batch_ids


def wait_stored(url: str, batch_ids: list[str], expected: int, rss: RssProbe) -> None:
    """Poll the batches still open (done ones drop out), so the load generator stays light.

    A batch's outcome is the row its consumer writes with its records (`batches`).
    """
    pending, done = list(batch_ids), 0
    conn = connect(url)
    while True:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, stored + rejected, received FROM batches WHERE id IN %s",
                (pending,),
            )
            handled = {b: (n, received) for b, n, received in cur.fetchall()}
        still = []
        for b in pending:
            n, received = handled.get(b, (0, None))
            if received is not None and n >= received:
                done += n
            else:
                still.append(b)
        pending = still
        rss.sample()
        if not pending:
            conn.close()
            if done != expected:
                raise SystemExit(f"{done} records handled, {expected} posted")
            return
        time.sleep(0.1)


def file_orders(path: Path, count: int, customers: int) -> None:
    """An orders CSV as a shop exports it: ids of their own, amounts with separators."""
    rows = (
        {**row, "id": "F" + row["id"][1:], "amount": f"{float(row['amount']):,.2f}"}
        for row in generate.orders(count, customers, seed=23)
    )
    generate.write_csv(path, generate.ORDER_COLUMNS, rows)


def import_file(path: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """`xeno import orders FILE` (its progress bar on this terminal): seconds, peak RSS kB,
    and its summary's last line."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["xeno", "import", "orders", str(path)], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _status_kb(proc.pid, "VmHWM:"))  # the kernel's high-water mark
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    output = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"xeno import exited with {proc.returncode}:\n{output}")
    return elapsed, peak, output.strip().splitlines()[-1]


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


class RssProbe:
    """The worker's peak resident memory, sampled while the run goes."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb = pid, 0

    def sample(self) -> None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
        except FileNotFoundError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--db-url", default="mysql+pymysql://root@127.0.0.1:3306/xeno_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument(
        "--file-orders", type=int, default=1_000_000,
        help="lines of the orders CSV imported with `xeno import` (0 skips the CLI-file path)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="`xeno worker` processes")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument(
        "--buffer-pool",
        default="8G",
        help="InnoDB buffer pool for the run, as LIMITS.md measured with ('' keeps the server's)",
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=20_000,
        help="rows for the per-row baseline (the slow one)",
    )
    args = parser.parse_args()

    reset_database(args.db_url)
    restore_pool = set_buffer_pool(args.db_url, args.buffer_pool)
    r = redis.Redis.from_url(args.redis_url)
    r.flushdb()
    env = {
        **os.environ,
        "XENO_DATABASE_URL": args.db_url,
        "XENO_REDIS_URL": args.redis_url,
        "XENO_SECRET_KEY": "bench",
        "XENO_RECEIPT_SECRET": "bench",
    }
    env.pop("XENO_DEV_LOGIN", None)
    def run(*a):
        return subprocess.run(
            ["xeno", *a],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    run("db", "init")
    token = run("token", "create", "bench")

    print(
        f"baselines on `customers` ({args.baseline_rows} per-row, {args.customers} multi-row) ...",
        flush=True,
    )
    per_row = baseline_per_row(args.db_url, customer_rows(args.baseline_rows))
    multirow = baseline_multirow(args.db_url, customer_rows(args.customers))

    print("preparing request bodies ...", flush=True)
    customer_bodies = bodies("customers", args.customers, args.customers)
    order_bodies = bodies("orders", args.orders, args.customers)

    web = start_web(args.port, env, ROOT)
    workers = [
        subprocess.Popen(
            ["xeno", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    rss = RssProbe(workers[0].pid)
    try:
        wait_http(args.port)
        started = time.perf_counter()
        ids = post_all(args.port, token, "/api/v1/customers", customer_bodies, args.clients)
        posted = time.perf_counter() - started
        wait_stored(args.db_url, ids, args.customers, rss)
        customers_s = time.perf_counter() - started

        started = time.perf_counter()
        ids = post_all(args.port, token, "/api/v1/orders", order_bodies, args.clients)
        orders_posted = time.perf_counter() - started
        wait_stored(args.db_url, ids, args.orders, rss)
        orders_s = time.perf_counter() - started

        file_s = file_peak_kb = 0
        file_summary = ""
        if args.file_orders:
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / "orders.csv"
                print(f"writing a {args.file_orders}-line orders CSV ...", flush=True)
                file_orders(path, args.file_orders, args.customers)
                file_s, file_peak_kb, file_summary = import_file(path, env)
    finally:
        restore_pool()
        web.terminate()
        for w in workers:
            w.terminate()
        web.wait()
        for w in workers:
            w.wait()

    conn = connect(args.db_url)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*), SUM(visits), SUM(total_spend) FROM customers")
        n_customers, visits, spend = cur.fetchone()
        cur.execute("SELECT COUNT(*), SUM(amount) FROM orders")
        n_orders, amount = cur.fetchone()
    expected_orders = args.orders + args.file_orders
    exact = (
        n_customers == args.customers and visits == n_orders == expected_orders
        and spend == amount
    )  # fmt: skip

    c_rate, o_rate = args.customers / customers_s, args.orders / orders_s
    print()
    print(f"{'path':<58}{'rows/s':>12}")
    print(f"{'baseline: per-row INSERT, autocommit':<58}{per_row:>12,.0f}")
    print(f"{'baseline: multi-row upsert, 5000 rows/statement':<58}{multirow:>12,.0f}")
    print(
        f"{'customers end to end (HTTP → Redis → worker → MariaDB)':<58}{c_rate:>12,.0f}"
        f"   (all posted after {posted:.1f}s, stored after {customers_s:.1f}s)"
    )
    print(
        f"{'orders end to end, aggregates kept exact':<58}{o_rate:>12,.0f}"
        f"   (all posted after {orders_posted:.1f}s, stored after {orders_s:.1f}s)"
    )
    if args.file_orders:
        f_rate = args.file_orders / file_s
        print(
            f"{'orders from a CSV file (xeno import, aggregates exact)':<58}{f_rate:>12,.0f}"
            f"   (all stored after {file_s:.1f}s)"
        )
        print(f"  its summary: {file_summary}")
    print()
    print(f"customers vs multi-row upsert: {c_rate / multirow:.2f}x (target >= 0.6)")
    print(f"customers vs per-row INSERT:   {c_rate / per_row:.1f}x (target >= 8)")
    print(f"orders incl. aggregates:       {o_rate:,.0f}/s (target >= 10,000)")
    print(f"worker peak RSS:               {rss.peak_kb / 1024:.0f} MB (target < 250)")
    if args.file_orders:
        print(f"importer peak RSS:             {file_peak_kb / 1024:.0f} MB (target < 200)")
    print(f"aggregates exact (SUM(visits)=COUNT(orders), SUM(spend)=SUM(amount)): {exact}")


if __name__ == "__main__":
    main()
