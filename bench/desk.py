"""The customer desk at a million customers: a busy customer's profile, a 1M-row export.

    python bench/pages.py --desk-only        # or as part of the whole pages bench

- Profile: one customer gets 1,000 orders and 200 messages (200 campaigns), and 50 saved
  segments exist; `GET /customers/<id>` (the page) and `GET /api/v1/customers/<id>` are
  timed in-process (server time). Target: p95 under 100 ms.
- Export: `GET /api/v1/segments/<id>/customers.csv` of a segment holding every customer,
  downloaded from a gunicorn process (1 sync worker) while its RSS is sampled from /proc.
  Reported: rows/s and RSS growth during the download. Target: growth under 50 MB.

Everything added is tagged and removed at the end, and the busy customer's aggregates are
put back, so a reused database is left as found.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common import connect, wait_http

ROOT = Path(__file__).resolve().parents[1]
TAG = "bench-desk"
ORDERS, MESSAGES, SEGMENTS = 1000, 200, 50
_saved: dict[str, tuple] = {}  # the busy customer's aggregates before the bench
RULES = (
    "spend > {n}000 AND visits <= 3", "inactive_days > {n}0", "last_visit < {n} months ago",
    'city = "Pune" AND visits >= {n}', "avg_order BETWEEN {n}00 AND 5000",
    '(spend >= {n}000 OR visits > 8) AND NOT city IN ("Pune", "Nagpur")',
    "signup >= 2023-01-01 AND last_visit IS EMPTY", 'name CONTAINS "{n}7"',
    "visits IN (2, 4, {n})", 'email ENDS WITH "{n}@example.com"',
)


def add_desk(url: str, customer_pk: int) -> tuple[str, int]:
    """The busy customer's orders, messages and the 50 segments; (external id, export segment)."""
    with connect(url) as conn, conn.cursor() as cur:
        remove_desk(cur)
        cur.execute("SELECT external_id, visits, total_spend, last_visit_at FROM customers"
                    " WHERE id = %s", (customer_pk,))
        external_id, *aggregates = cur.fetchone()
        _saved["busy"] = (*aggregates, customer_pk)
        cur.execute(f"""
            INSERT INTO orders (external_id, customer_external_id, amount, ordered_at,
                                created_at, updated_at)
            SELECT CONCAT('{TAG}-', seq), %s, 100 + seq, NOW() - INTERVAL seq HOUR, NOW(), NOW()
            FROM seq_1_to_{ORDERS}
        """, (external_id,))  # fmt: skip
        cur.execute("""
            UPDATE customers c JOIN (SELECT COUNT(*) n, SUM(amount) s, MAX(ordered_at) l
                                     FROM orders WHERE customer_external_id = %s) o
            SET c.visits = o.n, c.total_spend = o.s, c.last_visit_at = o.l WHERE c.id = %s
        """, (external_id, customer_pk))  # fmt: skip
        cur.execute(f"""
            INSERT INTO campaigns (name, rule, message, status, created_by, created_at,
                                   audience_size, sent, failed, pending)
            SELECT CONCAT('{TAG} ', seq), 'visits >= 1', 'Hi', 'done', '{TAG}',
                   NOW() - INTERVAL seq DAY, 1000, 900, 100, 0
            FROM seq_1_to_{MESSAGES}
        """)  # fmt: skip
        # each campaign reaches the busy customer and a thousand others: 200k log rows
        cur.execute(f"""
            INSERT INTO communications_log (campaign_id, customer_id, message, status,
                                            created_at, updated_at)
            SELECT c.id, u.id, 'Hi', IF(u.id % 10 = 0, 'FAILED', 'SENT'), NOW(), NOW()
            FROM campaigns c
            JOIN (SELECT id FROM customers WHERE id <= 999 OR id = {customer_pk}) u
            WHERE c.created_by = '{TAG}'
        """)  # fmt: skip
        for n in range(SEGMENTS):
            rule = RULES[n % len(RULES)].format(n=n // len(RULES) + 1)
            cur.execute(
                "INSERT INTO segments (name, name_key, rule, size, version, created_by,"
                " created_at, updated_at) VALUES (%s, %s, %s, 0, 1, %s, NOW(), NOW())",
                (f"{TAG} {n}", f"{TAG} {n}", rule, TAG),
            )
        cur.execute(
            "INSERT INTO segments (name, name_key, rule, size, version, created_by, created_at,"
            " updated_at) VALUES (%s, %s, 'visits >= 0', 0, 1, %s, NOW(), NOW())",
            (f"{TAG} everyone", f"{TAG} everyone", TAG),
        )
        export_id = cur.lastrowid
        cur.execute(
            "INSERT INTO segments (name, name_key, rule, size, version, created_by, created_at,"
            " updated_at) VALUES (%s, %s, 'name CONTAINS \"zzqx\"', 0, 1, %s, NOW(), NOW())",
            (f"{TAG} nobody", f"{TAG} nobody", TAG),
        )
        cur.execute("ANALYZE TABLE orders, communications_log, campaigns, segments")
    return external_id, export_id


def remove_desk(cur: object) -> None:
    """Delete everything this bench added (log rows go with their campaigns)."""
    cur.execute(f"DELETE FROM orders WHERE external_id LIKE '{TAG}-%'")
    cur.execute(
        "DELETE l FROM communications_log l JOIN campaigns c ON c.id = l.campaign_id"
        f" WHERE c.created_by = '{TAG}'"
    )
    cur.execute(f"DELETE FROM campaigns WHERE created_by = '{TAG}'")
    cur.execute(f"DELETE FROM segments WHERE created_by = '{TAG}'")
    if "busy" in _saved:
        cur.execute("UPDATE customers SET visits = %s, total_spend = %s, last_visit_at = %s"
                    " WHERE id = %s", _saved.pop("busy"))


def profile_rows(get: Callable[[str], Callable[[], object]], timed: Callable[..., tuple],
                 external_id: str, runs: int) -> list[tuple[str, float, float, float | None]]:
    """Time the profile page and API for the busy customer."""
    rows = []
    for path in (f"/customers/{external_id}", f"/api/v1/customers/{external_id}"):
        label = f"GET {path} ({ORDERS} orders, {MESSAGES} msgs, {SEGMENTS} segments)"
        rows.append((label, *timed(get(path), runs), 100))
    return rows


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def export(url: str, segment_id: int, token: str, port: int = 5099) -> dict[str, float]:
    # the next segment holds nobody: its export warms the worker up (imports, pool, plans)
    """Download the export from a 1-worker gunicorn; rows/s and the worker's RSS growth."""
    env = {**os.environ, "XENO_DATABASE_URL": url, "XENO_SECRET_KEY": "bench-desk",
           "XENO_RECEIPT_SECRET": "bench-desk", "XENO_COOKIE_SECURE": "0"}
    env.pop("XENO_REDIS_URL", None)
    env.pop("XENO_DEV_LOGIN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout",
         "600", "--log-level", "warning", "xeno:create_app()"],
        env=env, cwd=ROOT,
    )
    try:
        wait_http(port)
        worker = _worker_pid(server.pid)
        auth = {"Authorization": f"Bearer {token}"}
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        warm.request("GET", f"/api/v1/segments/{segment_id + 1}/customers.csv", headers=auth)
        assert warm.getresponse().read().startswith(b"id,name"), "warm-up export failed"
        warm.close()
        before = _rss_kb(worker)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", f"/api/v1/segments/{segment_id}/customers.csv", headers=auth)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_kb(worker))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        response = conn.getresponse()
        assert response.status == 200, response.status
        lines = 0
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        rows = lines - 1  # the header
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed,
                "rss_before_mb": before / 1024, "rss_growth_mb": (peak[0] - before) / 1024}
    finally:
        server.terminate()
        server.wait(30)


def _worker_pid(master: int) -> int:
    """The gunicorn worker's pid (the master's only child)."""
    for _ in range(50):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")
