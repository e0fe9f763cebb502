"""What keeps a campaign from going out twice: Idempotency-Key replays and the duplicate guard.

Both run inside the transaction that creates the campaign, so an error (an empty audience,
a duplicate) leaves no key behind, and both take a row lock before they look:
- the key's row is inserted first: a second request with the same key (a double click)
  waits on the unique index until the first commits, then replays its answer;
- a row per audience + message in `campaign_locks` is upserted before the last 24 hours
  are searched for the same campaign, so two concurrent sends of it queue and the second
  sees the first.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import IntegrityError

from xeno.db.models import Campaign, CampaignLock, IdempotencyKey
from xeno.extensions import db
from xeno.platform.errors import IdempotencyConflict, ValidationFailed

WINDOW = timedelta(hours=24)
MAX_KEY = 200


def check_key(key: str | None) -> str | None:
    """An Idempotency-Key header as given: 1–200 characters (422 otherwise), or None."""
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY or key != key.strip():
        raise ValidationFailed(
            [{"field": "Idempotency-Key",
              "message": f"must be 1–{MAX_KEY} characters without surrounding spaces"}],
            message=f"the Idempotency-Key header must be 1–{MAX_KEY} characters",
        )
    return key


def digest(*parts: Any) -> str:
    """A SHA-256 of JSON-serialisable parts, in a canonical form."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def claim(actor: str | None, key: str, request_hash: str, now: datetime) -> dict[str, Any] | None:
    """Hold the key for this request, or return the answer it gave within 24 hours.

    The first write of the transaction, so a failed claim can roll everything back.
    Keys are per actor: one client's key never replays another's campaign.
    """
    key_hash = digest("idempotency", actor, key)
    db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.key_hash == key_hash,
                                     IdempotencyKey.created_at < now - WINDOW)
    )
    try:
        db.session.execute(insert(IdempotencyKey).values(
            key_hash=key_hash, request_hash=request_hash, created_at=now))
        return None
    except IntegrityError:
        db.session.rollback()  # nothing else is written yet
    stored = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key_hash == key_hash))
    db.session.rollback()
    if stored is None:  # the holder expired and was purged meanwhile: try once more
        return claim(actor, key, request_hash, now)
    if stored.request_hash != request_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with another request body in the last 24 hours",
            campaign_id=stored.campaign_id,
        )
    return dict(stored.response or {})


def remember(actor: str | None, key: str, campaign_id: int, answer: dict[str, Any]) -> None:
    """Store the answer a claimed key replays (in the creating transaction)."""
    db.session.execute(
        update(IdempotencyKey).where(IdempotencyKey.key_hash == digest("idempotency", actor, key))
        .values(campaign_id=campaign_id, response=answer)
    )


def purge(now: datetime) -> None:
    """Forget keys older than 24 hours (after a commit, in its own short transaction)."""
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - WINDOW))
    db.session.commit()


def lock(fingerprint: str, now: datetime) -> None:
    """Take the row lock of this audience + message until the transaction ends."""
    if db.session.get_bind().dialect.name == "mysql":
        stmt = mysql.insert(CampaignLock).values(fingerprint=fingerprint, locked_at=now)
        stmt = stmt.on_duplicate_key_update(locked_at=stmt.inserted.locked_at)
    else:
        stmt = sqlite.insert(CampaignLock).values(fingerprint=fingerprint, locked_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["fingerprint"], set_={"locked_at": stmt.excluded.locked_at}
        )
    db.session.execute(stmt)


def earlier(fingerprint: str, now: datetime) -> int | None:
    """The latest campaign of the same audience and message created in the last 24 hours."""
    return db.session.scalar(
        select(Campaign.id)
        .where(Campaign.fingerprint == fingerprint, Campaign.created_at >= now - WINDOW)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(1)
    )
