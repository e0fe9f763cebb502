"""What every benchmark needs: MariaDB connections, a fresh database, a server to wait for."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pymysql
from sqlalchemy.engine import make_url


def connect(url: str, database: bool = True) -> pymysql.Connection:
    """A PyMySQL connection (autocommit, LOAD DATA LOCAL allowed) to the server or database."""
    u = make_url(url)
    return pymysql.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 3306,
        user=u.username or "root",
        password=u.password or "",
        database=u.database if database else None,
        autocommit=True,
        local_infile=True,
    )


def reset_database(url: str) -> None:
    """Drop and create the URL's database."""
    conn = connect(url, database=False)
    name = make_url(url).database
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()


def wait_http(port: int, attempts: int = 150) -> None:
    """Wait until the server on `port` answers /healthz with 200."""
    for _ in range(attempts):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not come up")


def p95(times: list[float]) -> float:
    """The 95th percentile of a list of timings."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def start_web(port: int, env: dict[str, str], cwd: object) -> subprocess.Popen:
    """gunicorn with 2 sync workers on `port`, refusing a port another server holds."""
    try:  # another bench's server on this port would answer for ours
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        raise SystemExit(f"port {port} is taken; pass --port")
    except OSError:
        pass
    command = [
        "gunicorn",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "xeno:create_app()",
    ]
    return subprocess.Popen(command, env=env, cwd=cwd)


def set_buffer_pool(url: str, size: str) -> Callable[[], None]:
    """Size the server's buffer pool for the run and return how to put it back.

    At a million customers the tables and their indexes are ~0.75 GB; in MariaDB's default
    128 MiB pool every write waits on the disk, which measures the pool, not the code.
    """
    conn = connect(url, database=False)  # a server setting: the database may not exist yet
    with conn.cursor() as cur:
        cur.execute("SELECT @@innodb_buffer_pool_size")
        (before,) = cur.fetchone()
        if size:
            units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
            wanted = int(size[:-1]) * units[size[-1].upper()] if size[-1].isalpha() else int(size)
            cur.execute("SET GLOBAL innodb_buffer_pool_size = %s", (wanted,))
            cur.execute("SELECT @@innodb_buffer_pool_size")
            (after,) = cur.fetchone()
    conn.close()
    print(f"server: innodb_buffer_pool_size {before / (1 << 20):,.0f} MiB", end="")
    if not size or after == before:
        print()
        return lambda: None
    print(f" -> {after / (1 << 20):,.0f} MiB for this run")

    def restore() -> None:
        conn = connect(url, database=False)  # a server setting: the database may not exist yet
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL innodb_buffer_pool_size = %s", (before,))
        conn.close()

    return restore


def timed(fn: Callable[[], Any], runs: int, warmups: int = 1) -> tuple[list[float], Any]:
    """Call fn `warmups` times, then time `runs` calls; return ms timings and the last result."""
    result = None
    for _ in range(warmups):
        result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result
