"""The `xeno` command as a user runs it, in its own process: without settings it works on the
embedded database and says so in one line; a missing or wrong setting is one line naming it
and exit status 2, never a traceback; `campaign send` prints its progress, not a log line
per message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def xeno(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`xeno ARGS` in tmp_path with no XENO_/Google settings but `env`; its own instance."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("XENO_", "GOOGLE_"))}
    variables = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "XENO_INSTANCE_PATH": str(tmp_path / "instance"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=tmp_path, env=variables,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_help_without_any_setting_lists_the_commands(tmp_path):
    done = xeno(tmp_path, "--help")
    assert done.returncode == 0 and done.stderr == ""
    for command in ("demo", "import", "segment", "campaign", "token", "db", "worker"):
        assert f"  {command}" in done.stdout
    assert not (tmp_path / "instance" / "xeno.sqlite3").exists()  # help builds no app


def test_commands_without_settings_share_the_embedded_database_and_say_so(tmp_path):
    (tmp_path / "c.csv").write_text("id,name\nC1,Asha\nC2,Ravi\n")
    imported = xeno(tmp_path, "import", "customers", "c.csv")
    database = tmp_path / "instance" / "xeno.sqlite3"
    line = (
        f"Using the embedded database {database}, the one `xeno demo` uses "
        "(set XENO_DATABASE_URL for another)."
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.splitlines().count(line) == 1 and "Traceback" not in imported.stderr
    assert imported.stdout.strip().startswith("read 2, stored 2, rejected 0, repeated 0 in ")
    counted = xeno(tmp_path, "segment", "preview", "visits = 0")
    assert counted.returncode == 0 and line in counted.stderr
    assert "2" in counted.stdout.split()  # the import's customers, in the same database


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"XENO_DATABASE_URL": "not a url"}, "XENO_DATABASE_URL"),
        ({"XENO_DATABASE_URL": "nosuchdb://host/x", "XENO_SECRET_KEY": "k",
          "XENO_RECEIPT_SECRET": "r"}, "XENO_DATABASE_URL"),
        ({"XENO_DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/xeno", "XENO_SECRET_KEY": "k",
          "XENO_RECEIPT_SECRET": "r"}, "XENO_DATABASE_URL"),
        ({"XENO_DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/xeno"}, "XENO_SECRET_KEY"),
        ({"XENO_REDIS_URL": "http://not-redis"}, "XENO_REDIS_URL"),
        ({"XENO_REDIS_URL": "redis://127.0.0.1:1/0"}, "XENO_REDIS_URL"),
        ({"XENO_VENDOR_FAILURE_RATE": "often"}, "XENO_VENDOR_FAILURE_RATE"),
    ],
)  # fmt: skip
def test_a_missing_or_wrong_setting_is_one_line_naming_it(tmp_path, env, variable):
    (tmp_path / "o.csv").write_text("id,customer_id,amount,ordered_at\nO1,C1,5,2024-05-01\n")
    done = xeno(tmp_path, "import", "orders", "o.csv", **env)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and variable in errors[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == ""


def test_campaign_send_shows_progress_and_no_line_per_message(tmp_path):
    rows = "".join(f"C{n},Name {n},c{n}@example.com\n" for n in range(60))
    (tmp_path / "c.csv").write_text("id,name,email\n" + rows)
    assert xeno(tmp_path, "import", "customers", "c.csv").returncode == 0
    done = xeno(tmp_path, "campaign", "send", "--rule", "visits >= 0", "--message", "Hi [Name]")
    assert done.returncode == 0, done.stderr
    output = done.stdout.splitlines()
    assert output[0].startswith("matched 60,") and output[0].endswith("60 will receive it")
    assert output[1:3] == ["campaign 1: 60 recipient(s)", "Delivering"], output
    assert output[-1].startswith("sent ") and output[-1].endswith("of 60")
    # the breakdown, the campaign, the bar (plain when not a terminal), the end
    assert len(output) == 4, output
    assert len(done.stderr.splitlines()) == 1  # the embedded database line
