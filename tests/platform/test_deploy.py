"""Deployment files, checked statically (no Docker engine needed) and the JSON log format.

compose.yaml is parsed with PyYAML, the Dockerfile line by line; docker/gunicorn.conf.py is
executed as gunicorn would read it.
"""

from __future__ import annotations

import io
import json
import logging
import re
import runpy
import shlex
from pathlib import Path

import pytest
import yaml

from xeno.platform import config, logs

ROOT = Path(__file__).resolve().parents[2]

# SPEC.md "Configuration" (SPEC is not in this repository, so its list is written out here
# and cross-checked against README's configuration table below).
SPEC_VARIABLES = {
    "XENO_DATABASE_URL",
    "XENO_REDIS_URL",
    "XENO_SECRET_KEY",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "XENO_ALLOWED_DOMAINS",
    "XENO_ALLOWED_EMAILS",
    "XENO_DEV_LOGIN",
    "XENO_RECEIPT_SECRET",
    "XENO_VENDOR_FAILURE_RATE",
    "XENO_PUBLIC_URL",
    "XENO_COOKIE_SECURE",
    "XENO_SESSION_IDLE_HOURS",
    "XENO_GOOGLE_DISCOVERY_URL",
    "XENO_SSO_NAME",
    "XENO_FREQUENCY_CAP",  # SPEC "Safe sending"
}
REQUIRED_SECRETS = {"XENO_SECRET_KEY", "XENO_RECEIPT_SECRET"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            keyword, _, rest = current.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
            current = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def readme_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


# --- compose.yaml ---------------------------------------------------------------------------


# Deployment-only settings the README's table may list beside SPEC's.
EXTRA_VARIABLES = {"XENO_LOG_FORMAT", "XENO_RECEIPT_TIMEOUT", "XENO_VENDOR_URL",
                   "XENO_JOB_HEARTBEAT_SECONDS"}


def test_spec_list_matches_the_readme_configuration_table():
    documented = readme_variables()
    assert documented >= SPEC_VARIABLES, SPEC_VARIABLES - documented
    assert documented - SPEC_VARIABLES <= EXTRA_VARIABLES


def test_compose_has_exactly_the_four_services(compose):
    assert set(compose["services"]) == {"web", "worker", "mysql", "redis"}


@pytest.mark.parametrize("name", ["web", "worker"])
def test_app_services_get_every_configuration_variable(compose, name):
    env = compose["services"][name]["environment"]
    assert isinstance(env, dict)
    expected = SPEC_VARIABLES | readme_variables()
    assert set(env) >= expected, expected - set(env)
    for variable in REQUIRED_SECRETS:  # no default secret: compose refuses to start without
        assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", env[variable]), env[variable]
    for variable in SPEC_VARIABLES - REQUIRED_SECRETS:  # the rest taken from .env/shell
        assert f"${{{variable}" in env[variable] or variable == "XENO_PUBLIC_URL", variable


def test_public_urls_browser_for_web_internal_for_worker(compose):
    web = compose["services"]["web"]["environment"]["XENO_PUBLIC_URL"]
    worker = compose["services"]["worker"]["environment"]["XENO_PUBLIC_URL"]
    assert web.startswith("${XENO_PUBLIC_URL")
    assert "http://web:8000" in worker  # the vendor's calls stay inside the compose network


def test_app_services_use_the_compose_database_and_broker_by_default(compose):
    env = compose["services"]["web"]["environment"]
    assert "@mysql:3306/" in env["XENO_DATABASE_URL"]
    assert env["XENO_DATABASE_URL"].startswith("${XENO_DATABASE_URL:-mysql+pymysql://")
    assert "redis://redis:6379/" in env["XENO_REDIS_URL"]


def test_web_migrates_then_serves_with_gunicorn(compose):
    web = compose["services"]["web"]
    command = command_text(web)
    assert command.index("xeno db init") < command.index("gunicorn") and "exec gunicorn" in command
    assert "xeno:create_app()" in command
    assert web["build"] == "."
    assert any(str(port).endswith(":8000") for port in web["ports"])


def test_worker_runs_xeno_worker_with_replicas(compose):
    worker = compose["services"]["worker"]
    assert command_text(worker) == "xeno worker"
    assert str(worker["deploy"]["replicas"]).startswith("${WORKERS:-")
    assert "container_name" not in worker  # a fixed name would forbid --scale
    assert worker["image"] == compose["services"]["web"]["image"]  # the same image


@pytest.mark.parametrize("name", ["web", "worker"])
def test_app_services_wait_for_healthy_database_and_broker(compose, name):
    depends = compose["services"][name]["depends_on"]
    for dependency in ("mysql", "redis"):
        assert depends[dependency]["condition"] == "service_healthy"


def test_healthchecks(compose):
    services = compose["services"]
    for name in ("web", "mysql", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["worker"]["healthcheck"] == {"disable": True}  # it serves no HTTP


def test_data_services_keep_their_data(compose):
    services = compose["services"]
    assert re.match(r"(mariadb:10\.11|mysql:8)", services["mysql"]["image"])
    assert services["redis"]["image"].startswith("redis:7")
    assert any(v.endswith(":/var/lib/mysql") for v in services["mysql"]["volumes"])
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert "--appendonly" in services["redis"]["command"]
    assert "--local-infile=1" in services["mysql"]["command"]  # bulk writes use LOAD DATA
    assert {"mysql-data", "redis-data"} <= set(compose["volumes"])


def test_env_example_names_every_variable():
    text = (ROOT / "docker" / "env.example").read_text()
    names = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    assert SPEC_VARIABLES | {"MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"} <= names


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", "instance", "tests"} <= ignored


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_runtime_image_and_install(dockerfile):
    froms = [args for keyword, args in dockerfile if keyword == "FROM"]
    assert all(re.match(r"python:3\.11-slim\b", args) for args in froms), froms
    runs = " ".join(args for keyword, args in dockerfile if keyword == "RUN")
    assert "pip wheel" in runs and "pip install" in runs
    copies = " ".join(args for keyword, args in dockerfile if keyword == "COPY")
    for path in ("setup.cfg", "pyproject.toml", "cli.py", "xeno", "README.md"):
        assert path in copies, path


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = [args for keyword, args in final_stage(dockerfile) if keyword == "USER"]
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_healthcheck_probes_healthz(dockerfile):
    checks = [args for keyword, args in final_stage(dockerfile) if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/healthz" in checks[0] and "urllib" in checks[0] and "curl" not in checks[0]


def test_dockerfile_serves_gunicorn_on_8000(dockerfile):
    stage = final_stage(dockerfile)
    cmd = json.loads([args for keyword, args in stage if keyword == "CMD"][-1])
    assert cmd[0] == "gunicorn" and cmd[-1] == "xeno:create_app()"
    assert "--access-logfile" in cmd and cmd[cmd.index("--access-logfile") + 1] == "-"
    config_file = cmd[cmd.index("--config") + 1]
    assert any(
        keyword == "COPY" and shlex.split(args)[-1] == config_file for keyword, args in stage
    )
    assert ("EXPOSE", "8000") in stage


def test_gunicorn_config(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("XENO_LOG_FORMAT", raising=False)
    settings = runpy.run_path(str(ROOT / "docker" / "gunicorn.conf.py"))
    assert settings["bind"] == "0.0.0.0:8000" and settings["workers"] == 3
    assert settings["accesslog"] == "-"
    formatter = settings["logconfig_dict"]["formatters"]["json"]["()"]
    assert formatter == "xeno.platform.logs.JsonFormatter"
    monkeypatch.setenv("XENO_LOG_FORMAT", "text")
    assert "logconfig_dict" not in runpy.run_path(str(ROOT / "docker" / "gunicorn.conf.py"))


# --- JSON logs --------------------------------------------------------------------------------


def capture(fmt: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fmt)
    logger = logging.getLogger("xeno.test_deploy")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_formatter_one_object_per_line():
    logger, stream = capture(logs.JsonFormatter())
    logger.info("stored %d records", 5, extra={"batch_id": "b1"})
    try:
        raise ValueError("bad\nrow")
    except ValueError:
        logger.exception("batch failed")
    first, second = lines(stream)
    assert {"time", "level", "logger", "message"} <= set(first)
    assert first["level"] == "INFO" and first["logger"] == "xeno.test_deploy"
    assert first["message"] == "stored 5 records" and first["batch_id"] == "b1"
    assert "exception" not in first and "request_id" not in first
    assert second["level"] == "ERROR"
    assert "ValueError: bad\nrow" in second["exception"]


def test_json_lines_in_a_request_carry_its_id(app):
    logger, stream = capture(logs.JsonFormatter())
    with app.test_request_context("/api/v1/customers", method="POST",
                                  headers={"X-Request-ID": "req-42"}):
        logger.warning("slow")
    (entry,) = lines(stream)
    assert entry["request_id"] == "req-42"
    assert entry["method"] == "POST" and entry["path"] == "/api/v1/customers"


def test_responses_carry_a_request_id(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"] == (
        "abc-1"
    )
    fresh = client.get("/healthz", headers={"X-Request-ID": "bad id <x>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)


def test_gunicorn_access_lines_become_fields():
    glogging = pytest.importorskip("gunicorn.glogging")
    atoms = glogging.SafeAtoms({
        "h": "10.0.0.1", "m": "GET", "U": "/healthz", "q": "", "s": "200", "B": 46,
        "D": 15250, "a": 'curl "x"', "f": "-", "{x-request-id}o": "r-1",
    })
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(m)s %(U)s %(s)s",
                               None, None)
    record.args = atoms  # what gunicorn's Logger.access passes
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["message"] == "GET /healthz 200"
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["path"] == "/healthz"
    assert entry["duration_ms"] == 15.25 and entry["bytes"] == 46
    assert entry["user_agent"] == 'curl "x"' and entry["referer"] is None
    assert entry["request_id"] == "r-1"


def test_configure_adds_one_handler_only_to_an_unconfigured_root(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    logs.configure("json")
    logs.configure("json")
    assert len(root.handlers) == 1
    assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)


def test_log_format_defaults_json_in_production_text_in_demo(tmp_path):
    assert config.from_environment(str(tmp_path), {})["LOG_FORMAT"] == "json"
    assert config.from_environment(str(tmp_path), {"XENO_DEV_LOGIN": "1"})["LOG_FORMAT"] == "text"
    env = {"XENO_LOG_FORMAT": "TEXT"}
    assert config.from_environment(str(tmp_path), env)["LOG_FORMAT"] == "text"
