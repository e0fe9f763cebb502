"""The dummy vendor's work: per message SENT or FAILED, reported by one receipt call each.

It talks to the app only over HTTP, as a real vendor would: signed `POST /receipts`
calls, over keep-alive sessions from a bounded thread pool.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import current_app
from rq import Retry

from xeno.platform import broker
from xeno.platform.signing import post_signed

RECEIPT_THREADS = 16
RECEIPTS = "/api/v1/receipts"
# What a real SMS/e-mail gateway says about a message it could not deliver.
FAILURE_REASONS = ("recipient unreachable", "invalid address", "blocked by carrier")
# A chunk takes seconds; a job that runs far longer is stuck, and RQ retries it.
CHUNK_TIMEOUT = 120


def deliver(log_ids: list[int], threads: int = RECEIPT_THREADS) -> None:
    """Deliver one chunk: pick SENT or FAILED per message, one receipt call per message."""
    rate = float(current_app.config.get("VENDOR_FAILURE_RATE", 0.10))
    app = current_app._get_current_object()
    local = threading.local()
    sessions: list[requests.Session] = []

    def one(log_id: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            sessions.append(session)
        receipt: dict = {"log_id": log_id, "status": "SENT"}
        if random.random() < rate:
            receipt = {"log_id": log_id, "status": "FAILED",
                       "reason": random.choice(FAILURE_REASONS)}
        with app.app_context():
            post_signed(session, RECEIPTS, receipt)

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(one, i) for i in log_ids]:
                future.result()  # the first failure fails the job (RQ keeps it)
    finally:
        for session in sessions:
            session.close()


def report_failed(log_ids: list[int]) -> None:
    """A chunk the vendor could not deliver for good: report every message FAILED at once.

    If even this cannot reach the app, the app's receipt sweeper hands the messages over
    again after XENO_RECEIPT_TIMEOUT, and fails them `no_receipt` in the end.
    """
    with requests.Session() as session:
        for start in range(0, len(log_ids), 1000):
            chunk = log_ids[start : start + 1000]
            post_signed(session, RECEIPTS, [
                {"log_id": i, "status": "FAILED", "reason": "vendor gave up"} for i in chunk
            ])


def accept_chunk(log_ids: list[int]) -> None:
    """Queue one vendor job for a chunk of messages (never one per message)."""
    broker.background(
        deliver, log_ids, job_timeout=CHUNK_TIMEOUT, retry=Retry(max=3, interval=[5, 30, 120]),
        give_up=report_failed,
    )
