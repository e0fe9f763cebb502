"""Settings from the environment (SPEC "Configuration"), checked once at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(RuntimeError):
    """A production start-up is missing something it cannot run without."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())


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
        "GOOGLE_DISCOVERY_URL": env.get(
            "XENO_GOOGLE_DISCOVERY_URL",
            "https://accounts.google.com/.well-known/openid-configuration",
        ),
        "ALLOWED_DOMAINS": _csv(env.get("XENO_ALLOWED_DOMAINS")),
        "ALLOWED_EMAILS": _csv(env.get("XENO_ALLOWED_EMAILS")),
        "DEV_LOGIN": demo,
        "RECEIPT_SECRET": env.get("XENO_RECEIPT_SECRET") or None,
        "VENDOR_FAILURE_RATE": _rate(env.get("XENO_VENDOR_FAILURE_RATE")),
        "PUBLIC_URL": (env.get("XENO_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "SESSION_COOKIE_SECURE": _flag(env.get("XENO_COOKIE_SECURE"), not demo),
        "LOG_FORMAT": (env.get("XENO_LOG_FORMAT") or ("text" if demo else "json")).lower(),
    }


def finalise(config: dict[str, Any]) -> None:
    """Fill demo-mode secrets and refuse an unsafe production start-up."""
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
    """Pool settings that suit each backend; SQLite waits for its single writer."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        "isolation_level": "READ COMMITTED",
        "connect_args": {"charset": "utf8mb4", "connect_timeout": 5, "local_infile": True},
    }
