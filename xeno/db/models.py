"""Tables. Names are part of the contract (SPEC "Data model"); times are naive UTC."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from xeno.db.clock import utcnow
from xeno.extensions import db

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


def exact_id() -> String:
    """An external id, compared byte for byte: `C1` is not `c1`, `José` is not `Jose`.

    SQLite's default collation is already binary; MySQL needs it said.
    """
    return String(64).with_variant(String(64, collation="utf8mb4_bin"), "mysql", "mariadb")


def ci_string(length: int) -> String:
    """Text that compares case-insensitively on both backends (segment rules rely on it)."""
    return String(length).with_variant(String(length, collation="NOCASE"), "sqlite")


class Customer(db.Model):
    """A shop customer with the aggregates segments read, kept equal to its stored orders."""

    __tablename__ = "customers"
    __table_args__ = (
        # Two-column indexes cover the commonest rules outright (spend with visits; last
        # visit with signup, which is inactive_days), so counting them never reads a row.
        Index("ix_customers_spend_visits", "total_spend", "visits"),
        Index("ix_customers_visits", "visits"),
        Index("ix_customers_last_visit_signup", "last_visit_at", "signup_at"),
        Index("ix_customers_signup_at", "signup_at"),
        Index("ix_customers_city", "city"),
        Index("ix_customers_email", "email"),
        Index("ix_customers_name", "name"),
        Index("ix_customers_unsubscribed_at", "unsubscribed_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(exact_id(), unique=True)
    name: Mapped[str] = mapped_column(ci_string(200))
    email: Mapped[str | None] = mapped_column(ci_string(255))
    phone: Mapped[str | None] = mapped_column(ci_string(32))
    city: Mapped[str | None] = mapped_column(ci_string(100))
    signup_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    total_spend: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), default=Decimal("0.00"), server_default="0"
    )
    visits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the record stored here was accepted (its stream entry): an older one never wins.
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Consent: set when the customer asked not to be contacted; no campaign reaches them.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Order(db.Model):
    """An order; it names its customer by external id so it may arrive first."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer", "customer_external_id", "ordered_at", "amount"),
        # A campaign's results and `spend IN LAST …` range over a window of time.
        Index("ix_orders_ordered_at", "ordered_at", "customer_external_id", "amount"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(exact_id(), unique=True)
    customer_external_id: Mapped[str] = mapped_column(exact_id())
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    ordered_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Batch(db.Model):
    """A published batch's outcome, written with its records so the two always agree."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_created", "created_at"), MYSQL_TABLE)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    received: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(UserMixin, db.Model):
    """An account that signed in through the OpenID provider (or the demo sign-in)."""

    __tablename__ = "users"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    picture: Mapped[str | None] = mapped_column(String(500))
    first_login_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Sessions carry the generation they began in; sign-out moves it on, killing them all.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(db.Model):
    """A machine credential; only the SHA-256 of the token is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


def name_key(name: str) -> str:
    """The form of a segment name that must be unique: trimmed and case-folded."""
    return name.strip().casefold()


class Segment(db.Model):
    """A saved audience rule, its size at the last count and an edit version.

    `name_key` (the name case-folded in Python) carries the unique index: the same rule on
    MySQL and SQLite, where collations disagree on case (SQLite's NOCASE folds ASCII only,
    MySQL's utf8mb4_unicode_ci also ignores accents). `version` goes up by one on every
    change, so an edit made from an older copy is refused instead of reverting another.
    """

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("name_key", name="uq_segments_name_key"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(
        String(200).with_variant(String(200, collation="utf8mb4_bin"), "mysql", "mariadb")
    )
    rule: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    counted_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @validates("name")
    def _keep_key(self, _key: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class Campaign(db.Model):
    """A message sent once to a snapshot of an audience, with counters kept per receipt batch."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_created", "created_at", "id"),
        # The 24-hour duplicate guard looks up the same audience and message by this.
        Index("ix_campaigns_fingerprint", "fingerprint", "created_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    rule: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    audience_size: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    # The breakdown of the snapshot: matched by the rule, then left out (SPEC "Safe sending").
    matched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    excluded_unsubscribed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    excluded_frequency_cap: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ignore_frequency_cap: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL", name="fk_campaigns_parent")
    )
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # SPEC "Did it work": the share of the audience kept back (HOLDOUT rows, never sent)
    # and how many days after a touch an order still counts for the campaign.
    holdout: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attribution_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")


class CommunicationLog(db.Model):
    """One recipient of a campaign; status moves PENDING → SENT | FAILED, never back;
    HOLDOUT rows are the audience kept back, never sent."""

    __tablename__ = "communications_log"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", name="uq_log_campaign_customer"),
        Index("ix_log_campaign_status", "campaign_id", "status", "id"),
        Index("ix_log_status_handed", "status", "handed_at"),
        # The frequency cap counts one customer's recent rows: a range on this index per
        # customer, never a scan of the log.
        Index("ix_log_customer_recent", "customer_id", "created_at", "status"),
        # A customer's messages, newest first: the index entries carry the primary key.
        Index("ix_log_customer", "customer_id"),
        # Attribution's "was there a later touch?" probe: a customer's SENT rows by time.
        Index("ix_log_customer_status_updated", "customer_id", "status", "updated_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="PENDING")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Why it FAILED: the vendor's words, or `no_receipt` after the last hand-over went unanswered.
    reason: Mapped[str | None] = mapped_column(String(200))
    # When it was last handed to the vendor, and how often: the receipt sweeper's inputs.
    handed_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class IdempotencyKey(db.Model):
    """A POST /campaigns answered under an Idempotency-Key: replayed for 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # actor + key
    request_hash: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CampaignLock(db.Model):
    """One row per audience + message, locked while such a campaign is created.

    Two concurrent creates of the same campaign queue behind this row, so the second one
    sees the first and is refused as a duplicate instead of sending it again.
    """

    __tablename__ = "campaign_locks"
    __table_args__ = (MYSQL_TABLE,)

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
