"""Settings from the environment (SPEC "Configuration"), checked once at start-up."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from dotenv import load_dotenv
from pymysql.constants import CLIENT
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"
SESSION_MAX_AGE = timedelta(days=7)  # SPEC: a session dies 7 days after sign-in, used or not


class ConfigError(RuntimeError):
    """A production start-up is missing something it cannot run without."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _hours(value: str | None, default: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        hours = float(value)
    except ValueError:
        raise ConfigError(
            f"XENO_SESSION_IDLE_HOURS must be a number of hours, not {value!r}"
        ) from None
    if not 0 < hours < 24 * 366:
        raise ConfigError("XENO_SESSION_IDLE_HOURS must be more than 0 and under a year")
    return hours


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())


def _seconds(env: Mapping[str, str], variable: str, default: float) -> float:
    value = env.get(variable)
    if value is None or value.strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f"{variable} must be a positive number of seconds, not {value!r}")
    return seconds
EMBEDDED_DATABASE = "xeno.sqlite3"


def load_env_file() -> None:
    """Read a `.env` in the working folder into the environment (set variables win)."""
    load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)


def instance_path() -> str | None:
    """`XENO_INSTANCE_PATH`, where the embedded database lives; None for Flask's default.

    The test suite points it at a temporary folder so it never touches a running demo's data.
    """
    value = os.environ.get("XENO_INSTANCE_PATH")
    return os.path.abspath(value) if value else None


def embedded_database_url(instance: str) -> str:
    """The SQLite file every command and `xeno demo` share when XENO_DATABASE_URL is unset."""
    return "sqlite:///" + os.path.join(instance, EMBEDDED_DATABASE)


def _rate(value: str | None) -> float:
    try:
        rate = float(value or 0.10)
    except ValueError:
        raise ConfigError(
            f'XENO_VENDOR_FAILURE_RATE must be a number from 0 to 1, not "{value}"'
        ) from None
    if not 0 <= rate <= 1:
        raise ConfigError(f"XENO_VENDOR_FAILURE_RATE must be a number from 0 to 1, not {value}")
    return rate


def from_environment(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read SPEC's variables (and a `.env` in the working folder) into Flask config keys."""
    if env is None:
        load_env_file()
        env = os.environ
    demo = _flag(env.get("XENO_DEV_LOGIN"), False)
    database_url = env.get("XENO_DATABASE_URL") or embedded_database_url(instance_path)
    return {
        "DEMO_MODE": demo,
        "EMBEDDED_DATABASE": not env.get("XENO_DATABASE_URL"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env.get("XENO_REDIS_URL") or None,
        "SECRET_KEY": env.get("XENO_SECRET_KEY") or None,
        "GOOGLE_CLIENT_ID": env.get("GOOGLE_CLIENT_ID") or None,
        "GOOGLE_CLIENT_SECRET": env.get("GOOGLE_CLIENT_SECRET") or None,
        "GOOGLE_DISCOVERY_URL": env.get("XENO_GOOGLE_DISCOVERY_URL") or GOOGLE_DISCOVERY,
        "SSO_NAME": (env.get("XENO_SSO_NAME") or "").strip() or "Google",
        "ALLOWED_DOMAINS": _csv(env.get("XENO_ALLOWED_DOMAINS")),
        "ALLOWED_EMAILS": _csv(env.get("XENO_ALLOWED_EMAILS")),
        "DEV_LOGIN": demo,
        "RECEIPT_SECRET": env.get("XENO_RECEIPT_SECRET") or None,
        "VENDOR_FAILURE_RATE": _rate(env.get("XENO_VENDOR_FAILURE_RATE")),
        "PUBLIC_URL": (env.get("XENO_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
        # The vendor's send endpoint; unset = this app's own dummy vendor at PUBLIC_URL.
        "VENDOR_URL": env.get("XENO_VENDOR_URL") or None,
        "RECEIPT_TIMEOUT": _seconds(env, "XENO_RECEIPT_TIMEOUT", 300.0),
        # A running job renews its claim this often; a dead worker's job is retried after
        # three missed beats (plus one sweep), well within SPEC's two minutes.
        "JOB_HEARTBEAT_SECONDS": _seconds(env, "XENO_JOB_HEARTBEAT_SECONDS", 10.0),
        "SESSION_COOKIE_SECURE": _flag(env.get("XENO_COOKIE_SECURE"), not demo),
        "SESSION_IDLE_HOURS": _hours(env.get("XENO_SESSION_IDLE_HOURS"), 12.0),
        "FREQUENCY_CAP": env.get("XENO_FREQUENCY_CAP") or None,
        "LOG_FORMAT": (env.get("XENO_LOG_FORMAT") or ("text" if demo else "json")).lower(),
        # How long a consumer's unacknowledged entries wait before another takes them over.
        "STREAM_RECLAIM_IDLE_MS": int(env.get("XENO_STREAM_RECLAIM_IDLE_MS") or 60_000),
    }


_CAP = re.compile(r"\s*(\d{1,6})\s*/\s*(\d{1,5})\s*d\s*\Z", re.IGNORECASE)


def frequency_cap(value: Any) -> tuple[int, int] | None:
    """`N/Dd` (e.g. `3/7d`) as (N messages, D days); None or "" is no cap."""
    if value is None or value == "":
        return None
    if isinstance(value, tuple):
        value = f"{value[0]}/{value[1]}d"
    match = _CAP.match(str(value))
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ConfigError(
            f"XENO_FREQUENCY_CAP must look like 3/7d (at most N messages in D days, both "
            f"at least 1); got {value!r}"
        )
    return int(match.group(1)), int(match.group(2))


def finalise(config: dict[str, Any]) -> None:
    """Fill demo-mode secrets and refuse an unsafe production start-up."""
    config["FREQUENCY_CAP"] = frequency_cap(config.get("FREQUENCY_CAP"))
    try:
        make_url(config["SQLALCHEMY_DATABASE_URI"])
    except ArgumentError:
        raise ConfigError(
            "XENO_DATABASE_URL is not a database URL; write it like "
            "mysql+pymysql://user:password@host:3306/xeno"
        ) from None
    # A command on the embedded database (no XENO_DATABASE_URL) serves no one but its user.
    relaxed = config["DEMO_MODE"] or config.get("TESTING") or config.get("CLI_EMBEDDED")
    for key, variable in (
        ("SECRET_KEY", "XENO_SECRET_KEY"),
        ("RECEIPT_SECRET", "XENO_RECEIPT_SECRET"),
    ):
        if not config.get(key):
            if not relaxed:
                raise ConfigError(
                    f"{variable} is required outside demo mode; set it in the environment"
                )
            config[key] = secrets.token_hex(32)
    if config.get("DEV_LOGIN") and config.get("GOOGLE_CLIENT_ID") and not config.get("DEBUG"):
        raise ConfigError(
            "XENO_DEV_LOGIN=1 is refused while GOOGLE_CLIENT_ID is set and debug is off: "
            "the demo sign-in button would let anyone in"
        )
    config.setdefault("SESSION_IDLE_HOURS", 12.0)
    config.setdefault("SSO_NAME", "Google")
    # The signed cookie itself is refused past the absolute limit too (Flask checks the
    # signature's age against this even for browser-session cookies).
    config["PERMANENT_SESSION_LIFETIME"] = SESSION_MAX_AGE
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config["MAX_CONTENT_LENGTH"] = config.get("MAX_CONTENT_LENGTH") or 1024 * 1024
    config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(config["SQLALCHEMY_DATABASE_URI"])
    )


def engine_options(url: str) -> dict[str, Any]:
    """Pool settings that suit each backend; SQLite waits for its single writer.

    MySQL connections announce LOAD DATA LOCAL (the server allows it only then) without
    PyMySQL's `local_infile`, which would send any client file a server asks for: the bulk
    loader switches it on for its own file only (`xeno.db.bulk`).
    """
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        "isolation_level": "READ COMMITTED",
        "connect_args": {
            "charset": "utf8mb4",
            "connect_timeout": 5,
            # FOUND_ROWS is what SQLAlchemy sets itself; a client_flag here replaces it.
            "client_flag": CLIENT.LOCAL_FILES | CLIENT.FOUND_ROWS,
        },
    }
