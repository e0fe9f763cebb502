"""Ingestion under faults: every accepted record stored once, at its latest version.

    python bench/faults.py            # 100k customers, 300k orders, 30k re-sends
    python bench/faults.py --small    # 5k / 15k / 1.5k, for CI

Starts its own MariaDB (`mariadb-install-db` into a temporary folder, port 3407) and Redis
(AOF on, port 6407), gunicorn (2 workers) and two `xeno worker` processes. Posts customers
and orders over HTTP in arrays of 1000 (a quarter of the orders before their customers,
10% of orders and customers re-sent with new values after their first send was accepted),
retrying 503s, while it `kill -9`s each worker, Redis and MariaDB once and restarts them:
the servers as their service manager would, a killed worker with a fresh process as a
process supervisor would (the same supervisor restarts a worker that exits on its own,
and counts that). Then it compares every row with an oracle built from what it sent
(the last accepted version per id) and prints lost, doubled, reverted and wrong
aggregates — all four must be 0 — with the 503 answers retried and the seconds each
worker was down.
"""

from __future__ import annotations

import argparse
import faulthandler
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import pymysql
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import start_web, wait_http  # noqa: E402

DB_PORT, REDIS_PORT, WEB_PORT = 3407, 6407, 5407
DB_URL = f"mysql+pymysql://root@127.0.0.1:{DB_PORT}/xeno"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
BIN = Path(sys.executable).parent


class Servers:
    """The private MariaDB and Redis, each restartable after a `kill -9`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "db").mkdir()
        (folder / "redis").mkdir()
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={folder / 'db'}", "--user=root",
             "--skip-test-db", "--auth-root-authentication-method=normal"],
            check=True, capture_output=True,
        )
        self.db = self.redis = None
        self.start_db()
        self.start_redis()

    def start_db(self) -> None:
        """mariadbd on its own port; a commit is written at once, synced each second."""
        f = self.folder
        self.db = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={f / 'db'}", f"--port={DB_PORT}",
             f"--socket={f / 'db.sock'}", "--bind-address=127.0.0.1", "--user=root",
             "--skip-grant-tables", f"--log-error={f / 'db.err'}", f"--pid-file={f / 'db.pid'}",
             "--innodb-buffer-pool-size=1G", "--innodb-flush-log-at-trx-commit=2",
             "--max-connections=200", "--local-infile=1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: sql().close())

    def start_redis(self) -> None:
        """redis-server with the append-only file on, as compose.yaml runs it."""
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
             "--appendonly", "yes", "--save", "", "--dir", str(self.folder / "redis")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: redis.Redis(port=REDIS_PORT, socket_timeout=5).ping())

    def stop(self) -> None:
        """Stop both and wait for them."""
        for process in (self.db, self.redis):
            if process and process.poll() is None:
                process.terminate()
                process.wait(60)


def sql(database: str | None = None) -> pymysql.Connection:
    """A connection to the private MariaDB that never waits on it for long."""
    return pymysql.connect(host="127.0.0.1", port=DB_PORT, user="root", database=database,
                           connect_timeout=5, read_timeout=30, write_timeout=30, autocommit=True)


def wait_for(probe, timeout: float = 120.0) -> None:  # noqa: ANN001
    """Call `probe` until it stops raising."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Workers:
    """Two `xeno worker` processes under a supervisor that replaces any that dies."""

    def __init__(self, env: dict[str, str], count: int = 2, restart_after: float = 1.0) -> None:
        self.env, self.restart_after = env, restart_after
        self.procs = [self._spawn() for _ in range(count)]
        self.down: list[float] = [0.0] * count
        self.exits_on_their_own = 0
        self._killed: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, daemon=True)
        self._thread.start()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "xeno"), "worker"], env=self.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def kill(self, index: int) -> None:
        """`kill -9` one worker; the supervisor brings a replacement."""
        self._killed.add(self.procs[index].pid)
        self.procs[index].send_signal(signal.SIGKILL)

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            for index, proc in enumerate(self.procs):
                if proc.poll() is None:
                    continue
                gone = time.monotonic()
                if proc.pid not in self._killed:
                    self.exits_on_their_own += 1
                time.sleep(self.restart_after)
                self.procs[index] = self._spawn()
                self.down[index] += time.monotonic() - gone

    def stop(self) -> None:
        """Stop supervising, then SIGTERM every worker."""
        self._stop.set()
        self._thread.join()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


class Client:
    """Posts arrays of records, retrying 503s and dropped connections until a 202."""

    def __init__(self, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.retried_503 = self.retried_other = 0
        self.lock = threading.Lock()

    def post(self, path: str, records: list[dict]) -> str:
        """The batch id of the 202 that finally accepted these records."""
        body = json.dumps(records).encode()
        for _attempt in range(2000):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=30)
                conn.request("POST", path, body=body, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
            except (OSError, http.client.HTTPException):
                self._count("other")
                time.sleep(0.2)
                continue
            if response.status == 202:
                return json.loads(data)["batch_id"]
            if response.status == 503:
                self._count("503")
            elif response.status >= 500:
                self._count("other")
            else:
                raise SystemExit(f"{path}: {response.status} {data[:300]!r}")
            time.sleep(0.2)
        raise SystemExit(f"{path}: no 202 after 2000 attempts")

    def _count(self, what: str) -> None:
        with self.lock:
            if what == "503":
                self.retried_503 += 1
            else:
                self.retried_other += 1


def plan(customers: int, orders: int, seed: int = 13) -> tuple[list, dict, dict]:
    """The phases to send, and the oracle: the last version of each record sent."""
    rng = random.Random(seed)
    early = customers * 3 // 4

    def cust(n: int, city: str) -> dict:
        return {"id": f"C{n}", "name": f"Customer {n}", "email": f"c{n}@example.com", "city": city}

    def order(n: int, amount: str) -> dict:
        day = 1 + n % 28
        return {"id": f"O{n}", "customer_id": f"C{owner[n]}", "amount": amount,
                "ordered_at": f"2025-{1 + n % 12:02d}-{day:02d}T10:{n % 60:02d}:00Z"}

    # A quarter of the orders belong to the customers sent last, so they arrive first.
    owner = {n: (rng.randrange(early, customers) if n % 4 == 0 else rng.randrange(early))
             for n in range(orders)}
    amounts = {n: f"{rng.randint(100, 999_999) / 100:.2f}" for n in range(orders)}
    first_orders = [order(n, amounts[n]) for n in range(orders)]
    resent = rng.sample(range(orders), orders // 10)
    for n in resent:
        amounts[n] = f"{rng.randint(100, 999_999) / 100:.2f}"
    resent_customers = rng.sample(range(customers), customers // 10)
    phases = [
        ("/api/v1/customers", [cust(n, "Pune") for n in range(early)]),
        ("/api/v1/orders", first_orders),
        ("/api/v1/customers", [cust(n, "Pune") for n in range(early, customers)]),
        ("/api/v1/orders", [order(n, amounts[n]) for n in resent]),
        ("/api/v1/customers", [cust(n, "Goa") for n in resent_customers]),
    ]
    oracle_customers = {f"C{n}": "Pune" for n in range(customers)}
    oracle_customers.update({f"C{n}": "Goa" for n in resent_customers})
    oracle_orders = {f"O{n}": (f"C{owner[n]}", Decimal(amounts[n])) for n in range(orders)}
    return phases, oracle_customers, oracle_orders


def send(client: Client, phases: list, clients: int, rate: float, progress: list) -> list[str]:
    """Each phase in arrays of 1000 over `clients` threads, at most `rate` records/s; a
    phase starts once the one before it was accepted, so the oracle's order is the server's."""
    batch_ids: list[str] = []
    total = sum(len(records) for _path, records in phases)
    started = time.monotonic()
    for path, records in phases:
        chunks = [records[i : i + 1000] for i in range(0, len(records), 1000)]
        lock = threading.Lock()

        def run(chunks: list = chunks, path: str = path, lock: threading.Lock = lock) -> None:
            while True:
                with lock:
                    if not chunks:
                        return
                    chunk = chunks.pop(0)
                    progress[0] += len(chunk)
                    due = started + progress[0] / rate
                time.sleep(max(0.0, due - time.monotonic()))
                batch_id = client.post(path, chunk)
                with lock:
                    batch_ids.append(batch_id)

        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert progress[0] == total
    return batch_ids


def chaos(servers: Servers, workers: Workers, progress: list, total: int, log: list) -> None:
    """Kill each worker, Redis and MariaDB once, as the sending goes past set points."""
    steps = [
        (0.15, "worker 1", lambda: workers.kill(0)),
        (0.35, "worker 2", lambda: workers.kill(1)),
        (0.55, "redis", lambda: restart(servers.redis, servers.start_redis)),
        (0.75, "mariadb", lambda: restart(servers.db, servers.start_db)),
    ]
    for share, name, action in steps:
        while progress[0] < share * total:
            time.sleep(0.05)
        started = time.monotonic()
        action()
        log.append(f"killed {name} at {progress[0]:,} records sent; back after "
                   f"{time.monotonic() - started:.1f}s")


def restart(process: subprocess.Popen, start) -> None:  # noqa: ANN001
    """`kill -9`, a moment down, then up again on the same data."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(2)
    start()


def campaign_under_faults(env: dict[str, str], workers: Workers) -> list[str]:
    """Hook: kill a worker during a 50k-recipient campaign and time it to `done`.

    Left for the delivery-faults work (RQ heartbeats, receipt timeout sweeper); it returns
    the lines to print.
    """
    return []


def wait_applied(db: pymysql.Connection, batch_ids: list[str], timeout: float) -> None:
    """Until every accepted batch's row says all its records were stored, and every entry
    was acknowledged: a consumer killed between storing and recomputing the aggregates
    leaves its entry pending, and the aggregates follow when it is delivered again."""
    deadline, done, left = time.monotonic() + timeout, 0, -1
    broker = redis.Redis(port=REDIS_PORT, socket_timeout=5)
    while time.monotonic() < deadline:
        try:
            with db.cursor() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM batches WHERE stored + rejected >= received"
                    " AND id IN %s", (batch_ids,),
                )
                (done,) = cur.fetchone()
            left = sum(broker.xlen(f"xeno:stream:{s}") for s in ("customers", "orders"))
            if done >= len(batch_ids) and left == 0:
                return
        except (pymysql.Error, redis.RedisError):
            db.ping()
        time.sleep(1)
    raise SystemExit(
        f"{done} of {len(batch_ids)} batches done, {left} entries left after {timeout:.0f}s"
    )


def compare(db: pymysql.Connection, oracle_customers: dict, oracle_orders: dict) -> dict:
    """Every row against the oracle."""
    with db.cursor() as cur:
        cur.execute("SELECT external_id, city, total_spend, visits FROM customers")
        customers = cur.fetchall()
        cur.execute("SELECT external_id, customer_external_id, amount FROM orders")
        orders = cur.fetchall()
        cur.execute("SELECT rejected, errors FROM batches WHERE rejected > 0")
        rejected = cur.fetchall()
    stored_c = {row[0]: row for row in customers}
    stored_o = {row[0]: row for row in orders}
    expected: dict[str, list] = {}
    for customer_id, amount in oracle_orders.values():
        spend_visits = expected.setdefault(customer_id, [Decimal(0), 0])
        spend_visits[0] += amount
        spend_visits[1] += 1
    lost = sum(1 for k in oracle_customers if k not in stored_c)
    lost += sum(1 for k in oracle_orders if k not in stored_o)
    doubled = (len(customers) - len(stored_c)) + (len(orders) - len(stored_o))
    doubled += sum(1 for k in stored_c if k not in oracle_customers)
    doubled += sum(1 for k in stored_o if k not in oracle_orders)
    reverted = sum(
        1 for k, city in oracle_customers.items() if k in stored_c and stored_c[k][1] != city
    )
    reverted += sum(
        1 for k, (cid, amount) in oracle_orders.items()
        if k in stored_o and (stored_o[k][1], stored_o[k][2]) != (cid, amount)
    )
    wrong = [
        f"{k}: spend {row[2]} visits {row[3]}, expected {expected.get(k, ['0.00', 0])}"
        for k, row in stored_c.items()
        if (row[2], row[3]) != tuple(expected.get(k, [Decimal("0.00"), 0]))
    ]
    return {"lost": lost, "doubled": doubled, "reverted": reverted, "wrong aggregates": len(wrong),
            "records rejected": sum(r[0] for r in rejected), "sample": wrong[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--small", action="store_true", help="5k customers, 15k orders (CI)")
    parser.add_argument("--rate", type=float, default=0, help="records/s sent (0: by size)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calm", action="store_true", help="kill nothing: the control run")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the rest")
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: where is it waiting?
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    if args.small:
        args.customers, args.orders = 5_000, 15_000
    # Spread the sending over ~40 s (~20 s small) so every kill lands while records flow.
    rate = args.rate or (args.customers + args.orders * 1.1) / (20 if args.small else 40)
    phases, oracle_customers, oracle_orders = plan(args.customers, args.orders)
    total = sum(len(records) for _path, records in phases)

    folder = Path(tempfile.mkdtemp(prefix="xeno-faults-"))
    servers = Servers(folder)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "XENO_DATABASE_URL": DB_URL,
           "XENO_REDIS_URL": REDIS_URL, "XENO_SECRET_KEY": "bench", "XENO_RECEIPT_SECRET": "bench",
           "XENO_LOG_FORMAT": "text",
           # a dead consumer's entries are taken over after this long idle (default 60 s)
           "XENO_STREAM_RECLAIM_IDLE_MS": "10000" if args.small else "30000"}
    env.pop("XENO_DEV_LOGIN", None)
    web = workers = None
    try:
        with sql() as conn:
            conn.cursor().execute("CREATE DATABASE xeno CHARACTER SET utf8mb4")
        xeno = [str(BIN / "xeno")]
        subprocess.run([*xeno, "db", "init"], env=env, check=True, capture_output=True)
        token = subprocess.run([*xeno, "token", "create", "bench"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        web = start_web(WEB_PORT, env, ROOT)
        wait_http(WEB_PORT)
        workers = Workers(env)
        client, progress, kills = Client(token), [0], []
        print(f"sending {total:,} records at ~{rate:,.0f}/s; killing each worker, Redis and "
              f"MariaDB once ...", flush=True)
        started = time.monotonic()
        killer = threading.Thread(
            target=(lambda *a: None) if args.calm else chaos,
            args=(servers, workers, progress, total, kills),
        )
        killer.start()
        batch_ids = send(client, phases, args.clients, rate, progress)
        killer.join()
        sent = time.monotonic() - started
        db = sql("xeno")
        wait_applied(db, batch_ids, args.timeout)
        applied = time.monotonic() - started
        db.ping()
        result = compare(db, oracle_customers, oracle_orders)
        dead = redis.Redis(port=REDIS_PORT)
        dead_letters = sum(dead.xlen(f"xeno:dead:{s}") for s in ("customers", "orders"))
        campaign = campaign_under_faults(env, workers)
    finally:
        if workers:
            workers.stop()
        if web:
            web.terminate()
            web.wait()
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print("\n".join(kills))
    print(f"{total:,} records accepted in {len(batch_ids)} batches: sent in {sent:.0f}s, "
          f"all applied after {applied:.0f}s")
    print(f"{args.customers:,} customers, {args.orders:,} orders, "
          f"{len(oracle_orders) // 10:,} orders and {len(oracle_customers) // 10:,} customers"
          " re-sent")
    for name in ("lost", "doubled", "reverted", "wrong aggregates"):
        print(f"{name + ':':<34}{result[name]:>8}")
    print(f"{'records rejected:':<34}{result['records rejected']:>8}")
    print(f"{'dead letters:':<34}{dead_letters:>8}")
    print(f"{'503 answers retried:':<34}{client.retried_503:>8}")
    print(f"{'other failures retried:':<34}{client.retried_other:>8}  (dropped connections, 5xx)")
    print("seconds each worker was down:     "
          + ", ".join(f"{s:.1f}" for s in workers.down))
    print(f"{'workers that exited by themselves:':<34}{workers.exits_on_their_own:>8}"
          "  (restarted by the bench's supervisor)")
    for line in result["sample"]:
        print("  e.g. " + line)
    for line in campaign:
        print(line)
    if any(result[name] for name in ("lost", "doubled", "reverted", "wrong aggregates")):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
