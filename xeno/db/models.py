"""Tables. Names are part of the contract (SPEC "Data model"); times are naive UTC."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xeno.extensions import db
from xeno.platform.clock import utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


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
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
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


class Order(db.Model):
    """An order; it names its customer by external id so it may arrive first."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer", "customer_external_id", "ordered_at", "amount"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_external_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    ordered_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(UserMixin, db.Model):
    """A Google account that signed in."""

    __tablename__ = "users"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    picture: Mapped[str | None] = mapped_column(String(500))
    first_login_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


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


class Segment(db.Model):
    """A saved audience rule and its size at the last count."""

    __tablename__ = "segments"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Campaign(db.Model):
    """A message sent once to a snapshot of an audience, with counters kept per receipt batch."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_created", "created_at", "id"), MYSQL_TABLE)

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
