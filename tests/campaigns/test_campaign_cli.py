"""`xeno campaign send` and `xeno campaign list`."""

from __future__ import annotations

import re

from tests.helpers import (
    REAL,
    assert_counters_match_log,
    live_server,
    load_customers,
    log_ids,
    signed_post,
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


def _send_no_wait(runner, *extra):
    return runner.invoke(args=["campaign", "send", "--rule", "visits >= 0", "--message", "Hi",
                               "--no-wait", *extra])


def test_send_prints_the_breakdown_and_honours_the_cap_flags(app, api, runner):
    app.config["CAMPAIGN_AUTOSTART"] = False
    load_customers(api, 10)
    for n in (1, 2):
        api.post(f"/customers/C{n}/unsubscribe", None)
    first = _send_no_wait(runner)
    assert first.exit_code == 0, first.output
    assert ("matched 10, left out 2 unsubscribed and 0 over the frequency cap: "
            "8 will receive it") in first.output
    assert "campaign 1: 8 recipient(s)" in first.output
    again = _send_no_wait(runner)
    assert again.exit_code == 1 and "--allow-duplicate" in again.output
    app.config["FREQUENCY_CAP"] = "1/7d"
    capped = _send_no_wait(runner, "--allow-duplicate")
    assert capped.exit_code == 1 and "nobody would receive" in capped.output
    assert "8 over the frequency cap: 0 will receive it" in capped.output
    ignored = _send_no_wait(runner, "--allow-duplicate", "--ignore-frequency-cap")
    assert ignored.exit_code == 0, ignored.output
    # a refused create may have used up an id (MariaDB's AUTO_INCREMENT): read it
    second = int(re.search(r"campaign (\d+): 8 recipient\(s\)", ignored.output).group(1))
    assert assert_counters_match_log(app, second)["audience_size"] == 8


def test_retry_sends_to_the_failed_again(app, api, runner):
    app.config["CAMPAIGN_AUTOSTART"] = False
    load_customers(api, 5)
    assert _send_no_wait(runner).exit_code == 0
    ids = log_ids(app, 1)
    signed_post(api.client, "/receipts", [{"log_id": ids[0], "status": "FAILED"},
                                          {"log_id": ids[1], "status": "FAILED"}])
    api.drain()
    result = runner.invoke(args=["campaign", "retry", "1", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert "matched 2, left out 0 unsubscribed" in result.output
    assert "campaign 2: 2 recipient(s)" in result.output
    twice = runner.invoke(args=["campaign", "retry", "1", "--no-wait"])
    assert twice.exit_code == 1 and "--allow-duplicate" in twice.output
    missing = runner.invoke(args=["campaign", "retry", "99"])
    assert missing.exit_code == 2 and "99" in missing.output
