"""`xeno campaign send` and `xeno campaign list`."""

from __future__ import annotations

from tests.helpers import (
    REAL,
    assert_counters_match_log,
    live_server,
    load_customers,
    worker_process,
)


def test_send_delivers_with_a_progress_bar_and_list_shows_it(app, api, runner):
    load_customers(api, 30)
    if REAL:
        with live_server(app), worker_process(app):  # the receipts come back over HTTP
            result = _send(runner)
    else:
        result = _send(runner)  # embedded: serves itself on a local port meanwhile
    assert result.exit_code == 0, result.output
    assert "campaign 1: 30 recipient(s)" in result.output
    assert "Delivering" in result.output
    assert assert_counters_match_log(app, 1)["status"] == "done"

    listed = runner.invoke(args=["campaign", "list"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split()[:3] == ["id", "name", "status"]
    assert lines[1].split()[:4] == ["1", "Welcome", "done", "30"]


def _send(runner):
    return runner.invoke(args=["campaign", "send", "--rule", "visits >= 0",
                               "--message", "Hi [First Name]", "--name", "Welcome"])


def test_send_refuses_bad_input(app, runner):
    bad_rule = runner.invoke(args=["campaign", "send", "--rule", "spnd > 1", "--message", "x"])
    assert bad_rule.exit_code == 2 and "spnd" in bad_rule.output
    bad_template = runner.invoke(args=["campaign", "send", "--rule", "spend > 1",
                                       "--message", "{{ config }}"])
    assert bad_template.exit_code == 2 and "config" in bad_template.output
    neither = runner.invoke(args=["campaign", "send", "--message", "x"])
    assert neither.exit_code == 2
    no_segment = runner.invoke(args=["campaign", "send", "--segment", "42", "--message", "x"])
    assert no_segment.exit_code == 2 and "42" in no_segment.output
    assert "(no campaigns yet)" in runner.invoke(args=["campaign", "list"]).output
