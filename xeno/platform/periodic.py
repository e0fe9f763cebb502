"""Periodic chores: small set-based sweeps that the domains register and the worker runs.

`xeno worker` runs them on its sweeper thread; embedded mode (`xeno demo`) on a daemon
thread of its one process. With several workers, a Redis key per chore and round lets one
of them run each round, and a second key keeps two rounds of one chore from overlapping.
A chore that fails (the broker or the database is down) is logged and tried next round:
the thread that heals the others must not die of an outage.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from xeno.extensions import db
from xeno.platform.broker import connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chore:
    """A job run every `every` seconds (a number, or a function of the app's config)."""

    name: str
    func: Callable[[], Any]
    every: float | Callable[[Mapping[str, Any]], float]

    def interval(self, config: Mapping[str, Any]) -> float:
        """Seconds between two rounds under this configuration."""
        return float(self.every(config) if callable(self.every) else self.every)


def register(app: Flask, name: str, func: Callable[[], Any], every: Any) -> None:
    """Have `func()` run every `every` seconds wherever this app's chores run."""
    app.extensions.setdefault("xeno_chores", {})[name] = Chore(name, func, every)


def registered(app: Flask) -> list[Chore]:
    """The chores the domains registered on this app."""
    return list(app.extensions.get("xeno_chores", {}).values())


def run_once(app: Flask, chore: Chore) -> bool:
    """Run one round of `chore` unless another process has this round; True if it ran."""
    every = chore.interval(app.config)
    token = uuid.uuid4().hex
    with app.app_context():
        try:
            conn = connection()
            key = f"xeno:chore:{chore.name}"
            # The round key expires just before this process's next tick looks again.
            if not conn.set(key + ":round", token, nx=True, px=max(1, int(every * 900))):
                return False
            # Held while the round runs, renewed meanwhile: a long round never overlaps the
            # next, and a process that dies mid-round frees the chore within `hold` seconds.
            hold = max(5, round(2 * every))
            if not conn.set(key + ":running", token, nx=True, ex=hold):
                return False
            done = threading.Event()
            renew = threading.Thread(
                target=_hold, args=(conn, key + ":running", token, hold, done), daemon=True
            )
            renew.start()
            try:
                chore.func()
            finally:
                done.set()
                renew.join()
                if conn.get(key + ":running") == token.encode():
                    conn.delete(key + ":running")
            return True
        except Exception:  # an outage: log it and let the next round try again
            log.warning("chore %s failed; trying again next round", chore.name, exc_info=True)
            return False
        finally:
            db.session.remove()


def _hold(conn: Any, key: str, token: str, hold: int, done: threading.Event) -> None:
    while not done.wait(hold / 3):
        try:
            if conn.get(key) != token.encode() or not conn.expire(key, hold):
                return
        except Exception:  # the broker is away: the key lapses and another process may run
            log.warning("chore lock %s: renewal failed", key, exc_info=True)


def run_forever(
    app: Flask, stop: threading.Event, extra: list[Chore] | None = None, tick: float = 0.25
) -> None:
    """Run every chore when it is due until `stop` is set."""
    last: dict[str, float] = {}
    while not stop.wait(tick):
        for chore in registered(app) + list(extra or ()):
            now = time.monotonic()
            if now - last.get(chore.name, float("-inf")) >= chore.interval(app.config):
                last[chore.name] = now
                run_once(app, chore)


def start(app: Flask | None = None, extra: list[Chore] | None = None) -> threading.Event:
    """Run the chores on a daemon thread; set the returned event to stop it."""
    app = app or current_app._get_current_object()
    stop = threading.Event()
    threading.Thread(
        target=run_forever, args=(app, stop, extra), name="xeno-chores", daemon=True
    ).start()
    return stop
